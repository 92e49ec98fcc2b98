"""Copies as jobs of the engine — to and from the cloud store, and datasets to the cluster's file system with
rsync: their console's progress lines, and their state in words."""
from __future__ import annotations

import json
import re
from collections.abc import Callable

from services import formatting
from services.hookspecs import JobKind
from services.store import Dataset

PREFIX = '[cloud] {'
RSYNC = re.compile(r'^\s*([\d,]+)\s+(\d+)%\s+(\S+/s)')  # --info=progress2: bytes, percent, rate


def parse_cloud(line: str) -> dict | None:
    """`[cloud] {"done": …, "total": …, "file": …}` → those keys."""
    if not line.startswith(PREFIX):
        return None
    try:
        event = json.loads(line[len('[cloud] '):])
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def describe(state) -> None:
    done, total = state.last.get('done'), state.last.get('total')
    if not total:
        return
    state.progress = min(1.0, done / total)
    state.detail = f'{formatting.size(done)} of {formatting.size(total)} · {state.last.get("file", "")}'


def parse_rsync(line: str) -> dict | None:
    """rsync's `  1,234,567  45%  12.34MB/s  0:00:12 (xfr#3, to-chk=2/10)` → bytes, percent, rate."""
    m = RSYNC.match(line)
    return {'done': int(m.group(1).replace(',', '')), 'percent': int(m.group(2)), 'rate': m.group(3)} if m else None


def describe_rsync(state) -> None:
    if 'percent' not in state.last:
        return
    state.progress = min(1.0, state.last['percent'] / 100)
    state.detail = f'{formatting.size(state.last["done"])} copied · {state.last["rate"]}'


def rsync_finished(job) -> Dataset | None:
    """A dataset copied whole to the cluster's file system remembers where (Dataset.params['copies']); a copy
    cut short stays among those under way ('copying': target → job), its job saying why."""
    dataset = Dataset.get_or_none(Dataset.id == (job.spec or {}).get('dataset'))
    if dataset is None:
        return None
    if job.status != 'done':
        return dataset
    copies = [c for c in (dataset.params or {}).get('copies', []) if c != job.spec['target']]
    copying = {t: j for t, j in (dataset.params or {}).get('copying', {}).items() if t != job.spec['target']}
    dataset.params = {**(dataset.params or {}), 'copies': [*copies, job.spec['target']], 'copying': copying}
    dataset.save(only=[Dataset.params])
    return dataset


def rsync_kind(changed: Callable[[Dataset], None]) -> JobKind:
    """The kind of dataset copies; `changed` tells the pages the dataset's copies moved (DatasetService.changed)."""
    def finished(job) -> None:
        dataset = rsync_finished(job)
        if dataset is not None:
            changed(dataset)
    return JobKind('rsync', parse=parse_rsync, describe=describe_rsync, on_finish=finished)


KIND = JobKind('cloud', parse=parse_cloud, describe=describe)
