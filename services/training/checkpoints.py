"""The one checkpoint indexer: every `.ckpt` of a run folder, with the step it was saved at.

The step comes from the checkpoint itself (Lightning's `global_step`), never from its file name: RAVE's
`epoch-epoch=0000.ckpt` names the epoch, and `best.ckpt` is rewritten in place at each better validation.
A checkpoint is a torch zip whose `data.pkl` holds the step as a plain int; it is read here without torch
(tensors are skipped unread), so the UI process can index checkpoints at once.
"""
from __future__ import annotations

import pickle
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from services import lazy
from services.i18n import N_
from services.store import Checkpoint, Run

np = lazy.module('numpy')

_STOP_STEP = re.compile(r'stop-step=(\d+)')


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint file says about itself."""
    step: int | None
    epoch: int | None
    best_score: float | None = None  # the monitored value (validation) when Lightning kept it


def kind_of(path: str | Path) -> str:
    """best | last | stop | epoch, from RAVE's and the studio's file names."""
    stem = Path(path).stem
    if _STOP_STEP.search(stem) or stem.startswith('stop'):
        return N_('stop')
    for kind in (N_('best'), N_('last')):
        if stem.startswith(kind):
            return kind
    return N_('epoch')


def read_info(path: str | Path) -> CheckpointInfo | None:
    """The step and epoch stored in a Lightning checkpoint; None when the file is not one (or is
    truncated)."""
    try:
        with zipfile.ZipFile(path) as zf:
            name = next((n for n in zf.namelist() if n.endswith('/data.pkl') or n == 'data.pkl'), None)
            if name is None:
                return None
            with zf.open(name) as f:
                data = _Reader(f, zf, name[:-len('data.pkl')]).load()
    except (OSError, zipfile.BadZipFile, pickle.UnpicklingError, EOFError, ValueError, AttributeError,
            TypeError, KeyError, IndexError):
        return None
    if not isinstance(data, dict):
        return None
    step, epoch = data.get('global_step'), data.get('epoch')
    return CheckpointInfo(step if isinstance(step, int) else None, epoch if isinstance(epoch, int) else None,
                          _best_score(data))


def index(run: Run) -> list[Checkpoint]:
    """Register every .ckpt under the run folder (step read from the file; re-read when the file changed),
    forget rows whose file is gone, and return the run's checkpoints newest first."""
    folder = Path(run.folder) if run.folder else None
    seen: set[str] = set()
    if folder is not None and folder.is_dir():
        for ckpt in sorted(folder.rglob('*.ckpt'), key=_mtime):
            path = str(ckpt.resolve())
            seen.add(path)
            row = Checkpoint.get_or_none(Checkpoint.path == path)
            stamp = _mtime(ckpt)
            if row is not None and row.run_id == run.id and row.stamp == stamp:
                continue
            info = read_info(ckpt)
            step = info.step if info else _stop_step(ckpt)
            if row is None:
                Checkpoint.create(run=run, path=path, kind=kind_of(ckpt), step=step, stamp=stamp)
            else:
                row.run, row.kind, row.step, row.stamp = run, kind_of(ckpt), step, stamp
                row.save()
    for row in Checkpoint.select().where(Checkpoint.run == run):
        if row.path not in seen and (not Path(row.path).exists() or str(Path(row.path).resolve()) in seen):
            # gone, or a row older studios kept under an unresolved path of the same file
            row.delete_instance()
    return list(Checkpoint.select().where(Checkpoint.run == run).order_by(Checkpoint.created.desc()))


def _stop_step(path: Path) -> int | None:
    match = _STOP_STEP.search(path.stem)
    return int(match.group(1)) if match else None


def _best_score(data: dict) -> float | None:
    for key, state in (data.get('callbacks') or {}).items():
        if 'ModelCheckpoint' in str(key) and isinstance(state, dict):
            score = state.get('best_model_score')
            return float(score) if isinstance(score, (int, float)) else None
    return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


class _Stub:
    """Stands for any torch/lightning object in a checkpoint: built from anything, holds nothing."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __setstate__(self, state) -> None:
        pass

    def __call__(self, *args, **kwargs) -> _Stub:
        return _Stub()


@dataclass(frozen=True)
class _StorageType:
    name: str  # e.g. FloatStorage


_DTYPES = {'FloatStorage': '<f4', 'DoubleStorage': '<f8', 'HalfStorage': '<f2', 'LongStorage': '<i8',
           'IntStorage': '<i4'}
_SAFE = {('collections', 'OrderedDict'), ('builtins', 'set'), ('builtins', 'frozenset'),
         ('builtins', 'slice'),
         ('builtins', 'complex')}


class _Reader(pickle.Unpickler):
    """Unpickles a checkpoint's data.pkl with every class except a few builtins replaced by `_Stub`: nothing
    in the file runs. Storages are left unread, except one-number ones (a monitored score), read as bytes."""

    def __init__(self, file, zf: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(file)
        self.zf, self.prefix = zf, prefix

    def find_class(self, module: str, name: str):
        if (module, name) in _SAFE:
            return super().find_class(module, name)
        if module == 'torch' and name.endswith('Storage'):
            return _StorageType(name)
        if module == 'torch._utils' and name == '_rebuild_tensor_v2':
            return _rebuild_tensor
        return _Stub

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == 'storage' and isinstance(pid[1],
                                                                                           _StorageType):
            dtype, numel = _DTYPES.get(pid[1].name), pid[4]
            if dtype and isinstance(numel, int) and numel <= 1:
                return np.frombuffer(self.zf.read(f'{self.prefix}data/{pid[2]}'), dtype)
        return None


def _rebuild_tensor(storage, offset, size, *args):
    """torch._utils._rebuild_tensor_v2: a one-number tensor becomes that number; any other tensor a stub."""
    if isinstance(storage, np.ndarray) and tuple(size) in ((), (1,)) and storage.size > offset:
        return float(storage[offset])
    return _Stub()
