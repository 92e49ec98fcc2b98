"""Models: the project's runs with their checkpoints, imports of RAVE run folders, exports (`exports.py`: the
targets of `targets.py`, each export verified in a fresh process, its deployment guide in `guide.py`) and
reconstructions through an exported model (`inference.py`). Pages use `Models`, which checks the acting user
and returns frozen views (`views.py`)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services import access
from services.access import Action, Actor
from services.events import RunChanged
from services.files import FilePolicy, PathRefused, UploadRefused, inside
from services.i18n import _
from services.models import library, library_cards, stats
from services.models.checkpoint_facts import facts_of
from services.models.exports import ExportError, ExportService
from services.models.guide import Guide, guide_for, guide_path
from services.models.inference import InferenceError, InferenceService, Reconstruction
from services.models.targets import options_for, stages_of
from services.models.views import (
    AudioChoice,
    CheckpointView,
    ExportView,
    LibraryCard,
    ModelStats,
    ReconstructionResult,
    ReconstructionView,
    RunCheckpointsView,
)
from services.store import Export, Project, Run
from services.uploads import UploadSink

__all__ = ['AudioChoice', 'CheckpointView', 'ExportChoices', 'ExportError', 'ExportView', 'Guide', 'InferenceError',
           'Models', 'ReconstructionResult', 'ReconstructionView', 'RunCheckpointsView', 'TargetView',
           'UploadRefused']


@dataclass(frozen=True)
class TargetView:
    """An export target as the wizard offers it: its preset flags and why they suit the host."""
    name: str
    title: str
    makes: str
    why: str
    flags: tuple[tuple[str, Any], ...]
    stages: tuple[str, ...]
    plugin: str

    @property
    def preset(self) -> dict[str, Any]:
        return dict(self.flags)


@dataclass(frozen=True)
class ExportChoices:
    """What a run and one of its checkpoints allow: sample rates, the fidelity curve, EMA weights, priors."""
    sr: int | None  # the model's rate; an export may take integer multiples of it
    fidelity_curve: tuple[float, ...]
    ema: bool
    priors: tuple[str, ...]  # prior run folders for this run, newest first
    prior_hint: str  # how to get one, when there is none

    def latent_size(self, fidelity: float) -> int | None:
        from services.models.checkpoint_facts import CheckpointFacts
        return CheckpointFacts(self.fidelity_curve, self.ema).latent_size(fidelity)

    @property
    def rates(self) -> tuple[int, ...]:
        return tuple(self.sr * k for k in (1, 2, 3, 4)) if self.sr else ()


@access.acts
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

    def runs_of(self, export_id: int) -> list[RunCheckpointsView]:
        """The run an export came from, with its checkpoints (for a re-export onto another one)."""
        row = self._exports.get(export_id)
        if row is None or row.run_id is None:
            return []
        return [r for r in self.runs(row.project_id) if r.id == row.run_id]

    def discover(self, project_id: int) -> list[Path]:
        """Run folders under the project's runs/ that hold checkpoints but are not imported yet."""
        return self._exports.discover(self._project(project_id, Action.READ))

    def import_run(self, project_id: int, folder: str | Path) -> RunCheckpointsView:
        """Index a RAVE run folder (inside the browsable folders or the project) in the project."""
        project = self._project(project_id, Action.EDIT)
        run = self._exports.import_run(project, folder)
        return next(r for r in self.runs(project_id) if r.id == run.id)

    # ---- exports ------------------------------------------------------------------------------
    def targets(self) -> list[TargetView]:
        """Every export target, built-in and from plugins, in the order the wizard offers them."""
        access.require(self.actor, Action.READ)
        return [TargetView(t.name, t.title, t.makes, t.why, tuple(options_for(t).items()), stages_of(t),
                           t.plugin) for t in self._exports.targets()]

    def choices(self, project_id: int, run_id: int, checkpoint: str) -> ExportChoices:
        """What an export of this run's checkpoint may choose (rates, latent sizes, EMA, priors)."""
        run = self._run(project_id, run_id, Action.READ)
        facts = facts_of(checkpoint) if checkpoint and inside(checkpoint, run.folder) else facts_of('')
        priors = tuple(str(p) for p in self._exports.priors(run))
        hint = '' if priors else (
            _("No prior for {name} yet: train one on the model's page (Priors, Train a prior); it then appears "
              'here.').format(name=run.name))
        return ExportChoices(self._exports.sample_rate(run), facts.fidelity, facts.ema, priors, hint)

    def exports(self, project_id: int) -> list[ExportView]:
        """The project's exports, newest first."""
        return [self._view(e) for e in self._exports.list(self._project(project_id, Action.READ))]

    def export(self, export_id: int) -> ExportView | None:
        row = self._exports.get(export_id)
        if row is None:
            return None
        access.require(self.actor, Action.READ, row.project_id)
        return self._view(row)

    def start_export(self, project_id: int, run_id: int, checkpoint: str, *, target: str = 'custom', name: str,
                     options: dict[str, Any] | None = None) -> ExportView:
        """Export one of the run's checkpoints for `target`, then verify it; ExportError says what to fix."""
        project = self._project(project_id, Action.RUN)
        run = self._run(project_id, run_id, Action.RUN)
        self._checkpoint_of(run, checkpoint)
        return self._view(self._exports.start(project, run, checkpoint, target, name, options, owner=self.actor.name))

    def start_batch(self, project_id: int, run_id: int, checkpoints: Sequence[str], targets: Sequence[str], *,
                    name: str, options: dict[str, Any] | None = None) -> list[ExportView]:
        """Several checkpoints × several targets, queued as jobs, each export with its own result."""
        project = self._project(project_id, Action.RUN)
        run = self._run(project_id, run_id, Action.RUN)
        for checkpoint in checkpoints:
            self._checkpoint_of(run, checkpoint)
        return [self._view(e) for e in self._exports.batch(project, run, checkpoints, targets, name, options,
                                                           owner=self.actor.name)]

    def reexport(self, export_id: int, *, checkpoint: str | None = None, target: str | None = None) -> ExportView:
        """The same flags onto another checkpoint of its run, or the same checkpoint to another target."""
        row = self._exports.get(export_id)
        if row is None:
            raise ExportError(_('That export no longer exists.'))
        access.require(self.actor, Action.RUN, row.project_id)
        if row.run_id is None:
            raise ExportError(_('The run of this export is gone: export a checkpoint of another run.'))
        if checkpoint:
            self._checkpoint_of(row.run, checkpoint)
        return self._view(self._exports.reexport(row, checkpoint=checkpoint, target=target, owner=self.actor.name))

    def delete_export(self, export_id: int, *, delete_file: bool = True) -> None:
        """Forget an export (cancelling it while it runs); its files go too unless `delete_file` is False."""
        row = self._exports.get(export_id)
        if row is None:
            return
        access.require(self.actor, Action.DELETE, row.project_id)
        if row.status == 'running' and row.job is not None:  # deleting it cancels the job: whose is it?
            access.require(self.actor, access.control(self.actor, row.job.owner), row.project_id)
        self._exports.delete(row, delete_file=delete_file)

    def guide(self, export_id: int) -> Guide | None:
        """The deployment guide of an export (also written next to it as Markdown once it is verified)."""
        view = self.export(export_id)
        return guide_for(view) if view is not None else None

    def guide_file(self, export_id: int) -> Path | None:
        view = self.export(export_id)
        return guide_path(view) if view is not None else None

    def local(self) -> bool:
        """Whether the studio serves only this machine (paths mean something to the user)."""
        return not self._files.shared

    def can_reveal(self) -> bool:
        """A local studio on a desktop with a file-manager opener."""
        return self.local() and _opener() is not None

    def reveal(self, export_id: int) -> None:
        """Show the export's folder in the desktop's file manager (local studio only)."""
        view = self.export(export_id)
        opener = _opener()
        if view is None or not self.local() or opener is None:
            raise ExportError(_('Showing a folder works on a local studio with a desktop file manager only.'))
        subprocess.Popen([opener, str(Path(view.path).parent)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)

    # ---- explorer -----------------------------------------------------------------------------
    def reconstruct(self, project_id: int, export_id: int, audio: str | Path) -> ReconstructionView:
        """Start encoding and decoding `audio` (a file the user may name) through a finished export."""
        project = self._project(project_id, Action.RUN)
        export = Export.get_or_none((Export.id == export_id) & (Export.project == project))
        if export is None:
            raise InferenceError(_('Pick an exported model of this project.'))
        try:
            path = self._files.confine(audio, also=(Path(project.location),), what='audio file')
        except PathRefused as e:
            raise InferenceError(str(e)) from e
        return self.reconstruction(self._inference.reconstruct(project, export, path, self.actor.name))

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

    def receive_upload(self, project_id: int, filename: str, size: int | None) -> UploadSink:
        """The sink an uploaded piece of audio is written through: name and size checked first, then its content
        (audio) and its size again while it streams (UploadRefused if not; nothing kept)."""
        return UploadSink(self.reserve_upload(project_id, filename, size), self._files.upload_limit(), filename,
                          'audio')

    # ---- internals ----------------------------------------------------------------------------
    def _project(self, project_id: int, action: Action) -> Project:
        access.require(self.actor, action, project_id)
        return Project.get_by_id(project_id)

    def _run(self, project_id: int, run_id: int, action: Action) -> Run:
        access.require(self.actor, action, project_id)
        run = Run.get_or_none((Run.id == run_id) & (Run.project == project_id))
        if run is None:
            raise ExportError(_('Pick a run of this project to export.'))
        return run

    def _checkpoint_of(self, run: Run, checkpoint: str) -> None:
        if not run.folder or not str(checkpoint or '').strip() or not inside(checkpoint, run.folder):
            raise ExportError(_('Pick a checkpoint of the run {name} (a .ckpt inside its folder).').format(
                name=run.name))

    def _view(self, row: Export) -> ExportView:
        known = {t.name: t for t in self._exports.targets()}
        stages = stages_of(known[row.target]) if row.target in known else ()
        return ExportView.of(row, self._exports.message(row), stages=stages, live=self._exports.live(row),
                             job_ids=tuple(j.id for j in self._exports.jobs_of(row)))

    # ---- the library: deleting runs and checkpoints --------------------------------------------
    def deletion(self, run_id: int) -> library.RunDeletion:
        """What deleting the run would take with it (rows, folder, checkpoints, exports)."""
        return library.plan(self._library_run(run_id, Action.READ))

    def delete_run(self, run_id: int, *, confirm: str, files: bool = False) -> library.RunDeletion:
        """Delete the run once its name is typed back; its folder and export files only with `files`."""
        run = self._library_run(run_id, Action.DELETE)
        gone = library.delete_run(run, confirm=confirm, files=files, policy=self._files,
                                  delete_export=self._exports.delete)
        self._exports.jobs.bus.publish(RunChanged(run_id, 'deleted'))
        return gone

    def delete_checkpoint(self, run_id: int, path: str, *, last_confirmed: bool = False) -> None:
        """Delete one checkpoint; the run's last one raises LastCheckpoint unless `last_confirmed`."""
        run = self._library_run(run_id, Action.DELETE)
        library.delete_checkpoint(run, path, last_confirmed=last_confirmed)
        self._exports.jobs.bus.publish(RunChanged(run_id, run.status))

    # ---- the library: cards, marks, statistics ----------------------------------------------
    def library(self, project_id: int, query: library_cards.LibraryQuery = library_cards.LibraryQuery()
                ) -> list[LibraryCard]:
        """The project's models (runs in use) as cards, searched, filtered and sorted as asked."""
        self._project(project_id, Action.READ)
        return library_cards.cards(project_id, query)

    def mark(self, run_id: int, *, favourite: bool | None = None, rating: int | None = None) -> None:
        """Star a model or rate it 1-5 (0 clears the rating)."""
        run = self._library_run(run_id, Action.EDIT)
        if rating is not None and not 0 <= int(rating) <= 5:
            raise library.LibraryError(_('A rating is 1 to 5 stars (0 clears it).'))
        if favourite is not None:
            run.favourite = bool(favourite)
        if rating is not None:
            run.rating = int(rating) or None
        run.save(only=[Run.favourite, Run.rating])
        self._exports.jobs.bus.publish(RunChanged(run_id, run.status))

    def thumbnail(self, data_path: str) -> str | None:
        """The data-folder path of a spectrogram PNG of a validation reconstruction (a data-folder path the
        TensorBoard reader wrote); None when it cannot be read. Blocking: call it off the event loop."""
        access.require(self.actor, Action.READ)
        root = self._files.data_dir
        wav = (root / data_path).resolve()
        if not inside(wav, root / 'cache'):
            return None
        try:
            png = library_cards.thumbnail(wav, root / 'cache' / 'thumbnails')
        except (OSError, RuntimeError, ValueError):
            return None
        return png.relative_to(root).as_posix()

    def model_stats(self, run_id: int, checkpoint: str) -> ModelStats | None:
        """The checkpoint's statistics when they were measured already (cached next to it), else None."""
        run = self._library_run(run_id, Action.READ)
        self._checkpoint_of(run, checkpoint)
        return stats.cached(checkpoint)

    def measure(self, run_id: int, checkpoint: str) -> ModelStats:
        """Measure the checkpoint's model in the model-stats worker (blocking, seconds): parameters per module,
        receptive field, compression, latent size, fidelity, the module tree. StatsError says what failed."""
        run = self._library_run(run_id, Action.READ)
        self._checkpoint_of(run, checkpoint)
        return stats.measure(self._exports.settings.python, checkpoint)

    def _library_run(self, run_id: int, action: Action) -> Run:
        run = Run.get_or_none(Run.id == run_id)
        if run is None:
            raise library.LibraryError(_('This run does not exist any more.'))
        access.require(self.actor, action, run.project_id)
        return run


def _opener() -> str | None:
    if sys.platform == 'darwin':
        return shutil.which('open')
    if sys.platform.startswith('win'):
        return shutil.which('explorer')
    return shutil.which('xdg-open')
