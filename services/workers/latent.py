"""Latent maths of the Play pages, in numpy (no torch): controls, random generation, interpolation, statistics, PCA.

A latent is `z[L, N]`: L dimensions (the export's `latent_size`, already PCA-rotated and centred by RAVE, so
dimension 0 carries the most variance) by N frames at the model's frame rate (`sr / ratio`). Everything random
draws from a `numpy.random.Generator` the caller seeds, so the same seed and settings give the same latent.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from services import lazy

np = lazy.module('numpy')  # the studio imports this module at launch; numpy comes with the first latent

Values: TypeAlias = 'float | Sequence[float] | np.ndarray'


def apply_controls(z: np.ndarray, rng: np.random.Generator, bias: Values = (), scale: Values = (),
                   jitter: Values = 0.0) -> np.ndarray:
    """`z * scale + bias + jitter * noise`, per dimension like the RAVE VST; short lists cover the first dimensions."""
    out = z.astype(np.float64)
    size = z.shape[0]
    out *= _per_dimension(scale, size, 1.0)[:, None]
    out += _per_dimension(bias, size, 0.0)[:, None]
    amount = _per_dimension(jitter, size, 0.0)
    if amount.any():
        out += amount[:, None] * rng.standard_normal(z.shape)
    return out.astype(np.float32)


def random_latent(rng: np.random.Generator, n_frames: int, frame_rate: float, keyframe_rate: float,
                  temperature: float, mean: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Random keyframes, `keyframe_rate` per second, SLERPed to every frame, then scaled per dimension.

    White noise per frame has no time structure; keyframes give phrases whose length the keyframe rate
    (the "smoothness") sets. Unit-normal keyframes are interpolated on the sphere with their norm
    interpolated too, then scaled by temperature × spread (the dataset's per-dimension std) around `mean`.
    """
    if n_frames < 1:
        raise ValueError('Ask for at least one frame of audio.')
    if keyframe_rate <= 0:
        raise ValueError('The keyframe rate must be above 0 keyframes per second.')
    n_keys = max(2, math.ceil(n_frames / frame_rate * keyframe_rate) + 1)
    keys = rng.standard_normal((mean.size, n_keys))
    position = np.linspace(0.0, n_keys - 1, n_frames)
    segment = np.minimum(position.astype(int), n_keys - 2)
    unit = slerp(keys[:, segment], keys[:, segment + 1], position - segment)
    z = mean[:, None] + temperature * spread[:, None] * unit
    return z.astype(np.float32)


def interpolate(a: np.ndarray, b: np.ndarray, weights: np.ndarray, kind: str) -> np.ndarray:
    """Each frame of `a[L, N]` towards `b[L, N]` by `weights[N]` (0 = a, 1 = b); exact at both ends.

    `slerp` suits random points (a straight line between two Gaussian points passes near the origin, where
    the norm and the sound collapse); `linear` suits points taken from data.
    """
    t = np.asarray(weights, np.float64)
    if kind == 'linear':
        out = (1.0 - t) * a.astype(np.float64) + t * b.astype(np.float64)
    elif kind == 'slerp':
        out = slerp(a.astype(np.float64), b.astype(np.float64), t)
    else:
        raise ValueError(f'Interpolation {kind!r} is not known; use "slerp" or "linear".')
    return out.astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation of the columns of a and b with the norm interpolated linearly."""
    norm_a, norm_b = np.linalg.norm(a, axis=0), np.linalg.norm(b, axis=0)
    safe_a, safe_b = np.where(norm_a > 0, norm_a, 1.0), np.where(norm_b > 0, norm_b, 1.0)
    cos = np.clip(np.sum(a * b, axis=0) / (safe_a * safe_b), -1.0, 1.0)
    omega = np.arccos(cos)
    sin = np.sin(omega)
    curved = (sin > 1e-6) & (norm_a > 0) & (norm_b > 0)
    sin = np.where(curved, sin, 1.0)
    norm = (1.0 - t) * norm_a + t * norm_b
    weight_a = np.where(curved, np.sin((1.0 - t) * omega) / sin * norm / safe_a, 1.0 - t)
    weight_b = np.where(curved, np.sin(t * omega) / sin * norm / safe_b, t)
    return weight_a * a + weight_b * b


def along_path(points: np.ndarray, n: int) -> np.ndarray:
    """`n` points evenly spaced by length along the polyline `points[K, dims]` (a path drawn on a map)."""
    points = np.atleast_2d(np.asarray(points, np.float64))
    if points.shape[0] < 2:
        raise ValueError('A path needs at least two points; draw a longer one.')
    if n < 1:
        raise ValueError('Ask for at least one frame of audio.')
    length = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    if length[-1] <= 0:
        raise ValueError('The path does not move; draw it across the map.')
    at = np.linspace(0.0, length[-1], n)
    return np.stack([np.interp(at, length, points[:, d]) for d in range(points.shape[1])], axis=1)


def nearest_latent(coords: np.ndarray, frames: np.ndarray, points: np.ndarray, k: int = 4) -> np.ndarray:
    """Latents `[L, points]` for places on a map that has no way back (UMAP): the inverse-distance mean of the
    latents of the `k` nearest map points; a place on a point gives that point's latent exactly."""
    coords = np.asarray(coords, np.float64)
    points = np.atleast_2d(np.asarray(points, np.float64))
    k = max(1, min(k, coords.shape[0]))
    distance = np.linalg.norm(points[:, None, :] - coords[None, :, :], axis=2)
    nearest = np.argsort(distance, axis=1)[:, :k]
    near = np.take_along_axis(distance, nearest, axis=1)
    weights = 1.0 / np.maximum(near, 1e-9)
    weights[near[:, 0] < 1e-9] = np.eye(k)[0]
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum('pk,pkl->lp', weights, np.asarray(frames, np.float64)[nearest]).astype(np.float32)


@dataclass(frozen=True)
class Keyframe:
    """The controls at `t` seconds into a recorded slider automation (what the sliders said from then on)."""
    t: float
    bias: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()
    jitter: float = 0.0
    mix: float = 0.0  # the crossfader between two models, when the automation drives one


def automate(z: np.ndarray, rng: np.random.Generator, keyframes: Sequence[Keyframe], frame_rate: float,
             speed: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """`z[L, N]` with the controls following `keyframes` frame by frame (linear between keyframes, held after
    the last), played `speed` times as fast as recorded; returns the latent and the mix of each frame."""
    if not keyframes:
        raise ValueError('The automation holds no keyframe; record one first.')
    if not speed > 0:
        raise ValueError(f'The speed must be above 0, not {speed:g}.')
    size, n = z.shape
    keys = sorted(keyframes, key=lambda k: k.t)
    at = np.arange(n) / frame_rate * speed
    times = np.array([k.t for k in keys], np.float64)

    def curve(values: Callable[[Keyframe], np.ndarray]) -> np.ndarray:
        table = np.stack([values(k) for k in keys], axis=1)
        return np.stack([np.interp(at, times, row) for row in np.atleast_2d(table)])

    scale = curve(lambda k: _per_dimension(k.scale, size, 1.0))
    bias = curve(lambda k: _per_dimension(k.bias, size, 0.0))
    jitter = curve(lambda k: np.array([k.jitter]))[0]
    out = z.astype(np.float64) * scale + bias
    if jitter.any():
        out += jitter[None, :] * rng.standard_normal(z.shape)
    return out.astype(np.float32), curve(lambda k: np.array([k.mix]))[0].astype(np.float32)


def morph_weights(n_frames: int, mix: float | None) -> np.ndarray:
    """0 → 1 across the frames for a morph over time, or the fixed `mix` on every frame."""
    if mix is None:
        return np.linspace(0.0, 1.0, n_frames)
    if not 0.0 <= mix <= 1.0:
        raise ValueError(f'The mix must be between 0 and 1, not {mix:g}.')
    return np.full(n_frames, float(mix))


@dataclass
class Moments:
    """Running per-dimension mean and std of latent frames, added file by file."""
    total: np.ndarray
    squares: np.ndarray
    count: int = 0

    @classmethod
    def of_size(cls, size: int) -> Moments:
        return cls(np.zeros(size), np.zeros(size))

    def add(self, z: np.ndarray) -> None:
        frames = z.astype(np.float64)
        self.total += frames.sum(axis=1)
        self.squares += np.square(frames).sum(axis=1)
        self.count += frames.shape[1]

    def mean(self) -> np.ndarray:
        return self.total / max(self.count, 1)

    def std(self) -> np.ndarray:
        return np.sqrt(np.maximum(self.squares / max(self.count, 1) - np.square(self.mean()), 0.0))


@dataclass(frozen=True)
class Projection:
    """Frames on their first principal axes: `coords[N, dims]`, each axis's share of variance, and the way back
    (`frame ≈ center + coords @ axes`), so a point or a path drawn on the map becomes a latent to decode."""
    coords: np.ndarray
    explained: np.ndarray
    axes: np.ndarray
    center: np.ndarray


def pca(frames: np.ndarray, dims: int) -> Projection:
    """The PCA map of `frames[N, L]` in `dims` dimensions (zero axes pad a latent smaller than `dims`).

    Each axis's sign is fixed (its largest loading positive) so the same frames always give the same map.
    """
    if frames.shape[0] < 2:
        raise ValueError('A map needs at least two frames; give it more audio.')
    x = frames.astype(np.float64)
    center = x.mean(axis=0)
    x -= center
    values, vectors = np.linalg.eigh(x.T @ x)
    order = np.argsort(values)[::-1]
    values, vectors = np.maximum(values[order], 0.0), vectors[:, order]
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])
    vectors *= np.where(signs == 0, 1.0, signs)
    used = min(dims, vectors.shape[1])
    axes = np.zeros((dims, frames.shape[1]))
    axes[:used] = vectors[:, :used].T
    share = np.zeros(dims)
    share[:used] = values[:used] / values.sum() if values.sum() > 0 else 0.0
    return Projection((x @ axes.T).astype(np.float32), share.astype(np.float32), axes.astype(np.float32),
                      center.astype(np.float32))


def even_sample(n: int, limit: int) -> np.ndarray:
    """Indices of at most `limit` of n items, evenly spread (a map of a big dataset keeps its shape)."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def _per_dimension(values: Values, size: int, default: float) -> np.ndarray:
    given = np.atleast_1d(np.asarray(values, np.float64))
    if given.size == 1 and np.ndim(values) == 0:
        return np.full(size, given[0])
    if given.size > size:
        raise ValueError(f'{given.size} values were given for a latent of {size} dimensions.')
    return np.concatenate([given, np.full(size - given.size, default)])
