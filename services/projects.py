"""Projects: a named place that owns datasets, runs and exports."""
from __future__ import annotations

import re
from pathlib import Path

from services.store import Project, db, now


class ProjectError(ValueError):
    """A project action that cannot be done, with a message for the user."""


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

    def create(self, name: str, description: str = '', location: str | Path | None = None) -> Project:
        name = name.strip()
        if not name:
            raise ProjectError('Give the project a name.')
        if Project.get_or_none(Project.name == name):
            raise ProjectError(f'A project called "{name}" exists already. Pick another name.')
        folder = Path(location).expanduser() if location else self.default_location(name)
        try:
            for sub in ('datasets', 'runs', 'exports', 'uploads'):
                (folder / sub).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ProjectError(f'Cannot create the folder {folder}: {e.strerror}. Choose another location.') from e
        with db.atomic():
            return Project.create(name=name, description=description, location=str(folder.resolve()))

    def touch(self, project: Project) -> None:
        project.opened = now()
        project.save()

    def folder(self, project: Project, sub: str) -> Path:
        path = Path(project.location) / sub
        path.mkdir(parents=True, exist_ok=True)
        return path
