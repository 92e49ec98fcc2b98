"""Worker: play one audio file through an exported RAVE model, whatever its target.

    python -m services.workers.reconstruct --model M.ts|M.onnx.json|model.nm --input AUDIO --output FOLDER

TorchScript (.ts) and ONNX (the manifest NAME.onnx.json or either graph beside it, run in onnxruntime) encode
then decode the whole file; a Neutone model (.nm, loaded through the SDK, offline) has no latent to show and
is fed host buffers at its native rate and buffer size, as a DAW would.
Decodes any format ffmpeg reads to the model's sample rate and channel count, runs it through the model,
and writes FOLDER/input.wav (the resampled original), FOLDER/output.wav and FOLDER/reconstruction.json
(latent shape, durations and min/max waveform envelopes, so the UI draws without reading audio).
On bad input it writes {"error": ...} to the JSON and exits with code 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
import wave
from pathlib import Path

import numpy as np

from services.audio import Unreadable, decode

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
    model = _load(model_path)
    sr, channels = model.sr, model.channels
    print(f'[reconstruct] decoding {audio.name} at {sr} Hz, {channels} channel(s)', flush=True)
    x, truncated = _decode(audio, sr, channels, max_seconds)
    print(f'[reconstruct] through the {model.kind} model', flush=True)
    y, z = model.run(x)
    if not np.isfinite(y).all():
        raise BadInput(f'{model_path.name} gives NaN or infinite samples on {audio.name}: export it again from '
                       'another checkpoint.')
    _write_wav(out / 'input.wav', x, sr)
    _write_wav(out / 'output.wav', y, sr)
    latent = {'latent_shape': [], 'latent_size': 0, 'full_latent_size': 0, 'latent_rate_hz': 0.0,
              'compression_ratio': 0, 'latent_mean': [], 'latent_std': []}
    if z is not None:
        active = z[0, :model.latent_size]
        latent = {'latent_shape': list(z.shape), 'latent_size': model.latent_size,
                  'full_latent_size': model.full_latent_size, 'latent_rate_hz': sr / model.ratio,
                  'compression_ratio': model.ratio, 'latent_mean': active.mean(axis=1).round(4).tolist(),
                  'latent_std': active.std(axis=1).round(4).tolist()}
    return {
        'model': str(model_path), 'kind': model.kind, 'input': str(audio), 'input_name': audio.name, 'sr': sr,
        'channels': channels, 'output_channels': int(y.shape[0]),
        'duration_s': x.shape[1] / sr, 'output_duration_s': y.shape[1] / sr, 'truncated': truncated, **latent,
        'input_envelope': envelope(x, points), 'output_envelope': envelope(y, points),
        'elapsed_s': round(time.time() - started, 2),
    }


def _load(path: Path):
    """The model behind an export file: TorchScript, ONNX (manifest or a graph) or Neutone."""
    if not path.exists():
        raise BadInput(f'{path.name} is gone from the exports folder: export the model again.')
    if path.suffix == '.nm' or (path.is_dir() and (path / 'model.nm').is_file()):
        return _Neutone(path / 'model.nm' if path.is_dir() else path)
    if path.name.endswith(('.onnx.json', '.onnx')):
        return _Onnx(path)
    return _TorchScript(path)


class _TorchScript:
    kind = 'TorchScript'

    def __init__(self, path: Path) -> None:
        import torch  # only here: the worker is the one process allowed to load torch
        warnings.filterwarnings('ignore', message='.*torch.jit.load.*deprecated')
        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
        self.torch = torch
        self.model = torch.jit.load(str(path), map_location='cpu').eval()
        self.sr, self.channels = int(self.model.sr), int(self.model.n_channels)
        self.latent_size, self.full_latent_size = int(self.model.latent_size), int(self.model.full_latent_size)
        self.ratio = int(self.model.encode_params[3]) if hasattr(self.model, 'encode_params') else 0

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self.torch.no_grad():
            z = self.model.encode(self.torch.from_numpy(x)[None])
            y = self.model.decode(z)[0].numpy()
        self.ratio = self.ratio or round(x.shape[1] / z.shape[-1])
        return y, z.numpy()


class _Onnx:
    kind = 'ONNX'

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort
        stem = path.name.removesuffix('.json').removesuffix('.onnx').removesuffix('.encode').removesuffix('.decode')
        manifest_path = path.with_name(f'{stem}.onnx.json')
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError) as e:
            raise BadInput(f'The ONNX manifest {manifest_path.name} is missing or unreadable ({e}): export again.')
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
        self.sessions = {g: ort.InferenceSession(str(manifest_path.with_name(manifest[g])), options,
                                                 providers=['CPUExecutionProvider']) for g in ('encode', 'decode')}
        self.sr, self.channels = int(manifest['sr']), int(manifest['n_channels'])
        self.latent_size, self.full_latent_size = int(manifest['latent_size']), int(manifest['full_latent_size'])
        self.ratio = int(manifest['compression_ratio'])

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        frames = x.shape[1]
        padded = np.pad(x, ((0, 0), (0, -frames % self.ratio)))[None].astype(np.float32)
        z = self.sessions['encode'].run(None, {'audio': padded})[0]
        y = self.sessions['decode'].run(None, {'z': z})[0]
        return y[0, :, :frames], z


class _Neutone:
    kind = 'Neutone'
    latent_size = full_latent_size = ratio = 0

    def __init__(self, path: Path) -> None:
        import torch
        from neutone_sdk.utils import load_neutone_model

        from services.workers.export_neutone import no_network
        self.torch = torch
        try:
            with no_network([]):
                self.model, metadata = load_neutone_model(str(path))
        except Exception as e:  # noqa: BLE001 - whatever the SDK raises, the file does not load
            raise BadInput(f'The Neutone SDK cannot load {path.name} ({str(e)[:200]}): export it again.') from e
        self.sr = int(metadata['native_sample_rates'][0]) if metadata['native_sample_rates'] else 48000
        self.buffer = int((metadata['native_buffer_sizes'] or [2048])[0])
        self.channels = 1 if metadata['is_input_mono'] else 2
        self.model.set_daw_sample_rate_and_buffer_size(self.sr, self.buffer)

    def run(self, x: np.ndarray) -> tuple[np.ndarray, None]:
        frames = x.shape[1]
        padded = self.torch.from_numpy(np.pad(x, ((0, 0), (0, -frames % self.buffer))).astype(np.float32))
        with self.torch.no_grad():
            y = self.torch.cat([self.model.forward(chunk.clone()) for chunk in padded.split(self.buffer, dim=1)], 1)
        return y[:, :frames].numpy(), None


def envelope(audio: np.ndarray, points: int) -> dict:
    """Min and max of the channel mix in `points` equal columns, for drawing a waveform."""
    mono = audio.mean(axis=0)
    columns = max(1, min(points, mono.size))
    usable = mono[: mono.size - mono.size % columns].reshape(columns, -1)
    return {'min': usable.min(axis=1).round(4).tolist(), 'max': usable.max(axis=1).round(4).tolist()}


def _decode(audio: Path, sr: int, channels: int, max_seconds: float) -> tuple[np.ndarray, bool]:
    try:
        x, _, truncated = decode(audio, sr=sr, channels=channels, max_seconds=max_seconds)
    except Unreadable as e:
        raise BadInput(str(e)) from e
    return x, truncated


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
