"""The training speeds a cost estimate rests on: steps/s of a project's newest runs, as their metrics measured.

Apart from the facade (services/cluster/__init__.py) because services.training imports the executor settings
of this package: the facade gets this function from the composition root instead of importing training."""
from __future__ import annotations

from services.store import Project
from services.training.runs import TrainingService, spec_of

NEWEST = 8  # runs looked at: their metrics are read (a finished run's from its cache)


def measured(training: TrainingService, project: Project) -> list[tuple[str, str, float]]:
    """(run name, base config, steps/s) of the newest runs that made steps, newest first."""
    out = []
    for run in training.list(project)[:NEWEST]:
        series = training.metrics(run)
        if series.rate:
            out.append((run.name, spec_of(run).base, float(series.rate)))
    return out
