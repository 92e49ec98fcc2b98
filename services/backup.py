"""Project backups built from the schema: one portable zip holding every row that belongs to a project and
its files, restorable into any data folder.

What belongs to a project is read from the peewee models, not written down here: every table with a foreign
key to the project, or cascading from such a table (datasets, runs, checkpoints, run attempts, exports, jobs).
Every column of those rows goes into `manifest.json`, so a column added to a model is carried without a
change here. On restore, ids are handed out anew and foreign keys follow them; paths move with the project:
a `PathField` inside the project is stored relative to it, and the project folder inside any other text or
JSON value is stored as `$PROJECT`. A job's files (log, progress, metrics) travel with it: its folder is named
after its id.

Two facts the schema cannot say are declared below: ids kept inside JSON values (`JSON_REFERENCES`) and the
state an in-flight row settles to (`SETTLED`): a restored row runs nowhere.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import peewee as pw

from services.files import inside
from services.i18n import _
from services.jobs.host import folder_of
from services.projects import ProjectError, ProjectService
from services.store import BaseModel, Dataset, Export, Job, JSONField, PathField, Project, Run, db, now

BACKUP_FORMAT = 'rave-studio-project-backup'
BACKUP_VERSION = 2  # 2: built from the schema (every column, run attempts, jobs and their files)
PROJECT_MARK = '$PROJECT'  # stands for the project folder inside text and JSON values of a backup
FILES, JOBS = 'files/', 'jobs/'  # where the zip holds the project folder and the job folders
_STORED = {'.mdb', '.wav', '.flac', '.mp3', '.ogg', '.aif', '.aiff', '.ts', '.onnx', '.ckpt', '.zip', '.gz'}

# (table, JSON column, key) → the table whose id the key holds (one id or a list of them)
JSON_REFERENCES: dict[tuple[type[BaseModel], str, str], type[BaseModel]] = {
    (Run, 'params', 'jobs'): Job,  # the jobs whose metrics make up the run's charts
    (Job, 'spec', 'dataset_id'): Dataset,
    (Job, 'spec', 'run'): Run,
    (Job, 'spec', 'export'): Export,
}
IN_FLIGHT = ('queued', 'running', 'paused', 'building')
SETTLED = {Dataset: 'failed', Export: 'failed'}  # what an in-flight status becomes; 'interrupted' otherwise

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


class Backups:
    """Back up a project of this data folder, restore a backup as a new project in it."""

    def __init__(self, projects: ProjectService, jobs_root: Path) -> None:
        self.projects = projects
        self.jobs_root = jobs_root

    def write(self, project: Project, dest_zip: str | Path, progress: Progress | None = None) -> Path:
        """Write one portable zip: manifest.json (every row, paths relative to the project), the project's
        files and the folders of its jobs."""
        dest = Path(dest_zip)
        dest.parent.mkdir(parents=True, exist_ok=True)
        manifest = manifest_of(project)
        members = list(_members(project))
        counter = _Counter(sum(p.stat().st_size for p, _ in members), progress)
        tmp = dest.with_name(f'.{dest.name}.partial')
        try:
            with zipfile.ZipFile(tmp, 'w', allowZip64=True) as zf:
                zf.writestr('manifest.json', json.dumps(manifest, indent=2, default=str))
                for path, name in members:
                    method = zipfile.ZIP_STORED if path.suffix.lower() in _STORED else zipfile.ZIP_DEFLATED
                    zf.write(path, name, compress_type=method,
                             compresslevel=1 if method == zipfile.ZIP_DEFLATED else None)
                    counter.add(path.stat().st_size)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return dest

    @staticmethod
    def read_manifest(zip_path: str | Path) -> dict[str, Any]:
        """The manifest of a studio backup, or a ProjectError saying why this file is not one."""
        path = Path(zip_path)
        if not path.is_file():
            raise ProjectError(_('{path} does not exist. Pick a backup .zip made by RAVE Studio.').format(path=path))
        if not zipfile.is_zipfile(path):
            raise ProjectError(_('{file} is not a zip file. Pick a backup .zip made by RAVE Studio.')
                               .format(file=path.name))
        with zipfile.ZipFile(path) as zf:
            try:
                manifest = json.loads(zf.read('manifest.json'))
            except (KeyError, ValueError):
                manifest = None
        if not isinstance(manifest, dict) or manifest.get('format') != BACKUP_FORMAT:
            raise ProjectError(_('{file} is not a RAVE Studio project backup (no studio manifest inside).')
                               .format(file=path.name))
        if int(manifest.get('version', 0)) > BACKUP_VERSION:
            raise ProjectError(_('{file} was made by a newer RAVE Studio (format {version}). Update the studio to '
                                 'restore it.').format(file=path.name, version=manifest['version']))
        if not isinstance(manifest.get('project'), dict):
            raise ProjectError(_('{file} holds no project. Pick a backup .zip made by RAVE Studio.')
                               .format(file=path.name))
        return manifest

    def restore(self, zip_path: str | Path, name: str | None = None, location: str | Path | None = None,
                progress: Progress | None = None) -> Project:
        """Unpack a backup into a new project (`name`, else the stored one) in `location` (empty or new; by
        default the data folder's projects/<name>), its rows recreated in one transaction with new ids and
        paths pointing there. On failure nothing is left: no rows, no unpacked files."""
        manifest = self.read_manifest(zip_path)
        name = (name or manifest['project'].get('name') or '').strip()
        if Project.get_or_none(Project.name == name):
            free = self.projects.free_name(name)
            raise ProjectError(_('A project called "{name}" exists already. Restore it under another name, for '
                                 'example "{free}".').format(name=name, free=free), suggestion=free)
        name = self.projects.check_name(name)
        folder = (Path(location).expanduser() if location else self.projects.default_location(name)).resolve()
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise ProjectError(_('{folder} is not empty. Choose an empty or new folder for the restored project.')
                               .format(folder=folder))
        made, job_folders = not folder.exists(), []
        try:
            with zipfile.ZipFile(zip_path) as zf:
                members = [m for m in zf.infolist()
                           if not m.is_dir() and m.filename.startswith((FILES, JOBS))]
                counter = _Counter(sum(m.file_size for m in members), progress)
                _extract(zf, [m for m in members if m.filename.startswith(FILES)], FILES, folder, counter)
                self.projects.make_folders(folder)
                with db.atomic():
                    project, jobs = _recreate(manifest, name, folder)
                    for old_id, job in jobs.items():
                        target = folder_of(self.jobs_root, job.id)
                        job_folders.append(target)
                        job.folder = str(target)
                        job.save()
                        prefix = f'{JOBS}{old_id:06d}/'
                        _extract(zf, [m for m in members if m.filename.startswith(prefix)], prefix, target,
                                 counter)
                        target.mkdir(parents=True, exist_ok=True)
            return project
        except BaseException:
            for path in job_folders:
                shutil.rmtree(path, ignore_errors=True)
            if made:
                shutil.rmtree(folder, ignore_errors=True)
            raise


def owned_models() -> list[type[BaseModel]]:
    """Every table whose rows belong to a project, each after the tables its foreign keys point to."""
    models = [m for m in _all_models() if m is not Project]
    owned: list[type[BaseModel]] = []
    while True:
        new = [m for m in models if m not in owned and _owner_key(m, owned) is not None]
        if not new:
            break
        owned += new
    ordered: list[type[BaseModel]] = []
    while len(ordered) < len(owned):
        ready = [m for m in owned if m not in ordered
                 and all(f.rel_model in ordered or f.rel_model not in owned or f.rel_model is m
                         for f in _foreign_keys(m))]
        if not ready:
            raise RuntimeError('The foreign keys of the project tables form a cycle: order them by hand.')
        ordered += ready
    return ordered


def table_key(model: type[BaseModel]) -> str:
    """The manifest key of a table's rows: 'datasets', 'runs', 'checkpoints', …"""
    return f'{model._meta.table_name}s'


def rows_of(model: type[BaseModel], project: Project) -> pw.ModelSelect:
    """The rows of `model` that belong to `project`, in id order."""
    key = _owner_key(model, owned_models())
    if key.rel_model is Project:
        return model.select().where(key == project.id).order_by(model.id)
    parents = rows_of(key.rel_model, project).select(key.rel_model.id)
    return model.select().where(key.in_(parents)).order_by(model.id)


def manifest_of(project: Project) -> dict[str, Any]:
    """Every column of the project and of each row that belongs to it, paths made relative to the project."""
    root = Path(project.location).resolve()
    manifest: dict[str, Any] = {'format': BACKUP_FORMAT, 'version': BACKUP_VERSION,
                                'created': now().isoformat(),
                                'project': _encode_row(project, root, skip=('id', 'location'))}
    for model in owned_models():
        entries = []
        for row in rows_of(model, project):
            entry = _encode_row(row, root)
            if model is not Job:  # a job's cwd is often the studio's own folder: nothing of the project
                paths = [getattr(row, f.name) for f in _paths(model) if getattr(row, f.name)]
                entry['external'] = any(not inside(p, root) for p in paths)  # its files are not in the zip
            entries.append(entry)
        manifest[table_key(model)] = entries
    return manifest


# ---- internals -----------------------------------------------------------------------------------
def _recreate(manifest: dict[str, Any], name: str, folder: Path) -> tuple[Project, dict[int, Job]]:
    info = {k: v for k, v in manifest['project'].items() if k not in ('id', 'location', 'name')}
    project = Project.create(name=name, location=str(folder), **_decode_values(Project, info, folder, {}))
    ids: dict[type[BaseModel], dict[Any, int]] = {Project: {None: project.id}}
    restored: dict[type[BaseModel], list[BaseModel]] = {}
    jobs: dict[int, Job] = {}
    for model in owned_models():
        ids[model] = {}
        for entry in manifest.get(table_key(model), []):
            values = _decode_values(model, entry, folder, ids, project=project)
            if values is None:
                continue  # its parent is not in the backup (a checkpoint of a run that was not carried)
            if values.get('status') in IN_FLIGHT:
                values['status'] = SETTLED.get(model, 'interrupted')
            try:
                with db.atomic():
                    row = model.create(**values)
            except pw.IntegrityError:
                continue  # a unique file already indexed here (a checkpoint outside the project folder)
            if 'id' in entry:
                ids[model][entry['id']] = row.id
            restored.setdefault(model, []).append(row)
            if model is Job and 'id' in entry:
                jobs[entry['id']] = row
    _remap_json_references(restored, ids)
    return project, jobs


def _decode_values(model: type[BaseModel], entry: dict[str, Any], folder: Path,
                   ids: dict[type[BaseModel], dict[Any, int]], project: Project | None = None) -> dict | None:
    values: dict[str, Any] = {}
    for field in model._meta.sorted_fields:
        if field.primary_key or (field.name not in entry and not _is_project_key(field)):
            continue
        value = entry.get(field.name)
        if isinstance(field, pw.ForeignKeyField):
            if field.rel_model is Project:
                value = project.id
            elif value is not None:
                value = ids.get(field.rel_model, {}).get(value)
            if value is None and not field.null:
                return None
        elif isinstance(field, PathField):
            value = _absolute(value, folder)
        elif isinstance(field, (JSONField, pw.CharField, pw.TextField)):
            value = _unmark(value, folder)
        elif isinstance(field, pw.DateTimeField) and isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        values[field.name] = value
    return values


def _remap_json_references(restored: dict[type[BaseModel], list[BaseModel]],
                           ids: dict[type[BaseModel], dict[Any, int]]) -> None:
    for (model, column, key), target in JSON_REFERENCES.items():
        for row in restored.get(model, []):
            value = getattr(row, column)
            if not isinstance(value, dict) or key not in value:
                continue
            old = value[key]
            mapped = [ids[target].get(i) for i in old] if isinstance(old, list) else ids[target].get(old)
            setattr(row, column, {**value, key: [i for i in mapped if i is not None]
                                  if isinstance(old, list) else mapped})
            row.save()


def _encode_row(row: BaseModel, root: Path, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for field in type(row)._meta.sorted_fields:
        if field.name in skip:
            continue
        value = row.__data__.get(field.name)
        if isinstance(field, PathField):
            value = _relative(value, root)
        elif isinstance(field, (JSONField, pw.CharField, pw.TextField)):
            value = _mark(value, root)
        entry[field.name] = value
    return entry


def _members(project: Project) -> Iterator[tuple[Path, str]]:
    """(file, name in the zip) of the project folder and of each job's folder."""
    root = Path(project.location)
    if root.is_dir():
        for path in sorted(root.rglob('*')):
            if path.is_file() and path.name != 'lock.mdb':
                yield path, FILES + path.relative_to(root).as_posix()
    for job in rows_of(Job, project):
        folder = Path(job.folder) if job.folder else None
        if folder is not None and folder.is_dir():
            for path in sorted(folder.rglob('*')):
                if path.is_file():
                    yield path, f'{JOBS}{job.id:06d}/{path.relative_to(folder).as_posix()}'


class _Counter:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress

    def add(self, n: int) -> None:
        self.done += n
        if self.progress:
            self.progress(self.done, self.total)


def _extract(zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], prefix: str, folder: Path,
             counter: _Counter) -> None:
    folder = folder.resolve()
    for member in members:
        target = (folder / member.filename[len(prefix):]).resolve()
        if not inside(target, folder) or target == folder:
            raise ProjectError(_('The backup holds an unsafe path ({path}); it was not restored.')
                               .format(path=member.filename))
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(member) as src, open(target, 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        counter.add(member.file_size)


def _all_models() -> list[type[BaseModel]]:
    found, todo = [], list(BaseModel.__subclasses__())
    while todo:
        model = todo.pop(0)
        found.append(model)
        todo += model.__subclasses__()
    return found


def _foreign_keys(model: type[BaseModel]) -> list[pw.ForeignKeyField]:
    return [f for f in model._meta.sorted_fields if isinstance(f, pw.ForeignKeyField)]


def _owner_key(model: type[BaseModel], owned: list[type[BaseModel]]) -> pw.ForeignKeyField | None:
    """The foreign key that makes `model` a project's: to the project itself, or cascading from an owned
    table."""
    keys = _foreign_keys(model)
    direct = [f for f in keys if f.rel_model is Project]
    cascading = [f for f in keys if f.rel_model in owned and (f.on_delete or '').upper() == 'CASCADE']
    return (direct or cascading or [None])[0]


def _is_project_key(field: pw.Field) -> bool:
    return isinstance(field, pw.ForeignKeyField) and field.rel_model is Project


def _paths(model: type[BaseModel]) -> list[PathField]:
    return [f for f in model._meta.sorted_fields if isinstance(f, PathField)]


def _relative(value: str | None, root: Path) -> str | None:
    """A path inside the project as a relative POSIX path ('.' for the folder itself); others stay as they
    are."""
    if not value or not inside(value, root):
        return value
    return Path(value).resolve().relative_to(root).as_posix()


def _absolute(value: str | None, folder: Path) -> str | None:
    if not value or Path(value).is_absolute():
        return value
    return str(folder) if value == '.' else str(folder / value)


def _mark(value: Any, root: Path) -> Any:
    """The project folder inside text and JSON values replaced by PROJECT_MARK."""
    if isinstance(value, dict):
        return {k: _mark(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark(v, root) for v in value]
    if isinstance(value, str):
        return _folder_pattern(root).sub(PROJECT_MARK, value)
    return value


def _unmark(value: Any, folder: Path) -> Any:
    if isinstance(value, dict):
        return {k: _unmark(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [_unmark(v, folder) for v in value]
    if isinstance(value, str):
        return value.replace(PROJECT_MARK, str(folder))
    return value


def _folder_pattern(root: Path) -> re.Pattern:
    """The folder as a whole path or path prefix inside a text (not `/a/b` inside `/a/bc`)."""
    return re.compile(re.escape(str(root)) + r'(?=[/\s\'"=:,;)\]}]|$)')
