"""Streaming against offline, for the verification worker: host-sized buffers compared by spectrum, not samples.

A streaming export plays buffer by buffer with cached convolutions; it should sound like the offline model,
delayed by its latency. Decoding is random (the latent dims beyond latent_size, the noise generator), so two
decodes of the same audio differ sample by sample: the streamed output is aligned on the lag that best
matches the reference (cross-correlation), then compared by multi-resolution log-magnitude spectral
distance against the spread between two decodes of the reference itself.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from services.workers.verification import HOST_BUFFER, Check, test_signal

SCALES = (2048, 512)
MARGIN = 1.5  # how much further from the reference than its own spread a streamed decode may be
SLACK = 0.25  # log-magnitude units: tolerates tiny spreads (a deterministic model has none)


def consistency(path: Path, offline: Path | None, facts: dict) -> tuple[Check, int | None]:
    """The verdict, and the streaming delay in samples (None without an offline reference)."""
    if not facts['streaming']:
        return Check('streaming', None, 'An offline export (no --streaming): fine for offline use and this studio; '
                     'realtime hosts (nn~, the RAVE VST, Neutone) need a streaming export.'), None
    sr, ratio = facts['sr'], facts['compression_ratio'] or 1
    buffer = max(HOST_BUFFER // ratio, 1) * ratio
    x = test_signal(sr, facts['n_channels'], ratio)
    streamed = _play_in_buffers(torch.jit.load(str(path), map_location='cpu').eval(), x, buffer, seed=0)
    if offline is not None:
        reference = torch.jit.load(str(offline), map_location='cpu').eval()
        with torch.no_grad():
            torch.manual_seed(1)
            first = reference.forward(x)
            torch.manual_seed(2)
            second = reference.forward(x)
        against = f'the offline export {offline.name}'
    else:  # the same file fed the whole signal at once: its caches start empty each time, so fresh copies
        first = _play_in_buffers(torch.jit.load(str(path), map_location='cpu').eval(), x, x.shape[-1], seed=1)
        second = _play_in_buffers(torch.jit.load(str(path), map_location='cpu').eval(), x, x.shape[-1], seed=2)
        against = 'the same model fed the whole signal at once'
    if not torch.isfinite(streamed).all():
        return Check('streaming', False, f'Played in {buffer}-sample buffers the model gives NaN or infinite '
                     'samples: it would crackle or go silent in a host.'), None
    lag = best_lag(first[0].mean(0).numpy(), streamed[0].mean(0).numpy(), max_lag=min(sr, x.shape[-1] // 3))
    spread = spectral_distance(first, second)
    distance = spectral_distance(first[..., : first.shape[-1] - lag], streamed[..., lag:])
    facts['streaming_check'] = {'buffer': buffer, 'lag_samples': lag, 'distance': round(distance, 4),
                                'spread': round(spread, 4), 'against': against}
    if distance > MARGIN * spread + SLACK:
        return Check('streaming', False, f'Played in {buffer}-sample buffers it sounds unlike {against} (spectral '
                     f'distance {distance:.2f}, two offline decodes differ by {spread:.2f}): expect clicks or '
                     'artefacts in hosts.'), None
    delay = lag if offline is not None else None
    latency = f', {lag} samples ({1000 * lag / sr:.0f} ms) behind' if delay else ''
    return Check('streaming', True, f'Played in {buffer}-sample buffers it sounds like {against}{latency} '
                 f'(spectral distance {distance:.2f}; two decodes of it differ by {spread:.2f}).'), delay


def _play_in_buffers(model, x: torch.Tensor, buffer: int, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    with torch.no_grad():
        return torch.cat([model.forward(chunk) for chunk in x.split(buffer, dim=-1)], dim=-1)


def best_lag(reference: np.ndarray, delayed: np.ndarray, max_lag: int) -> int:
    """The delay (≥ 0 samples) of `delayed` behind `reference`, from their cross-correlation."""
    n = len(reference) + len(delayed)
    size = 1 << (n - 1).bit_length()
    correlation = np.fft.irfft(np.fft.rfft(delayed, size) * np.conj(np.fft.rfft(reference, size)), size)
    return int(np.argmax(correlation[: max_lag + 1]))


def spectral_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean absolute difference of log-magnitude spectra at a few STFT sizes (channels mixed)."""
    a, b = a.reshape(-1, a.shape[-1]).mean(0), b.reshape(-1, b.shape[-1]).mean(0)
    n = min(a.shape[-1], b.shape[-1])
    total = 0.0
    for size in SCALES:
        window = torch.hann_window(size)
        spectra = [torch.stft(s[:n], size, size // 4, window=window, return_complex=True).abs() for s in (a, b)]
        total += float((torch.log(spectra[0] + 1e-5) - torch.log(spectra[1] + 1e-5)).abs().mean())
    return total / len(SCALES)
