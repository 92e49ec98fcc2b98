"""Inference: run exported models on audio (reconstruction) in a worker job, never in the UI process.

Each reconstruction gets a folder <project>/explorer/<id>/ with input.wav, output.wav and
reconstruction.json, written by `services.workers.reconstruct`.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from services import progress
from services.files import FilePolicy, is_audio
from services.hookspecs import JobKind
from services.i18n import lazy
from services.jobs import REPO_ROOT, JobService, JobState
from services.projects import ProjectService
from services.settings import SettingsService
from services.store import Dataset, Export, Job, Project

RESULT = 'reconstruction.json'
MAX_LISTED = 400


class InferenceError(ValueError):
    """An inference action that cannot be done, with a message saying what to do."""


@dataclass
class Reconstruction:
    """A reconstruction in progress or done: its job and the folder its files go to."""
    id: str
    job_id: int
    folder: Path


class InferenceService:
    def __init__(self, jobs: JobService, settings: SettingsService, projects: ProjectService,
                 files: FilePolicy) -> None:
        self.jobs = jobs
        self.settings = settings
        self.projects = projects
        self.files = files

    def job_kinds(self) -> list[JobKind]:
        return [JobKind('reconstruct', parse=progress.parse_reconstruct, describe=_describe)]

    def reconstruct(self, project: Project, export: Export, audio_path: str | Path, owner: str = '') -> Reconstruction:
        """Start a job that encodes and decodes `audio_path` with the exported model."""
        model = Path(export.path)
        if export.status != 'done' or not model.is_file():
            raise InferenceError(lazy('The export {name} is not ready (status {status}). Pick a finished export or '
                                      'export the run again.', name=model.name, status=export.status))
        audio = Path(str(audio_path)).expanduser()
        if not audio.is_file():
            raise InferenceError(lazy('{audio} does not exist. Upload the file or pick another one.', audio=audio))
        if audio.stat().st_size == 0:
            raise InferenceError(lazy('{name} is empty (0 bytes). Pick another file.', name=audio.name))
        rec_id = f'{time.strftime("%Y%m%d-%H%M%S")}-{secrets.token_hex(3)}'
        folder = self.projects.folder(project, 'explorer') / rec_id
        folder.mkdir(parents=True)
        argv = [self.settings.python, '-m', 'services.workers.reconstruct', '--model', str(model),
                '--input', str(audio.resolve()), '--output', str(folder)]
        job = self.jobs.submit('reconstruct', f'Reconstruct {audio.name} with {model.stem}', argv,
                               project=project, cwd=REPO_ROOT,
                               spec={'folder': str(folder), 'export': export.id, 'input': str(audio)}, owner=owner)
        return Reconstruction(rec_id, job.id, folder)

    def status(self, rec: Reconstruction) -> tuple[str, str]:
        """(job status, message for the user) of a reconstruction."""
        state = self.jobs.states.get(rec.job_id)
        status = state.status if state else Job.get_by_id(rec.job_id).status
        if status in ('failed', 'interrupted', 'cancelled'):
            result = self.result(rec.folder)
            error = (result or {}).get('error') or (state.message if state else '')
            return status, error or 'The reconstruction failed; see the job log.'
        return status, (state.detail if state else '')

    def result(self, folder: str | Path) -> dict | None:
        """The worker's reconstruction.json, or None while it is not written."""
        path = Path(folder) / RESULT
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def history(self, project: Project, limit: int = 20) -> list[tuple[Path, dict]]:
        """Finished reconstructions of the project, newest first."""
        root = Path(project.location) / 'explorer'
        if not root.is_dir():
            return []
        items = []
        for folder in sorted(root.iterdir(), reverse=True):
            result = self.result(folder)
            if result and 'error' not in result:
                items.append((folder, result))
                if len(items) >= limit:
                    break
        return items

    def audio_choices(self, project: Project) -> list[Path]:
        """Audio files the explorer offers: the project's uploads, then its datasets' source folders."""
        folders = [self.projects.folder(project, 'uploads')]
        for dataset in Dataset.select().where(Dataset.project == project):
            folders += [Path(s) for s in dataset.sources or [] if self.files.within_roots(s)
                        or Path(project.location).resolve() in Path(s).resolve().parents]
        found: list[Path] = []
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob('*')):
                if is_audio(path) and path.is_file() and path not in found:
                    found.append(path)
                    if len(found) >= MAX_LISTED:
                        return found
        return found


def _describe(state: JobState) -> None:
    state.detail = str(state.last.get('stage', '')).capitalize()
