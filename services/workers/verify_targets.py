"""Verification of the targets beyond TorchScript: an ONNX export (manifest + two graphs) and a Neutone .nm."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from services.workers.stages import Stages
from services.workers.verification import SILENCE_RMS, TEST_SECONDS, Check, silence_message, test_signal


def onnx_export(path: Path, stages: Stages) -> tuple[list[Check], dict]:
    manifest_path = path if path.name.endswith('.onnx.json') else _manifest_of(path)
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as e:
        return [Check('load', False, f'The ONNX manifest {manifest_path.name} is missing or unreadable ({e}): '
                      'export again.')], {}
    folder = manifest_path.parent
    graphs = {g: folder / manifest[g] for g in ('encode', 'decode')}
    facts = {key: manifest.get(key) for key in ('sr', 'n_channels', 'latent_size', 'full_latent_size',
                                                'compression_ratio', 'opset', 'step', 'checkpoint', 'config')}
    facts.update({'latent': f'{manifest.get("latent_size")} of {manifest.get("full_latent_size")}',
                  'made_with_torch': manifest.get('torch'), 'streaming': False,
                  'size': sum(p.stat().st_size for p in graphs.values() if p.is_file()),
                  'files': {g: str(p) for g, p in graphs.items()}})
    sessions, problem = _onnx_sessions(graphs)
    checks = [Check('load', not problem, problem or 'Both graphs pass onnx.checker and load in onnxruntime.')]
    if problem:
        return checks + [Check(c, None, 'Not run: the graphs do not load.') for c in ('signal', 'numerics')], facts
    stages.enter('signal', 0.3, f'A {TEST_SECONDS:g} s test signal through encode → decode in onnxruntime')
    checks.append(_onnx_signal(sessions, facts))
    stages.enter('numerics', 0.5, 'Both graphs against the eager model, rebuilt from the checkpoint')
    checks.append(_onnx_numerics(manifest, graphs, facts))
    return checks, facts


def neutone_model(path: Path, stages: Stages) -> tuple[list[Check], dict]:
    from neutone_sdk.utils import load_neutone_model

    from services.workers.export_neutone import no_network

    attempts: list[str] = []
    facts: dict = {'size': path.stat().st_size if path.is_file() else None, 'network_attempts': attempts}
    try:
        with no_network(attempts):
            model, metadata = load_neutone_model(str(path))
    except Exception as e:  # noqa: BLE001 - whatever the SDK raises, the file does not load
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        return [Check('load', False, f'The Neutone SDK cannot load {path.name} ({first}): export it again.'),
                Check('signal', None, 'Not run: the file does not load.')], facts
    facts.update({'name': metadata['model_name'], 'authors': metadata['model_authors'],
                  'sr': metadata['native_sample_rates'][0] if metadata['native_sample_rates'] else None,
                  'buffer_sizes': metadata['native_buffer_sizes'], 'made_with_torch': metadata['pytorch_version'],
                  'knobs': [p['name'] for p in metadata['neutone_parameters'].values()],
                  'n_channels': 1 if metadata['is_input_mono'] else 2, 'tags': metadata['tags'],
                  'streaming_delay_samples': int(model.calc_model_delay_samples()), 'streaming': True})
    checks = [Check('load', True, f'{path.name} loads through the Neutone SDK (metadata valid, offline).')]
    stages.enter('signal', 0.4, 'Host buffers through the Neutone model')
    checks.append(_neutone_signal(model, facts))
    return checks, facts


def _manifest_of(graph: Path) -> Path:
    stem = graph.name.removesuffix('.onnx').removesuffix('.encode').removesuffix('.decode')
    return graph.with_name(f'{stem}.onnx.json')


def _onnx_sessions(graphs: dict[str, Path]) -> tuple[dict, str]:
    import onnx
    import onnxruntime as ort

    sessions = {}
    for name, graph in graphs.items():
        if not graph.is_file():
            return {}, f'The {name} graph {graph.name} is missing: export again.'
        try:
            onnx.checker.check_model(str(graph))
            options = ort.SessionOptions()
            options.intra_op_num_threads = 2
            sessions[name] = ort.InferenceSession(str(graph), options, providers=['CPUExecutionProvider'])
        except Exception as e:  # noqa: BLE001 - onnx and onnxruntime raise their own types
            first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
            return {}, f'{graph.name} is damaged or truncated ({first}): export again.'
    return sessions, ''


def _onnx_signal(sessions: dict, facts: dict) -> Check:
    ratio, channels = facts['compression_ratio'] or 1, facts['n_channels'] or 1
    x = test_signal(facts['sr'], channels, ratio).numpy()
    try:
        z = sessions['encode'].run(None, {'audio': x})[0]
        y = sessions['decode'].run(None, {'z': z})[0]
    except Exception as e:  # noqa: BLE001
        return Check('signal', False, f'onnxruntime fails on a {TEST_SECONDS:g} s signal: {str(e)[:200]}')
    facts['test_rms'] = rms = float(np.sqrt(np.mean(y ** 2)))
    if not np.isfinite(y).all():
        return Check('signal', False, 'The decode graph gives NaN or infinite samples.')
    if y.shape != x.shape:
        return Check('signal', False, f'encode → decode turns {x.shape} into {y.shape}.')
    if rms <= SILENCE_RMS:
        return Check('signal', False, silence_message(rms, facts.get('step')))
    return Check('signal', True, f'A {TEST_SECONDS:g} s test signal through encode → decode in onnxruntime comes '
                 f'back finite and audible (RMS {rms:.3f}), {channels} channel(s) of the same length.')


def _onnx_numerics(manifest: dict, graphs: dict[str, Path], facts: dict) -> Check:
    from services.workers import export_onnx, onnx_numerics

    checkpoint = manifest.get('checkpoint')
    if not checkpoint or not Path(checkpoint).is_file():
        recorded = (manifest.get('numerics') or {}).get('message', 'none recorded')
        return Check('numerics', None, f'The checkpoint {checkpoint} is gone, so the graphs cannot be compared with '
                     f'the eager model again; at export: {recorded}')
    try:
        eager = export_onnx.build_eager(checkpoint)
    except export_onnx.BadInput as e:
        return Check('numerics', False, str(e))
    if reason := export_onnx.refusal(eager.model):
        return Check('numerics', False, f'Not a configuration the ONNX route carries: {reason}')
    model = export_onnx.load_weights(eager, bool(manifest.get('ema_weights')))
    latent, ratio = manifest['latent_size'], manifest['compression_ratio']
    report = onnx_numerics.compare(export_onnx.Encode(model, latent), export_onnx.Decode(model, latent, ratio),
                                   graphs['encode'], graphs['decode'], manifest['n_channels'], latent, ratio)
    facts['numerics'] = {g: report[g]['max_abs_error'] for g in ('encode', 'decode')}
    return Check('numerics', report['ok'], report['message'])


def _neutone_signal(model, facts: dict) -> Check:
    sr, buffer = facts['sr'], (facts['buffer_sizes'] or [2048])[0]
    model.set_daw_sample_rate_and_buffer_size(sr, buffer)
    model.reset()
    x = test_signal(sr, facts['n_channels'], buffer)[0]
    try:
        with torch.no_grad():
            y = torch.cat([model.forward(chunk.clone()) for chunk in x.split(buffer, dim=1)], dim=1)
    except Exception as e:  # noqa: BLE001
        return Check('signal', False, f'The Neutone model fails on {buffer}-sample buffers: {str(e)[-200:]}')
    facts['test_rms'] = rms = float(y.pow(2).mean().sqrt())
    if not torch.isfinite(y).all():
        return Check('signal', False, 'The Neutone model gives NaN or infinite samples.')
    if tuple(y.shape) != tuple(x.shape):
        return Check('signal', False, f'The Neutone model turns {tuple(x.shape)} into {tuple(y.shape)}.')
    if rms <= SILENCE_RMS:
        return Check('signal', False, silence_message(rms, None))
    return Check('signal', True, f'{x.shape[1] // buffer} buffers of {buffer} samples at {sr} Hz come back finite '
                 f'and audible (RMS {rms:.3f}).')
