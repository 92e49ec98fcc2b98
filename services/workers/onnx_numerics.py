"""ONNX graphs against the eager model in onnxruntime: max abs error per graph (export_onnx, verify_export).

Encoding is deterministic (the posterior mean), so the encode graph is compared as it is. Decoding draws
random numbers (the latent dims beyond latent_size, the noise generator's white noise): the decode graph
is compared with its random nodes turned into inputs fed with the very tensors the eager run drew, so the
check covers every other node of the shipped file; the shipped graph itself is then run as it is, for
its shape and finiteness.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

CHECKS = ((1, 16), (2, 64))  # (batch, latent frames): several batch sizes and lengths, dynamic axes at work
TOLERANCE = 1e-4  # audio is in [-1, 1]; latents are compared relative to their scale
RANDOM_OPS = {'RandomUniformLike': 'uniform', 'RandomNormalLike': 'normal'}


def compare(encode: torch.nn.Module, decode: torch.nn.Module, encode_path: Path, decode_path: Path,
            channels: int, latent_size: int, ratio: int) -> dict:
    """{ok, message, encode: {max_abs_error, checks}, decode: {...}, onnxruntime}."""
    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    encoder = ort.InferenceSession(str(encode_path), options, providers=['CPUExecutionProvider'])
    fed, kinds = random_as_inputs(onnx.load(str(decode_path)))
    decoder = ort.InferenceSession(fed.SerializeToString(), options, providers=['CPUExecutionProvider'])
    shipped = ort.InferenceSession(str(decode_path), options, providers=['CPUExecutionProvider'])
    generator = torch.Generator().manual_seed(0)
    report: dict = {'encode': {'checks': []}, 'decode': {'checks': []}, 'onnxruntime': ort.__version__}
    problems = []
    for batch, frames in CHECKS:
        x = torch.randn(batch, channels, frames * ratio, generator=generator) * 0.1
        with torch.no_grad():
            z = encode(x)
        z_onnx = encoder.run(None, {'audio': x.numpy()})[0]
        scale = max(1.0, float(z.abs().max()))
        report['encode']['checks'].append(_check(z.numpy(), z_onnx, batch, frames, scale))
        with torch.no_grad(), drawing() as drawn:
            y = decode(z)
        feeds = {'z': z.numpy(), **_random_feeds(kinds, drawn)}
        y_onnx = decoder.run(None, feeds)[0]
        report['decode']['checks'].append(_check(y.numpy(), y_onnx, batch, frames, 1.0))
        y_shipped = shipped.run(None, {'z': z.numpy()})[0]
        if y_shipped.shape != tuple(y.shape) or not np.isfinite(y_shipped).all():
            problems.append(f'the decode graph gave {y_shipped.shape} (eager {tuple(y.shape)}) or non-finite audio')
    for graph in ('encode', 'decode'):
        checks = report[graph]['checks']
        report[graph]['max_abs_error'] = max(c['max_abs_error'] for c in checks)
        bad = [c for c in checks if not c['ok']]
        if bad:
            c = bad[0]
            problems.append(f'{graph} differs from the eager model by {c["max_abs_error"]:.2g} at batch '
                            f'{c["batch"]}, {c["frames"]} frames (tolerance {TOLERANCE:g})')
    report['ok'] = not problems
    report['message'] = ('; '.join(problems).capitalize() + '.') if problems else (
        f'Both graphs match the eager model in onnxruntime (max abs error encode '
        f'{report["encode"]["max_abs_error"]:.1e}, decode {report["decode"]["max_abs_error"]:.1e}).')
    return report


def random_as_inputs(model):
    """The graph with each random node replaced by a graph input of the same name; their kinds in order."""
    import onnx

    graph = model.graph
    kinds = []
    for node in [n for n in graph.node if n.op_type in RANDOM_OPS]:
        graph.node.remove(node)
        graph.input.append(onnx.helper.make_tensor_value_info(node.output[0], onnx.TensorProto.FLOAT, None))
        kinds.append((node.output[0], RANDOM_OPS[node.op_type]))
    return model, kinds


@contextmanager
def drawing() -> Iterator[list[tuple[str, torch.Tensor]]]:
    """Record every tensor torch.rand_like / torch.randn_like draws, in order (RAVE draws through these)."""
    drawn: list[tuple[str, torch.Tensor]] = []
    rand, randn = torch.rand_like, torch.randn_like

    def recorded(kind, draw):
        def record(*args, **kwargs):
            tensor = draw(*args, **kwargs)
            drawn.append((kind, tensor))
            return tensor
        return record

    torch.rand_like, torch.randn_like = recorded('uniform', rand), recorded('normal', randn)
    try:
        yield drawn
    finally:
        torch.rand_like, torch.randn_like = rand, randn


def _random_feeds(kinds: list[tuple[str, str]], drawn: list[tuple[str, torch.Tensor]]) -> dict:
    """Each random input gets the next tensor of its kind the eager run drew (graph order = run order)."""
    pending = {kind: [t for k, t in drawn if k == kind] for kind in ('uniform', 'normal')}
    feeds = {}
    for name, kind in kinds:
        if not pending[kind]:
            raise RuntimeError(f'the decode graph draws more {kind} noise than the eager model')
        feeds[name] = pending[kind].pop(0).numpy()
    return feeds


def _check(expected: np.ndarray, got: np.ndarray, batch: int, frames: int, scale: float) -> dict:
    if expected.shape != got.shape:
        return {'batch': batch, 'frames': frames, 'ok': False, 'max_abs_error': float('inf'),
                'shape': list(got.shape), 'expected_shape': list(expected.shape)}
    error = float(np.abs(expected - got).max())
    return {'batch': batch, 'frames': frames, 'ok': bool(np.isfinite(got).all() and error <= TOLERANCE * scale),
            'max_abs_error': error, 'shape': list(got.shape)}
