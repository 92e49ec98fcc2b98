"""Audio as the pages show it: peak and RMS levels, a waveform envelope, a magnitude spectrogram
(components/waveform.py and components/spectrogram.py draw them). numpy only, no torch."""
from __future__ import annotations

import math

import numpy as np


def levels(audio: np.ndarray) -> tuple[float | None, float | None]:
    """Peak and RMS in dBFS over all channels; None for digital silence."""
    if audio.size == 0:
        return None, None
    peak = float(np.abs(audio).max())
    rms = math.sqrt(float(np.dot(audio.ravel(), audio.ravel())) / audio.size)
    return (20 * math.log10(peak) if peak > 0 else None), (20 * math.log10(rms) if rms > 0 else None)


def envelope(audio: np.ndarray, points: int = 800) -> dict:
    """Min and max of the channel mix in `points` columns (components/waveform.py draws it)."""
    mono = audio.mean(axis=0) if audio.ndim == 2 else audio
    columns = max(1, min(points, mono.size))
    usable = mono[: mono.size - mono.size % columns].reshape(columns, -1)
    return {'min': usable.min(axis=1).round(4).tolist(), 'max': usable.max(axis=1).round(4).tolist()}


def spectrogram(audio: np.ndarray, sr: int, *, n_fft: int = 512, columns: int = 320,
                floor_db: float = -100.0) -> dict:
    """Magnitude STFT (Hann window) of the channel mix in dBFS: at most `columns` frames × n_fft/2 bins."""
    mono = (audio.mean(axis=0) if audio.ndim == 2 else audio).astype(np.float32)
    if mono.size < n_fft:
        mono = np.pad(mono, (0, n_fft - mono.size))
    hop = max(n_fft // 4, (mono.size - n_fft) // max(columns - 1, 1) + 1)
    starts = np.arange(0, mono.size - n_fft + 1, hop)
    frames = np.lib.stride_tricks.sliding_window_view(mono, n_fft)[starts]
    window = np.hanning(n_fft).astype(np.float32)
    magnitude = np.abs(np.fft.rfft(frames * window, axis=1))[:, : n_fft // 2] * (2 / window.sum())
    db = np.maximum(20 * np.log10(np.maximum(magnitude, 1e-12)), floor_db)
    return {'db': np.ascontiguousarray(np.round(db.T), dtype=np.int16),
            'times': ((starts + n_fft / 2) / sr).astype(np.float32),
            'freqs': (np.arange(n_fft // 2) * sr / n_fft).astype(np.float32)}
