"""What RAVE's two phases mean for a run, said before and during it: a run too short to reach the adversarial
phase (the wizard's review), and a latent-collapse verdict that waits until the latent had the chance to organise
(the run page's alerts)."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services import formatting, lazy
from services.i18n import _, ngettext
from services.training.model_values import GinValueError, parse_literal

np = lazy.module('numpy')


@dataclass(frozen=True)
class Alert:
    kind: str  # nonfinite | stall | collapse | organising | phase
    level: str  # negative | warning | info
    message: str
    step: int | None = None


def phase_1(macros: Mapping[str, Any], composition: dict | None) -> int | None:
    """PHASE_1_DURATION as the run will have it: the spec's own model value, else the composed config's."""
    value = macros.get('PHASE_1_DURATION')
    if value is None:
        value = ((composition or {}).get('macros') or {}).get('PHASE_1_DURATION')
    try:
        return int(float(parse_literal(value) if isinstance(value, str) else value)) if value is not None else None
    except (TypeError, ValueError, GinValueError):
        return None


def short_run(max_steps: int, macros: Mapping[str, Any], composition: dict | None) -> list[str]:
    """A run that stops before phase 2 never trains adversarially: its sound stays blurry. Say so, and what to
    change."""
    phase = phase_1(macros, composition)
    if not phase or max_steps > phase:
        return []
    return [_('This run stops at step {steps}, before phase 2 (adversarial training) starts at step {phase}: it '
              'never reaches the adversarial phase, so the sound stays blurry. For a model that sounds sharp, set '
              'Max steps above {phase}, or lower “Phase 1 length” below {steps} (Parameters step). A short test run '
              'is fine as it is.').format(steps=formatting.count(max_steps), phase=formatting.count(phase))]


def beta_warming(steps: dict, values: dict, at: int) -> bool | None:
    """Whether RAVE's β warm-up (BetaWarmupCallback) was still raising β at step `at`: β logged later (or at the
    last two logs) is higher than β at `at`. None when no β was logged (nothing to tell)."""
    if 'beta_factor' not in values or not len(values['beta_factor']):
        return None
    beta, where = _array(values['beta_factor']), _array(steps['beta_factor'])
    finite = np.isfinite(beta)
    beta, where = beta[finite], where[finite]
    if not beta.size:
        return None
    upto = np.flatnonzero(where <= at)
    now = float(beta[upto[-1]]) if upto.size else float(beta[0])
    later = beta[where > at]
    if later.size:
        return bool(later.max() > now * (1 + 1e-6))
    return bool(beta.size >= 2 and beta[-1] > beta[-2] * (1 + 1e-6))  # the latest β: still rising?


def latent_alerts(steps: dict, values: dict, collapse_dims: float) -> list[Alert]:
    """The latent-collapse verdict, once the latent has had the chance to organise.

    RAVE logs `fidelity_<p>` as `argmax(cumulative variance > p)` over the PCA of the validation latents: the
    index of the dimension that passes p, so 0 means the first dimension alone holds it. A verdict needs two
    things: β's warm-up is over (while β still rises from ~1e-6 the KL term barely weighs on the encoder, an
    untrained latent is dominated by a few directions, and "lower β" is no remedy), and the readings are not
    rising (a latent that spreads over more dimensions at each validation is organising). Before that, a low
    reading is said for what it is, as information."""
    fidelity = sorted((k for k in values if k.startswith('val/fidelity_') and len(values[k])),
                      key=lambda k: float(k.rsplit('_', 1)[1]))
    if not fidelity:
        return []
    top = fidelity[-1]
    readings, at = _array(values[top]), _array(steps[top])
    reading, step = float(readings[-1]), int(at[-1])
    if not math.isfinite(reading) or reading > collapse_dims:
        return []
    percent = formatting.number(float(top.rsplit('_', 1)[1]) * 100)
    dims = int(reading) + 1
    held = (_('the first latent dimension alone holds {percent} % of the variance').format(percent=percent)
            if dims == 1 else
            ngettext('{dims} latent dimension holds {percent} % of the variance',
                     '{dims} latent dimensions hold {percent} % of the variance', dims)
            .format(dims=formatting.count(dims), percent=percent))
    rising = len(readings) >= 2 and math.isfinite(float(readings[-2])) and reading > float(readings[-2])
    if beta_warming(steps, values, step) or rising:
        return [Alert('organising', 'info', _('Step {step}: {held}. Normal this early: RAVE is still raising β '
                                              '(its warm-up), so the latent space has not organised yet. No '
                                              'verdict on collapse until β reaches its target and the readings '
                                              'stop rising; change nothing for this.')
                      .format(step=formatting.count(step), held=held), step)]
    return [Alert('collapse', 'warning', _('Latent collapse: at step {step}, after the β warm-up, {held}. The '
                                           'encoder ignores its input; lower β (regularization) or check the '
                                           'dataset.').format(step=formatting.count(step), held=held), step)]



def _array(column) -> np.ndarray:
    return column.array if hasattr(column, 'array') else np.asarray(column)
