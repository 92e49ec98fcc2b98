"""Projects: a named place that owns datasets, runs and exports; create, edit, back up, restore, delete."""
from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.store import Checkpoint, Dataset, Export, Job, Project, Run, db, now

BACKUP_FORMAT = 'rave-studio-project-backup'
BACKUP_VERSION = 1
SUBFOLDERS = ('datasets', 'runs', 'exports', 'uploads')
PROJECT_MARK = '$PROJECT'  # stands for the project folder inside JSON values of a backup
_STORED = {'.mdb', '.wav', '.flac', '.mp3', '.ogg', '.aif', '.aiff', '.ts', '.onnx', '.ckpt', '.zip', '.gz'}

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


class ProjectError(ValueError):
    """A project action that cannot be done, with a message for the user."""

    def __init__(self, message: str, suggestion: str = '') -> None:
        super().__init__(message)
        self.suggestion = suggestion  # e.g. a free name to offer instead


@dataclass(frozen=True)
class ProjectView:
    """A project as pages see it (a copy of its row)."""
    id: int
    name: str
    description: str
    location: str
    created: dt.datetime
    opened: dt.datetime

    @classmethod
    def of(cls, row: Project) -> ProjectView:
        return cls(row.id, row.name, row.description, row.location, row.created, row.opened)


def slug(name: str) -> str:
    return re.sub(r'[^A-Za-z0-9._-]+', '-', name.strip()).strip('-.') or 'project'


class ProjectService:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def all(self) -> list[Project]:
        return list(Project.select().order_by(Project.opened.desc()))

    def get(self, project_id: int | None) -> Project | None:
        return Project.get_or_none(Project.id == project_id) if project_id else None

    def current(self, project_id: int | None) -> Project:
        """The project a user is in: the one asked for, else the last opened, else a new 'Default'."""
        project = self.get(project_id) or Project.select().order_by(Project.opened.desc()).first()
        return project or self.create('Default', 'A first project, made for you.')

    def default_location(self, name: str) -> Path:
        return self.data_dir / 'projects' / slug(name)

    def free_name(self, name: str) -> str:
        """`name`, or `name (2)`, `name (3)`… whichever no project uses yet."""
        candidate, n = name, 2
        while Project.get_or_none(Project.name == candidate):
            candidate, n = f'{name} ({n})', n + 1
        return candidate

    def create(self, name: str, description: str = '', location: str | Path | None = None) -> Project:
        name = self._check_name(name)
        folder = Path(location).expanduser() if location else self.default_location(name)
        self._make_folders(folder)
        with db.atomic():
            return Project.create(name=name, description=description.strip(), location=str(folder.resolve()))

    def update(self, project: Project, name: str, description: str) -> Project:
        """Rename and re-describe a project; its folder stays where it is."""
        project.name = self._check_name(name, project)
        project.description = description.strip()
        project.save()
        return project

    def touch(self, project: Project) -> None:
        project.opened = now()
        project.save()

    def folder(self, project: Project, sub: str) -> Path:
        path = Path(project.location) / sub
        path.mkdir(parents=True, exist_ok=True)
        return path

    def counts(self, project: Project) -> dict[str, int]:
        return {'datasets': project.datasets.count(), 'runs': project.runs.count(),
                'exports': project.exports.count()}

    def external_datasets(self, project: Project) -> list[Dataset]:
        """Datasets whose files live outside the project folder (e.g. made elsewhere or lazy on sources)."""
        root = Path(project.location)
        return [d for d in project.datasets if not _inside(Path(d.path), root)]

    # ---- back up / restore -----------------------------------------------------------------
    def backup(self, project: Project, dest_zip: str | Path, progress: Progress | None = None) -> Path:
        """Write one portable zip: manifest.json (rows, paths relative to the project) + the project's files."""
        dest = Path(dest_zip)
        dest.parent.mkdir(parents=True, exist_ok=True)
        root = Path(project.location)
        files = [p for p in sorted(root.rglob('*')) if p.is_file() and p.name != 'lock.mdb'] \
            if root.is_dir() else []
        total, done = sum(p.stat().st_size for p in files), 0
        tmp = dest.with_name(f'.{dest.name}.partial')
        try:
            with zipfile.ZipFile(tmp, 'w', allowZip64=True) as zf:
                zf.writestr('manifest.json', json.dumps(self._manifest(project), indent=2, default=str))
                for path in files:
                    method = zipfile.ZIP_STORED if path.suffix.lower() in _STORED else zipfile.ZIP_DEFLATED
                    zf.write(path, 'files/' + path.relative_to(root).as_posix(), compress_type=method,
                             compresslevel=1 if method == zipfile.ZIP_DEFLATED else None)
                    done += path.stat().st_size
                    if progress:
                        progress(done, total)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return dest

    def read_manifest(self, zip_path: str | Path) -> dict[str, Any]:
        """The manifest of a studio backup, or a ProjectError saying why this file is not one."""
        path = Path(zip_path)
        if not path.is_file():
            raise ProjectError(f'{path} does not exist. Pick a backup .zip made by RAVE Studio.')
        if not zipfile.is_zipfile(path):
            raise ProjectError(f'{path.name} is not a zip file. Pick a backup .zip made by RAVE Studio.')
        with zipfile.ZipFile(path) as zf:
            try:
                manifest = json.loads(zf.read('manifest.json'))
            except (KeyError, ValueError):
                manifest = None
        if not isinstance(manifest, dict) or manifest.get('format') != BACKUP_FORMAT:
            raise ProjectError(f'{path.name} is not a RAVE Studio project backup (no studio manifest inside).')
        if int(manifest.get('version', 0)) > BACKUP_VERSION:
            raise ProjectError(f'{path.name} was made by a newer RAVE Studio (format {manifest["version"]}). '
                               'Update the studio to restore it.')
        return manifest

    def restore(self, zip_path: str | Path, name: str | None = None, location: str | Path | None = None,
                progress: Progress | None = None) -> Project:
        """Unpack a backup into a new project on this data folder, with its rows and rewritten paths."""
        manifest = self.read_manifest(zip_path)
        name = (name or manifest['project']['name']).strip()
        if Project.get_or_none(Project.name == name):
            free = self.free_name(name)
            raise ProjectError(f'A project called "{name}" exists already. Restore it under another name, '
                               f'for example "{free}".', suggestion=free)
        name = self._check_name(name)
        folder = (Path(location).expanduser() if location else self.default_location(name)).resolve()
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise ProjectError(f'{folder} is not empty. Choose an empty or new folder for the restored project.')
        created = not folder.exists()
        try:
            self._extract(Path(zip_path), folder, progress)
            self._make_folders(folder)
            with db.atomic():
                return self._recreate(manifest, name, folder)
        except BaseException:
            if created:
                shutil.rmtree(folder, ignore_errors=True)
            raise

    # ---- delete ----------------------------------------------------------------------------
    def delete(self, project: Project, confirm_name: str, remove_files: bool = False) -> None:
        """Remove a project's rows (datasets, runs, checkpoints, exports); its files only when asked."""
        if confirm_name != project.name:
            raise ProjectError(f'Type the project name exactly ("{project.name}") to delete it.')
        busy = Job.select().where(Job.project == project, Job.status.in_(('queued', 'running', 'paused'))).count()
        if busy:
            raise ProjectError(f'{busy} job(s) of this project are still active. Stop them first, then delete.')
        folder = Path(project.location).resolve()
        if remove_files and (folder == self.data_dir.resolve() or _inside(self.data_dir, folder)
                             or folder == Path.home() or len(folder.parts) < 3):
            raise ProjectError(f'{folder} holds more than this project; remove its files by hand.')
        with db.atomic():
            project.delete_instance()  # SQLite cascades to datasets, runs, checkpoints and exports
        if remove_files:
            shutil.rmtree(folder, ignore_errors=True)

    # ---- internals -------------------------------------------------------------------------
    def _check_name(self, name: str, project: Project | None = None) -> str:
        name = name.strip()
        if not name:
            raise ProjectError('Give the project a name.')
        other = Project.get_or_none(Project.name == name)
        if other is not None and (project is None or other.id != project.id):
            raise ProjectError(f'A project called "{name}" exists already. Pick another name.',
                               suggestion=self.free_name(name))
        return name

    @staticmethod
    def _make_folders(folder: Path) -> None:
        try:
            for sub in SUBFOLDERS:
                (folder / sub).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ProjectError(f'Cannot create the folder {folder}: {e.strerror}. Choose another location.') from e

    def _manifest(self, project: Project) -> dict[str, Any]:
        root = Path(project.location)
        rel, js = (lambda p: _relative(p, root)), (lambda v: _mark(v, root))
        runs = list(project.runs)
        return {
            'format': BACKUP_FORMAT, 'version': BACKUP_VERSION, 'created': now().isoformat(),
            'project': {'name': project.name, 'description': project.description,
                        'settings': js(project.settings), 'created': project.created},
            'datasets': [{'id': d.id, 'name': d.name, 'path': rel(d.path), 'sources': js(d.sources),
                          'params': js(d.params), 'status': d.status, 'sr': d.sr, 'channels': d.channels,
                          'lazy': d.lazy, 'n_examples': d.n_examples, 'n_seconds': d.n_seconds,
                          'size_bytes': d.size_bytes, 'created': d.created,
                          'external': not _inside(Path(d.path), root)} for d in project.datasets],
            'runs': [{'id': r.id, 'dataset': r.dataset_id, 'name': r.name, 'folder': rel(r.folder),
                      'configs': js(r.configs), 'params': js(r.params), 'status': r.status, 'step': r.step,
                      'created': r.created} for r in runs],
            'checkpoints': [{'run': c.run_id, 'path': rel(c.path), 'step': c.step, 'kind': c.kind,
                             'created': c.created} for r in runs for c in r.checkpoints],
            'exports': [{'run': e.run_id, 'checkpoint': rel(e.checkpoint), 'path': rel(e.path),
                         'streaming': e.streaming, 'status': e.status, 'created': e.created}
                        for e in project.exports],
        }

    def _extract(self, zip_path: Path, folder: Path, progress: Progress | None) -> None:
        with zipfile.ZipFile(zip_path) as zf:
            members = [m for m in zf.infolist() if m.filename.startswith('files/') and not m.is_dir()]
            total, done = sum(m.file_size for m in members), 0
            for member in members:
                target = (folder / member.filename[len('files/'):]).resolve()
                if not _inside(target, folder):
                    raise ProjectError(f'The backup holds an unsafe path ({member.filename}); it was not restored.')
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(target, 'wb') as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                done += member.file_size
                if progress:
                    progress(done, total)

    def _recreate(self, manifest: dict[str, Any], name: str, folder: Path) -> Project:
        path, js = (lambda p: _absolute(p, folder)), (lambda v: _unmark(v, folder))
        info = manifest['project']
        project = Project.create(name=name, description=info.get('description', ''),
                                 settings=js(info.get('settings') or {}), location=str(folder))
        datasets: dict[int, int] = {}
        for d in manifest.get('datasets', []):
            datasets[d['id']] = Dataset.create(
                project=project, name=d['name'], path=path(d['path']), sources=js(d.get('sources') or []),
                params=js(d.get('params') or {}), status=_settled(d.get('status', 'ready'), 'failed'), sr=d.get('sr'),
                channels=d.get('channels'), lazy=bool(d.get('lazy')), n_examples=d.get('n_examples'),
                n_seconds=d.get('n_seconds'), size_bytes=d.get('size_bytes'), created=d.get('created') or now()).id
        runs: dict[int, int] = {}
        for r in manifest.get('runs', []):
            runs[r['id']] = Run.create(
                project=project, dataset=datasets.get(r.get('dataset')), name=r['name'], folder=path(r['folder']),
                configs=js(r.get('configs') or []), params=js(r.get('params') or {}),
                status=_settled(r.get('status', 'done')), step=r.get('step') or 0,
                created=r.get('created') or now()).id
        for c in manifest.get('checkpoints', []):
            if c.get('run') in runs:
                Checkpoint.create(run=runs[c['run']], path=path(c['path']), step=c.get('step'),
                                  kind=c.get('kind', 'epoch'), created=c.get('created') or now())
        for e in manifest.get('exports', []):
            Export.create(project=project, run=runs.get(e.get('run')), checkpoint=path(e.get('checkpoint', '')),
                          path=path(e['path']), streaming=bool(e.get('streaming')),
                          status=_settled(e.get('status', 'done'), 'failed'), created=e.get('created') or now())
        return project


def _inside(path: Path, root: Path) -> bool:
    path, root = Path(path).resolve(), Path(root).resolve()
    return path == root or root in path.parents


def _relative(value: str, root: Path) -> str:
    """A path inside the project as a relative POSIX path; outside paths (and '') stay as they are."""
    if not value:
        return value
    path = Path(value)
    return path.resolve().relative_to(root.resolve()).as_posix() if _inside(path, root) else value


def _absolute(value: str, folder: Path) -> str:
    if not value or Path(value).is_absolute():
        return value
    return str(folder / value)


def _mark(value: Any, root: Path) -> Any:
    """Replace the project folder inside JSON values by PROJECT_MARK, so restored rows can point anew."""
    if isinstance(value, dict):
        return {k: _mark(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark(v, root) for v in value]
    if isinstance(value, str) and value.startswith('/') and _inside(Path(value), root):
        rel = _relative(value, root)
        return PROJECT_MARK if rel == '.' else f'{PROJECT_MARK}/{rel}'
    return value


def _unmark(value: Any, folder: Path) -> Any:
    if isinstance(value, dict):
        return {k: _unmark(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [_unmark(v, folder) for v in value]
    if isinstance(value, str) and (value == PROJECT_MARK or value.startswith(PROJECT_MARK + '/')):
        return str(folder / value[len(PROJECT_MARK) + 1:]) if value != PROJECT_MARK else str(folder)
    return value


def _settled(status: str, instead: str = 'interrupted') -> str:
    """A row restored from a backup is not running anywhere: an in-flight state becomes `instead`."""
    return instead if status in ('queued', 'running', 'paused', 'building') else status
