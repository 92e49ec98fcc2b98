"""Verification worker: an export loaded and played in a fresh process before the studio calls it done.

    RAVE_STUDIO_JOB_DIR=JOB python -m services.workers.verify_export --export PATH [--offline OFFLINE.ts]
        [--checkpoint CKPT] [--result FILE]

PATH is a TorchScript export (.ts), a Neutone model (.nm) or an ONNX export (its NAME.onnx.json manifest, or
one of its two .onnx graphs). The checks of RAVE_NOTES §8, one verdict each, with a sentence for the user:
- .ts: load (a truncated file fails here); top-level `sr`, `n_channels`, `full_latent_size`; methods and
  their `<method>_params` as nn~ sees them, called at batch 1 and 4 (prior at batch 1, as the RAVE VST calls
  it); attribute getters/setters; a 3 s test signal through `forward` (finite, not silent: RMS > 1e-4, right
  channel count and length); stereo mode (`set_stereo_mode(torch.tensor(True))` → 2 channels); prior → finite
  latents that decode to audio; for a streaming export, host-sized buffers against the offline export
  (--offline, else the same file fed at once), compared by lag-aligned spectral distance — decoding is
  random, so never sample by sample — against the spread of two offline decodes;
- .onnx: both graphs load and pass onnx.checker, the test signal through encode → decode in onnxruntime,
  and the numerics against the eager model rebuilt from the manifest's checkpoint (a config the ONNX route
  does not carry fails with its reason);
- .nm: loads through the Neutone SDK (offline: socket connections refused), plays host buffers.
The facts the viewer shows: methods, attributes, sample rate, channels, latent size of total, compression
ratio, latency at common buffer sizes, file size, the torch version it was made with (a studio export
carries it, services/workers/export.py), and a compatibility verdict per host (verify_hosts.py), with nn~'s
torch-version caveat. --checkpoint gives the training step for the silence message when the file lacks it.
Progress: JSON stage lines (services/workers/stages.py), one per check, then done.
Result FILE (default JOB/verification.json):
    {status: passed|failed, message, format, path, checks: [{check, ok, message}], facts, hosts, stages}
`ok` is null for a check that does not apply or could not run. Exit code 0 when every check passed, 1 if not.
"""
from __future__ import annotations

import argparse
import json
import sys
import traceback
import zipfile
from dataclasses import asdict
from pathlib import Path

import torch

from services.workers.stages import Stages, job_dir, write_result
from services.workers.verification import SILENCE_RMS, TEST_SECONDS, Check, silence_message, test_signal

NN_TILDE_BUFFER = 8192  # nn_tilde's registration test buffer
EXTRA_FILE = 'rave_studio.json'  # written by services/workers/export.py


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--export', required=True, help='a .ts, a .nm, or an ONNX manifest (.onnx.json)')
    parser.add_argument('--offline', help='for a streaming .ts: the offline export of the same checkpoint')
    parser.add_argument('--checkpoint', help='the checkpoint it came from (its step, for the silence message)')
    parser.add_argument('--result', help='result JSON (default JOB/verification.json)')
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    stages = Stages()
    path = Path(args.export)
    kind = format_of(path)
    stages.enter('load', 0.0, f'Loading {path.name} in a fresh process')
    try:
        checks, facts = verify(kind, path, args, stages)
    except Exception as e:  # noqa: BLE001 - an export unlike any the checks know; the log keeps the traceback
        traceback.print_exc()
        checks, facts = [Check('verification', False, f'The verification itself failed on {path.name}: '
                               f'{type(e).__name__}: {str(e).strip()[:300]}')], {}
    from services.workers.verify_hosts import hosts, latency
    facts['latency'] = latency(facts)
    failed = [c for c in checks if c.ok is False]
    result = {'status': 'failed' if failed else 'passed', 'format': kind, 'path': str(path),
              'message': ' '.join(c.message for c in failed), 'checks': [asdict(c) for c in checks],
              'facts': facts, 'hosts': hosts(kind, facts, {c.check: c.ok for c in checks})}
    stages.enter('done', 1.0, result['message'] or 'Every check passed')
    write_result(Path(args.result) if args.result else job_dir() / 'verification.json',
                 {**result, 'stages': stages.finish(), 'elapsed_s': stages.elapsed()})
    return 1 if failed else 0


def verify(kind: str, path: Path, args: argparse.Namespace, stages: Stages) -> tuple[list[Check], dict]:
    if kind == 'onnx':
        from services.workers import verify_targets
        return verify_targets.onnx_export(path, stages)
    if kind == 'neutone':
        from services.workers import verify_targets
        return verify_targets.neutone_model(path, stages)
    return torchscript(path, Path(args.offline) if args.offline else None, args.checkpoint, stages)


def format_of(path: Path) -> str:
    if path.name.endswith(('.onnx.json', '.onnx')):
        return 'onnx'
    return 'neutone' if path.suffix == '.nm' else 'torchscript'


def torchscript(path: Path, offline: Path | None, checkpoint: str | None, stages: Stages) -> tuple[list, dict]:
    checks: list[Check] = []
    model, made, problem = load_ts(path)
    checks.append(Check('load', model is not None, problem or f'{path.name} loads in a fresh process.'))
    if model is None:
        return checks + [Check(c, None, 'Not run: the file does not load.') for c in LATER_CHECKS], {
            'size': _size(path)}
    facts = ts_facts(model, path, made, checkpoint)
    checks.append(top_level(model))
    stages.enter('methods', 0.15, 'Calling every method as nn~ does, at batch 1 and 4')
    checks.append(methods(model))
    checks.append(attributes(model))
    stages.enter('signal', 0.4, f'A {TEST_SECONDS:g} s test signal through forward')
    checks.append(signal(model, facts))
    stages.enter('stereo', 0.55, 'Stereo mode, as the RAVE VST uses it')
    checks.append(stereo(model, facts))
    stages.enter('prior', 0.65, 'Prior → decode')
    checks.append(prior(model, facts))
    stages.enter('streaming', 0.75, 'Streaming buffers against the offline model')
    from services.workers.verify_streaming import consistency
    check, delay = consistency(path, offline, facts)
    checks.append(check)
    facts['streaming_delay_samples'] = delay
    return checks, facts


LATER_CHECKS = ('top-level', 'methods', 'attributes', 'signal', 'stereo', 'prior', 'streaming')


def load_ts(path: Path) -> tuple[torch.jit.ScriptModule | None, dict, str]:
    """The model, the studio's provenance (or {}), and why it does not load ('' when it does)."""
    if not path.is_file():
        return None, {}, f'{path} does not exist.'
    size = path.stat().st_size
    if not zipfile.is_zipfile(path):
        return None, {}, (f'{path.name} is damaged or truncated ({size:,} bytes): a TorchScript file is a zip '
                          'archive and this one has no complete directory. Export it again.')
    extra = {EXTRA_FILE: ''}
    try:
        model = torch.jit.load(str(path), map_location='cpu', _extra_files=extra).eval()
    except (RuntimeError, ValueError, OSError) as e:
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        return None, {}, (f'PyTorch {torch.__version__} cannot load {path.name} ({first}): the file is damaged, '
                          'truncated, or made by a newer torch. Export it again.')
    try:
        made = json.loads(extra[EXTRA_FILE] or '{}')
    except ValueError:
        made = {}
    return model, made, ''


def ts_facts(model, path: Path, made: dict, checkpoint: str | None) -> dict:
    methods_ = list(model.get_methods()) if hasattr(model, 'get_methods') else []
    params = {m: [int(v) for v in getattr(model, f'{m}_params').tolist()]
              for m in methods_ if hasattr(model, f'{m}_params')}
    step = made.get('step')
    if step is None and checkpoint:
        from services.training.checkpoints import read_info
        info = read_info(checkpoint)
        step = info.step if info else None
    latent, full = _int(model, 'latent_size'), _int(model, 'full_latent_size')
    return {
        'name': path.stem, 'methods': params, 'attributes': [a for a in model.get_attributes() if a != 'none']
        if hasattr(model, 'get_attributes') else [],
        'sr': _int(model, 'sr'), 'n_channels': _int(model, 'n_channels'),
        'target_channels': _int(model, 'target_channels'), 'latent_size': latent, 'full_latent_size': full,
        'latent': f'{latent} of {full}' if latent and full else None,
        'compression_ratio': params.get('encode', [0, 0, 0, 0])[3] or None,
        'streaming': any(n.endswith('.cache.pad') for n, _ in model.named_buffers()),
        'prior': 'prior' in methods_, 'size': _size(path),
        'made_with_torch': (made.get('versions') or {}).get('torch'), 'loaded_with_torch': torch.__version__,
        'step': step, 'checkpoint': made.get('checkpoint') or checkpoint, 'command': made.get('command'),
    }


def top_level(model) -> Check:
    missing = [a for a in ('sr', 'n_channels', 'full_latent_size') if _int(model, a) is None]
    if missing:
        return Check('top-level', False, f'The model lacks {", ".join(missing)}, which the RAVE VST, Neutone and '
                     'nn~ inspectors read: it is not a RAVE export, or one from an old RAVE.')
    return Check('top-level', True, f'sr {model.sr} Hz, {model.n_channels} channel(s), '
                 f'{model.full_latent_size} latent dimensions in all.')


def methods(model) -> Check:
    names = list(model.get_methods()) if hasattr(model, 'get_methods') else []
    missing = [m for m in ('encode', 'decode', 'forward') if m not in names]
    if missing:
        return Check('methods', False, f'nn~ cannot use this file: it lacks the method(s) {", ".join(missing)}.')
    problems = []
    for name in names:
        if not hasattr(model, f'{name}_params'):
            problems.append(f'{name} has no {name}_params')
            continue
        in_ch, in_ratio, out_ch, out_ratio = (int(v) for v in getattr(model, f'{name}_params').tolist())
        for batch in (1,) if name == 'prior' else (1, 4):
            try:
                with torch.no_grad():
                    y = getattr(model, name)(torch.zeros(batch, in_ch, NN_TILDE_BUFFER // in_ratio))
            except Exception as e:  # noqa: BLE001 - any failure of a method is the verdict
                problems.append(f'{name} fails at batch {batch} ({str(e).strip().splitlines()[-1][:120]})')
                continue
            expected = (batch, out_ch, NN_TILDE_BUFFER // out_ratio)
            if tuple(y.shape) != expected or y.dtype != torch.float32:
                problems.append(f'{name} at batch {batch} gives {tuple(y.shape)} {y.dtype}, nn~ expects {expected}')
    if problems:
        return Check('methods', False, 'nn~ would refuse this file: ' + '; '.join(problems) + '.')
    listed = ', '.join(names)
    return Check('methods', True, f'{listed} answer as nn~ calls them, at batch 1 and 4'
                 + (' (prior at batch 1, as the RAVE VST calls it).' if 'prior' in names else '.'))


def attributes(model) -> Check:
    names = [a for a in model.get_attributes() if a != 'none'] if hasattr(model, 'get_attributes') else []
    problems = []
    for name in names:
        getter, setter = getattr(model, f'get_{name}', None), getattr(model, f'set_{name}', None)
        if getter is None or setter is None:
            problems.append(f'{name} lacks its getter or setter')
            continue
        try:
            value = getter()
            setter(value)
            if getter() != value:
                problems.append(f'{name} does not keep the value set')
        except Exception as e:  # noqa: BLE001 - any failure of an accessor is the verdict
            problems.append(f'{name}: {str(e).strip().splitlines()[-1][:120]}')
    if problems:
        return Check('attributes', False, 'nn~ attribute messages would fail: ' + '; '.join(problems) + '.')
    return Check('attributes', True, f'The attributes {", ".join(names) or "(none)"} read and write back.')


def signal(model, facts: dict) -> Check:
    x = test_signal(facts['sr'], facts['n_channels'], facts['compression_ratio'] or 1)
    try:
        with torch.no_grad():
            y = model.forward(x)
    except Exception as e:  # noqa: BLE001 - the model failing on audio is the verdict
        return Check('signal', False, f'forward fails on a {TEST_SECONDS:g} s signal: {str(e).strip()[-200:]}')
    facts['test_rms'] = rms = float(y.pow(2).mean().sqrt()) if y.numel() else 0.0
    channels = facts['target_channels'] or facts['n_channels']
    if not torch.isfinite(y).all():
        return Check('signal', False, 'forward gives NaN or infinite samples: the checkpoint has diverged. Export '
                     'an earlier checkpoint.')
    if y.dim() != 3 or y.shape[1] != channels or y.shape[-1] != x.shape[-1]:
        return Check('signal', False, f'forward turns {tuple(x.shape)} into {tuple(y.shape)}: expected {channels} '
                     f'channel(s) of {x.shape[-1]} samples.')
    if rms <= SILENCE_RMS:
        return Check('signal', False, silence_message(rms, facts.get('step')))
    return Check('signal', True, f'A {TEST_SECONDS:g} s test signal comes back finite and audible (RMS {rms:.3f}), '
                 f'{channels} channel(s) of the same length.')


def stereo(model, facts: dict) -> Check:
    if (facts['n_channels'] or 0) > 2 or not hasattr(model, 'set_stereo_mode'):
        return Check('stereo', None, 'Stereo mode applies to mono and stereo models only.')
    x = test_signal(facts['sr'], facts['n_channels'], facts['compression_ratio'] or 1, seconds=1.0)
    try:
        with torch.no_grad():
            z = model.encode(x)
            model.set_stereo_mode(torch.tensor(True))
            y = model.decode(torch.cat([z, z], 0))
    except Exception as e:  # noqa: BLE001
        return Check('stereo', False, f'Stereo mode fails ({str(e).strip().splitlines()[-1][:160]}): the RAVE VST '
                     'would play this model in mono only.')
    finally:
        model.set_stereo_mode(torch.tensor(False))
    if y.dim() != 3 or y.shape[1] != 2 or not torch.isfinite(y).all():
        return Check('stereo', False, f'Stereo mode gives {tuple(y.shape)} instead of 2 channels: the RAVE VST '
                     'would play this model in mono only.')
    return Check('stereo', True, 'Stereo mode gives 2 channels, as the RAVE VST plays it.')


def prior(model, facts: dict) -> Check:
    if not facts['prior']:
        return Check('prior', None, 'Exported without a prior.')
    frames = 32
    try:
        with torch.no_grad():
            z = model.prior(torch.ones(1, 1, frames))
            y = model.decode(z)
    except Exception as e:  # noqa: BLE001
        return Check('prior', False, f'prior → decode fails: {str(e).strip().splitlines()[-1][:200]}')
    if not (torch.isfinite(z).all() and torch.isfinite(y).all()):
        return Check('prior', False, 'The prior gives NaN or infinite latents: train the prior longer or export '
                     'an earlier checkpoint of it.')
    level = float(y.pow(2).mean().sqrt())
    if level <= SILENCE_RMS:
        return Check('prior', False, f'Prior → decode gives silence (RMS {level:.1e}).')
    return Check('prior', True, f'prior({frames} frames) → decode gives finite audio (RMS {level:.3f}), as the '
                 'RAVE VST plays it.')


def _int(model, name: str) -> int | None:
    try:
        return int(getattr(model, name))
    except (AttributeError, TypeError, ValueError, RuntimeError):
        return None


def _size(path: Path) -> int | None:
    return path.stat().st_size if path.is_file() else None


if __name__ == '__main__':
    sys.exit(main())
