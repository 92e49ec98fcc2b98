"""The doctor's look inside the audio: a sampled read of each file measures what headers cannot show — pure
silence, a DC offset, hard clipping, and float files holding NaN or infinity. What each means for training is
the doctor's to say (doctor.content_findings).

Sampled, not exhaustive: WINDOWS short windows spread over each file (about 4 s of audio read per file, in
threads), so a folder of hundreds of files is scanned in seconds. Slow I/O all the same: call it off the event
loop. Files libsndfile cannot read (some AAC/Opus) are not scanned; the survey has already checked they decode.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WINDOWS = 16  # windows read per file, spread evenly from start to end
WINDOW_S = 0.25
MAX_FILES = 400  # more files than this: an even sample of them is scanned
SILENT_PEAK = 10 ** (-80 / 20)  # −80 dBFS: below any real recording's noise floor
MOSTLY_SILENT = 0.5  # share of windows below SILENT_PEAK that makes a file "mostly silence"
DC_OFFSET = 0.02  # |mean| per channel (−34 dBFS): far above what a high-passed recording shows
CLIP_RUN = 4  # equal consecutive samples at the peak: a flat top, which only clipping makes
CLIP_SHARE = 0.001  # share of the samples read lying on flat tops that makes a file "hard-clipped"


@dataclass(frozen=True)
class Content:
    """What the sampled read of one file found."""
    path: Path
    peak: float  # largest finite |sample| read
    silent_share: float  # share of windows below SILENT_PEAK
    dc: float  # largest |mean| of a channel
    clipped_share: float  # share of samples lying on flat tops at the peak
    nonfinite: int  # NaN or ±inf samples read

    @property
    def silent(self) -> bool:
        return self.peak < SILENT_PEAK

    @property
    def clipped(self) -> bool:
        return self.clipped_share >= CLIP_SHARE


def scan(paths: list[Path], workers: int = 4) -> tuple[list[Content], int]:
    """The sampled read of each file (an even sample of MAX_FILES when there are more), and how many of
    `paths` were not scanned (unreadable by libsndfile, or left out of the sample)."""
    chosen = paths if len(paths) <= MAX_FILES else [paths[i * len(paths) // MAX_FILES] for i in range(MAX_FILES)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = [c for c in pool.map(read, chosen) if c is not None]
    return found, len(paths) - len(found)


def read(path: Path) -> Content | None:
    """The sampled read of one file; None when libsndfile cannot read it."""
    import soundfile
    try:
        with soundfile.SoundFile(str(path)) as f:
            length = max(1, int(WINDOW_S * f.samplerate))
            starts = np.linspace(0, max(f.frames - length, 0), WINDOWS).astype(int).tolist() if f.seekable() \
                else [0]
            windows = []
            for start in dict.fromkeys(starts):
                f.seek(start)
                windows.append(f.read(length, dtype='float32', always_2d=True))
    except (RuntimeError, OSError, ValueError, TypeError, soundfile.LibsndfileError):
        return None
    windows = [w for w in windows if w.size]
    if not windows:
        return None
    return measure(path, windows)


def measure(path: Path, windows: list[np.ndarray]) -> Content:
    """The figures of `windows` (frames × channels, float)."""
    data = np.concatenate(windows)
    finite = np.isfinite(data)
    nonfinite = int(data.size - finite.sum())
    clean = np.where(finite, data, 0.0)
    peaks = [float(np.abs(np.where(np.isfinite(w), w, 0.0)).max()) for w in windows]
    peak = max(peaks)
    dc = float(np.abs(clean.mean(axis=0)).max())
    clipped = 0
    if peak > 0.1 and float(clean.std()) > 1e-3:  # a constant (pure DC) file has flat "tops" but no clipping
        for w in windows:
            clipped += _flat_tops(np.where(np.isfinite(w), w, 0.0), peak)
    return Content(path, peak, sum(p < SILENT_PEAK for p in peaks) / len(peaks), dc, clipped / clean.size,
                   nonfinite)


def _flat_tops(window: np.ndarray, peak: float) -> int:
    """Samples in runs of ≥ CLIP_RUN equal values at ≥ 99 % of the peak, over every channel."""
    count = 0
    for channel in window.T:
        top = np.abs(channel) >= 0.99 * peak
        same = np.concatenate(([False], channel[1:] == channel[:-1]))
        flat = top & (same | np.concatenate((same[1:], [False])))
        edges = np.diff(np.concatenate(([0], flat.astype(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        lengths = ends - starts
        count += int(lengths[lengths >= CLIP_RUN].sum())
    return count
