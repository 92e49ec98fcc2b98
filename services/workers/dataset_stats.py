"""Worker: statistics of one RAVE dataset, written once to a JSON cache beside it (numpy only, no torch).

    python -m services.workers.dataset_stats --db LMDB --out STATS.json [--source FOLDER ...] [--ext wav ...]

Computes the duration distribution of the source files, loudness (RMS and peak, dBFS) of up to
--max_examples examples spread evenly over the database, their average log-frequency spectrum and
spectral centroids, and min/max waveform previews of a few examples. Progress goes to stdout as
`[dataset_stats] <fraction> <what>` lines. The result carries the LMDB's fingerprint (mtime and size
of data.mdb, taken before reading) so a changed database makes the cache stale.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

FRAME = 2048
BANDS = 96
PREVIEWS = 6
PREVIEW_POINTS = 400
SILENCE_DB = -120.0
PROBE_LIMIT = 5000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--db', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--source', action='append', default=[])
    parser.add_argument('--ext', action='append', default=[])
    parser.add_argument('--num_signal', type=int, default=0)
    parser.add_argument('--max_examples', type=int, default=2000)
    args = parser.parse_args(argv)
    try:
        stats = compute(Path(args.db), args.source, args.ext, args.num_signal, args.max_examples, _report)
    except (OSError, ValueError) as e:
        print(f'error: {e}', flush=True)
        return 2
    write_json(Path(args.out), stats)
    print(f'statistics written to {args.out}', flush=True)
    return 0


def fingerprint(db: Path) -> dict:
    """What identifies one state of the LMDB: data.mdb's modification time and size."""
    st = (db / 'data.mdb').stat()
    return {'mtime_ns': st.st_mtime_ns, 'size': st.st_size}


def compute(db: Path, sources: list[str], ext: list[str], num_signal: int, max_examples: int,
            report=lambda fraction, what: None) -> dict:
    from services import audio as audio_view
    from services.datasets import lmdb_reader

    started = time.time()
    key = fingerprint(db)
    reader = lmdb_reader.reader(db)
    sr, channels, lazy, count = reader.sr, reader.channels, reader.lazy, len(reader)
    picked = _spread(count, max_examples if not lazy else min(max_examples, 300))
    previews_at = set(_spread(len(picked), PREVIEWS))
    rms, peak, centroid, names, previews, unreadable = [], [], [], [], [], 0
    power_sum, frames = np.zeros(FRAME // 2 + 1), 0
    for n, index in enumerate(picked):
        if n % 25 == 0:
            report(0.05 + 0.85 * n / max(len(picked), 1), f'Loudness and spectrum: {n} of {len(picked)} examples')
        try:
            example = reader.example(index)
        except (IndexError, ValueError):  # the validation checker names these
            unreadable += 1
            continue
        audio = example.audio if not example.lazy else _decode_file(example.source, sr, channels, num_signal)
        if audio is None or not audio.size:
            unreadable += 1
            continue
        names.append(lmdb_reader.key(index).decode())
        peak_db, rms_db = audio_view.levels(audio)
        peak.append(SILENCE_DB if peak_db is None else max(peak_db, SILENCE_DB))
        rms.append(SILENCE_DB if rms_db is None else max(rms_db, SILENCE_DB))
        power, n_frames = _power(audio.mean(axis=0))
        if n_frames:
            power_sum += power * n_frames
            frames += n_frames
            if power.sum() > 0:
                centroid.append(float((_freqs(sr) * power).sum() / power.sum()))
        if n in previews_at:
            previews.append({'key': names[-1], 'seconds': round(audio.shape[1] / sr, 3),
                             **audio_view.envelope(audio, PREVIEW_POINTS)})
    report(0.92, 'Durations of the source files')
    if lazy:
        durations = [reader.example(i).source_seconds for i in range(count)]
    else:
        durations = _source_durations(sources, ext)
    freqs = np.geomspace(20.0, sr / 2, BANDS)
    mean_power = power_sum / frames if frames else power_sum
    spectrum_db = 10 * np.log10(np.interp(freqs, _freqs(sr), mean_power) + 1e-12)
    return {'key': key, 'computed': time.strftime('%Y-%m-%d %H:%M:%S'), 'wall_s': round(time.time() - started, 3),
            'sr': sr, 'channels': channels, 'lazy': lazy, 'examples': count, 'sampled': len(names),
            'unreadable': unreadable, 'keys': names, 'rms_db': _round(rms), 'peak_db': _round(peak),
            'centroid_hz': _round(centroid, 1), 'spectrum': {'hz': _round(freqs, 1), 'db': _round(spectrum_db)},
            'durations': {'seconds': _round(durations, 3), 'files': len(durations),
                          'total_s': round(float(np.sum(durations)), 3) if durations else 0.0},
            'previews': previews}


def _report(fraction: float, what: str) -> None:
    print(f'[dataset_stats] {fraction:.3f} {what}', flush=True)


def _spread(n: int, k: int) -> list[int]:
    """k indices spread evenly over range(n) (all of them when n <= k)."""
    if n <= k:
        return list(range(n))
    return sorted({int(i) for i in np.linspace(0, n - 1, k)})


def _freqs(sr: int) -> np.ndarray:
    return np.fft.rfftfreq(FRAME, 1 / sr)


def _power(mono: np.ndarray) -> tuple[np.ndarray, int]:
    """Mean power spectrum over non-overlapping Hann frames, and the frame count."""
    count = mono.size // FRAME
    if not count:
        return np.zeros(FRAME // 2 + 1), 0
    frames = mono[:count * FRAME].reshape(count, FRAME) * np.hanning(FRAME)
    return (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(axis=0) / FRAME, count


def _decode_file(path: str, sr: int, channels: int, num_signal: int) -> np.ndarray | None:
    """The start of a lazy entry's source file, as RAVE would decode it (ffmpeg, s16)."""
    seconds = 2 * num_signal / sr if num_signal else 10.0
    try:
        out = subprocess.run(['ffmpeg', '-v', 'error', '-i', path, '-t', f'{seconds:.3f}', '-f', 's16le',
                              '-ac', str(channels), '-ar', str(sr), '-'], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    data = np.frombuffer(out.stdout[:len(out.stdout) // (2 * channels) * 2 * channels], dtype='<i2')
    if out.returncode or not data.size:
        return None
    return (data.reshape(-1, channels).T / (2 ** 15 - 1)).astype(np.float32)  # ffmpeg interleaves channels


def _source_durations(sources: list[str], ext: list[str]) -> list[float]:
    suffixes = {f'.{e.lower().lstrip(".")}' for e in ext} if ext else None
    durations = []
    for folder in sources:
        if not Path(folder).is_dir():
            continue
        for dirpath, _dirs, names in os.walk(folder, followlinks=False):
            for name in sorted(names):
                if suffixes is not None and Path(name).suffix.lower() not in suffixes:
                    continue
                seconds = _probe(Path(dirpath) / name)
                if seconds is not None:
                    durations.append(seconds)
                if len(durations) >= PROBE_LIMIT:
                    return durations
    return durations


def _probe(path: Path) -> float | None:
    try:
        import soundfile
        info = soundfile.info(str(path))
        if info.frames > 0:
            return info.frames / info.samplerate
    except (RuntimeError, OSError, ValueError, TypeError):  # libsndfile refuses the format: ask ffprobe
        pass
    try:
        out = subprocess.run(['ffprobe', '-v', 'error', '-show_entries', 'format=duration', '-of',
                              'default=noprint_wrappers=1:nokey=1', str(path)],
                             capture_output=True, text=True, timeout=30, check=False)
        return float(out.stdout.strip()) if out.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def _round(values, digits: int = 2) -> list[float]:
    return [round(float(v), digits) for v in values]


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


if __name__ == '__main__':
    sys.exit(main())
