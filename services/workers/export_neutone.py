"""Neutone export worker: a streaming RAVE TorchScript export wrapped as a Neutone FX model (.nm), offline.

    RAVE_STUDIO_JOB_DIR=JOB python -m services.workers.export_neutone --model STREAMING.ts --output FOLDER
        [--name NAME] [--author A ...] [--description TEXT] [--long_description TEXT] [--tag T ...]
        [--knobs 4] [--knob_range 3.0] [--delay_samples 0] [--example AUDIO ...] [--result FILE]

After neutone-sdk's RAVE example: a `WaveformToWaveformBase` around the model's encode → decode, with
`--knobs` (1-4) knobs, knob i shifting latent dimension i by up to ±`--knob_range` (0.5 = unchanged, like the
RAVE VST's bias), the native sample rate = the model's (`sr`), buffer sizes that are multiples of its
compression ratio, mono or stereo from its `n_channels`. Metadata comes from the arguments (name ≤ 30
characters, authors ≤ 5, tags ≤ 7 of ≤ 15 characters, the SDK's limits) and --example files (≤ 3, their first
5 s rendered through the model for the model card). No network: the SDK HEAD-requests every "technical link", so none is
given, and every socket connection is refused while the SDK runs (an attempt fails the export, by address).
The SDK writes FOLDER/NAME/model.nm and metadata.json; the worker then loads model.nm back through the
SDK (`load_neutone_model`) and runs a few buffers through it.
Progress: JSON stage lines (services/workers/stages.py): load, wrap, examples, save, reload, done | failed.
Result FILE (default JOB/export_neutone.json):
    {status: done|failed, message, path, metadata_path, size, name, sr, latent_size, knobs (≤ latent_size),
     buffer_sizes, card, examples, reload: {loads, finite, rms, ...},
     network_attempts: [], stages, elapsed_s}
Exit code 0 when model.nm was written and loads back, 1 otherwise.
"""
from __future__ import annotations

import argparse
import socket
import sys
from contextlib import contextmanager
from pathlib import Path

import torch
from neutone_sdk import ContinuousNeutoneParameter, NeutoneParameter, WaveformToWaveformBase

from services.workers.stages import Stages, job_dir, write_result

BUFFER_SIZES = (2048, 4096, 8192)
MAX_EXAMPLE_S = 5.0  # rendered buffer by buffer through the eager wrapper: slow on a CPU


class BadInput(Exception):
    """Something the user must fix; the message says what."""


class RaveKnobs(WaveformToWaveformBase):
    """A streaming RAVE model with up to four knobs on its first latent dimensions."""

    def __init__(self, model: torch.nn.Module, card: dict, knobs: int, knob_range: float, delay: int) -> None:
        # set before the SDK's constructor, which already asks for the parameters and their defaults
        self.card_name: str = card['name']
        self.card_authors: list[str] = card['authors']
        self.card_short: str = card['description']
        self.card_long: str = card['long_description']
        self.card_tags: list[str] = card['tags']
        self.knob_names: list[str] = [f'Latent {i + 1}' for i in range(knobs)]
        self.knob_range = float(knob_range)
        self.delay = int(delay)
        self.mono = int(model.n_channels) == 1
        self.native_rates: list[int] = [int(model.sr)]
        ratio = int(model.encode_params[3])
        self.native_buffers: list[int] = [b for b in BUFFER_SIZES if b % ratio == 0] or [ratio]
        super().__init__(model)

    def get_model_name(self) -> str:
        return self.card_name

    def get_model_authors(self) -> list[str]:
        return self.card_authors

    def get_model_short_description(self) -> str:
        return self.card_short

    def get_model_long_description(self) -> str:
        return self.card_long

    def get_technical_description(self) -> str:
        return 'RAVE (Caillon & Esling, 2021), a variational autoencoder for realtime audio, exported by RAVE Studio.'

    def get_tags(self) -> list[str]:
        return self.card_tags

    def get_model_version(self) -> str:
        return '1.0.0'

    def is_experimental(self) -> bool:
        return True

    def get_citation(self) -> str:
        return ('Caillon, A., & Esling, P. (2021). RAVE: A variational autoencoder for fast and high-quality neural '
                'audio synthesis.')

    def get_neutone_parameters(self) -> list[NeutoneParameter]:
        return [ContinuousNeutoneParameter(name=name, description=f'Shifts latent dimension {i + 1} (0.5: unchanged)',
                                           default_value=0.5) for i, name in enumerate(self.knob_names)]

    @torch.jit.export
    def is_input_mono(self) -> bool:
        return self.mono

    @torch.jit.export
    def is_output_mono(self) -> bool:
        return self.mono

    @torch.jit.export
    def get_native_sample_rates(self) -> list[int]:
        return self.native_rates

    @torch.jit.export
    def get_native_buffer_sizes(self) -> list[int]:
        return self.native_buffers

    @torch.jit.export
    def calc_model_delay_samples(self) -> int:
        return self.delay

    def do_forward_pass(self, x: torch.Tensor, params: dict[str, torch.Tensor]) -> torch.Tensor:
        z = self.model.encode(x.unsqueeze(0))
        for i, name in enumerate(self.knob_names):
            z[:, i] = z[:, i] + (params[name] * 2.0 - 1.0) * self.knob_range
        return self.model.decode(z)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', required=True, help='a streaming TorchScript export (rave export --streaming)')
    parser.add_argument('--output', required=True, help='the SDK writes OUTPUT/NAME/model.nm')
    parser.add_argument('--name', help='model name shown in the plugin (default: the .ts file name)')
    parser.add_argument('--author', action='append', default=[])
    parser.add_argument('--description', default='', help='short description (≤ 150 characters)')
    parser.add_argument('--long_description', default='', help='long description (≤ 500 characters)')
    parser.add_argument('--tag', action='append', default=[])
    parser.add_argument('--knobs', type=int, default=4, help='1 to 4 knobs on the first latent dimensions')
    parser.add_argument('--knob_range', type=float, default=3.0, help='how far a knob shifts its latent')
    parser.add_argument('--delay_samples', type=int, default=0, help="the model's latency, for the DAW")
    parser.add_argument('--example', action='append', default=[], help='audio for the model card (≤ 3)')
    parser.add_argument('--result', help='result JSON (default JOB/export_neutone.json)')
    args = parser.parse_args(argv)
    stages = Stages()
    result_path = Path(args.result) if args.result else job_dir() / 'export_neutone.json'
    attempts: list[str] = []
    result: dict = {'model': args.model, 'torch': torch.__version__, 'network_attempts': attempts}
    try:
        with no_network(attempts):
            result.update(export(args, stages))
        if attempts:
            raise NetworkRefused(f'The Neutone export tried to reach {", ".join(attempts)}; the studio exports '
                                 'offline, so it was refused.')
    except (BadInput, NetworkRefused) as e:
        return _failed(stages, result_path, result, str(e))
    except Exception as e:  # noqa: BLE001 - the SDK asserts and raises anything; the user reads why
        return _failed(stages, result_path, result, f'The Neutone SDK failed: {type(e).__name__}: {str(e)[:400]}')
    stages.enter('done', 1.0, f'Wrote {result["path"]}', exported=result['path'])
    write_result(result_path, {**result, 'status': 'done', 'message': '', 'stages': stages.finish(),
                               'elapsed_s': stages.elapsed()})
    return 0


def export(args: argparse.Namespace, stages: Stages) -> dict:
    from neutone_sdk.utils import save_neutone_model

    stages.enter('load', 0.0, f'Loading {Path(args.model).name}')
    model = load_streaming(Path(args.model))
    card = model_card(args, Path(args.model))
    if not 1 <= args.knobs <= 4:
        raise BadInput('Neutone shows 1 to 4 knobs: pick a number of knobs between 1 and 4.')
    latent_size = int(model.latent_size)
    knobs = min(args.knobs, latent_size)
    stages.enter('wrap', 0.2, f'Wrapping the model with {knobs} knob(s) on its first latent dimensions')
    wrapper = RaveKnobs(model, card, knobs, args.knob_range, args.delay_samples)
    if args.example:
        stages.enter('examples', 0.3, f'Rendering {len(args.example[:3])} example(s) for the model card')
    examples = [_example(Path(p), wrapper) for p in args.example[:3]]
    stages.enter('save', 0.4, 'Scripting, checking and saving model.nm with the Neutone SDK')
    folder = Path(args.output) / _folder_name(card['name'])
    save_neutone_model(wrapper, folder, dump_samples=bool(examples), submission=False,
                       audio_sample_pairs=examples or None, speed_benchmark=False, test_offline_mode=False)
    stages.enter('reload', 0.85, 'Loading model.nm back through the SDK')
    reload = reload_check(folder / 'model.nm')
    return {'path': str(folder / 'model.nm'), 'metadata_path': str(folder / 'metadata.json'),
            'size': (folder / 'model.nm').stat().st_size, 'name': card['name'], 'sr': int(model.sr),
            'latent_size': latent_size, 'knobs': wrapper.knob_names, 'buffer_sizes': wrapper.native_buffers,
            'card': card,
            'examples': len(examples), 'reload': reload}


def load_streaming(path: Path) -> torch.nn.Module:
    """The TorchScript export, refused unless it was exported with --streaming (Neutone plays in realtime)."""
    if not path.is_file():
        raise BadInput(f'{path} does not exist.')
    try:
        model = torch.jit.load(str(path), map_location='cpu').eval()
    except RuntimeError as e:
        raise BadInput(f'{path.name} is not a TorchScript model that loads ({str(e).splitlines()[0][:200]}).') from e
    missing = [a for a in ('encode', 'decode', 'sr', 'n_channels', 'latent_size', 'encode_params')
               if not hasattr(model, a)]
    if missing:
        raise BadInput(f'{path.name} is not a RAVE export: it lacks {", ".join(missing)}.')
    if not any(name.endswith('.cache.pad') for name, _ in model.named_buffers()):
        raise BadInput(f'{path.name} was exported without --streaming: Neutone plays in realtime, so export the '
                       'checkpoint again with streaming on and wrap that file.')
    return model


def model_card(args: argparse.Namespace, model_path: Path) -> dict:
    """The metadata, within the SDK's limits (it refuses longer texts at the very end of a long export)."""
    name = (args.name or model_path.stem.removesuffix('_streaming'))[:30]
    tags = ['RAVE', *[t for t in args.tag if t.strip() and t != 'RAVE']][:7]
    too_long = [t for t in tags if len(t) > 15]
    if too_long:
        raise BadInput(f'Neutone tags have at most 15 characters: shorten {", ".join(too_long)}.')
    if len(args.description) > 150 or len(args.long_description) > 500:
        raise BadInput('Neutone limits the short description to 150 characters and the long one to 500.')
    return {'name': name, 'authors': [a for a in args.author if a.strip()][:5] or ['RAVE Studio'],
            'description': args.description or f'RAVE model {name}.',
            'long_description': args.long_description or f'RAVE timbre transfer model {name}, exported by RAVE Studio.',
            'tags': tags}


def reload_check(path: Path) -> dict:
    """Load model.nm back through the SDK and run a few buffers of a tone through it at a native setting."""
    from neutone_sdk.utils import load_neutone_model

    loaded, metadata = load_neutone_model(str(path))
    sr, buffer = metadata['native_sample_rates'][0], metadata['native_buffer_sizes'][0]
    loaded.set_daw_sample_rate_and_buffer_size(sr, buffer)
    loaded.reset()
    channels = 1 if metadata['is_input_mono'] else 2
    t = torch.arange(buffer * 8) / sr
    tone = (0.3 * torch.sin(2 * torch.pi * 220 * t)).repeat(channels, 1)
    with torch.no_grad():
        out = torch.cat([loaded.forward(chunk.clone()) for chunk in tone.split(buffer, dim=1)], dim=1)
    return {'loads': True, 'model_name': metadata['model_name'], 'sr': sr, 'buffer_size': buffer,
            'output_shape': list(out.shape), 'finite': bool(torch.isfinite(out).all()),
            'rms': float(out.pow(2).mean().sqrt())}


class NetworkRefused(ConnectionRefusedError):
    """Something tried to reach the network during an export that must stay offline (an OSError, so
    libraries that tolerate an unreachable host, like the SDK's link check, carry on and it is reported)."""


@contextmanager
def no_network(attempts: list[str]):
    """Refuse (and record) every socket connection, so an offline studio never waits on a HEAD request."""
    connect, create = socket.socket.connect, socket.create_connection

    def refuse(address, *_args, **_kwargs):
        target = address if not isinstance(address, socket.socket) else '?'
        attempts.append(str(target))
        raise NetworkRefused(f'The Neutone export tried to reach {target}; the studio exports offline.')

    socket.socket.connect = lambda self, address: refuse(address)
    socket.create_connection = refuse
    try:
        yield
    finally:
        socket.socket.connect, socket.create_connection = connect, create


def _example(path: Path, wrapper: RaveKnobs):
    """An example for the model card: the audio file (≤ 10 s) and its rendering through the model."""
    import soundfile as sf
    from neutone_sdk.audio import AudioSample, AudioSamplePair, render_audio_sample
    from neutone_sdk.sqw import SampleQueueWrapper

    try:
        audio, sr = sf.read(str(path), always_2d=True, dtype='float32', frames=int(MAX_EXAMPLE_S * 48000))
    except (OSError, RuntimeError) as e:
        raise BadInput(f'The example {path.name} could not be read: {e}') from e
    sample = AudioSample(torch.from_numpy(audio.T[:2].copy()), sr)
    rendered = render_audio_sample(SampleQueueWrapper(wrapper), sample)
    return AudioSamplePair(sample, rendered[0] if isinstance(rendered, list) else rendered)


def _folder_name(name: str) -> str:
    return ''.join(c if c.isalnum() or c in '._-' else '_' for c in name) or 'model'


def _failed(stages: Stages, path: Path, result: dict, message: str) -> int:
    stages.enter('failed', 1.0, message)
    print(f'[studio] Neutone export failed: {message}', flush=True)
    write_result(path, {**result, 'status': 'failed', 'message': message, 'stages': stages.finish(),
                        'elapsed_s': stages.elapsed()})
    return 1


if __name__ == '__main__':
    sys.exit(main())
