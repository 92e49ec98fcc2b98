"""Worker: encode and decode one audio file with an exported RAVE model (TorchScript .ts).

    python -m services.workers.reconstruct --model M.ts --input AUDIO --output FOLDER

Decodes any format ffmpeg reads to the model's sample rate and channel count, runs encode → decode,
and writes FOLDER/input.wav (the resampled original), FOLDER/output.wav and FOLDER/reconstruction.json
(latent shape, durations and min/max waveform envelopes, so the UI draws without reading audio).
On bad input it writes {"error": ...} to the JSON and exits with code 2.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
import wave
from pathlib import Path

import numpy as np

RESULT = 'reconstruction.json'


class BadInput(Exception):
    """Input the user must fix; its message is shown as is."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--model', required=True)
    parser.add_argument('--input', required=True)
    parser.add_argument('--output', required=True)
    parser.add_argument('--points', type=int, default=1000, help='waveform envelope columns')
    parser.add_argument('--max_seconds', type=float, default=600.0, help='longest input processed')
    args = parser.parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    try:
        result = reconstruct(Path(args.model), Path(args.input), out, args.points, args.max_seconds)
    except BadInput as e:
        _write_json(out / RESULT, {'error': str(e), 'input_name': Path(args.input).name})
        print(f'error: {e}', flush=True)
        return 2
    _write_json(out / RESULT, result)
    print(f'reconstruction written to {out}', flush=True)
    return 0


def reconstruct(model_path: Path, audio: Path, out: Path, points: int, max_seconds: float) -> dict:
    started = time.time()
    if not audio.is_file():
        raise BadInput(f'{audio} does not exist.')
    if audio.stat().st_size == 0:
        raise BadInput(f'{audio.name} is empty (0 bytes). Pick another file.')
    print('[reconstruct] loading model', flush=True)
    import torch  # only here: the worker is the one process allowed to load torch
    warnings.filterwarnings('ignore', message='.*torch.jit.load.*deprecated')
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    model = torch.jit.load(str(model_path), map_location='cpu').eval()
    sr, channels = int(model.sr), int(model.n_channels)
    print(f'[reconstruct] decoding {audio.name} at {sr} Hz, {channels} channel(s)', flush=True)
    x, truncated = _decode(audio, sr, channels, max_seconds)
    print('[reconstruct] encoding and decoding', flush=True)
    with torch.no_grad():
        z = model.encode(torch.from_numpy(x)[None])
        y = model.decode(z)[0].numpy()
    latent_size = int(model.latent_size)
    ratio = int(model.encode_params[3]) if hasattr(model, 'encode_params') else round(x.shape[1] / z.shape[-1])
    active = z[0, :latent_size].numpy()
    _write_wav(out / 'input.wav', x, sr)
    _write_wav(out / 'output.wav', y, sr)
    return {
        'model': str(model_path), 'input': str(audio), 'input_name': audio.name, 'sr': sr,
        'channels': channels, 'output_channels': int(y.shape[0]),
        'duration_s': x.shape[1] / sr, 'output_duration_s': y.shape[1] / sr, 'truncated': truncated,
        'latent_shape': list(z.shape), 'latent_size': latent_size, 'full_latent_size': int(model.full_latent_size),
        'latent_rate_hz': sr / ratio, 'compression_ratio': ratio,
        'latent_mean': active.mean(axis=1).round(4).tolist(), 'latent_std': active.std(axis=1).round(4).tolist(),
        'input_envelope': envelope(x, points), 'output_envelope': envelope(y, points),
        'elapsed_s': round(time.time() - started, 2),
    }


def envelope(audio: np.ndarray, points: int) -> dict:
    """Min and max of the channel mix in `points` equal columns, for drawing a waveform."""
    mono = audio.mean(axis=0)
    columns = max(1, min(points, mono.size))
    usable = mono[: mono.size - mono.size % columns].reshape(columns, -1)
    return {'min': usable.min(axis=1).round(4).tolist(), 'max': usable.max(axis=1).round(4).tolist()}


def _decode(audio: Path, sr: int, channels: int, max_seconds: float) -> tuple[np.ndarray, bool]:
    probe = _run(['ffprobe', '-v', 'error', '-select_streams', 'a', '-show_entries', 'stream=codec_name',
                  '-of', 'json', str(audio)])
    streams = json.loads(probe.stdout or '{}').get('streams', []) if probe.returncode == 0 else []
    if not streams:
        raise BadInput(f'{audio.name} is not an audio file ffmpeg can read. Pick a wav, flac, mp3, ogg or aiff file.')
    decoded = _run(['ffmpeg', '-v', 'error', '-nostdin', '-i', str(audio), '-t', f'{max_seconds + 1:g}',
                    '-f', 'f32le', '-acodec', 'pcm_f32le', '-ac', str(channels), '-ar', str(sr), '-'])
    if decoded.returncode != 0:
        detail = decoded.stderr.decode(errors='replace').strip().splitlines()[-1:] or ['']
        raise BadInput(f'ffmpeg could not decode {audio.name}: {detail[0]}')
    samples = np.frombuffer(decoded.stdout, np.float32)
    frames = samples.size // channels
    if frames == 0:
        raise BadInput(f'{audio.name} holds no audio samples. Pick another file.')
    x = samples[: frames * channels].reshape(frames, channels).T.copy()
    limit = int(max_seconds * sr)
    return (x[:, :limit], True) if frames > limit else (x, False)


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, check=False, capture_output=True, timeout=600)
    except FileNotFoundError as e:
        raise BadInput(f'{argv[0]} is missing: install ffmpeg and try again.') from e


def _write_wav(path: Path, audio: np.ndarray, sr: int) -> None:
    pcm = (np.clip(audio.T, -1.0, 1.0) * 32767).astype('<i2')
    with wave.open(str(path), 'wb') as f:
        f.setnchannels(audio.shape[0])
        f.setsampwidth(2)
        f.setframerate(sr)
        f.writeframes(pcm.tobytes())


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix('.tmp')
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


if __name__ == '__main__':
    sys.exit(main())
