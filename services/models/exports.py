"""Exports: RAVE runs and their checkpoints turned into TorchScript (.ts) files by `rave export`.

Run folders stay where RAVE wrote them; a folder made by the plain RAVE CLI can be imported. The export
itself runs RAVE's own `scripts.export` as a job; the database row points at the .ts it wrote.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from services import progress
from services.events import ExportChanged
from services.files import FilePolicy, PathRefused
from services.hookspecs import JobKind
from services.jobs import JobService, JobState
from services.projects import ProjectService
from services.settings import SettingsService
from services.store import Checkpoint, Export, Job, Project, Run
from services.training import operative
from services.training.checkpoints import index as index_checkpoints

_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$')
_HASHED = re.compile(r'^(.*)_[0-9a-f]{10}$')  # RAVE names run folders <name>_<md5(gin)[:10]>


class ExportError(ValueError):
    """An export action that cannot be done, with a message saying what to do."""


@dataclass
class RunCheckpoints:
    """One run with its checkpoints (newest first) and the exports made from it."""
    run: Run
    checkpoints: list[Checkpoint] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)


class ExportService:
    def __init__(self, jobs: JobService, settings: SettingsService, projects: ProjectService,
                 files: FilePolicy) -> None:
        self.jobs = jobs
        self.settings = settings
        self.projects = projects
        self.files = files

    def job_kinds(self) -> list[JobKind]:
        return [JobKind('export', parse=progress.parse_export, describe=_describe, on_finish=self._finished)]

    # ---- runs and checkpoints -----------------------------------------------------------------
    def runs_with_checkpoints(self, project: Project) -> list[RunCheckpoints]:
        """The project's runs (newest first), each with the checkpoints on disk (newest first) and its
        exports."""
        result = []
        for run in Run.select().where(Run.project == project).order_by(Run.created.desc()):
            found = sorted(index_checkpoints(run), key=_mtime, reverse=True)
            exports = list(run.exports.order_by(Export.created.desc()))
            result.append(RunCheckpoints(run, found, exports))
        return result

    def discover(self, project: Project) -> list[Path]:
        """Run folders under the project's runs/ that hold checkpoints but are not known yet."""
        known = {Path(r.folder).resolve() for r in Run.select().where(Run.project == project) if r.folder}
        found = []
        for config in sorted(self.projects.folder(project, 'runs').rglob('config.gin')):
            folder = config.parent.resolve()
            if folder not in known and any(folder.rglob('*.ckpt')):
                found.append(folder)
        return found

    def import_run(self, project: Project, folder: str | Path) -> Run:
        """Index a RAVE run folder (`<name>_<hash>` with config.gin and checkpoints) in the project."""
        try:
            path = self.files.confine(folder, also=(Path(project.location),),
                                      what='RAVE run folder (the one that holds config.gin)')
        except PathRefused as e:
            if e.path is None:
                raise ExportError(str(e)) from e
            raise ExportError(f'{e.path} is outside the folders you may browse. Add its parent in '
                              'Settings → browsable folders, or copy the run into the project\'s runs/ '
                              'folder.') from e
        if not path.is_dir():
            raise ExportError(f'{path} is not a folder. Give the run folder RAVE created (<name>_<hash>).')
        run_folder = _run_root(path)
        if run_folder is None:
            raise ExportError(f'No config.gin in {path} or above it: this is not a RAVE run folder.')
        if not any(run_folder.rglob('*.ckpt')):
            raise ExportError(f'{run_folder} has no checkpoint (*.ckpt) yet. RAVE writes one at each validation; '
                              'let the training reach its first validation.')
        run = Run.get_or_none((Run.project == project) & (Run.folder == str(run_folder)))
        if run is None:
            match = _HASHED.match(run_folder.name)
            run = Run.create(project=project, name=match.group(1) if match else run_folder.name,
                             folder=str(run_folder), status='imported', configs=_configs(run_folder),
                             params={'imported_from': str(run_folder)})
        index_checkpoints(run)
        return run

    # ---- exports ------------------------------------------------------------------------------
    def start(self, project: Project, run: Run | None, checkpoint_path: str | Path, streaming: bool,
              name: str, fidelity: float = 0.95) -> Export:
        """Start `rave export` on a checkpoint (or a run folder: its newest checkpoint) as a job."""
        name = (name or '').strip()
        if not _NAME.match(name):
            raise ExportError('Name the export with letters, digits, ".", "_" or "-" (no spaces), e.g. drums_v2.')
        if not 0.1 <= fidelity <= 0.999:
            raise ExportError('Fidelity must be between 0.1 and 0.999 (share of latent variance kept).')
        source = Path(str(checkpoint_path)).expanduser()
        if not str(checkpoint_path).strip() or not source.exists():
            raise ExportError(f'The checkpoint {checkpoint_path or "(none)"} does not exist. '
                              'Pick a checkpoint of a run, or re-import the run folder.')
        if source.is_dir() and not any(source.rglob('*.ckpt')):
            raise ExportError(f'{source} holds no checkpoint (*.ckpt) to export.')
        if source.is_file() and source.suffix != '.ckpt':
            raise ExportError(f'{source.name} is not a RAVE checkpoint (.ckpt).')
        if _run_root(source if source.is_dir() else source.parent) is None:
            raise ExportError(f'No config.gin next to {source} or above it: RAVE needs it to rebuild the model.')
        output = self.projects.folder(project, 'exports')
        target = output / f'{name}{"_streaming" if streaming else ""}.ts'
        if target.exists() or Export.get_or_none((Export.path == str(target)) & (Export.status == 'running')):
            raise ExportError(f'{target.name} exists already. Choose another name or delete that export first.')
        argv = [self.settings.python, '-m', 'scripts.export', '--run', str(source.resolve()),
                '--output', str(output), '--name', name, '--fidelity', f'{fidelity:g}']
        if streaming:
            argv.append('--streaming')
        command = shlex.join(['rave', 'export', *argv[3:]])
        title = f'Export {target.name}'
        job = self.jobs.submit('export', title, argv, command=command, project=project, cwd=output,
                               spec={'target': str(target), 'fidelity': fidelity})
        export = Export.create(project=project, run=run, checkpoint=str(source.resolve()), path=str(target),
                               streaming=streaming, status='running', job=job)
        self.jobs.bus.publish(ExportChanged(export.id, export.status))
        return export

    def list(self, project: Project) -> list[Export]:
        return list(Export.select().where(Export.project == project).order_by(Export.created.desc()))

    def get(self, export_id: int) -> Export | None:
        return Export.get_or_none(Export.id == export_id)

    def message(self, export: Export) -> str:
        """Why an export failed (or '' when it did not)."""
        job = Job.get_or_none(Job.id == export.job_id) if export.job_id else None
        return job.message if job is not None and export.status == 'failed' else ''

    def delete(self, export: Export, *, delete_file: bool = True) -> None:
        """Forget an export; its .ts file goes too unless `delete_file` is False."""
        if export.status == 'running' and export.job_id:
            self.jobs.cancel(export.job_id)
        if delete_file:
            Path(export.path).unlink(missing_ok=True)
        export_id = export.id
        export.delete_instance()
        self.jobs.bus.publish(ExportChanged(export_id, 'deleted'))

    # ---- internals ----------------------------------------------------------------------------

    def _finished(self, job: Job) -> None:
        export = Export.get_or_none(Export.job == job.id)
        if export is None:
            return
        state = self.jobs.states.get(job.id)
        reported = (state.last.get('exported') if state else None) or ''
        path = Path(reported) if reported and Path(reported).is_file() else Path(export.path)
        if job.status == 'done' and path.is_file():
            export.path, export.status = str(path), 'done'
        else:
            export.status = 'failed' if job.status != 'cancelled' else 'cancelled'
            if job.status == 'done':  # RAVE's export exits 0 when it finds no checkpoint
                job.message = 'RAVE finished without writing a .ts file: it found no usable checkpoint.'
            elif job.status == 'failed':
                job.message = ('Export failed: ' + (job.message or 'see the log.')
                               + ' Check that the checkpoint is a complete RAVE checkpoint of this run.')
            job.save()
            if state is not None:
                state.message = job.message
        export.save()
        self.jobs.bus.publish(ExportChanged(export.id, export.status))


def _describe(state: JobState) -> None:
    state.detail = f'Saved {state.last["exported"]}' if 'exported' in state.last else 'Building and scripting the model'


def _run_root(folder: Path) -> Path | None:
    """The RAVE run folder (the one with config.gin) at `folder` or up to two levels above it."""
    for candidate in (folder, *list(folder.parents)[:3]):
        if (candidate / 'config.gin').is_file():
            return candidate
    return None


def _configs(run_folder: Path) -> list[str]:
    """The base config and add-ons the run's operative config.gin shows (it has no include lines)."""
    found = operative.read(run_folder)
    return list(found.configs) if found is not None else []


def _mtime(checkpoint: Checkpoint) -> float:
    try:
        return Path(checkpoint.path).stat().st_mtime
    except OSError:
        return 0.0
