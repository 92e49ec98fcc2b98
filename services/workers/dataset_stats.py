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
    import lmdb
    import yaml

    from services.dataset_library import audio_example_class, decode_waveform

    started = time.time()
    key = fingerprint(db)
    meta = yaml.safe_load((db / 'metadata.yaml').read_text()) or {}
    channels, sr, lazy = int(meta.get('channels', 1)), int(meta.get('sr', 44100)), bool(meta.get('lazy', False))
    audio_example = audio_example_class()
    env = lmdb.open(str(db), readonly=True, lock=False, readahead=False)
    try:
        with env.begin() as txn:
            keys = [bytes(k) for k in txn.cursor().iternext(values=False)]
            picked = _spread(len(keys), max_examples if not lazy else min(max_examples, 300))
            previews_at = set(_spread(len(picked), PREVIEWS))
            rms, peak, centroid, names, previews = [], [], [], [], []
            power_sum, frames = np.zeros(FRAME // 2 + 1), 0
            lazy_lengths = []
            for n, i in enumerate(picked):
                example = audio_example.FromString(txn.get(keys[i]))
                if 'waveform' in example.buffers:
                    audio = decode_waveform(example, channels)
                else:
                    lazy_lengths.append(float(example.metadata.get('length', 0) or 0))
                    audio = _decode_file(example.metadata.get('path', ''), sr, channels, num_signal)
                    if audio is None:
                        continue
                names.append(keys[i].decode())
                rms.append(_db(np.sqrt(np.mean(audio.astype(np.float64) ** 2))))
                peak.append(_db(np.max(np.abs(audio))))
                power, count = _power(audio.mean(axis=0))
                if count:
                    power_sum += power * count
                    frames += count
                    total = power.sum()
                    if total > 0:
                        centroid.append(float((_freqs(sr) * power).sum() / total))
                if n in previews_at:
                    previews.append(_preview(keys[i].decode(), audio, sr))
                if n % 25 == 0:
                    report(0.1 + 0.85 * n / max(len(picked), 1),
                           f'Loudness and spectrum: {n} of {len(picked)} examples')
    finally:
        env.close()
    report(0.95, 'Durations of the source files')
    if lazy:
        durations = lazy_lengths if len(picked) == len(keys) else _lazy_lengths(db, audio_example)
    else:
        durations = _source_durations(sources, ext)
    freqs = np.geomspace(20.0, sr / 2, BANDS)
    mean_power = power_sum / frames if frames else power_sum
    spectrum_db = 10 * np.log10(np.interp(freqs, _freqs(sr), mean_power) + 1e-12)
    return {'key': key, 'computed': time.strftime('%Y-%m-%d %H:%M:%S'), 'wall_s': round(time.time() - started, 3),
            'sr': sr, 'channels': channels, 'lazy': lazy, 'examples': len(keys), 'sampled': len(names),
            'keys': names, 'rms_db': _round(rms), 'peak_db': _round(peak), 'centroid_hz': _round(centroid, 1),
            'spectrum': {'hz': _round(freqs, 1), 'db': _round(spectrum_db)},
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


def _db(value: float) -> float:
    return float(max(20 * np.log10(value), SILENCE_DB)) if value > 0 else SILENCE_DB


def _freqs(sr: int) -> np.ndarray:
    return np.fft.rfftfreq(FRAME, 1 / sr)


def _power(mono: np.ndarray) -> tuple[np.ndarray, int]:
    """Mean power spectrum over non-overlapping Hann frames, and the frame count."""
    count = mono.size // FRAME
    if not count:
        return np.zeros(FRAME // 2 + 1), 0
    frames = mono[:count * FRAME].reshape(count, FRAME) * np.hanning(FRAME)
    return (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(axis=0) / FRAME, count


def _preview(key: str, audio: np.ndarray, sr: int) -> dict:
    mono = audio.mean(axis=0)
    cols = np.array_split(mono, min(PREVIEW_POINTS, max(mono.size, 1)))
    return {'key': key, 'seconds': round(mono.size / sr, 3),
            'min': _round([float(c.min()) if c.size else 0.0 for c in cols], 4),
            'max': _round([float(c.max()) if c.size else 0.0 for c in cols], 4)}


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


def _lazy_lengths(db: Path, audio_example) -> list[float]:
    import lmdb

    env = lmdb.open(str(db), readonly=True, lock=False, readahead=False)
    try:
        with env.begin() as txn:
            return [float(audio_example.FromString(v).metadata.get('length', 0) or 0) for _, v in txn.cursor()]
    finally:
        env.close()


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
    except Exception:  # libsndfile refuses the format: ask ffprobe
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
