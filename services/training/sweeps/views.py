"""Read-only snapshots of sweeps and their trials, as pages show them (built from rows, never the rows)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from services.training.sweeps.space import SweepSpec


@dataclass(frozen=True)
class TrialView:
    number: int
    status: str  # running | complete | pruned | failed | stopped
    params: Mapping[str, Any] = field(default_factory=dict)
    value: float | None = None  # the objective (a pruned trial: its last reported value)
    step: int = 0  # the last step reported to the study
    run_id: int | None = None
    run_name: str = ''
    run_status: str = ''
    run_step: int = 0
    message: str = ''

    @classmethod
    def of(cls, row) -> TrialView:
        run = row.run
        return cls(row.number, row.status, MappingProxyType(dict(row.params or {})), row.value, row.step,
                   run.id if run else None, run.name if run else '', run.status if run else '',
                   run.step if run else 0, row.message or '')


@dataclass(frozen=True)
class SweepView:
    id: int
    project_id: int
    name: str
    status: str  # running | stopped | done | failed | interrupted (restored from a backup)
    spec: SweepSpec
    trials: tuple[TrialView, ...] = ()
    message: str = ''
    created: str = ''
    device_hours: float = 0.0

    @classmethod
    def of(cls, row, trials: list, device_hours: float = 0.0) -> SweepView:
        return cls(row.id, row.project_id, row.name, row.status, SweepSpec.from_dict(row.spec),
                   tuple(TrialView.of(t) for t in trials), row.message or '', str(row.created), device_hours)

    def count(self, *statuses: str) -> int:
        return sum(t.status in statuses for t in self.trials)

    @property
    def best(self) -> TrialView | None:
        """The complete trial with the best objective."""
        done = [t for t in self.trials if t.status == 'complete' and t.value is not None]
        if not done:
            return None
        pick = min if self.spec.objective.direction == 'minimize' else max
        return pick(done, key=lambda t: t.value)

    @property
    def open(self) -> bool:
        return self.status == 'running'


@dataclass(frozen=True)
class BestModel:
    """The best trial's best checkpoint, what the export wizard starts from."""
    trial: TrialView
    checkpoint: str
    step: int | None
    export_url: str
