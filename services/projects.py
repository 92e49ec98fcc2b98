"""Projects: a named place that owns datasets, runs and exports; create, edit, back up, restore, delete.

`ProjectService` is the engine (rows); `Projects` is what pages use: it checks the acting user, sends every
folder a user names through the file policy and returns frozen views. Backups live in services/backup.py.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import peewee as pw

from services import access
from services.access import Action, Actor
from services.events import Bus, ProjectsChanged
from services.files import FilePolicy, PathRefused, inside
from services.i18n import N_, _, ngettext
from services.lab import roles
from services.store import Checkpoint, Dataset, Export, Job, Project, Run, db, now
from services.uploads import UploadSink

if TYPE_CHECKING:
    from services.backup import Backups, Progress

SUBFOLDERS = ('datasets', 'runs', 'exports', 'uploads')
DEFAULT_DESCRIPTION = N_('A first project, made for you.')  # stored as is; said in the reader's language


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


def shown_description(project: ProjectView | Project) -> str:
    """A project's description as a page shows it: the studio's untouched default in the page's language, a
    user's own as they wrote it."""
    return _(DEFAULT_DESCRIPTION) if project.description == DEFAULT_DESCRIPTION else project.description


@dataclass(frozen=True)
class ProjectSummary:
    """A project with what it holds, for its card and for the question before deleting it."""
    project: ProjectView
    datasets: int
    runs: int
    checkpoints: int
    exports: int
    external: tuple[str, ...]  # folders of datasets outside the project folder: never deleted with it


@dataclass(frozen=True)
class RecentRun:
    id: int
    name: str
    dataset: str  # '' when the run has none (imported, or its dataset was deleted)
    configs: tuple[str, ...]
    step: int
    status: str


@dataclass(frozen=True)
class RecentDataset:
    id: int
    name: str
    seconds: float | None
    sr: int | None
    status: str


@dataclass(frozen=True)
class RecentExport:
    id: int
    name: str
    streaming: bool
    created: dt.datetime
    status: str


@dataclass(frozen=True)
class ProjectOverview:
    """The dashboard's view of a project: what it holds, and its newest runs, datasets and exports."""
    summary: ProjectSummary
    runs: tuple[RecentRun, ...]
    datasets: tuple[RecentDataset, ...]
    exports: tuple[RecentExport, ...]


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
        return project or self.create('Default', DEFAULT_DESCRIPTION)

    def default_location(self, name: str) -> Path:
        return self.data_dir / 'projects' / slug(name)

    def free_name(self, name: str) -> str:
        """`name`, or `name (2)`, `name (3)`… whichever no project uses yet."""
        candidate, n = name, 2
        while Project.get_or_none(Project.name == candidate):
            candidate, n = f'{name} ({n})', n + 1
        return candidate

    def create(self, name: str, description: str = '', location: str | Path | None = None) -> Project:
        name = self.check_name(name)
        folder = Path(location).expanduser() if location else self.default_location(name)
        self.make_folders(folder)
        with db.atomic():
            return Project.create(name=name, description=description.strip(), location=str(folder.resolve()))

    def update(self, project: Project, name: str, description: str) -> Project:
        """Rename and re-describe a project; its folder stays where it is."""
        project.name = self.check_name(name, project)
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
        return [d for d in project.datasets if not inside(Path(d.path), root)]

    # ---- delete ----------------------------------------------------------------------------
    def delete(self, project: Project, confirm_name: str, remove_files: bool = False) -> None:
        """Remove a project's rows (datasets, runs, checkpoints, exports); its files only when asked."""
        if confirm_name != project.name:
            raise ProjectError(_('Type the project name exactly ("{name}") to delete it.').format(name=project.name))
        busy = Job.select().where(Job.project == project, Job.status.in_(('queued', 'running', 'paused'))).count()
        if busy:
            raise ProjectError(ngettext('{count} job of this project is still active. Stop it first, then delete.',
                                        '{count} jobs of this project are still active. Stop them first, then '
                                        'delete.', busy).format(count=busy))
        folder = Path(project.location).resolve()
        if remove_files and (folder == self.data_dir.resolve() or inside(self.data_dir, folder)
                             or folder == Path.home() or len(folder.parts) < 3):
            raise ProjectError(_('{folder} holds more than this project; remove its files by hand.')
                               .format(folder=folder))
        with db.atomic():
            project.delete_instance()  # SQLite cascades to datasets, runs, checkpoints and exports
        if remove_files:
            shutil.rmtree(folder, ignore_errors=True)

    def check_name(self, name: str, project: Project | None = None) -> str:
        """The name stripped, if no other project has it; else a ProjectError offering a free one."""
        name = name.strip()
        if not name:
            raise ProjectError(_('Give the project a name.'))
        other = Project.get_or_none(Project.name == name)
        if other is not None and (project is None or other.id != project.id):
            raise ProjectError(_('A project called "{name}" exists already. Pick another name.').format(name=name),
                               suggestion=self.free_name(name))
        return name

    @staticmethod
    def make_folders(folder: Path) -> None:
        """The project folder and its datasets/, runs/, exports/, uploads/."""
        try:
            for sub in SUBFOLDERS:
                (folder / sub).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ProjectError(_('Cannot create the folder {folder}: {error}. Choose another location.')
                               .format(folder=folder, error=e.strerror)) from e


@access.acts
class Projects:
    """The projects as the acting user may see and change them."""

    def __init__(self, engine: ProjectService, backups: Backups, files: FilePolicy, actor: Actor,
                 bus: Bus) -> None:
        self._engine = engine
        self._backups = backups
        self._files = files
        self._bus = bus
        self.actor = actor

    # ---- reading ------------------------------------------------------------------------------
    def all(self) -> list[ProjectView]:
        """Every project the user may see, most recently opened first."""
        return [ProjectView.of(p) for p in self._engine.all()
                if access.allowed(self.actor, Action.READ, p.id)]

    def get(self, project_id: int | None) -> ProjectView | None:
        row = self._engine.get(project_id)
        if row is None or not access.allowed(self.actor, Action.READ, row.id):
            return None
        return ProjectView.of(row)

    def current(self, wanted: int | None) -> ProjectView:
        """The project a user works in: `wanted`, else the last opened, else a new 'Default'."""
        view = self.get(wanted) or next(iter(self.all()), None)
        if view is None:  # none yet, or none this user may see: one of their own
            view = self.create(self._engine.free_name('Default'), DEFAULT_DESCRIPTION)
        return view

    def summaries(self) -> list[ProjectSummary]:
        return [self.summary(p.id) for p in self.all()]

    def summary(self, project_id: int) -> ProjectSummary:
        row = self._row(project_id, Action.READ)
        counts = self._engine.counts(row)
        checkpoints = Checkpoint.select().join(Run).where(Run.project == row).count()
        return ProjectSummary(ProjectView.of(row), counts['datasets'], counts['runs'], checkpoints,
                              counts['exports'], tuple(d.path for d in self._engine.external_datasets(row)))

    def overview(self, project_id: int, limit: int = 5) -> ProjectOverview:
        """The project's newest runs, datasets and exports (at most `limit` of each)."""
        summary = self.summary(project_id)
        row = self._engine.get(project_id)
        runs = Run.select(Run, Dataset).join(Dataset, pw.JOIN.LEFT_OUTER, on=(Run.dataset == Dataset.id)) \
            .where(Run.project == row).order_by(Run.created.desc()).limit(limit)
        datasets = Dataset.select().where(Dataset.project == row) \
            .order_by(Dataset.created.desc()).limit(limit)
        exports = Export.select().where(Export.project == row).order_by(Export.created.desc()).limit(limit)
        return ProjectOverview(
            summary,
            tuple(RecentRun(r.id, r.name, r.dataset.name if r.dataset_id and r.dataset else '',
                            tuple(r.configs or ()), r.step, r.status) for r in runs),
            tuple(RecentDataset(d.id, d.name, d.n_seconds, d.sr, d.status) for d in datasets),
            tuple(RecentExport(e.id, Path(e.path).name, bool(e.streaming), e.created, e.status)
                  for e in exports))

    def default_location(self, name: str) -> Path:
        return self._engine.default_location(name or 'project')

    def name_taken(self, name: str) -> bool:
        return Project.get_or_none(Project.name == (name or '').strip()) is not None

    # ---- changing -----------------------------------------------------------------------------
    def open(self, project_id: int) -> ProjectView:
        """Mark a project as the one last opened (the switcher lists it first)."""
        row = self._row(project_id, Action.READ)
        self._engine.touch(row)
        return ProjectView.of(row)

    def create(self, name: str, description: str = '', location: str | Path | None = None) -> ProjectView:
        """A new project with its folders, in `location` (a folder the user may use) or the data folder."""
        access.require(self.actor, Action.EDIT)
        folder = self._location(location)
        row = self._engine.create(name, description, folder)
        roles.created(row.id, self.actor)
        self._bus.publish(ProjectsChanged(row.id))
        return ProjectView.of(row)

    def update(self, project_id: int, name: str, description: str) -> ProjectView:
        row = self._row(project_id, Action.MANAGE)
        before = {'name': row.name, 'description': row.description}
        row = self._engine.update(row, name, description)
        access.changed(before=before, after={'name': row.name, 'description': row.description})
        self._bus.publish(ProjectsChanged(row.id))
        return ProjectView.of(row)

    def delete(self, project_id: int, confirm_name: str, *, remove_files: bool = False) -> None:
        """Remove a project's rows; its files only when asked (ProjectError says why not, e.g. active
        jobs)."""
        row = self._row(project_id, Action.MANAGE)
        if remove_files:
            access.require(self.actor, Action.DELETE, project_id)
        self._engine.delete(row, confirm_name, remove_files=remove_files)
        self._bus.publish(ProjectsChanged(project_id))

    # ---- back up and restore -------------------------------------------------------------------
    def backup(self, project_id: int, progress: Progress | None = None) -> Path:
        """Write the project's backup zip under <data folder>/backups/; call it off the event loop."""
        row = self._row(project_id, Action.READ)
        dest = self._engine.data_dir / 'backups' / f'{slug(row.name)}-{now():%Y%m%d-%H%M%S}.zip'
        return self._backups.write(row, dest, progress)

    def upload_limit_mb(self) -> int:
        return round(self._files.upload_limit() / 1024 ** 2)

    def reserve_backup_upload(self, filename: str, size: int | None) -> Path:
        """Where an uploaded backup is written, after its name and size are checked (UploadRefused if not)."""
        access.require(self.actor, Action.EDIT)
        self._files.check_upload(filename, size, 'backup')
        return self._files.reserve_upload(self._engine.data_dir / 'backups' / 'incoming', '', filename)

    def receive_backup(self, filename: str, size: int | None) -> UploadSink:
        """The sink an uploaded backup is written through: its name and size checked first, then its content (a
        zip) and its size again while it streams (UploadRefused if not; nothing kept)."""
        return UploadSink(self.reserve_backup_upload(filename, size), self._files.upload_limit(), filename, 'backup')

    def restore(self, zip_path: str | Path, name: str | None = None, location: str | Path | None = None,
                progress: Progress | None = None) -> ProjectView:
        """Restore a backup (a file inside the browsable folders) as a new project; call it off the loop."""
        access.require(self.actor, Action.EDIT)
        try:
            source = self._files.confine(zip_path, what='backup .zip')
        except PathRefused as e:
            if e.path is None:
                raise ProjectError(_('Upload a backup or give its path first.')) from e
            raise ProjectError(_('{path} is outside the folders this studio may browse. Add its folder in '
                                 'Settings → Folders, or upload the file.').format(path=e.path)) from e
        row = self._backups.restore(source, name, self._location(location), progress)
        roles.restored(row.id, self.actor)
        self._bus.publish(ProjectsChanged(row.id))
        return ProjectView.of(row)

    # ---- internals ----------------------------------------------------------------------------
    def _row(self, project_id: int, action: Action) -> Project:
        access.require(self.actor, action, project_id)
        row = self._engine.get(project_id)
        if row is None:
            raise ProjectError(_('That project no longer exists; pick another one.'))
        return row

    def _location(self, location: str | Path | None) -> Path | None:
        """A project folder the user named: inside the browsable folders, or anywhere for those who may."""
        if not str(location or '').strip():
            return None
        try:
            return self._files.confine(location, what='project folder')
        except PathRefused as e:
            access.require(self.actor, Action.OUTSIDE_ROOTS)
            return e.path
