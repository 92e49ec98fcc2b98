"""The studio's own contributions to the hooks that need its services — job kinds, the run health alerts — as
one built-in plugin, registered beside the areas' page plugins (pages/*/plugin.py) and handled exactly as an
installed plugin's are."""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from services.hookspecs import JobKind, RunAlert, hookimpl
from services.training import metrics

COLLAPSE_DIMS = 1.0  # an encoder whose top fidelity level fits in this many dimensions ignores its input


class _Area(Protocol):
    def job_kinds(self) -> list[JobKind]: ...


class StudioAreas:
    """The built-in job kinds of the areas' services and the built-in run alerts."""

    __name__ = 'services.builtin'  # the plugin's name on Settings → Plugins
    __doc__ = 'The studio\'s own job kinds (preprocess, dataset statistics, train, export, reconstruct) and run alerts.'

    def __init__(self, areas: Callable[[], list[_Area]]) -> None:
        self._areas = areas  # made when the first job needs its kind: the studio starts without the areas' engines

    @hookimpl
    def register_job_kinds(self) -> list[JobKind]:
        return [kind for area in self._areas() for kind in area.job_kinds()]

    @hookimpl
    def register_run_alerts(self) -> list[RunAlert]:
        return [RunAlert('health', health)]


def health(steps: dict, values: dict, *, current_step: int = 0) -> list[metrics.Alert]:
    """A diverged loss (NaN/inf) and a collapsed latent space, from the metrics so far."""
    return [alert for alert in metrics.alerts(steps, values, running=False, last_time=None,
                                              collapse_dims=COLLAPSE_DIMS, current_step=current_step)
            if alert.kind in ('nonfinite', 'collapse', 'organising')]
