"""A model server seen from the UI: one warm child process holding one model, requests in, renders out. No torch.

`services.models.server_pool.ModelServers` starts, reuses and stops them. Each `ModelServer` method sends one
request to its child (services/workers/model_server.py) and blocks until the answer is back, so a page calls it off
the event loop (`await run.io_bound(server.decode, z, seed=3)`). Failures raise `ModelServerError` with a sentence
for the user; a server that died is started afresh by the next `open`.

Audio is float32 `[channels, samples]` (or `[samples]`) at any rate: the server resamples it and matches the
model's channels. Audio comes back at the model's rate (`info.sr`). Latents are `[dimensions, frames]`.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from services import i18n, lazy
from services.audio import Unreadable, decode
from services.jobs.engine import REPO_ROOT
from services.workers import protocol

np = lazy.module('numpy')

Progress = Callable[[int, int, str], None]


class ModelServerError(RuntimeError):
    """A model server could not do what was asked; the message says why in words."""


@dataclass(frozen=True)
class ModelInfo:
    """The facts of a served model, as its server read them from the export."""
    path: str
    sr: int
    n_channels: int
    target_channels: int
    latent_size: int
    full_latent_size: int
    ratio: int
    frame_rate: float
    variational: bool
    has_prior: bool
    methods: tuple[str, ...]
    pid: int
    threads: int  # renders are byte-identical for the same seed and settings at the same thread count

    @classmethod
    def of(cls, ready: dict) -> ModelInfo:
        return cls(ready['model'], ready['sr'], ready['n_channels'], ready['target_channels'], ready['latent_size'],
                   ready['full_latent_size'], ready['ratio'], ready['frame_rate'], ready['variational'],
                   ready['has_prior'], tuple(ready['methods']), ready['pid'], ready['threads'])


@dataclass(frozen=True)
class Controls:
    """Latent controls applied before decoding: `z * scale + bias + jitter * noise` per dimension.

    `bias` and `scale` may be shorter than the latent (they cover the first dimensions, like the VST's 8);
    `jitter` is one amount for all dimensions or one per dimension. The noise is drawn from the render's seed.
    """
    bias: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()
    jitter: float | tuple[float, ...] = 0.0

    def header(self) -> dict:
        jitter = float(self.jitter) if np.ndim(self.jitter) == 0 else [float(v) for v in self.jitter]
        return {'bias': [float(v) for v in self.bias], 'scale': [float(v) for v in self.scale], 'jitter': jitter}


@dataclass(frozen=True)
class Render:
    """Decoded audio `[channels, samples]` at `sr`, and the latent `z[dimensions, frames]` it came from."""
    audio: np.ndarray
    z: np.ndarray
    sr: int
    seed: int
    elapsed_s: float
    rss_bytes: int

    @property
    def seconds(self) -> float:
        return self.audio.shape[1] / self.sr


@dataclass(frozen=True)
class LatentStatistics:
    """Per-dimension mean and std of the deterministic encodings of a set of files (the spreads of generation)."""
    mean: np.ndarray
    std: np.ndarray
    frames: int


@dataclass(frozen=True)
class LatentMap:
    """Frames on their first principal axes: point i is `names[file_index[i]]` at `time_s[i]` seconds.

    `frames[i]` is that point's latent; `to_latent` turns any points of the map (a click, a drawn path) back
    into a latent `[dimensions, points]` to decode.
    """
    coords: np.ndarray
    file_index: np.ndarray
    time_s: np.ndarray
    frames: np.ndarray
    explained: tuple[float, ...]
    frames_total: int
    names: tuple[str, ...]
    axes: np.ndarray
    center: np.ndarray

    def to_latent(self, points: np.ndarray) -> np.ndarray:
        """Map coordinates `[points, dims]` → latent `[dimensions, points]` (the other axes at the data's mean)."""
        return (self.center[:, None] + self.axes.T @ np.atleast_2d(np.asarray(points, np.float32)).T).astype(
            np.float32)


class ModelServer:
    """One running model server: its child process and the socket to it. Requests go one at a time."""

    def __init__(self, process: subprocess.Popen, sock: socket.socket, log, info: ModelInfo) -> None:
        self.process, self.sock, self.log, self.info = process, sock, log, info
        self.last_used = time.monotonic()
        self.busy = False
        self._lock = threading.Lock()
        self._ids = 0

    @classmethod
    def start(cls, model: str | Path, python: str = sys.executable, threads: int = 2, log_path: Path | None = None,
              timeout_s: float = 300.0) -> ModelServer:
        """Start a server for `model` (a non-streaming .ts export) and wait until it has loaded it."""
        path = Path(model).expanduser()
        if not path.is_file():
            raise ModelServerError(i18n.lazy('{path} does not exist: export the run again or pick another model.',
                                             path=path))
        ours, theirs = socket.socketpair()
        log = open(log_path, 'w+b') if log_path else tempfile.TemporaryFile()  # noqa: SIM115 (kept for the tail)
        env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        argv = [python, '-m', 'services.workers.model_server', '--model', str(path.resolve()),
                '--fd', str(theirs.fileno()), '--threads', str(threads)]
        try:
            process = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, pass_fds=(theirs.fileno(),), start_new_session=True)
        except OSError as e:
            ours.close()
            log.close()
            raise ModelServerError(i18n.lazy('The model server could not start ({reason}). Check the Python '
                                             'interpreter '
                                             'in Settings.', reason=e)) from e
        finally:
            theirs.close()
        ours.settimeout(timeout_s)
        try:
            header, _ = protocol.receive(ours)
        except (protocol.ProtocolError, OSError) as e:
            process.kill()
            rc = process.wait()
            tail = _tail(log)
            ours.close()
            log.close()
            why = f'took longer than {timeout_s:.0f} s' if isinstance(e, TimeoutError) else f'exit code {rc}'
            raise ModelServerError(f'The model server for {path.name} stopped before loading it ({why}).'
                                   + (f' Its last words: {tail}' if tail else '')) from e
        if header.get('event') != 'ready':
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            ours.close()
            log.close()
            raise ModelServerError(header.get('message') or f'{path.name} could not be loaded.')
        ours.settimeout(None)
        return cls(process, ours, log, ModelInfo.of(header))

    def encode(self, audio: np.ndarray, sr: int | None = None, sample: bool = False, seed: int = 0) -> np.ndarray:
        """z[latent_size, frames]: the posterior mean (same audio, same z) unless `sample` (seeded draw)."""
        _facts, out = self.request('encode', {'audio': _audio(audio)}, sr=_rate(sr), sample=sample, seed=int(seed))
        return out['z']

    def decode(self, z: np.ndarray, seed: int = 0, controls: Controls | None = None) -> Render:
        """Audio of z after the controls; the same z, seed and controls give byte-identical audio (at the same
        `info.threads`: another thread count changes the last bit of some samples)."""
        return self._render('decode', {'z': np.asarray(z, np.float32)}, seed, controls)

    def reconstruct(self, audio: np.ndarray, sr: int | None = None, seed: int = 0, controls: Controls | None = None,
                    sample: bool = False, match_loudness: bool = False) -> Render:
        """Encode → controls → decode, cropped to the input's length (timbre transfer for foreign audio)."""
        return self._render('reconstruct', {'audio': _audio(audio)}, seed, controls, sr=_rate(sr), sample=sample,
                            match_loudness=match_loudness)

    def generate(self, seed: int = 0, duration_s: float = 10.0, temperature: float = 1.0, keyframe_rate: float = 1.0,
                 mean: np.ndarray | None = None, spread: np.ndarray | None = None,
                 controls: Controls | None = None) -> Render:
        """Audio from random latents: `keyframe_rate` keyframes a second × temperature × spread around mean."""
        arrays = {k: np.asarray(v, np.float32) for k, v in (('mean', mean), ('spread', spread)) if v is not None}
        return self._render('generate', arrays, seed, controls, duration_s=float(duration_s),
                            temperature=float(temperature), keyframe_rate=float(keyframe_rate))

    def interpolate(self, a: np.ndarray, b: np.ndarray, seed: int = 0, mix: float | None = None,
                    kind: str = 'linear', duration_s: float = 10.0, controls: Controls | None = None) -> Render:
        """From a to b (points [L] or latents [L, frames]): a morph over time when `mix` is None, else a fixed mix.

        Use kind='slerp' between random points, 'linear' between points or sounds from data. Two latents are
        cropped to the shorter; two points last `duration_s`.
        """
        return self._render('interpolate', {'a': np.asarray(a, np.float32), 'b': np.asarray(b, np.float32)}, seed,
                            controls, mix=None if mix is None else float(mix), kind=kind, duration_s=float(duration_s))

    def prior(self, seed: int = 0, duration_s: float = 10.0, temperature: float = 1.0,
              controls: Controls | None = None) -> Render:
        """Audio from the export's prior (`info.has_prior`); RAVE's prior continues from its previous call."""
        return self._render('prior', {}, seed, controls, duration_s=float(duration_s), temperature=float(temperature))

    def statistics(self, audios: Sequence[tuple[np.ndarray, int]],
                   on_progress: Progress | None = None) -> LatentStatistics:
        """Per-dimension mean/std of every frame of `audios` ((audio, sr) pairs), e.g. a dataset's files."""
        facts, out = self.request('statistics', _batch(audios), on_progress, srs=[_rate(sr) for _, sr in audios])
        return LatentStatistics(out['mean'], out['std'], facts['frames'])

    def latent_map(self, audios: Sequence[tuple[np.ndarray, int]], names: Sequence[str], dims: int = 2,
                   max_frames: int = 20000, on_progress: Progress | None = None) -> LatentMap:
        """A PCA map of every frame of `audios` (at most `max_frames`, evenly sampled), `names` one per file."""
        if len(names) != len(audios):
            raise ModelServerError(i18n.lazy('{files} files came with {names} names.',
                                             files=len(audios), names=len(names)))
        facts, out = self.request('map', _batch(audios), on_progress, srs=[_rate(sr) for _, sr in audios], dims=dims,
                                  max_frames=max_frames)
        return LatentMap(out['coords'], out['file_index'], out['time_s'], out['frames'], tuple(facts['explained']),
                         facts['frames_total'], tuple(names), out['axes'], out['center'])

    def warm(self, seconds: Sequence[float] = (10.0,)) -> None:
        """Warm encode and decode at these durations now, so the first slider move at them is fast."""
        self.request('warm', {}, seconds=list(seconds))

    def status(self) -> dict:
        """The server's own figures: requests served, uptime, warm shapes, RSS."""
        return self.request('status', {})[0]

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def rss_bytes(self) -> int:
        """Resident memory of the server process (0 once it is gone)."""
        try:
            return int(psutil.Process(self.process.pid).memory_info().rss) if self.alive else 0
        except psutil.Error:
            return 0

    def close(self, timeout_s: float = 10.0) -> None:
        """Ask the server to finish, and kill it if it does not within `timeout_s`."""
        if self.alive and self._lock.acquire(timeout=timeout_s):
            try:
                self.sock.settimeout(timeout_s)
                protocol.send(self.sock, {'op': 'close', 'id': 0})
                protocol.receive(self.sock)
            except (OSError, protocol.ProtocolError):
                pass
            finally:
                self._lock.release()
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.sock.close()
        self.log.close()

    def request(self, op: str, arrays: dict[str, np.ndarray], on_progress: Progress | None = None,
                timeout_s: float = 900.0, **params) -> tuple[dict, dict[str, np.ndarray]]:
        """Send one request and wait for its answer; progress frames go to `on_progress(done, total, what)`."""
        with self._lock:
            if not self.alive:
                raise ModelServerError(self._gone())
            self.busy = True
            self._ids += 1
            try:
                self.sock.settimeout(timeout_s)
                protocol.send(self.sock, {'op': op, 'id': self._ids, **params}, arrays)
                while True:
                    header, out = protocol.receive(self.sock)
                    if header.get('event') != 'progress':
                        break
                    if on_progress:
                        on_progress(header['done'], header['total'], header['what'])
            except TimeoutError as e:
                self.process.kill()
                self.process.wait()
                raise ModelServerError(i18n.lazy('{name} took longer than {seconds:.0f} s on {op}; its server was '
                                                 'stopped.', name=Path(self.info.path).name, seconds=timeout_s,
                                                 op=op)) from e
            except (OSError, protocol.ProtocolError) as e:
                self.process.kill()
                self.process.wait()
                raise ModelServerError(self._gone()) from e
            finally:
                self.busy = False
                self.last_used = time.monotonic()
        if header.get('event') == 'error':
            raise ModelServerError(header.get('message') or f'The model server failed on {op}.')
        return header, out

    def _render(self, op: str, arrays: dict[str, np.ndarray], seed: int, controls: Controls | None,
                **params) -> Render:
        facts, out = self.request(op, arrays, seed=int(seed), **(controls or Controls()).header(), **params)
        return Render(out['audio'], out['z'], facts['sr'], facts['seed'], facts['elapsed_s'], facts['rss_bytes'])

    def _gone(self) -> str:
        rc = self.process.poll()
        tail = _tail(self.log)
        return (f'The model server for {Path(self.info.path).name} stopped (exit code {rc}); it starts again '
                'when the model is opened.' + (f' Its last words: {tail}' if tail else ''))


def read_audio(path: str | Path, max_seconds: float = 600.0) -> tuple[np.ndarray, int]:
    """Decode any file ffmpeg reads to float32 [channels, samples] at its own rate (the server resamples)."""
    try:
        audio, sr, _ = decode(path, max_seconds=max_seconds)
    except Unreadable as e:
        raise ModelServerError(str(e)) from e
    return audio, sr


def _audio(audio: np.ndarray) -> np.ndarray:
    return np.atleast_2d(np.asarray(audio, np.float32))


def _rate(sr: int | None) -> int | None:
    return None if sr is None else int(sr)


def _batch(audios: Sequence[tuple[np.ndarray, int]]) -> dict[str, np.ndarray]:
    return {f'audio.{i}': _audio(audio) for i, (audio, _sr) in enumerate(audios)}


def _tail(log, size: int = 600) -> str:
    """The end of a server's log, on one line, for an error message."""
    try:
        log.flush()
        log.seek(max(0, os.fstat(log.fileno()).st_size - size))
        lines = [line.strip() for line in log.read().decode(errors='replace').splitlines() if line.strip()]
    except (OSError, ValueError):
        return ''
    return ' '.join(lines[-3:])
