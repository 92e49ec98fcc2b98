"""Per-host compatibility verdicts and latency at common buffer sizes, from a verification's checks and facts.

A verdict is `ready`, `caveat` (works, with something the user must know), `offline` (loads, but not for
realtime) or `no`, with one sentence. The nn~ caveat of RAVE_NOTES §8: nn~ 1.6.0 is built on libtorch 2.5.1
and its maintainer advises exporting with a torch no newer than nn~'s (RAVE #164); whether a file from a
newer torch loads in nn~ is unverified, and the verdict says so plainly.
"""
from __future__ import annotations

import re

NN_TILDE_TORCH = (2, 5, 1)
BUFFERS = (256, 512, 1024, 2048, 4096, 8192)


def hosts(kind: str, facts: dict, passed: dict[str, bool | None]) -> list[dict]:
    if kind == 'onnx':
        return [_onnx(passed)]
    if kind == 'neutone':
        return [_neutone_model(passed)]
    works = all(passed.get(c) is not False for c in ('verification', 'load', 'top-level', 'methods', 'signal'))
    why_not = 'it fails its checks (see above)'
    return [_nn_tilde(facts, works, why_not), _vst(facts, passed, works, why_not), _neutone_ts(facts, works),
            _explorer(facts, works, why_not)]


def latency(facts: dict) -> list[dict]:
    """Samples and milliseconds from input to output, per host buffer size: the buffer (rounded up to the
    compression ratio, the smallest block the model takes) plus the streaming delay when it was measured."""
    sr, ratio, delay = facts.get('sr'), facts.get('compression_ratio') or 1, facts.get('streaming_delay_samples')
    if not sr:
        return []
    rows = []
    for buffer in BUFFERS:
        samples = -(-max(buffer, ratio) // ratio) * ratio + (delay or 0)
        rows.append({'buffer': buffer, 'samples': samples, 'ms': round(1000 * samples / sr, 1),
                     'includes_model_delay': delay is not None})
    return rows


def torch_caveat(made_with: str | None) -> str:
    """'' when the file's torch is no newer than nn~'s libtorch, else the plain sentence."""
    if made_with is None:
        return ('The torch version it was made with is unknown (not exported by this studio); nn~ 1.6.0 is built on '
                'libtorch 2.5.1 and may refuse files from a newer torch.')
    if _version(made_with) <= NN_TILDE_TORCH:
        return ''
    return (f'Made with torch {made_with}, newer than the libtorch 2.5.1 nn~ 1.6.0 is built on: whether nn~ loads it '
            'is not verified. If nn~ reports an error loading it, export it again from an environment with torch '
            '2.5.1 or older, as nn~\'s maintainer advises (RAVE #164).')


def _nn_tilde(facts: dict, works: bool, why_not: str) -> dict:
    host = 'nn~ (Max/MSP, PureData)'
    if not works:
        return {'host': host, 'verdict': 'no', 'message': f'nn~ cannot play it: {why_not}.'}
    if not facts.get('streaming'):
        return {'host': host, 'verdict': 'offline', 'message': 'nn~ loads it, but exported without streaming it '
                'clicks at every buffer in realtime: export it again with streaming for Max or Pd.'}
    caveat = torch_caveat(facts.get('made_with_torch'))
    message = f'Ready for nn~: e.g. [nn~ {facts.get("name", "model")} forward]' + (f'. {caveat}' if caveat else '.')
    return {'host': host, 'verdict': 'caveat' if caveat else 'ready', 'message': message}


def _vst(facts: dict, passed: dict, works: bool, why_not: str) -> dict:
    host = 'RAVE VST'
    if not works:
        return {'host': host, 'verdict': 'no', 'message': f'The RAVE VST cannot play it: {why_not}.'}
    if passed.get('stereo') is not True:
        return {'host': host, 'verdict': 'no', 'message': 'The RAVE VST plays in stereo mode, which this model fails '
                '(or has more than 2 channels).'}
    if not facts.get('streaming'):
        return {'host': host, 'verdict': 'offline', 'message': 'The RAVE VST needs a streaming export: this one '
                'would click at every buffer.'}
    prior = ("its prior drives the VST's prior mode" if facts.get('prior')
             else "no prior: the VST's prior mode stays off")
    caveat = torch_caveat(facts.get('made_with_torch'))
    return {'host': host, 'verdict': 'caveat' if caveat else 'ready',
            'message': f'Ready for the RAVE VST (archived), {prior}.'
            + (' The VST bundles its own libtorch, so the nn~ torch caveat applies too.' if caveat else '')}


def _neutone_ts(facts: dict, works: bool) -> dict:
    if not works or not facts.get('streaming'):
        return {'host': 'Neutone', 'verdict': 'no', 'message': 'Neutone wraps a streaming export that passes its '
                'checks: export with streaming, then use the Neutone target.'}
    return {'host': 'Neutone', 'verdict': 'ready', 'message': 'Wrap this streaming export with the Neutone target '
            'to get a .nm file for the Neutone FX plugin.'}


def _explorer(facts: dict, works: bool, why_not: str) -> dict:
    host = "This studio's Explorer"
    if not works:
        return {'host': host, 'verdict': 'no', 'message': f'The Explorer cannot use it: {why_not}.'}
    if facts.get('streaming'):
        return {'host': host, 'verdict': 'caveat', 'message': 'Works, but a streaming model carries its state from '
                'one file to the next: an offline export suits the Explorer better.'}
    return {'host': host, 'verdict': 'ready', 'message': 'Ready for the Explorer: reconstruct and edit latents.'}


def _neutone_model(passed: dict) -> dict:
    if all(passed.get(c) is not False for c in ('verification', 'load', 'signal')):
        return {'host': 'Neutone', 'verdict': 'ready', 'message': 'Load model.nm in the Neutone FX plugin with '
                '"Load your own model".'}
    return {'host': 'Neutone', 'verdict': 'no', 'message': 'The Neutone plugin would refuse it: see the checks.'}


def _onnx(passed: dict) -> dict:
    if all(passed.get(c) is not False for c in ('verification', 'load', 'signal', 'numerics')):
        return {'host': 'ONNX runtime', 'verdict': 'ready', 'message': 'Ready for onnxruntime (Python, C++, web, '
                'mobile), offline: the graphs keep no streaming state, so small realtime buffers would click.'}
    return {'host': 'ONNX runtime', 'verdict': 'no', 'message': 'Not usable: see the checks.'}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r'\d+', text.split('+')[0])[:3])
