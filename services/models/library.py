"""The life of a model in the library: what deleting a run or one checkpoint takes with it, and doing it.

A deletion is planned first (`plan`): the page shows exactly what goes — the database rows, the run folder and
its size, the checkpoints, the exports — and deletes only with the run's name typed back. Files go only when
asked; without them the folder stays for `rave train --ckpt` or a later import. The last checkpoint of a run is
never deleted without saying so (`LastCheckpoint`).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from services.files import FilePolicy, PathRefused
from services.i18n import _
from services.store import Checkpoint, Export, Run, RunAttempt

ACTIVE = ('queued', 'running', 'paused')


class LibraryError(ValueError):
    """A deletion refused, with the sentence saying why and what to do."""


class LastCheckpoint(LibraryError):
    """The checkpoint is the run's last one: deleting it leaves nothing to resume, export or test."""


@dataclass(frozen=True)
class RunDeletion:
    """What deleting a run takes with it."""
    run_id: int
    name: str  # typed back to confirm
    folder: str  # '' when the run has none yet
    folder_bytes: int
    checkpoints: int
    exports: int
    export_files: tuple[str, ...]
    attempts: int
    active: bool

    def rows(self) -> str:
        """The database rows, in words."""
        return _('the run, {checkpoints} checkpoint row(s), {attempts} attempt(s) and {exports} export row(s)').format(
            checkpoints=self.checkpoints, attempts=self.attempts, exports=self.exports)


def plan(run: Run) -> RunDeletion:
    exports = list(Export.select().where(Export.run == run))
    folder = Path(run.folder) if run.folder else None
    size = sum(f.stat().st_size for f in folder.rglob('*') if f.is_file()) if folder and folder.is_dir() else 0
    return RunDeletion(run.id, run.name, str(folder or ''), size,
                       Checkpoint.select().where(Checkpoint.run == run).count(), len(exports),
                       tuple(e.path for e in exports), RunAttempt.select().where(RunAttempt.run == run).count(),
                       run.status in ACTIVE)


def delete_run(run: Run, *, confirm: str, files: bool, policy: FilePolicy, delete_export) -> RunDeletion:
    """Delete the run's rows (and, when `files`, its folder and export files) once `confirm` is its name."""
    planned = plan(run)
    if planned.active:
        raise LibraryError(_('{name} is training or queued: stop it before deleting it.').format(name=run.name))
    if (confirm or '').strip() != run.name:
        raise LibraryError(_('Type the run\'s name, {name}, to delete it.').format(name=run.name))
    folder = _deletable(run, policy) if files and run.folder else None
    for export in Export.select().where(Export.run == run):
        delete_export(export, delete_file=files)
    run.delete_instance()  # its checkpoint and attempt rows go by their cascade; its jobs stay in the history
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    return planned


def delete_checkpoint(run: Run, path: str, *, last_confirmed: bool = False) -> None:
    """Delete one checkpoint file and its row; the run's last one only with `last_confirmed`."""
    if run.status in ACTIVE:
        raise LibraryError(_('The run is training: its checkpoints are deleted once it stopped.'))
    row = Checkpoint.get_or_none((Checkpoint.run == run) & (Checkpoint.path == path))
    if row is None:
        raise LibraryError(_('That checkpoint is not one of this run\'s any more.'))
    others = Checkpoint.select().where((Checkpoint.run == run) & (Checkpoint.id != row.id)).count()
    if not others and not last_confirmed:
        raise LastCheckpoint(_('{file} is the last checkpoint of {name}: without it the run cannot be resumed, '
                               'exported or tested.').format(file=Path(path).name, name=run.name))
    Path(path).unlink(missing_ok=True)
    row.delete_instance()


def _deletable(run: Run, policy: FilePolicy) -> Path:
    """The run folder, if it may be deleted: inside the project or a browse root, and not one of them."""
    project = Path(run.project.location).resolve()
    try:
        folder = policy.confine(run.folder, also=(project,), what='run folder')
    except PathRefused as e:
        raise LibraryError(_('{reason} Delete without files to keep the folder.').format(reason=e)) from e
    if folder in (project, project / 'runs') or folder in {Path(r).resolve() for r in policy.roots()}:
        raise LibraryError(_('{folder} is a whole folder of the studio, not a run\'s: delete without files.').format(
            folder=folder))
    return folder
