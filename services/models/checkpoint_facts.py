"""What the export wizard needs from a checkpoint beyond its step: the fidelity curve (the latent size each
fidelity gives, live) and whether the run trained with EMA weights. Read without torch, like the step
(services/training/checkpoints.py): only the one tensor named `fidelity` is read from the zip.
"""
from __future__ import annotations

import math
import pickle
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from services import lazy
from services.training.checkpoints import _DTYPES, _Reader, _StorageType

np = lazy.module('numpy')


@dataclass(frozen=True)
class CheckpointFacts:
    """The fidelity curve (cumulative share of latent variance per dimension) and the EMA weights' presence."""
    fidelity: tuple[float, ...]
    ema: bool

    def latent_size(self, fidelity: float) -> int | None:
        """The latent size `rave export --fidelity` picks (scripts/export.py:119-123); None without a curve."""
        if not self.fidelity:
            return None
        above = [i for i, v in enumerate(self.fidelity) if v > fidelity]
        size = max(above[0] if above else 0, 1)
        return 2 ** math.ceil(math.log2(size))

    @property
    def full_latent_size(self) -> int:
        return len(self.fidelity)


def facts_of(path: str | Path) -> CheckpointFacts:
    """The checkpoint's facts (empty ones when it cannot be read), cached per file version."""
    try:
        stamp = Path(path).stat().st_mtime
    except OSError:
        return CheckpointFacts((), False)
    return _read(str(path), stamp)


@lru_cache(maxsize=64)
def _read(path: str, _stamp: float) -> CheckpointFacts:
    try:
        with zipfile.ZipFile(path) as zf:
            name = next((n for n in zf.namelist() if n.endswith('/data.pkl') or n == 'data.pkl'), None)
            if name is None:
                return CheckpointFacts((), False)
            with zf.open(name) as f:
                data = _TensorReader(f, zf, name[:-len('data.pkl')]).load()
            if not isinstance(data, dict):
                return CheckpointFacts((), False)
            curve = (data.get('state_dict') or {}).get('fidelity')
            values = curve.read(zf) if isinstance(curve, _Lazy) else ()
            return CheckpointFacts(tuple(float(v) for v in values), 'EMA' in (data.get('callbacks') or {}))
    except (OSError, zipfile.BadZipFile, pickle.UnpicklingError, EOFError, ValueError, AttributeError,
            TypeError, KeyError, IndexError):
        return CheckpointFacts((), False)


@dataclass(frozen=True)
class _Storage:
    key: str
    dtype: str
    prefix: str


@dataclass(frozen=True)
class _Lazy:
    """A tensor left in the zip until it is asked for."""
    storage: _Storage
    offset: int
    size: tuple[int, ...]

    def read(self, zf: zipfile.ZipFile) -> np.ndarray:
        raw = np.frombuffer(zf.read(f'{self.storage.prefix}data/{self.storage.key}'), self.storage.dtype)
        count = int(np.prod(self.size)) if self.size else 1
        return raw[self.offset:self.offset + count]


class _TensorReader(_Reader):
    """The step reader's safe unpickler, keeping a reference to every tensor instead of a stub."""

    def find_class(self, module: str, name: str):
        if module == 'torch._utils' and name == '_rebuild_tensor_v2':
            return _rebuild
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == 'storage' and isinstance(pid[1], _StorageType):
            dtype = _DTYPES.get(pid[1].name)
            return _Storage(str(pid[2]), dtype, self.prefix) if dtype else None
        return None


def _rebuild(storage, offset, size, *args):
    return _Lazy(storage, int(offset), tuple(size)) if isinstance(storage, _Storage) else None
