"""Audio as the pages show it: peak and RMS levels, a waveform envelope, a magnitude spectrogram
(components/waveform.py and components/spectrogram.py draw them); and `decode`, any file ffmpeg reads as float32
samples (the model server's client and the reconstruct worker both use it). numpy only, no torch."""
from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

from services import lazy

np = lazy.module('numpy')


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


class Unreadable(ValueError):
    """A file ffmpeg cannot give audio from, with a sentence saying what to do."""


def decode(path: str | Path, *, sr: int | None = None, channels: int | None = None,
           max_seconds: float = 600.0) -> tuple[np.ndarray, int, bool]:
    """float32 [channels, samples] of the file's first audio stream, at most `max_seconds`: at its own rate and
    channel count, or resampled/mixed by ffmpeg to `sr`/`channels`; returns (audio, rate, truncated)."""
    path = Path(path)
    probe = _ffmpeg(['ffprobe', '-v', 'error', '-select_streams', 'a:0', '-show_entries',
                     'stream=sample_rate,channels', '-of', 'json', str(path)])
    streams = json.loads(probe.stdout or b'{}').get('streams', []) if probe.returncode == 0 else []
    if not streams:
        raise Unreadable(f'{path.name} is not an audio file ffmpeg can read. Pick a wav, flac, mp3, ogg or aiff file.')
    sr, channels = sr or int(streams[0]['sample_rate']), channels or int(streams[0]['channels'])
    decoded = _ffmpeg(['ffmpeg', '-v', 'error', '-nostdin', '-i', str(path), '-t', f'{max_seconds + 1:g}',
                       '-map', '0:a:0', '-f', 'f32le', '-acodec', 'pcm_f32le', '-ac', str(channels),
                       '-ar', str(sr), '-'])
    if decoded.returncode != 0:
        detail = decoded.stderr.decode(errors='replace').strip().splitlines()[-1:] or ['']
        raise Unreadable(f'ffmpeg could not decode {path.name}: {detail[0]}')
    samples = np.frombuffer(decoded.stdout, np.float32)
    frames = samples.size // channels
    if frames == 0:
        raise Unreadable(f'{path.name} holds no audio samples. Pick another file.')
    audio = samples[: frames * channels].reshape(frames, channels).T.copy()
    limit = int(max_seconds * sr)
    return (audio[:, :limit], sr, True) if frames > limit else (audio, sr, False)


def _ffmpeg(argv: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, check=False, capture_output=True, timeout=600)
    except FileNotFoundError as e:
        raise Unreadable(f'{argv[0]} is missing: install ffmpeg and try again.') from e
