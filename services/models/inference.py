"""Inference: run exported models on audio (reconstruction) in a worker job, never in the UI process.

Each reconstruction gets a folder <project>/explorer/<id>/ with input.wav, output.wav and
reconstruction.json, written by `services.workers.reconstruct`.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from services.jobs import REPO_ROOT, JobService, JobState
from services.projects import ProjectService
from services.settings import SettingsService
from services.store import Dataset, Export, Job, Project

AUDIO_EXTENSIONS = {'.wav', '.aif', '.aiff', '.flac', '.mp3', '.ogg', '.opus', '.aac', '.m4a'}
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
    def __init__(self, jobs: JobService, settings: SettingsService, projects: ProjectService) -> None:
        self.jobs = jobs
        self.settings = settings
        self.projects = projects
        jobs.describe_with('reconstruct', _describe)

    def reconstruct(self, project: Project, export: Export, audio_path: str | Path) -> Reconstruction:
        """Start a job that encodes and decodes `audio_path` with the exported model."""
        model = Path(export.path)
        if export.status != 'done' or not model.is_file():
            raise InferenceError(f'The export {model.name} is not ready (status {export.status}). '
                                 'Pick a finished export or export the run again.')
        audio = Path(str(audio_path)).expanduser()
        if not audio.is_file():
            raise InferenceError(f'{audio} does not exist. Upload the file or pick another one.')
        if audio.stat().st_size == 0:
            raise InferenceError(f'{audio.name} is empty (0 bytes). Pick another file.')
        rec_id = f'{time.strftime("%Y%m%d-%H%M%S")}-{secrets.token_hex(3)}'
        folder = self.projects.folder(project, 'explorer') / rec_id
        folder.mkdir(parents=True)
        argv = [self.settings.python, '-m', 'services.workers.reconstruct', '--model', str(model),
                '--input', str(audio.resolve()), '--output', str(folder)]
        job = self.jobs.submit('reconstruct', f'Reconstruct {audio.name} with {model.stem}', argv,
                               project=project, cwd=REPO_ROOT,
                               spec={'folder': str(folder), 'export': export.id, 'input': str(audio)})
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
            folders += [Path(s) for s in dataset.sources or [] if self.settings.within_roots(s)
                        or Path(project.location).resolve() in Path(s).resolve().parents]
        found: list[Path] = []
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob('*')):
                if path.suffix.lower() in AUDIO_EXTENSIONS and path.is_file() and path not in found:
                    found.append(path)
                    if len(found) >= MAX_LISTED:
                        return found
        return found

    def upload_target(self, project: Project, filename: str, size: int) -> Path:
        """Where an upload goes after the size check; raises InferenceError when it is too big or not audio."""
        limit_mb = float(self.settings.get('max_upload_mb') or 512)
        if size > limit_mb * 1024 * 1024:
            raise InferenceError(f'{filename} is {size / 1024 / 1024:.0f} MB; uploads may be at most '
                                 f'{limit_mb:.0f} MB (Settings → max upload).')
        name = re.sub(r'[^A-Za-z0-9._-]+', '_', Path(filename).name).strip('._') or 'upload'
        if Path(name).suffix.lower() not in AUDIO_EXTENSIONS:
            raise InferenceError(f'{filename} does not look like audio. Upload a wav, flac, mp3, ogg or aiff file.')
        target = self.projects.folder(project, 'uploads') / name
        stem, n = target.stem, 1
        while target.exists():
            target = target.with_name(f'{stem}-{n}{target.suffix}')
            n += 1
        return target


def _describe(state: JobState) -> None:
    state.detail = str(state.last.get('stage', '')).capitalize()
