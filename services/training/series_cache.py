"""A finished run's metric series kept as numpy columns, one .npz per run in the studio's cache.

Parsing a run's metrics.jsonl line by line costs ~40 µs a step: a 10,000-step run takes ~0.4 s, so comparing
100 runs after a restart would wait most of a minute. Once read, a finished run's series is written here and
read back in milliseconds, as long as its metric files have the sizes it was read at (`stamp`).
"""
from __future__ import annotations

import collections
import json
import os
from pathlib import Path

from services import lazy
from services.store import Job, Run
from services.training import imported
from services.training.metrics import Column, Series

np = lazy.module('numpy')


def stamp(run: Run) -> tuple[list, dict[int, int]]:
    """What a run's cached series depends on: the run, its jobs' metric file sizes, its imported events; and
    those sizes by job id (-1: no file)."""
    jobs = run.params.get('jobs', [])
    files = {j.id: Path(j.folder) / 'metrics.jsonl' for j in Job.select(Job.id, Job.folder).where(Job.id.in_(jobs))}
    sizes = {i: files[i].stat().st_size if i in files and files[i].is_file() else -1 for i in jobs}
    outside = imported.stamp(run) if run.params.get('imported_from') and run.folder else []
    return [str(run.created), *([i, n] for i, n in sizes.items()), *outside], sizes


def load(path: Path, stamp: list) -> Series | None:
    """The series saved at `path` if it was saved for the same `stamp`; None otherwise."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data['meta']))
            if meta.get('stamp') != stamp:
                return None
            series = Series(**meta['fields'])
            for i, key in enumerate(meta['keys']):
                x, y = data[f's{i}'], data[f'v{i}']
                steps, values = Column('int64', max(len(x), 1)), Column('float64', max(len(y), 1))
                steps.extend(x)  # fits: no resize
                values.extend(y)
                series.steps[key], series.values[key] = steps, values
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return series


def save(path: Path, series: Series, stamp: list) -> None:
    """Keep the series for `stamp` (written to a temporary file first, so a reader never sees half of it)."""
    keys = [k for k in series.values if k in series.steps]
    fields = {'step': series.step, 'epoch': series.epoch, 'max_steps': series.max_steps, 'run_dir': series.run_dir,
              'stopped_at': series.stopped_at, 'checkpoints': series.checkpoints, 'rate': series.rate}
    arrays = {f's{i}': series.steps[k].array for i, k in enumerate(keys)}
    arrays.update({f'v{i}': series.values[k].array for i, k in enumerate(keys)})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix('.partial.npz')
    try:
        np.savez(partial, meta=json.dumps({'stamp': stamp, 'keys': keys, 'fields': fields}), **arrays)
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)  # a full disk loses the cache, not the metrics


class Recent:
    """The finished runs whose series stay in memory, least recently used first: a compare of 100 runs keeps
    them all; past `keep`, the oldest are forgotten and read back from this cache when asked again."""

    def __init__(self, keep: int = 256) -> None:
        self.keep = keep
        self._order: collections.OrderedDict[int, None] = collections.OrderedDict()

    def touch(self, run_id: int) -> list[int]:
        """Note that `run_id` was just read; returns the runs to forget."""
        self._order[run_id] = None
        self._order.move_to_end(run_id)
        gone = []
        while len(self._order) > self.keep:
            gone.append(self._order.popitem(last=False)[0])
        return gone
