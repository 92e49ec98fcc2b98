"""training (stub, to be filled in)."""
from __future__ import annotations

from services.jobs import JobService
from services.projects import ProjectService
from services.settings import SettingsService


class TrainingService:
    def __init__(self, jobs: JobService, settings: SettingsService, projects: ProjectService) -> None:
        self.jobs = jobs
        self.settings = settings
        self.projects = projects
    def poll(self) -> None:
        """Read new metrics of running trainings (called by the global poller)."""
