"""ONNX export worker: the studio's own exporter (RAVE's export_onnx.py is unusable, RAVE_NOTES §8).

    RAVE_STUDIO_JOB_DIR=JOB python -m services.workers.export_onnx --run RUN_OR_CKPT [--output FOLDER]
        [--name NAME] [--fidelity 0.95] [--ema_weights] [--result FILE]

The route of §8: the eager model is rebuilt from the run's config.gin and checkpoint (the newest *.ckpt of a
folder, as `rave export` picks it) with cached convolutions off and weight norm removed (load_weights); its
`warmed_up` and `target_size` buffers become
Python values; the v2 noise generator's complex-FFT filtering is rewritten in
real arithmetic (its impulse response as a fixed matrix, its FFT convolution as a causal convolution).
Two graphs are written with the legacy exporter (opset 17, dynamic batch and length):
    NAME.encode.onnx  audio [batch, channels, samples] → z [batch, latent_size, samples / ratio]
                      (the posterior mean, minus latent_mean, rotated by latent_pca, first latent_size dims)
    NAME.decode.onnx  z [batch, latent_size, frames] → audio [batch, channels, frames * ratio]
                      (the other dims filled with unit noise, as RAVE's .ts decode does)
and NAME.onnx.json, the manifest: sr, n_channels, latent_size, full_latent_size, compression_ratio, opset,
the files, the source checkpoint (and its step) and config, the torch version, and the numerics check. Both graphs
are run in onnxruntime against the eager model
(max abs error per graph, several batch sizes and lengths; decode with the graph's
random tensors fed from the eager run, services/workers/onnx_numerics.py). What a model holds decides
whether it can be exported: a discrete (RVQ), spherical or Wasserstein latent, a mel-spectrogram input or
AdaIN are refused with the reason (`refusal`).
Progress: JSON stage lines (services/workers/stages.py): load, weights, rewrite, encode graph, decode graph,
verify, done | failed. Result FILE (default JOB/export_onnx.json):
    {status: done|failed, refused: bool, message, manifest, encode, decode, numerics, sizes, stages, ...}
Exit code 0 when both graphs were written and match the eager model, 1 otherwise.
"""
from __future__ import annotations

import argparse
import copy
import math
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from services.workers.stages import Stages, job_dir, write_result

OPSET = 17


@dataclass
class Eager:
    """RAVE's eager model as trained, and where it came from."""
    model: nn.Module
    checkpoint: Path
    config: Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--run', required=True, help='a run folder (its newest checkpoint) or a .ckpt')
    parser.add_argument('--output', help='folder of the graphs (default: the checkpoint folder)')
    parser.add_argument('--name', help='file name stem (default: the run folder name)')
    parser.add_argument('--fidelity', type=float, default=0.95, help='picks latent_size, as in rave export')
    parser.add_argument('--ema_weights', action='store_true', help='use the EMA weights when the run has them')
    parser.add_argument('--result', help='result JSON (default JOB/export_onnx.json)')
    args = parser.parse_args(argv)
    stages = Stages()
    result_path = Path(args.result) if args.result else job_dir() / 'export_onnx.json'
    result: dict = {'run': args.run, 'fidelity': args.fidelity, 'ema_weights': args.ema_weights,
                    'torch': torch.__version__, 'opset': OPSET}
    try:
        result.update(export(args, stages))
    except Refused as e:
        return _failed(stages, result_path, result, str(e), refused=True)
    except BadInput as e:
        return _failed(stages, result_path, result, str(e))
    except Exception as e:  # noqa: BLE001 - a model the route has not met; the log keeps the traceback
        traceback.print_exc()
        return _failed(stages, result_path, result, f'The ONNX export failed on this model: {type(e).__name__}: '
                       f'{str(e).strip()[:300]}. Export it as TorchScript (.ts) instead.')
    stages.enter('done', 1.0, f'Exported {Path(result["encode"]).name} and {Path(result["decode"]).name}',
                 exported=result['manifest'])
    write_result(result_path, {**result, 'status': 'done', 'refused': False, 'message': '',
                               'stages': stages.finish(), 'elapsed_s': stages.elapsed()})
    return 0


class BadInput(Exception):
    """Something the user must fix (a path, a flag); the message says what."""


class Refused(Exception):
    """The model holds something the ONNX route cannot express; the message says what, in words."""


def export(args: argparse.Namespace, stages: Stages) -> dict:
    from services.workers import onnx_numerics

    if not 0.1 <= args.fidelity <= 0.999:
        raise BadInput('Fidelity must be between 0.1 and 0.999, as for rave export.')
    stages.enter('load', 0.0, 'Rebuilding the eager model from config.gin')
    eager = build_eager(args.run)
    if reason := refusal(eager.model):
        raise Refused(reason)
    stages.enter('weights', 0.15, f'Loading {eager.checkpoint.name}')
    load_weights(eager, args.ema_weights)
    latent_size = latent_size_for(eager.model.fidelity, args.fidelity)
    ratio = compression_ratio(eager.model)
    stages.enter('rewrite', 0.3, 'Cached convolutions off, weight norm removed, noise filter in real arithmetic')
    graph_model = graph_ready(eager.model)
    output = Path(args.output) if args.output else eager.checkpoint.parent
    output.mkdir(parents=True, exist_ok=True)
    name = args.name or eager.config.parent.name
    channels = int(eager.model.n_channels)
    encode_path, decode_path = output / f'{name}.encode.onnx', output / f'{name}.decode.onnx'
    stages.enter('encode graph', 0.4, f'Writing {encode_path.name}')
    example = torch.zeros(1, channels, ratio * 16)
    _export(Encode(graph_model, latent_size), example, encode_path, 'audio', 'z', ('samples', 'frames'))
    stages.enter('decode graph', 0.6, f'Writing {decode_path.name}')
    _export(Decode(graph_model, latent_size, ratio), torch.zeros(1, latent_size, 16), decode_path, 'z', 'audio',
            ('frames', 'samples'))
    stages.enter('verify', 0.8, 'Running both graphs in onnxruntime against the eager model')
    numerics = onnx_numerics.compare(Encode(eager.model, latent_size), Decode(eager.model, latent_size, ratio),
                                     encode_path, decode_path, channels, latent_size, ratio)
    manifest = {
        'format': 'onnx', 'encode': encode_path.name, 'decode': decode_path.name, 'opset': OPSET,
        'sr': int(eager.model.sr), 'n_channels': channels, 'latent_size': latent_size,
        'full_latent_size': int(eager.model.latent_size), 'compression_ratio': ratio,
        'fidelity': args.fidelity, 'ema_weights': args.ema_weights, 'checkpoint': str(eager.checkpoint),
        'config': str(eager.config), 'step': _step(eager.checkpoint), 'torch': torch.__version__,
        'numerics': numerics,
        'inputs': {'encode': 'audio [batch, n_channels, samples]', 'decode': 'z [batch, latent_size, frames]'},
        'outputs': {'encode': 'z [batch, latent_size, samples / ratio]',
                    'decode': 'audio [batch, n_channels, frames * ratio]'},
    }
    manifest_path = output / f'{name}.onnx.json'
    write_result(manifest_path, manifest)
    if not numerics['ok']:
        raise BadInput(numerics['message'])
    return {**manifest, 'manifest': str(manifest_path), 'encode': str(encode_path), 'decode': str(decode_path),
            'sizes': {'encode': encode_path.stat().st_size, 'decode': decode_path.stat().st_size}}


def build_eager(run: str) -> Eager:
    """RAVE's model built from the run's config.gin, with cached (streaming) convolutions off; no weights yet."""
    import cached_conv as cc
    import gin
    import rave
    import rave.core

    path = Path(run)
    if not path.exists():
        raise BadInput(f'{run} does not exist.')
    config = rave.core.search_for_config(str(path))
    if config is None:
        raise BadInput(f'No config.gin in or above {run}: pick a RAVE run folder or a checkpoint inside one.')
    checkpoint = rave.core.search_for_run(str(path))
    if checkpoint is None:
        raise BadInput(f'{run} holds no checkpoint (*.ckpt): the run has not validated yet.')
    cc.use_cached_conv(False)
    gin.clear_config()
    gin.parse_config_file(config)
    return Eager(rave.RAVE(), Path(checkpoint).resolve(), Path(config).resolve())


def load_weights(eager: Eager, ema_weights: bool = False) -> nn.Module:
    """The checkpoint's weights (or its EMA weights) in the eager model, in eval mode, weight norm removed."""
    state = torch.load(eager.checkpoint, map_location='cpu')
    callbacks = state.get('callbacks', {})
    eager.model.load_state_dict(callbacks['EMA'] if ema_weights and 'EMA' in callbacks else state['state_dict'],
                                strict=False)
    for module in eager.model.modules():  # as scripts/export.py does: the same function, and copyable
        if hasattr(module, 'weight_g'):
            nn.utils.remove_weight_norm(module)
    return eager.model.eval()


def refusal(model: nn.Module) -> str:
    """Why the ONNX route cannot carry this model, in words ('' when it can)."""
    from rave import blocks

    encoder = type(model.encoder).__name__
    if isinstance(model.encoder, blocks.DiscreteEncoder):
        return ('This model has a discrete latent (residual vector quantization, e.g. the "discrete" config): its '
                'codebook lookup is not on the studio\'s ONNX route. Export it as TorchScript (.ts) instead.')
    if isinstance(model.encoder, blocks.SphericalEncoder | blocks.WasserteinEncoder):
        return (f'This model\'s latent is not variational ({encoder}): the ONNX route exports the posterior mean '
                'of a VAE. Export it as TorchScript (.ts) instead.')
    if not isinstance(model.encoder, blocks.VariationalEncoder):
        return f'Unknown encoder type {encoder}: only variational RAVE models are exported to ONNX.'
    if model.input_mode == 'mel':
        return ('This model takes a mel spectrogram as input (e.g. v2_with_augs, hybrid): the spectrogram is not on '
                'the studio\'s ONNX route. Export it as TorchScript (.ts) instead.')
    if any(isinstance(m, blocks.AdaptiveInstanceNormalization) for m in model.modules()):
        return ('This model uses AdaIN (e.g. the v3 config), whose statistics are learnt while it plays: ONNX '
                'graphs hold no such state. Export it as TorchScript (.ts) instead.')
    return ''


def latent_size_for(curve: torch.Tensor, fidelity: float) -> int:
    """The latent size `rave export --fidelity` picks from a model's fidelity curve (scripts/export.py:119-123),
    so .ts and .onnx agree."""
    import numpy as np

    size = max(int(np.argmax(curve.numpy() > fidelity)), 1)
    return 2 ** math.ceil(math.log2(size))


def compression_ratio(model: nn.Module) -> int:
    with torch.no_grad():
        frames = model.encode(torch.zeros(1, model.n_channels, 2 ** 14)).shape[-1]
    return 2 ** 14 // frames


def graph_ready(model: nn.Module) -> nn.Module:
    """A copy of the eager model that the legacy ONNX exporter traces exactly (§8)."""
    from rave import blocks

    graph = copy.deepcopy(model)
    for module in graph.modules():
        if 'warmed_up' in module._buffers:  # a tensor in an `if`: tracing would freeze it with a warning
            module.warmed_up = bool(module._buffers.pop('warmed_up'))
    for parent in list(graph.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, blocks.NoiseGenerator | blocks.NoiseGeneratorV2):
                setattr(parent, name, RealNoise(child))
    return graph.eval()


class RealNoise(nn.Module):
    """RAVE's noise generator with its complex-FFT filtering (core.amp_to_impulse_response, fft_convolve)
    written in real arithmetic, which ONNX's legacy exporter can trace; the same function up to rounding."""

    def __init__(self, noise: nn.Module) -> None:
        from rave.core import amp_to_impulse_response

        super().__init__()
        self.net = noise.net
        self.bands = noise.data_size * getattr(noise, 'n_channels', 1)
        size = int(noise.target_size)
        amplitudes = noise.net[-1].out_channels // self.bands
        # the impulse response is linear in the amplitudes: RAVE's own function applied to each unit amplitude
        self.register_buffer('to_ir', amp_to_impulse_response(torch.eye(amplitudes), size))
        # fft_convolve(noise, ir) keeps out[t] = sum_{j<=t} noise[t-j] ir[j]: a causal convolution per frame
        lag = torch.arange(size)[:, None] - torch.arange(size)[None, :]
        self.register_buffer('lag_index', lag % size)
        self.register_buffer('lag_mask', (lag >= 0).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from rave.core import mod_sigmoid

        amp = mod_sigmoid(self.net(x) - 5).permute(0, 2, 1)
        amp = amp.reshape(amp.shape[0], amp.shape[1], self.bands, -1)
        ir = torch.matmul(amp, self.to_ir)
        noise = torch.rand_like(ir) * 2 - 1
        lagged = noise[..., self.lag_index] * self.lag_mask
        out = (lagged * ir.unsqueeze(-2)).sum(-1).permute(0, 2, 1, 3)
        return out.reshape(out.shape[0], out.shape[1], -1)


class Encode(nn.Module):
    """audio → the posterior mean in the exported latent space (the first latent_size PCA dims)."""

    def __init__(self, model: nn.Module, latent_size: int) -> None:
        super().__init__()
        self.model = model
        self.register_buffer('mean', model.latent_mean.clone())
        self.register_buffer('rotation', model.latent_pca[:latent_size].clone().unsqueeze(-1))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        z = self.model.encode(audio)
        mean = z[:, : z.shape[1] // 2]
        return nn.functional.conv1d(mean - self.mean.unsqueeze(-1), self.rotation)


class Decode(nn.Module):
    """latent_size dims → audio; the other dims are unit noise, as VariationalScriptedRAVE.pre_process_latent."""

    def __init__(self, model: nn.Module, latent_size: int, ratio: int) -> None:
        super().__init__()
        self.model = model
        self.padding = int(model.latent_size) - latent_size
        self.ratio = ratio
        self.register_buffer('mean', model.latent_mean.clone().unsqueeze(-1))
        self.register_buffer('inverse', model.latent_pca.T.clone().unsqueeze(-1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.padding:
            shape = torch.zeros_like(z[:, :1]).repeat(1, self.padding, 1)
            z = torch.cat([z, torch.randn_like(shape)], 1)
        z = nn.functional.conv1d(z, self.inverse) + self.mean
        audio = self.model.decode(z)
        return audio[..., : z.shape[-1] * self.ratio]


def _export(module: nn.Module, example: torch.Tensor, path: Path, given: str, made: str,
            lengths: tuple[str, str]) -> None:
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore', FutureWarning)  # the legacy exporter is deprecated; it is the one route
        torch.onnx.export(module, (example,), str(path), dynamo=False, opset_version=OPSET,
                          input_names=[given], output_names=[made],
                          dynamic_axes={given: {0: 'batch', 2: lengths[0]}, made: {0: 'batch', 2: lengths[1]}})


def _step(checkpoint: Path) -> int | None:
    from services.training.checkpoints import read_info

    info = read_info(checkpoint)
    return info.step if info else None


def _failed(stages: Stages, path: Path, result: dict, message: str, refused: bool = False) -> int:
    stages.enter('failed', 1.0, message)
    print(f'[studio] ONNX export {"refused" if refused else "failed"}: {message}', flush=True)
    write_result(path, {**result, 'status': 'failed', 'refused': refused, 'message': message,
                        'stages': stages.finish(), 'elapsed_s': stages.elapsed()})
    return 1


if __name__ == '__main__':
    sys.exit(main())
