"""The studio's learning-rate hook for RAVE training (RAVE hard-codes Adam 1e-3 / 1e-4 in configure_optimizers).

The training worker calls `install()` before RAVE's main: with RAVE_STUDIO_LR (generator) and/or
RAVE_STUDIO_DIS_LR (discriminator) set, `rave.RAVE.configure_optimizers` is wrapped so the optimizers RAVE
builds start at those rates. RAVE's linear decay of the generator's rate over the warm-up still applies,
from the new starting rate (the scheduler's base rate is moved with it).
"""
from __future__ import annotations

import os

ENV = {'gen': 'RAVE_STUDIO_LR', 'dis': 'RAVE_STUDIO_DIS_LR'}


def rates() -> dict[str, float]:
    """The rates asked for in the environment, by optimizer ('gen', 'dis')."""
    out = {}
    for key, name in ENV.items():
        value = os.environ.get(name, '').strip()
        if value:
            out[key] = float(value)
    return out


def install() -> dict[str, float]:
    """Wrap RAVE's configure_optimizers when a rate is asked for; returns the rates applied."""
    wanted = rates()
    if not wanted:
        return wanted
    import rave.model

    original = rave.model.RAVE.configure_optimizers

    def configure_optimizers(self):
        configured = original(self)
        applied = {}
        for key, entry in zip(('gen', 'dis'), configured):
            if key in wanted:
                _set(entry, wanted[key])
                applied[key] = entry['optimizer'].param_groups[0]['lr']
        print(f'[studio] learning rates: {applied}', flush=True)
        return configured

    rave.model.RAVE.configure_optimizers = configure_optimizers
    return wanted


def _set(entry: dict, lr: float) -> None:
    for group in entry['optimizer'].param_groups:
        group['lr'] = group['initial_lr'] = lr
    scheduler = (entry.get('lr_scheduler') or {}).get('scheduler')
    if scheduler is not None:
        scheduler.base_lrs = [lr for _ in scheduler.base_lrs]
