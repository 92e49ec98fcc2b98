"""The requests the model server answers: each takes (server, header, arrays) and returns (facts, arrays).

Renders (decode, reconstruct, generate, interpolate, prior) apply the latent controls (`bias`, `scale`,
`jitter` in the header) before decoding and return `audio[channels, samples]` at the model's rate plus the
latent `z[dimensions, frames]` that was decoded. Batch requests (statistics, map) take `audio.0`, `audio.1`, …
with their rates in `srs` and send a progress frame after each file.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from services.workers import latent
from services.workers.protocol import BadRequest

if TYPE_CHECKING:
    from services.workers.model_server import Model, Server

Arrays = dict[str, np.ndarray]
Handler = Callable[['Server', dict, Arrays], tuple[dict, Arrays]]
HANDLERS: dict[str, Handler] = {}
BUCKET = 2 ** 16  # batch encodes pad each file's last piece to a multiple of this: few shapes, few warm-ups


def handles(op: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[op] = handler
        return handler
    return register


@handles('status')
def status(server: Server, p: dict, a: Arrays) -> tuple[dict, Arrays]:
    return {'served': server.served, 'uptime_s': time.time() - server.started,
            'warm_shapes': len(server.model.warm)}, {}


@handles('warm')
def warm(server: Server, p: dict, a: Arrays) -> tuple[dict, Arrays]:
    """Warm encode and decode for the given durations, so the first real request at them is fast."""
    model = server.model
    seconds = [float(s) for s in p.get('seconds', [])]
    for s in seconds:
        frames = _frames(model, s)
        model.decode(np.zeros((model.latent_size, frames), np.float32), 0)
        model.encode(np.zeros((model.n_channels, frames * model.ratio), np.float32))
    return {'seconds': seconds}, {}


@handles('encode')
def encode(server: Server, p: dict, a: Arrays) -> tuple[dict, Arrays]:
    model = server.model
    z = model.encode(model.conform(_array(a, 'audio'), p.get('sr')), bool(p.get('sample')), _seed(p))
    return {'frames': z.shape[1], 'frame_rate': model.frame_rate}, {'z': z}


@handles('decode')
def decode(server: Server, p: dict, a: Arrays) -> tuple[dict, Arrays]:
    return _render(server.model, _array(a, 'z', ndim=2), p)


@handles('reconstruct')
def reconstruct(server: Server, p: dict, a: Arrays) -> tuple[dict, Arrays]:
    """Timbre transfer when the audio is not the model's own: encode, controls, decode, padding cropped."""
    model = server.model
    x = model.conform(_array(a, 'audio'), p.get('sr'))
    z = model.encode(x, bool(p.get('sample')), _seed(p))
    return _render(model, z, p, samples=x.shape[1], reference=x if p.get('match_loudness') else None)


@handles('generate')
def generate(server: Server, p: dict, a: Arrays) -> tuple[dict, Arrays]:
    """Random latents: keyframes × temperature × per-dimension spread (from measured statistics when given)."""
    model = server.model
    seconds = _positive(p, 'duration_s', 10.0)
    size = model.latent_size
    mean = _array(a, 'mean', ndim=1, size=size) if 'mean' in a else np.zeros(size)
    spread = _array(a, 'spread', ndim=1, size=size) if 'spread' in a else np.ones(size)
    rng = np.random.default_rng(_seed(p))
    z = latent.random_latent(rng, _frames(model, seconds), model.frame_rate, _positive(p, 'keyframe_rate', 1.0),
                             float(p.get('temperature', 1.0)), mean, spread)
    return _render(model, z, p, samples=round(seconds * model.sr), rng=rng)


@handles('interpolate')
def interpolate(server: Server, p: dict, a: Arrays) -> tuple[dict, Arrays]:
    """From `a` to `b` (points [L] or latents [L, N]): a morph over time, or the fixed `mix` on every frame."""
    model = server.model
    start, end = _array(a, 'a'), _array(a, 'b')
    if start.ndim not in (1, 2) or end.ndim not in (1, 2) or start.shape[0] != end.shape[0]:
        raise BadRequest(f'Interpolate between two points [L] or latents [L, frames] of the same L, '
                         f'not {list(start.shape)} and {list(end.shape)}.')
    lengths = [x.shape[1] for x in (start, end) if x.ndim == 2]
    frames = min(lengths) if lengths else _frames(model, _positive(p, 'duration_s', 10.0))
    start, end = (np.broadcast_to(x[:, None] if x.ndim == 1 else x[:, :frames], (x.shape[0], frames))
                  for x in (start, end))
    mix = p.get('mix')
    weights = latent.morph_weights(frames, None if mix is None else float(mix))
    z = latent.interpolate(start, end, weights, str(p.get('kind', 'linear')))
    return _render(model, z, p)


@handles('prior')
def prior(server: Server, p: dict, a: Arrays) -> tuple[dict, Arrays]:
    model = server.model
    seconds = _positive(p, 'duration_s', 10.0)
    z = model.prior(_frames(model, seconds), float(p.get('temperature', 1.0)), _seed(p))
    return _render(model, z, p, samples=round(seconds * model.sr))


@handles('statistics')
def statistics(server: Server, p: dict, a: Arrays) -> tuple[dict, Arrays]:
    """Per-dimension mean and std of the deterministic encodings of every frame of the files."""
    moments = latent.Moments.of_size(server.model.latent_size)
    for z in _encodings(server, p, a):
        moments.add(z)
    return {'frames': moments.count}, {'mean': moments.mean(), 'std': moments.std()}


@handles('map')
def latent_map(server: Server, p: dict, a: Arrays) -> tuple[dict, Arrays]:
    """Every frame of the files on their first principal axes, with the file and time each point comes from."""
    model = server.model
    dims = int(p.get('dims', 2))
    if dims not in (2, 3):
        raise BadRequest(f'A map has 2 or 3 dimensions, not {dims}.')
    encodings = list(_encodings(server, p, a))
    frames = np.concatenate([z.T for z in encodings])
    file_index = np.concatenate([np.full(z.shape[1], i, np.int32) for i, z in enumerate(encodings)])
    time_s = np.concatenate([np.arange(z.shape[1]) / model.frame_rate for z in encodings]).astype(np.float32)
    keep = latent.even_sample(frames.shape[0], int(p.get('max_frames', 20000)))
    projection = latent.pca(frames[keep], dims)
    return ({'frames_total': int(frames.shape[0]), 'explained': projection.explained.tolist()},
            {'coords': projection.coords, 'file_index': file_index[keep], 'time_s': time_s[keep],
             'frames': frames[keep], 'axes': projection.axes, 'center': projection.center})


def _render(model: Model, z: np.ndarray, p: dict, samples: int | None = None, reference: np.ndarray | None = None,
            rng: np.random.Generator | None = None) -> tuple[dict, Arrays]:
    seed = _seed(p)
    rng = rng or np.random.default_rng(seed)
    z = latent.apply_controls(z, rng, p.get('bias', ()), p.get('scale', ()), p.get('jitter', 0.0))
    y = model.decode(z, seed)[:, :samples]
    if reference is not None:
        level = math.sqrt(float(np.mean(np.square(y, dtype=np.float64))))
        if level > 1e-9:
            y = y * np.float32(math.sqrt(float(np.mean(np.square(reference, dtype=np.float64)))) / level)
    if not np.isfinite(y).all():
        raise BadRequest('The model decoded NaN or infinite samples from this latent; lower the bias or scale.')
    return {'sr': model.sr, 'seed': seed, 'seconds': y.shape[1] / model.sr}, {'audio': y, 'z': z}


def _encodings(server: Server, p: dict, a: Arrays):
    """The deterministic encoding of each `audio.i`, with a progress frame after each."""
    model = server.model
    count = sum(1 for name in a if name.startswith('audio.'))
    if count == 0:
        raise BadRequest('Give at least one audio file.')
    rates = list(p.get('srs') or [p.get('sr')] * count)
    if len(rates) != count:
        raise BadRequest(f'{count} audio arrays came with {len(rates)} sample rates.')
    for i in range(count):
        yield model.encode(model.conform(_array(a, f'audio.{i}'), rates[i]), bucket=BUCKET)
        server.progress(p, i + 1, count, f'encoded file {i + 1} of {count}')


def _array(a: Arrays, name: str, ndim: int | None = None, size: int | None = None) -> np.ndarray:
    if name not in a:
        raise BadRequest(f'The request lacks the array {name!r}.')
    x = a[name]
    if ndim is not None and x.ndim != ndim:
        raise BadRequest(f'{name} must have {ndim} dimension(s), not shape {list(x.shape)}.')
    if size is not None and x.shape[0] != size:
        raise BadRequest(f'{name} must have {size} values (one per latent dimension), not {x.shape[0]}.')
    return x


def _seed(p: dict) -> int:
    seed = p.get('seed', 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2 ** 63:
        raise BadRequest(f'A seed is a whole number from 0 to 2^63 − 1, not {seed!r}.')
    return seed


def _positive(p: dict, name: str, default: float) -> float:
    value = float(p.get(name, default))
    if not value > 0:
        raise BadRequest(f'{name.replace("_", " ")} must be above 0, not {value:g}.')
    return value


def _frames(model: Model, seconds: float) -> int:
    return max(1, math.ceil(seconds * model.frame_rate))
