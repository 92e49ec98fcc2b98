"""Copies as jobs of the engine — to and from the cloud store, and datasets to the cluster's file system with
rsync: their console's progress lines, and their state in words; an export pulled back joins the export library as
the export it was (its record, pushed beside its files: target, flags, verdict)."""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path

from services import formatting
from services.cluster.cloud import RECORD
from services.hookspecs import JobKind
from services.store import Dataset, Export, Run

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


def cloud_kind(changed: Callable[[Export], None] = lambda export: None) -> JobKind:
    """The kind of cloud copies; `changed` tells the pages an export joined the library (ExportChanged)."""
    def finished(job) -> None:
        export = pulled(job)
        if export is not None:
            changed(export)
    return JobKind('cloud', parse=parse_cloud, describe=describe, on_finish=finished)


KIND = cloud_kind()

# what an export's record keeps of its row (the rest is where it lies: its run, checkpoint and file, made anew)
KEPT = ('name', 'target', 'streaming', 'options', 'status', 'stage', 'message', 'result', 'verdict')
MODELS = ('.ts', '.onnx.json', '.nm', '.onnx')  # the file an export without a record is (older pushes)


def record(export: Export) -> dict:
    """What a pushed export carries beside its files: its row's facts, its run's folder, the model's file."""
    path = Path(export.path)
    main = f'{path.parent.name}/{path.name}' if path.name == 'model.nm' else path.name
    run = export.run
    return {'version': 1, 'file': main, 'checkpoint': Path(export.checkpoint).name if export.checkpoint else '',
            'run': run.name if run else '', 'run_folder': Path(run.folder).name if run and run.folder else '',
            'created': export.created.isoformat() if export.created else '',
            **{key: getattr(export, key) for key in KEPT}}


def pulled(job) -> Export | None:
    """An export pulled whole into the project's exports folder, indexed there as the export it is (its
    record), linked to the project's run of the same folder when there is one; None for anything else."""
    spec = job.spec or {}
    if job.status != 'done' or spec.get('pulled') != 'exports' or job.project_id is None:
        return None
    folder = Path(spec['target'])
    try:
        facts = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        facts = {}
    main = folder / facts['file'] if facts.get('file') else next(
        (f for f in sorted(folder.rglob('*')) if f.is_file() and f.name.endswith(MODELS)), None)
    if main is None or not main.exists():
        return None
    existing = Export.get_or_none((Export.project == job.project_id) & (Export.path == str(main)))
    if existing is not None:
        return existing
    run = next((r for r in Run.select().where(Run.project == job.project_id)
                if r.folder and facts.get('run_folder') and Path(r.folder).name == facts['run_folder']), None)
    checkpoint = next((str(c) for c in Path(run.folder).rglob(facts['checkpoint'])), '') \
        if run is not None and facts.get('checkpoint') else ''
    kept = {key: facts[key] for key in KEPT if key in facts}
    created = _moment(facts.get('created'))
    return Export.create(project=job.project_id, run=run, checkpoint=checkpoint, path=str(main),
                         **{'name': folder.name, 'status': 'done', 'stage': 'verify', 'target': _target(main),
                            **kept, **({'created': created} if created else {})})


def _target(main: Path) -> str:
    return 'onnx' if main.name.endswith('.onnx.json') else 'neutone' if main.name.endswith('.nm') else 'custom'


def _moment(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
