"""Gin check worker: parse a RAVE config composition with RAVE's own gin setup and report what it would run.

    python -m services.workers.gin_check < request.json        # prints one JSON line on stdout

A request is {"checks": [{"configs": [...], "augment": [...], "override": [...], "channels": 1,
"model": true}, ...]}; each answer says whether gin parses it (else the message, file and line that failed),
the operative macros and config text, the compression ratio and parameter count of the model RAVE would build,
what each config file changed relative to the ones before it, and whether the composition's augmentations
(in the configs or through `--augment`) run on this installation — a sox-based one fails on a torchaudio
without `sox_effects`, and one that returns its input unchanged is reported as a no-op.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import time

MACROS = ('SAMPLING_RATE', 'CAPACITY', 'N_BAND', 'LATENT_SIZE', 'RATIOS', 'PHASE_1_DURATION', 'NOISE_AUGMENTATION')
# bindings the wizard exposes, as `--override` writes them (gin resolves the short names)
SETTINGS = ('BetaWarmupCallback.initial_value', 'BetaWarmupCallback.target_value', 'BetaWarmupCallback.warmup_len',
            'RAVE.update_discriminator_every')
_WHERE = re.compile(r'In (?:file "(?P<file>[^"]+)",|bindings string) line (?P<line>\d+)\n(?P<text>.*)')


def main() -> None:
    request = json.loads(sys.stdin.read() or '{}')
    with contextlib.redirect_stdout(io.StringIO()):  # RAVE prints; stdout carries only our answer
        import gin
        import rave
        import rave.dataset
        import rave.transforms  # noqa: F401
        answers = [check(gin, **c) for c in request.get('checks', [])]
    print(json.dumps({'checks': answers}))


def check(gin, configs: list[str], augment: list[str] | None = None, override: list[str] | None = None,
          channels: int = 1, model: bool = True, receptive_field: bool = False) -> dict:
    """One composition, the way `rave train --config … --augment … --override …` reads it."""
    started = time.monotonic()
    files = [_gin_name(c) for c in configs]
    answer: dict = {'configs': configs, 'augment': augment or [], 'override': override or [], 'ok': False}
    changes, before = [], {}
    try:
        for i in range(len(files)):  # what each file adds or changes over the ones before it
            gin.clear_config()
            gin.parse_config_files_and_bindings(files[:i + 1], [], finalize_config=False)
            after = _bindings(gin)
            changes.append({'config': configs[i], 'changed': _diff(before, after) if i else {}})
            before = after
        gin.clear_config()
        gin.bind_parameter('RAVE.n_channels', channels)  # as train.py does, before parsing
        gin.parse_config_files_and_bindings(files, override or [], finalize_config=False)
        if override:
            changes.append({'config': 'overrides', 'changed': _diff(before, _bindings(gin))})
    except Exception as e:  # noqa: BLE001 — gin raises ValueError, SyntaxError, ImportError… with the line
        answer.update(stage='parse', error=_error(e))
        return _done(answer, started)
    answer['changes'] = changes
    answer['macros'] = {m: _macro(gin, m) for m in MACROS}
    answer['settings'] = {m: _macro(gin, m.replace('%', '')) for m in SETTINGS}
    answer['dataset_augmentations'] = _try_augmentations(gin, _config_augmentations(gin))
    if answer['dataset_augmentations'] and not all(a['ok'] for a in answer['dataset_augmentations']):
        answer.update(stage='augmentation', error=next(a['error'] for a in answer['dataset_augmentations']
                                                        if not a['ok']))
        return _done(answer, started)
    if model:
        try:
            answer.update(_model(gin, channels, receptive_field))
        except Exception as e:  # noqa: BLE001 — any failure to build is the config's verdict
            answer.update(stage='model', error=_error(e))
            return _done(answer, started)
    answer['augmentations'] = [_augmentation(gin, name) for name in augment or []]
    failed = [a for a in answer['augmentations'] if not a['ok']]
    if failed:
        answer.update(stage='augmentation', error=failed[0]['error'])
        return _done(answer, started)
    answer['ok'] = True
    return _done(answer, started)


def _model(gin, channels: int, receptive_field: bool) -> dict:
    """Build the model exactly as train.py does, then measure its compression (and receptive field)."""
    import rave
    import rave.core
    import torch
    model = rave.RAVE(n_channels=channels)
    model.eval()
    length = 2 ** 17
    with torch.no_grad():
        z = model.encode(torch.zeros(1, channels, length))
    field_ = list(rave.core.get_rave_receptive_field(model, n_channels=channels)) if receptive_field else None
    return {'receptive_field': field_, 'operative': gin.operative_config_str(), 'compression': length // z.shape[-1],
            'sr': int(model.sr), 'parameters': sum(p.numel() for p in model.parameters()),
            'latent_frames_per_s': model.sr / (length // z.shape[-1])}


def _augmentation(gin, name: str) -> dict:
    """An `--augment` file, parsed and applied as train.py's parse_augmentations does."""
    from rave.transforms import get_augmentations
    from scripts.train import parse_augmentations
    saved = gin.config_str()
    try:
        gin.clear_config()
        known = len(get_augmentations())
        parse_augmentations([_gin_name(name)])
        result = _try_augmentations(gin, get_augmentations()[known:])[0]
    except Exception as e:  # noqa: BLE001 — an unknown file, a parse error or a failing transform
        result = {'ok': False, 'error': _error(e)}
    finally:
        gin.clear_config()
        gin.parse_config(saved)
    return {'name': name, **result}


def _config_augmentations(gin) -> list:
    try:
        refs = gin.query_parameter('dataset.get_dataset.augmentations')
    except ValueError:
        return []
    return [r.scoped_configurable_fn() if hasattr(r, 'scoped_configurable_fn') else r for r in refs or []]


def _try_augmentations(gin, augmentations: list) -> list[dict]:
    """Apply each augmentation (forced on, when it has a probability) to a test signal."""
    import numpy as np
    out = []
    signal = (np.random.default_rng(0).standard_normal((1, 65536)) * 0.1).astype(np.float32)
    for aug in augmentations:
        kind = type(aug).__name__
        if hasattr(aug, 'prob'):
            aug.prob = 1.0
        try:
            result = aug(signal.copy())
        except Exception as e:  # noqa: BLE001 — e.g. AttributeError: no torchaudio.sox_effects
            out.append({'kind': kind, 'ok': False, 'error': _error(e)})
            continue
        noop = np.shape(result) == signal.shape and np.allclose(result, signal)
        out.append({'kind': kind, 'ok': True, 'noop': bool(noop)})
    return out


def _bindings(gin) -> dict[str, str]:
    """Every parsed binding as 'scope/selector.param' (macros by their name) → its value as gin writes it."""
    flat = {}
    for (scope, selector), params in gin.config._CONFIG.items():
        for param, value in params.items():
            if (selector, param) == ('rave.model.RAVE', 'n_channels'):
                continue  # the studio binds it from the dataset, as train.py does
            if selector.endswith('gin.macro') and param == 'value':
                key = scope
            else:
                key = f'{scope}/{selector}.{param}' if scope else f'{selector}.{param}'
            flat[key] = _text(value)
    return flat


def _diff(before: dict, after: dict) -> dict[str, list]:
    return {k: [before.get(k), v] for k, v in sorted(after.items()) if before.get(k) != v}


def _text(value) -> str:
    if hasattr(value, 'selector'):  # a reference: %MACRO or @configurable(), as written in the file
        scoped = getattr(value, 'scoped_selector', value.selector)
        text = f'%{scoped.split("/")[0]}' if scoped.endswith('gin.macro') else \
            f'@{scoped}{"()" if getattr(value, "evaluate", False) else ""}'
    else:
        text = repr(value)
    return ' '.join(text.split())[:200]


def _macro(gin, name: str):
    """A macro's value (a bare upper-case name) or a binding's (Configurable.param); None when unbound."""
    try:
        value = gin.query_parameter(name if '.' in name else f'%{name}')
    except ValueError:
        return None
    if hasattr(value, 'selector'):  # a binding to a macro: follow it
        return _macro(gin, getattr(value, 'scoped_selector', value.selector).split('/')[0])
    return value if isinstance(value, (int, float, str, list, tuple, bool)) else repr(value)


def _error(e: Exception) -> dict:
    message = str(e)
    where = _WHERE.search(message)
    first = message.strip().splitlines()[0] if message.strip() else type(e).__name__
    if isinstance(e, SyntaxError) and not where:
        return {'type': 'SyntaxError', 'message': first[:400], 'detail': message[:2000],
                'file': e.filename if e.filename and e.filename != '<string>' else 'overrides',
                'line': e.lineno, 'text': (e.text or '').strip() or None}
    return {'type': type(e).__name__, 'message': first[:400], 'detail': message[:2000],
            'file': where.group('file') if where and where.group('file') else ('overrides' if where else None),
            'line': int(where.group('line')) if where else None,
            'text': where.group('text').strip() if where else None}


def _gin_name(name: str) -> str:
    return name if name.endswith('.gin') else name + '.gin'


def _done(answer: dict, started: float) -> dict:
    answer['seconds'] = round(time.monotonic() - started, 2)
    return answer


if __name__ == '__main__':
    main()
