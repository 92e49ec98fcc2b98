"""The dataset library: tags, search/filter/sort, clone, portable archives and the one LMDB integrity check.

Builds on DatasetService (which makes and registers datasets) and on services.datasets.lmdb_reader (the one cached
read-only LMDB environment per path, and its walk over every entry); never imports torch.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tarfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from services import formatting, lazy
from services.datasets import lmdb_reader
from services.datasets.folders import read_lmdb
from services.datasets.preprocessing import DatasetError, DatasetService
from services.datasets.views import IntegrityReport
from services.i18n import _
from services.projects import slug
from services.store import Dataset, Project, now

lmdb = lazy.module('lmdb')

ARCHIVE_FORMAT = 'rave-studio-dataset'
ARCHIVE_SUFFIX = '.ravedata.tar'
ARCHIVE_FILES = ('data.mdb', 'metadata.yaml', 'studio.json')
STUDIO_FOLDER = '.studio'  # studio-owned files next to a dataset (statistics cache)
SORTS = {
    'created': lambda d: d.created,
    'name': lambda d: d.name.lower(),
    'size': lambda d: d.size_bytes or 0,
    'examples': lambda d: d.n_examples or 0,
    'duration': lambda d: d.n_seconds or 0.0,
    'sr': lambda d: d.sr or 0,
    'channels': lambda d: d.channels or 0,
}
Progress = Callable[[float, str], None]


class DatasetLibrary:
    def __init__(self, datasets: DatasetService) -> None:
        self.datasets = datasets

    # ---- tags and categories --------------------------------------------------------------------
    def set_tags(self, dataset: Dataset, tags: list[str]) -> list[str]:
        """Store the dataset's tags: trimmed, at most 32 characters, no case-insensitive duplicates."""
        clean: list[str] = []
        for tag in tags:
            tag = ' '.join(str(tag).split())[:32]
            if tag and tag.lower() not in {t.lower() for t in clean}:
                clean.append(tag)
        dataset.tags = clean
        dataset.save()
        self.datasets.changed(dataset)
        return clean

    def set_category(self, dataset: Dataset, category: str) -> None:
        dataset.category = ' '.join((category or '').split())[:40]
        dataset.save()
        self.datasets.changed(dataset)

    def all_tags(self, project: Project) -> list[str]:
        """Every tag used in the project, sorted, for filter menus and suggestions."""
        seen: dict[str, str] = {}
        for dataset in self.datasets.list(project):
            for tag in dataset.tags or []:
                seen.setdefault(tag.lower(), tag)
        return sorted(seen.values(), key=str.lower)

    # ---- search / filter / sort -----------------------------------------------------------------
    def search(self, project: Project, text: str = '', tags: list[str] | None = None, sr: int | None = None,
               channels: int | None = None, lazy: bool | None = None, status: str | None = None,
               sort: str = 'created', descending: bool = True) -> list[Dataset]:
        """Datasets whose name, tags, category or source folders contain every word of `text`, that carry
        all `tags` and match sr/channels/lazy/status when given, sorted by one of SORTS."""
        words = text.lower().split()
        wanted = {t.lower() for t in tags or []}
        found = []
        for dataset in self.datasets.list(project):
            own = {t.lower() for t in dataset.tags or []}
            haystack = ' '.join([dataset.name, dataset.category or '', *own, *dataset.sources]).lower()
            if (all(w in haystack for w in words) and wanted <= own
                    and (sr is None or dataset.sr == sr) and (channels is None or dataset.channels == channels)
                    and (lazy is None or dataset.lazy == lazy) and (status is None or dataset.status == status)):
                found.append(dataset)
        found.sort(key=lambda d: d.name.lower())  # ties stay in name order
        return sorted(found, key=SORTS.get(sort, SORTS['created']), reverse=descending)

    # ---- clone / delete -------------------------------------------------------------------------
    def clone(self, dataset: Dataset, name: str, sr: int | None = None, channels: int | None = None,
              num_signal: int | None = None, lazy: bool | None = None, owner: str = '') -> Dataset:
        """A new preprocessing job on the original sources with some parameters changed, for `owner`."""
        params = dataset.params or {}
        values = {'num_signal': int(num_signal or params.get('num_signal', 131072)),
                  'channels': int(channels or dataset.channels or params.get('channels', 1)),
                  'sr': int(sr or dataset.sr or params.get('sampling_rate', 44100)),
                  'ext': list(params.get('ext') or []) or None,
                  'lazy': dataset.lazy if lazy is None else bool(lazy)}
        readable = self.datasets.check_inputs(dataset.project, list(dataset.sources))[1]
        survey = self.datasets.survey(readable, values['ext']) if readable else None
        problems = self.datasets.validate(dataset.project, name, list(dataset.sources), **values, survey=survey)
        if problems:
            raise DatasetError(' '.join(problems))
        clone = self.datasets.start(dataset.project, name, list(dataset.sources), **values, survey=survey,
                                    owner=owner)
        clone.tags, clone.category = list(dataset.tags or []), dataset.category or ''
        clone.params = {**clone.params, 'cloned_from': dataset.name}
        clone.save()
        return clone

    def delete(self, dataset: Dataset, remove_files: bool = False) -> None:
        """Forget the dataset and its last integrity report; with `remove_files` also its LMDB folder and the
        studio's cache beside it."""
        lmdb_reader.release(dataset.path)
        self.report_file(dataset).unlink(missing_ok=True)
        if remove_files:
            shutil.rmtree(Path(dataset.path) / STUDIO_FOLDER, ignore_errors=True)
        self.datasets.delete(dataset, remove_files=remove_files)

    # ---- portable archives ----------------------------------------------------------------------
    def export_archive(self, dataset: Dataset, dest: Path | None = None, progress: Progress | None = None) -> Path:
        """Write `<name>.ravedata.tar` (the LMDB, metadata.yaml and a studio.json manifest); the file appears
        under its final name only once complete."""
        if dataset.status != 'ready':
            raise DatasetError(_('Only a ready dataset can be archived. Wait for it to finish building.'))
        source = Path(dataset.path)
        if not (source / 'data.mdb').is_file():
            raise DatasetError(_('{folder} holds no data.mdb any more. Check the dataset folder.')
                               .format(folder=source))
        if dest is None:
            folder = Path(dataset.project.location) / 'archives'
            dest = folder / f'{slug(dataset.name)}-{time.strftime("%Y%m%d-%H%M%S")}{ARCHIVE_SUFFIX}'
        dest.parent.mkdir(parents=True, exist_ok=True)
        manifest = {'format': ARCHIVE_FORMAT, 'version': 1, 'name': dataset.name, 'sources': dataset.sources,
                    'params': dataset.params, 'tags': dataset.tags or [], 'category': dataset.category or '',
                    'sr': dataset.sr, 'channels': dataset.channels, 'lazy': dataset.lazy,
                    'n_examples': dataset.n_examples, 'n_seconds': dataset.n_seconds,
                    'created': dataset.created.isoformat(), 'archived': now().isoformat()}
        root = slug(dataset.name)
        total = sum((source / n).stat().st_size for n in ('data.mdb', 'metadata.yaml') if (source / n).exists())
        partial = dest.with_name(dest.name + '.part')
        done = [0]
        try:
            with tarfile.open(partial, 'w', format=tarfile.PAX_FORMAT) as tar:
                for name in ('data.mdb', 'metadata.yaml'):
                    if (source / name).exists():
                        _add_file(tar, source / name, f'{root}/{name}', done, total, progress)
                data = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(f'{root}/studio.json')
                info.size, info.mtime = len(data), int(time.time())
                tar.addfile(info, _Reader(data))
            os.replace(partial, dest)
        finally:
            partial.unlink(missing_ok=True)
        return dest

    def read_manifest(self, archive: Path) -> dict:
        """The manifest of an archive, after checking it holds exactly one dataset and nothing else."""
        try:
            with tarfile.open(archive, 'r') as tar:
                members = tar.getmembers()
                roots = {m.name.split('/', 1)[0] for m in members}
                names = {m.name.split('/', 1)[-1] for m in members if m.isfile()}
                if len(roots) != 1 or any(not m.isfile() or m.name.count('/') != 1
                                          or m.name.split('/', 1)[1] not in ARCHIVE_FILES for m in members):
                    raise DatasetError(_('{file} is not a RAVE Studio dataset archive (unexpected files).')
                                       .format(file=archive.name))
                if not {'data.mdb', 'metadata.yaml', 'studio.json'} <= names:
                    raise DatasetError(_('{file} lacks data.mdb, metadata.yaml or studio.json. Export the dataset '
                                         'again.').format(file=archive.name))
                manifest = json.loads(tar.extractfile(f'{roots.pop()}/studio.json').read())
        except (tarfile.TarError, OSError, ValueError) as e:
            raise DatasetError(_('{file} cannot be read as a dataset archive ({error}). Pick a .ravedata.tar file '
                                 'made by "Export archive".').format(file=archive.name, error=e)) from e
        if manifest.get('format') != ARCHIVE_FORMAT:
            raise DatasetError(_('{file} is not a RAVE Studio dataset archive.').format(file=archive.name))
        return manifest

    def import_archive(self, project: Project, archive: Path, name: str | None = None,
                       progress: Progress | None = None) -> Dataset:
        """Unpack an archive into the project's datasets folder and register it as a ready dataset."""
        manifest = self.read_manifest(archive)
        name = self._free_name(project, (name or manifest.get('name') or archive.stem).strip())
        output = self.datasets.output_path(project, name)
        staging = output.with_name(f'.{output.name}.importing')
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            with tarfile.open(archive, 'r') as tar:
                members = tar.getmembers()
                total, done = sum(m.size for m in members) or 1, 0
                for member in members:
                    with tar.extractfile(member) as src, open(staging / member.name.split('/', 1)[1], 'wb') as dst:
                        while chunk := src.read(1 << 22):
                            dst.write(chunk)
                            done += len(chunk)
                            if progress:
                                progress(done / total, _('Unpacking {file}').format(file=member.name.split('/', 1)[1]))
            (staging / 'studio.json').unlink()
            info = read_lmdb(staging)
            os.replace(staging, output)
        except (OSError, tarfile.TarError, ValueError, ImportError) as e:
            shutil.rmtree(staging, ignore_errors=True)
            raise DatasetError(_('Importing {file} failed: {error}. Check free disk space and try again.')
                               .format(file=archive.name, error=e)) from e
        except Exception:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        params = {**(manifest.get('params') or {}), 'imported_from': archive.name}
        dataset = Dataset.create(project=project, name=name, path=str(output), sources=manifest.get('sources') or [],
                                 params=params, status='ready', sr=info['sr'], channels=info['channels'],
                                 lazy=info['lazy'], n_examples=info['examples'],
                                 n_seconds=manifest.get('n_seconds') or info['seconds'],
                                 size_bytes=info['size_bytes'], tags=list(manifest.get('tags') or []),
                                 category=manifest.get('category') or '')
        self.datasets.changed(dataset)
        return dataset

    def _free_name(self, project: Project, name: str) -> str:
        candidate, n = name or 'imported', 2
        while (Dataset.get_or_none((Dataset.project == project) & (Dataset.name == candidate))
               or self.datasets.output_path(project, candidate).exists()):
            candidate, n = f'{name} ({n})', n + 1
        return candidate

    # ---- the integrity check ---------------------------------------------------------------------
    def validate(self, dataset: Dataset, progress: Progress | None = None,
                 stop: threading.Event | None = None) -> IntegrityReport:
        """Re-read and decode every entry of the dataset's LMDB through the shared reader (keys contiguous,
        values decode, sizes agree, lazy sources exist), and keep the report (`last_report`). Slow on big
        databases: run it off the event loop; `stop` ends it early."""
        started = time.monotonic()
        try:
            db = lmdb_reader.reader(dataset.path)
        except (OSError, lmdb.Error) as e:
            line = _('The dataset cannot be opened: {error}').format(error=e)
            return IntegrityReport(0, 0, (line,), 1, at=time.time())
        report = IntegrityReport(len(db), 0, at=time.time())
        try:
            for state in db.check(every=500, expected=dataset.n_examples or None):
                report = dataclasses.replace(report, checked=state.done, problems=tuple(state.problems),
                                             problem_count=state.problem_count, finished=state.finished)
                if progress:
                    progress(1.0 if state.finished else state.done / max(state.total, 1),
                             _('{done} of {total} entries checked').format(done=formatting.count(state.done),
                                                                           total=formatting.count(state.total)))
                if stop is not None and stop.is_set() and not state.finished:
                    report = dataclasses.replace(report, stopped=True)
                    break
        except (OSError, lmdb.Error) as e:  # a damaged B-tree can stop the walk itself
            line = _('The check could not finish: {error}. The database may be damaged; rebuild it.').format(error=e)
            report = dataclasses.replace(report, problems=(*report.problems, line),
                                         problem_count=report.problem_count + 1)
        report = dataclasses.replace(report, seconds=time.monotonic() - started)
        self._keep(dataset, report)
        return report

    def last_report(self, dataset: Dataset) -> IntegrityReport | None:
        """The report of the last check of this dataset, if one was kept."""
        try:
            values = json.loads(self.report_file(dataset).read_text())
            return IntegrityReport(**{**values, 'problems': tuple(values['problems'])})
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def report_file(self, dataset: Dataset) -> Path:
        return self.datasets.files.data_dir / 'cache' / 'inspector' / str(dataset.id) / 'integrity.json'

    def _keep(self, dataset: Dataset, report: IntegrityReport) -> None:
        target = self.report_file(dataset)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(dataclasses.asdict(report)))
        except OSError:
            pass  # a report that cannot be kept is still shown once


class _Reader:
    """A file-like view of bytes, for tarfile.addfile."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self.data) if n < 0 else self.pos + n
        chunk, self.pos = self.data[self.pos:end], min(end, len(self.data))
        return chunk


def _add_file(tar: tarfile.TarFile, path: Path, arcname: str, done: list[int], total: int,
              progress: Progress | None) -> None:
    info = tar.gettarinfo(str(path), arcname)
    info.uid = info.gid = 0
    info.uname = info.gname = ''

    class Counting:
        def __init__(self, f) -> None:
            self.f = f

        def read(self, n: int = -1) -> bytes:
            chunk = self.f.read(n)
            done[0] += len(chunk)
            if progress and total:
                progress(min(done[0] / total, 1.0), _('Packing {file}').format(file=path.name))
            return chunk

    with open(path, 'rb') as f:
        tar.addfile(info, Counting(f))
