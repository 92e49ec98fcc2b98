"""Runs made by the plain `rave train` and imported: the flags that continue one, and its curves from its
TensorBoard events.

Such a run's folder holds its operative config.gin (what it is: training/operative.py), its checkpoints and
Lightning's event files, but neither its dataset nor the studio's metrics.jsonl."""
from __future__ import annotations

import json
import os
from pathlib import Path

from services.store import Checkpoint, Run
from services.training import event_scalars, experiment_table
from services.training.metrics import Series
from services.training.spec import RunSpec


class ImportedRunError(ValueError):
    """What an imported run lacks for an action, as a sentence."""


def flags(run: Run, spec: RunSpec, paths: dict[str, str]) -> list[str]:
    """`rave train` flags that continue the run: with `--ckpt` RAVE reads the model from the run's own
    config.gin, so what it needs is the dataset, and the run's folder to write next to."""
    if run.dataset is None:
        raise ImportedRunError(f'{run.name} was imported from a RAVE run folder, which does not record its '
                               'dataset: choose the dataset to continue training on first.')
    return spec.flags(run.dataset.path, str(Path(run.folder).parent), paths)


FIGURES_READ = 'imported_figures'  # params key: the run's figures were read from its events


def unread(run: Run) -> bool:
    """An imported run the studio has not trained whose figures (steps, last loss, best validation, training
    time) were not read from its events yet (imported before the import read them)."""
    params = run.params or {}
    return bool(params.get('imported_from')) and not params.get('jobs') and not params.get(FIGURES_READ)


def read_events(run: Run, series: Series, cache: Path) -> None:
    """Add the scalars the run logged before it was imported to `series`, converted once into `cache` (read
    again from its event files only while the studio has not trained the run itself). A run trained only
    elsewhere keeps its figures from them: the span of its events as its training time, and as its steps the
    furthest its events or checkpoints reached (RAVE logs training scalars only every 50 steps)."""
    trained_here = bool(run.params.get('jobs'))
    path = cache if trained_here and cache.is_file() else event_scalars.cached_lines(run.folder, cache)
    lines = [json.loads(raw) for raw in path.read_text().splitlines()] if path is not None else []
    for line in lines:
        series.add(line)
    if not trained_here:
        times = [line['t'] for line in lines if 't' in line]
        saved = [c.step for c in Checkpoint.select(Checkpoint.step).where(Checkpoint.run == run) if c.step]
        run.step = max([run.step or 0, *saved, *(int(line.get('step') or 0) for line in lines)])
        run.params = {**run.params, 'imported_seconds': max(times) - min(times) if times else None,
                      FIGURES_READ: True}
        run.save(only=[Run.params, Run.step])
        experiment_table.figures(run, series, run.params['imported_seconds'])


def stamp(run: Run) -> list:
    """The sizes of the run's event files, which its cached series depends on."""
    return [[p.name, _size(p)] for p in sorted(Path(run.folder).glob('version_*/events.out.tfevents.*'))]


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1
