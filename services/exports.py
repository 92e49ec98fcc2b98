"""exports (stub, to be filled in)."""
from __future__ import annotations

from services.jobs import JobService
from services.projects import ProjectService
from services.settings import SettingsService


class ExportService:
    def __init__(self, jobs: JobService, settings: SettingsService, projects: ProjectService) -> None:
        self.jobs = jobs
        self.settings = settings
        self.projects = projects
