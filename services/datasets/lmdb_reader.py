"""Fast read access to RAVE LMDB datasets: pages of examples, decoded audio, WAV export and an integrity check.

RAVE writes keys `f"{i:08d}"` in order, so a page is a handful of direct key look-ups and the count comes from
`env.stat()`; nothing here lists all keys. lmdb 3.0 refuses a second open of one path in a process, so every
path has one cached read-only environment (reopened when the folder is replaced). See RAVE_NOTES §2.
"""
from __future__ import annotations

import functools
import importlib.util
import math
import os
import subprocess
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from services import lazy
from services.audio import envelope, levels, spectrogram
from services.i18n import _

np = lazy.module('numpy')
lmdb = lazy.module('lmdb')
yaml = lazy.module('yaml')
protobuf = lazy.module('google.protobuf.message')

SCALE = 2 ** 15 - 1  # RAVE's own int16 scale (rave/dataset.py:76-78)
MAX_LAZY_SECONDS = 600.0  # a lazy example is a whole source file: playback decodes at most this much
_DTYPES = {0: 'float16', 1: 'float32', 2: 'float64', 3: 'int16', 4: 'int32', 5: 'int64'}  # numpy's names


@functools.cache
def audio_example():
    """udls' AudioExample class from its file on first use (`import udls` imports torch; the file, protobuf)."""
    spec = importlib.util.find_spec('udls')
    source = Path(next(iter(spec.submodule_search_locations))) / 'generated' / 'audio_example_pb2.py'
    module_spec = importlib.util.spec_from_file_location('_studio_audio_example_pb2', source)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.AudioExample


@dataclass
class Example:
    """One decoded entry. `audio` is float32 (channels, samples) for regular datasets, None for lazy ones."""
    index: int
    sr: int
    channels: int
    audio: np.ndarray | None = None
    source: str = ''  # lazy: the referenced audio file
    source_seconds: float = 0.0
    source_channels: int = 0
    size_bytes: int = 0

    @property
    def lazy(self) -> bool:
        return self.audio is None

    @property
    def seconds(self) -> float:
        return self.source_seconds if self.lazy else self.audio.shape[1] / self.sr


@dataclass(frozen=True)
class Summary:
    """An inspector row (the facade's ExampleRow); peak and RMS in dBFS (None: silent, or lazy, not decoded)."""
    index: int
    seconds: float
    peak_db: float | None
    rms_db: float | None
    source: str = ''
    size_bytes: int = 0
    problem: str = ''  # 'missing', or why the stored value does not decode


@dataclass
class CheckProgress:
    """Integrity check state after `done` of `total` entries; `problems` holds at most MAX_PROBLEMS lines."""
    done: int
    total: int
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    finished: bool = False

    MAX_PROBLEMS = 200


class LmdbReader:
    """Read-only access to one RAVE dataset folder (data.mdb + metadata.yaml)."""

    def __init__(self, path: Path, env: lmdb.Environment, identity: tuple) -> None:
        self.path, self.env, self.identity = path, env, identity
        meta_file = path / 'metadata.yaml'
        meta = (yaml.safe_load(meta_file.read_text()) or {}) if meta_file.is_file() else {}
        self.has_metadata = meta_file.is_file()
        self.channels = int(meta.get('channels', 1))  # the stored `shape` is wrong: trust metadata.yaml
        self.sr = int(meta.get('sr', 44100))
        self.lazy = bool(meta.get('lazy', False))
        self.n_seconds = float(meta.get('n_seconds', 0.0))

    def __len__(self) -> int:
        return self.env.stat()['entries']

    def raw(self, index: int) -> bytes | None:
        with self.env.begin() as txn:
            return txn.get(key(index))

    def example(self, index: int) -> Example:
        """Decode entry `index`; IndexError when it is missing, ValueError when it does not decode."""
        value = self.raw(index)
        if value is None:
            raise IndexError(f'key {index:08d} is not in this dataset')
        return self._decode(index, value)

    def span(self) -> int:
        """One past the highest key: the range pages cover (larger than len() when keys are missing)."""
        with self.env.begin() as txn, txn.cursor() as cursor:
            last = _index(cursor.key()) if cursor.last() else None
        return max(len(self), last + 1 if last is not None else 0)

    def page(self, start: int, count: int) -> list[Summary]:
        """Summaries of examples start … start+count-1 by direct key look-ups; damaged ones carry a `problem`."""
        rows = []
        end = min(max(start, 0) + count, self.span())
        with self.env.begin() as txn:
            for index in range(max(start, 0), end):
                value = txn.get(key(index))
                if value is None:
                    rows.append(Summary(index, 0.0, None, None, problem='missing'))
                    continue
                try:
                    rows.append(summarize(self._decode(index, value)))
                except ValueError as e:
                    rows.append(Summary(index, 0.0, None, None, size_bytes=len(value), problem=str(e)))
        return rows

    def audio(self, index: int) -> tuple[np.ndarray, int]:
        """float32 (channels, samples) and the rate; a lazy example is decoded from its source with ffmpeg."""
        example = self.example(index)
        if not example.lazy:
            return example.audio, self.sr
        return decode_source(example.source, self.sr, self.channels, example.source_channels), self.sr

    def export_wav(self, index: int, destination: Path) -> Path:
        """Write example `index` as a 16-bit WAV file (the stored samples, unchanged for regular datasets)."""
        import soundfile

        audio, sr = self.audio(index)
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(destination.name + '.part')
        soundfile.write(str(partial), audio.T, sr, subtype='PCM_16', format='WAV')
        partial.replace(destination)
        return destination

    def check(self, every: int = 2000, expected: int | None = None) -> Iterator[CheckProgress]:
        """Walk the whole database once: keys contiguous, values decode, sizes agree, lazy sources exist.

        `expected` is the example count recorded when the dataset was made (catches keys lost at the end).
        Yields progress every `every` entries and a last one with `finished=True`.
        """
        total = len(self)
        progress = CheckProgress(0, total)
        if not self.has_metadata:
            _problem(progress, 'metadata.yaml is missing: RAVE cannot train on this folder.')
        next_index, expected_size = 0, None
        with self.env.begin() as txn:
            for raw_key, value in txn.cursor():
                index = _index(raw_key)
                if index is None:
                    _problem(progress, f'unexpected key {raw_key[:40]!r}: RAVE keys are 8-digit numbers')
                else:
                    _missing(progress, next_index, index)
                    next_index = index + 1
                problem, size = self._check_value(index, value, expected_size)
                expected_size = expected_size or size
                if problem:
                    _problem(progress, problem)
                progress.done += 1
                if progress.done % every == 0:
                    yield progress
        if expected is not None and next_index < expected:
            _missing(progress, next_index, expected)
        progress.finished = True
        yield progress

    def _check_value(self, index: int | None, value: bytes, expected_size: int | None) -> tuple[str, int | None]:
        name = f'key {index:08d}' if index is not None else 'entry'
        try:
            example = self._decode(index or 0, value)
        except ValueError as e:
            return f'{name}: {e}', None
        if example.lazy:
            if not os.path.isfile(example.source):
                return f'{name}: source file is gone: {example.source}', None
            return '', None
        size = example.audio.shape[1]
        if size == 0:
            return f'{name}: holds no samples', None
        if expected_size and size != expected_size:
            return f'{name}: {size} samples per channel, the others hold {expected_size}', size
        return '', size

    def _decode(self, index: int, value: bytes) -> Example:
        try:
            message = audio_example().FromString(value)
        except protobuf.DecodeError:
            raise ValueError('the stored value does not decode (not an AudioExample)') from None
        if 'waveform' in message.buffers:
            buffer = message.buffers['waveform']
            dtype = _DTYPES.get(buffer.precision)
            if dtype is None or len(buffer.data) % (np.dtype(dtype).itemsize * self.channels):
                raise ValueError(f'{len(buffer.data)} bytes do not hold whole {self.channels}-channel samples')
            samples = np.frombuffer(buffer.data, dtype)
            audio = (samples.astype(np.float32) / SCALE if dtype == 'int16' else samples.astype(np.float32))
            return Example(index, self.sr, self.channels, audio=audio.reshape(self.channels, -1),
                           size_bytes=len(value))
        meta = message.metadata
        if 'path' not in meta:
            raise ValueError('neither audio nor a source file reference')
        try:
            seconds, source_channels = float(meta.get('length', 0)), int(meta.get('channels', 1))
        except ValueError:
            raise ValueError('the source file reference has an unreadable length or channel count') from None
        return Example(index, self.sr, self.channels, source=meta['path'], source_seconds=seconds,
                       source_channels=source_channels, size_bytes=len(value))


# ---- the env cache ----------------------------------------------------------------------------------
_READERS: dict[str, LmdbReader] = {}
_LOCK = threading.Lock()


def reader(path: str | Path) -> LmdbReader:
    """The cached reader of a dataset folder; reopened when data.mdb was replaced (deleted and rebuilt)."""
    path = Path(path).expanduser().resolve()
    stat = _data_stat(path)
    identity = (stat.st_dev, stat.st_ino)
    with _LOCK:
        current = _READERS.get(str(path))
        if current is not None and current.identity == identity:
            return current
        if current is not None:
            current.env.close()
        try:
            # readahead on: a page's examples lie side by side in the file (RAVE appends them in key order),
            # so the kernel's read-ahead makes a cold page 3-5x faster (bench/bench_inspector.py)
            env = lmdb.open(str(path), readonly=True, lock=False, readahead=True, max_readers=256)
        except lmdb.Error as e:
            raise OSError(_('{path} does not open as an LMDB database: {error}').format(path=path, error=e)) from None
        _READERS[str(path)] = current = LmdbReader(path, env, identity)
        return current


def _data_stat(path: Path) -> os.stat_result:
    """data.mdb's stat, or FileNotFoundError saying the folder holds no dataset (its cached reader let go)."""
    try:
        return (path / 'data.mdb').stat()
    except FileNotFoundError:
        release(path)
        raise FileNotFoundError(_('{path} holds no RAVE dataset (data.mdb is missing)').format(path=path)) from None


def open_env(path: str | Path) -> lmdb.Environment:
    """The shared read-only environment of a dataset: use it instead of `lmdb.open` in the studio process."""
    return reader(path).env


def entries(path: str | Path) -> int:
    """How many entries a dataset holds: through the cached environment when one is open (lmdb refuses a
    second open of a path in one process), otherwise through a short-lived one closed before returning, so
    nothing stays open for a folder that is about to be moved, archived or removed."""
    path = Path(path).expanduser().resolve()
    stat = _data_stat(path)
    with _LOCK:  # held throughout: no reader() can open the same path between our open and close
        current = _READERS.get(str(path))
        if current is not None and current.identity == (stat.st_dev, stat.st_ino):
            return current.env.stat()['entries']
        if current is not None:  # the folder was rebuilt: the cached environment is stale
            _READERS.pop(str(path)).env.close()
        try:
            env = lmdb.open(str(path), readonly=True, lock=False, readahead=False)
        except lmdb.Error as e:
            raise OSError(_('{path} does not open as an LMDB database: {error}').format(path=path, error=e)) from None
        try:
            return env.stat()['entries']
        finally:
            env.close()


def release(path: str | Path) -> None:
    """Close the cached environment of a folder (before it is deleted, moved or opened for writing)."""
    with _LOCK:
        current = _READERS.pop(str(Path(path).expanduser().resolve()), None)
        if current is not None:
            current.env.close()


def release_all() -> None:
    """Close every cached environment (at shutdown, or between independent users of one process)."""
    with _LOCK:
        for current in _READERS.values():
            current.env.close()
        _READERS.clear()


def key(index: int) -> bytes:
    return f'{index:08d}'.encode()


# ---- audio figures ----------------------------------------------------------------------------------
def summarize(example: Example) -> Summary:
    peak_db = rms_db = None
    if not example.lazy:
        peak_db, rms_db = levels(example.audio)
    return Summary(example.index, example.seconds, peak_db, rms_db, example.source, example.size_bytes)


def decode_source(path: str, sr: int, channels: int, source_channels: int) -> np.ndarray:
    """Decode a lazy example's file as RAVE does at train time: resampled, channels mapped (dataset.py:301-336)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'the source file is gone: {path}')
    source_channels = max(source_channels, 1)
    out = subprocess.run(['ffmpeg', '-v', 'error', '-nostdin', '-i', path, '-t', f'{MAX_LAZY_SECONDS:g}',
                          '-ar', str(sr), '-f', 's16le', '-acodec', 'pcm_s16le', '-ac', str(source_channels), '-'],
                         capture_output=True, timeout=120, check=False)
    if out.returncode != 0:
        detail = (out.stderr.decode(errors='replace').strip().splitlines() or ['unknown error'])[-1]
        raise ValueError(f'ffmpeg could not decode {Path(path).name}: {detail}')
    samples = np.frombuffer(out.stdout, np.int16)
    decoded = samples[: samples.size - samples.size % source_channels].reshape(-1, source_channels).T
    channel_map = list(range(channels))
    if source_channels < channels:
        channel_map = (math.ceil(channels / source_channels) * list(range(source_channels)))[:channels]
    return decoded[channel_map].astype(np.float32) / 2 ** 15


# ---- a small per-process cache of what a page shows for one example --------------------------------
_VIEWS: OrderedDict = OrderedDict()
_VIEW_LIMIT = 32


def view(path: str | Path, index: int, points: int = 800) -> dict:
    """Envelope, spectrogram and levels of one example, computed once and kept (LRU) per example."""
    db = reader(path)
    cache_key = (str(db.path), db.identity, index, points)
    with _LOCK:
        if cache_key in _VIEWS:
            _VIEWS.move_to_end(cache_key)
            return _VIEWS[cache_key]
    started = time.perf_counter()
    example = db.example(index)
    audio = example.audio if not example.lazy else decode_source(example.source, db.sr, db.channels,
                                                                  example.source_channels)
    peak_db, rms_db = levels(audio)
    result = {'index': index, 'seconds': audio.shape[1] / db.sr, 'samples': audio.shape[1], 'sr': db.sr,
              'channels': db.channels, 'lazy': example.lazy, 'source': example.source,
              'source_seconds': example.source_seconds, 'peak_db': peak_db, 'rms_db': rms_db,
              'size_bytes': example.size_bytes, 'envelope': envelope(audio, points),
              'spectrogram': spectrogram(audio, db.sr), 'elapsed_s': time.perf_counter() - started}
    with _LOCK:
        _VIEWS[cache_key] = result
        while len(_VIEWS) > _VIEW_LIMIT:
            _VIEWS.popitem(last=False)
    return result


def cached_wav(path: str | Path, index: int, folder: Path, keep: int = 200, keep_bytes: int = 500 << 20) -> Path:
    """Example `index` as a WAV file in `folder`, written once; the oldest go beyond `keep` files or `keep_bytes`."""
    db = reader(path)
    target = folder / f'{db.identity[1]:x}' / f'{index:08d}.wav'
    if target.is_file():
        return target
    db.export_wav(index, target)
    files = sorted(target.parent.glob('*.wav'), key=lambda f: f.stat().st_mtime, reverse=True)
    total = 0
    for rank, file in enumerate(files):
        total += file.stat().st_size
        if file != target and (rank >= keep or total > keep_bytes):
            file.unlink(missing_ok=True)
    return target


def _index(raw_key: bytes) -> int | None:
    return int(raw_key) if len(raw_key) == 8 and raw_key.isdigit() else None


def _missing(progress: CheckProgress, expected: int, found: int) -> None:
    gap = found - expected
    if gap > 0:
        _problem(progress, f'key {expected:08d} is missing' if gap == 1 else
                 f'keys {expected:08d}–{found - 1:08d} are missing ({gap} keys)')


def _problem(progress: CheckProgress, line: str) -> None:
    progress.problem_count += 1
    if len(progress.problems) < CheckProgress.MAX_PROBLEMS:
        progress.problems.append(line)
