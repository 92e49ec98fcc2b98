"""Run specifications as older studios stored them (wizard choices of templates, run parameters), upgraded
to the fields of today's RunSpec."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.training.model_values import MODEL_KEYS, GinValueError, parse_literal


def upgrade(data: Mapping) -> dict:
    """A copy of `data` with the keys of older studios renamed or rebuilt: config → base, device → devices,
    one override list → model values (the literal ones) and bindings."""
    data = dict(data)
    if 'base' not in data and 'config' in data:
        data['base'] = data.pop('config')
    if 'devices' not in data and 'device' in data:
        data['devices'] = [d for d in str(data['device']).split(',') if d]
    if 'bindings' not in data:
        data['bindings'] = _lines(data.get('extra')) + _bindings(data.get('overrides') or [])
    if 'macros' not in data:
        data['macros'] = _model_values(data.get('overrides') or [])
    return data


def _lines(text: Any) -> list[str]:
    return [line.strip() for line in str(text or '').splitlines() if line.strip()]


def _split(binding: str) -> tuple[str, str] | None:
    key, sep, value = binding.partition('=')
    return (key.strip(), value.strip()) if sep and key.strip() in MODEL_KEYS else None


def _model_values(overrides: list[str]) -> dict[str, Any]:
    """Older runs kept model values and bindings in one override list: the literal ones are model values."""
    out = {}
    for binding in overrides:
        pair = _split(binding)
        if pair is not None:
            try:
                out[pair[0]] = parse_literal(pair[1])
            except GinValueError:
                continue
    return out


def _bindings(overrides: list[str]) -> list[str]:
    values = _model_values(overrides)
    return [b for b in overrides if (_split(b) or ('', ''))[0] not in values]
