"""Validation audio of a RAVE run: `audio_val` from TensorBoard event files to input/reconstruction WAV pairs.

    python -m services.workers.tb_audio VERSION_DIR OUT_DIR --channels C --n_signal N

RAVE logs, at each validation, up to 8 examples as one clip: per example and channel the input crop followed by
its reconstruction (`[input|reconstruction]`, channels flattened, RAVE_NOTES.md §4); its step is the validation
index. Writes OUT_DIR/val_<k>/{input,reconstruction}_<e>.wav and OUT_DIR/index.json, then prints index.json's path.
"""
from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
import soundfile as sf
from tensorboard.backend.event_processing.event_accumulator import AUDIO, EventAccumulator

TAG = 'audio_val'
ENVELOPE_POINTS = 300


def extract(version_dir: Path, out: Path, channels: int, n_signal: int) -> dict:
    accumulator = EventAccumulator(str(version_dir), size_guidance={AUDIO: 0})  # 0 = keep every event
    accumulator.Reload()
    events = accumulator.Audio(TAG) if TAG in accumulator.Tags().get('audio', []) else []
    out.mkdir(parents=True, exist_ok=True)
    validations = []
    for event in sorted(events, key=lambda e: (e.step, e.wall_time)):
        clip, sr = sf.read(io.BytesIO(event.encoded_audio_string), dtype='float32', always_2d=True)
        flat = clip[:, 0]
        pairs = _split(flat, channels, n_signal)
        folder = out / f'val_{event.step}'
        folder.mkdir(exist_ok=True)
        examples = []
        for e, (source, rebuilt) in enumerate(pairs):
            item = {}
            for role, audio in (('input', source), ('reconstruction', rebuilt)):
                path = folder / f'{role}_{e}.wav'
                sf.write(path, audio.T, sr, subtype='FLOAT')
                item[role] = str(path)
                item[f'{role}_envelope'] = _envelope(audio.mean(axis=0))
            item['seconds'] = source.shape[1] / sr
            examples.append(item)
        validations.append({'index': int(event.step), 'wall_time': event.wall_time, 'sr': int(sr),
                            'examples': examples})
    index = {'validations': validations, 'channels': channels, 'n_signal': n_signal}
    (out / 'index.json').write_text(json.dumps(index))
    return index


def _split(flat: np.ndarray, channels: int, n_signal: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(input[C,T], reconstruction[C,T])] per example; one pair of halves when the layout does not divide."""
    per_example = 2 * channels * n_signal
    if n_signal <= 0 or flat.size % per_example:
        half = flat.size // 2
        return [(flat[None, :half], flat[None, half:2 * half])]
    out = []
    for example in flat.reshape(-1, channels, 2 * n_signal):
        out.append((example[:, :n_signal], example[:, n_signal:]))
    return out


def _envelope(mono: np.ndarray) -> dict:
    """Min/max per bucket for components.waveform."""
    n = max(1, mono.size // ENVELOPE_POINTS)
    usable = mono[:n * (mono.size // n)].reshape(-1, n) if mono.size >= n else mono.reshape(1, -1)
    return {'min': np.round(usable.min(axis=1), 4).tolist(), 'max': np.round(usable.max(axis=1), 4).tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('version_dir', type=Path)
    parser.add_argument('out', type=Path)
    parser.add_argument('--channels', type=int, default=1)
    parser.add_argument('--n_signal', type=int, default=0)
    args = parser.parse_args()
    extract(args.version_dir, args.out, args.channels, args.n_signal)
    print(args.out / 'index.json', flush=True)


if __name__ == '__main__':
    main()
