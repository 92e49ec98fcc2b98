"""Model values: the config values the studio exposes (RAVE_NOTES §3), and the rule that they are gin
*literals*.

A literal is a number, a string, a boolean, None, or a list or tuple of those. Anything else a value could
hold — a line break (a second gin statement), an `@reference` (a call into Python), a `%MACRO` — is refused
with a sentence; code goes to the extra bindings, which need the right to run it.
"""
from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.i18n import N_


@dataclass(frozen=True)
class ModelValue:
    """A config value worth exposing (RAVE_NOTES §3), named as `--override` names it."""
    key: str
    label: str
    hint: str
    unit: str = ''


MODEL_VALUES = (
    ModelValue('SAMPLING_RATE', N_('Sampling rate'), N_("Keep it equal to the dataset's rate."), 'Hz'),
    ModelValue('CAPACITY', N_('Capacity'), N_('Channel width: quality, memory and time grow with it.')),
    ModelValue('N_BAND', N_('PQMF bands'), N_('Sub-bands the audio is split into (a power of 2).'), N_('bands')),
    ModelValue('LATENT_SIZE', N_('Latent size'), N_('Dimensions of the latent space.'), N_('dims')),
    ModelValue('RATIOS', N_('Ratios'), N_('Down-sampling ratios; compression = bands × their product.')),
    ModelValue('PHASE_1_DURATION', N_('Phase 1 length'), N_('Warm-up steps before adversarial training starts.'),
               N_('steps')),
    ModelValue('NOISE_AUGMENTATION', N_('Noise augmentation'),
               N_('Noise dimensions added to the latent (0 = off).'), N_('dims')),
    ModelValue('BetaWarmupCallback.initial_value', N_('β start'), N_('KL weight at step 0.')),
    ModelValue('BetaWarmupCallback.target_value', N_('β target'), N_('KL weight once the β warm-up is over.')),
    ModelValue('BetaWarmupCallback.warmup_len', N_('β warm-up'), N_('Steps from β start to β target.'), N_('steps')),
    ModelValue('RAVE.update_discriminator_every', N_('Discriminator every'),
               N_('Train the discriminator every N steps.'),
               N_('steps')),
)
MODEL_KEYS = tuple(v.key for v in MODEL_VALUES)


class GinValueError(ValueError):
    """A model value that is not a gin literal, with a sentence saying what to write instead."""


def model_values(entered: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The model values a person changed: each non-empty entry whose gin text differs from the
    composition's."""
    out = {}
    for key in MODEL_KEYS:
        value = entered.get(key)
        if value in (None, '') or gin_text(value) == gin_text(defaults.get(key)):
            continue
        out[key] = value
    return out


def parse_literal(value: Any) -> Any:
    """A gin literal as Python: numbers, strings, booleans, None, lists and tuples of those.

    Text is parsed (one line, no gin references); anything that could run, bind or import is refused."""
    if isinstance(value, str):
        if '\n' in value or '\r' in value:
            raise GinValueError('a value is one line: a line break would start a second gin statement.')
        text = value.strip()
        if not text:
            raise GinValueError('give a value.')
        try:
            node = ast.parse(text, mode='eval').body
        except SyntaxError:
            raise GinValueError(_why_not(text)) from None
        value = _literal(node, text)
    _check(value)
    return value


def gin_literal(value: Any) -> str:
    """The gin text of a literal value (raises GinValueError for anything else)."""
    return _render(parse_literal(value))


def gin_text(value: Any) -> str:
    """A value as a form shows it and compares it with the composition's: its gin text, or as written."""
    if value is None:
        return ''
    try:
        return gin_literal(value)
    except GinValueError:
        return str(value)


# ---- helpers ----------------------------------------------------------------------------------------------
def _literal(node: ast.AST, text: str) -> Any:
    if isinstance(node,
                  ast.Constant) and (node.value is None or isinstance(node.value, (bool, int, float, str))):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) and \
            isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_literal(e, text) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    raise GinValueError(_why_not(text))


def _why_not(text: str) -> str:
    if '@' in text:
        return ('"@…" is a gin reference: it calls Python code. Model values take plain values; write '
                'references as extra gin bindings.')
    if '%' in text:
        return '"%…" is a gin macro reference: model values take plain values (numbers, text, lists).'
    return (f'"{text}" is not a gin value: write a number, True/False/None, text in quotes or a list such as '
            '[4, 2, 2, 2].')


def _check(value: Any) -> None:
    if isinstance(value, (list, tuple)):
        for item in value:
            _check(item)
    elif isinstance(value, float) and not math.isfinite(value):
        raise GinValueError('use a finite number.')
    elif not (value is None or isinstance(value, (bool, int, float, str))):
        raise GinValueError(f'{value!r} is not a gin value.')


def _render(value: Any) -> str:
    if isinstance(value, list):
        return '[' + ', '.join(_render(v) for v in value) + ']'
    if isinstance(value, tuple):
        return '(' + ', '.join(_render(v) for v in value) + (',)' if len(value) == 1 else ')')
    return repr(value)  # bool, None, int, float and str reprs are gin literals
