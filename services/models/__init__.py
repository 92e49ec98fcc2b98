"""Models: the project's runs with their checkpoints, imports of RAVE run folders, exports (`exports.py`) and
reconstructions through an exported model (`inference.py`). Pages use `Models`, which checks the acting user
and returns frozen views (`views.py`)."""
from __future__ import annotations

from pathlib import Path

from services import access
from services.access import Action, Actor
from services.files import FilePolicy, PathRefused, UploadRefused, inside
from services.models.exports import ExportError, ExportService
from services.models.inference import InferenceError, InferenceService, Reconstruction
from services.models.views import (
    AudioChoice,
    CheckpointView,
    ExportView,
    ReconstructionResult,
    ReconstructionView,
    RunCheckpointsView,
)
from services.store import Export, Project, Run

__all__ = ['AudioChoice', 'CheckpointView', 'ExportError', 'ExportView', 'InferenceError', 'Models',
           'ReconstructionResult', 'ReconstructionView', 'RunCheckpointsView', 'UploadRefused']


class Models:
    """Runs, checkpoints, exports and the explorer as the acting user may see and use them."""

    def __init__(self, exports: ExportService, inference: InferenceService, files: FilePolicy,
                 actor: Actor) -> None:
        self._exports = exports
        self._inference = inference
        self._files = files
        self.actor = actor

    # ---- runs and checkpoints -----------------------------------------------------------------
    def runs(self, project_id: int) -> list[RunCheckpointsView]:
        """The project's runs (newest first) with the checkpoints on disk and the exports made from them."""
        project = self._project(project_id, Action.READ)
        return [RunCheckpointsView.of(e.run, e.checkpoints, [self._view(x) for x in e.exports])
                for e in self._exports.runs_with_checkpoints(project)]

    def discover(self, project_id: int) -> list[Path]:
        """Run folders under the project's runs/ that hold checkpoints but are not imported yet."""
        return self._exports.discover(self._project(project_id, Action.READ))

    def import_run(self, project_id: int, folder: str | Path) -> RunCheckpointsView:
        """Index a RAVE run folder (inside the browsable folders or the project) in the project."""
        project = self._project(project_id, Action.EDIT)
        run = self._exports.import_run(project, folder)
        return next(r for r in self.runs(project_id) if r.id == run.id)

    # ---- exports ------------------------------------------------------------------------------
    def exports(self, project_id: int) -> list[ExportView]:
        """The project's exports, newest first."""
        return [self._view(e) for e in self._exports.list(self._project(project_id, Action.READ))]

    def export(self, export_id: int) -> ExportView | None:
        row = self._exports.get(export_id)
        if row is None:
            return None
        access.require(self.actor, Action.READ, row.project_id)
        return self._view(row)

    def start_export(self, project_id: int, run_id: int, checkpoint: str, *, streaming: bool, name: str,
                     fidelity: float = 0.95) -> ExportView:
        """Start `rave export` on one of the run's checkpoints; ExportError says what to fix."""
        project = self._project(project_id, Action.RUN)
        run = Run.get_or_none((Run.id == run_id) & (Run.project == project))
        if run is None:
            raise ExportError('Pick a run of this project to export.')
        if not run.folder or not str(checkpoint or '').strip() or not inside(checkpoint, run.folder):
            raise ExportError(f'Pick a checkpoint of the run {run.name} (a .ckpt inside its folder).')
        return self._view(self._exports.start(project, run, checkpoint, streaming, name, fidelity))

    def delete_export(self, export_id: int, *, delete_file: bool = True) -> None:
        """Forget an export (cancelling it while it runs); its .ts file goes too unless `delete_file` is
        False."""
        row = self._exports.get(export_id)
        if row is None:
            return
        access.require(self.actor, Action.DELETE, row.project_id)
        self._exports.delete(row, delete_file=delete_file)

    # ---- explorer -----------------------------------------------------------------------------
    def reconstruct(self, project_id: int, export_id: int, audio: str | Path) -> ReconstructionView:
        """Start encoding and decoding `audio` (a file the user may name) through a finished export."""
        project = self._project(project_id, Action.RUN)
        export = Export.get_or_none((Export.id == export_id) & (Export.project == project))
        if export is None:
            raise InferenceError('Pick an exported model of this project.')
        try:
            path = self._files.confine(audio, also=(Path(project.location),), what='audio file')
        except PathRefused as e:
            raise InferenceError(str(e)) from e
        return self.reconstruction(self._inference.reconstruct(project, export, path))

    def reconstruction(self, rec: Reconstruction | ReconstructionView) -> ReconstructionView:
        """Where a reconstruction stands now, with its result once it is done."""
        handle = Reconstruction(rec.id, rec.job_id, rec.folder)
        status, message = self._inference.status(handle)
        result = self.result(rec.folder) if status == 'done' else None
        return ReconstructionView(rec.id, rec.job_id, rec.folder, status, message, result)

    def result(self, folder: str | Path) -> ReconstructionResult | None:
        """A finished reconstruction's result; None while it is not written or when it failed."""
        data = self._inference.result(folder)
        return ReconstructionResult.of(folder, data) if data and 'error' not in data else None

    def latest(self, project_id: int) -> ReconstructionResult | None:
        """The project's newest finished reconstruction."""
        history = self._inference.history(self._project(project_id, Action.READ), limit=1)
        return ReconstructionResult.of(*history[0]) if history else None

    def audio_choices(self, project_id: int) -> list[AudioChoice]:
        """Audio the explorer offers: the project's uploads, then its datasets' source folders."""
        project = self._project(project_id, Action.READ)
        location = Path(project.location)
        return [AudioChoice(str(p), str(p.relative_to(location)) if p.is_relative_to(location) else str(p))
                for p in self._inference.audio_choices(project)]

    def upload_limit_mb(self) -> int:
        return round(self._files.upload_limit() / 1024 ** 2)

    def reserve_upload(self, project_id: int, filename: str, size: int | None) -> Path:
        """The file an uploaded piece of audio is written to, in the project's uploads/ (UploadRefused
        when its name or size is refused)."""
        project = self._project(project_id, Action.EDIT)
        self._files.check_upload(filename, size, 'audio')
        return self._files.reserve_upload(self._exports.projects.folder(project, 'uploads'), '', filename)

    # ---- internals ----------------------------------------------------------------------------
    def _project(self, project_id: int, action: Action) -> Project:
        access.require(self.actor, action, project_id)
        return Project.get_by_id(project_id)

    def _view(self, row: Export) -> ExportView:
        return ExportView.of(row, self._exports.message(row))
