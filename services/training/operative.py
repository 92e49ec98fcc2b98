"""What a run is, read from the operative config.gin RAVE writes into its run folder.

RAVE writes `gin.operative_config_str()`: every binding with its final value and no `include` lines, so a run
made by the plain CLI names none of the configs it was composed of. The base config and the add-ons are
recognised instead from the bindings each one sets (rave/configs/*.gin): e.g. causal sets
`cc.get_padding.mode = 'causal'`, snake binds `@blocks.Snake`, discrete encodes with `@blocks.DiscreteEncoder`.
"""
from __future__ import annotations

import ast
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from services import formatting
from services.i18n import _
from services.training import configs
from services.training.model_values import MODEL_KEYS, gin_text
from services.training.spec import RunSpec

_BINDING = re.compile(r'^([A-Za-z_][\w./]*)\s*=\s*(.*)$')
# add-on -> a test on the operative bindings that only that add-on makes true
_ENCODERS = {'DiscreteEncoder': 'discrete', 'SphericalEncoder': 'spherical', 'WasserteinEncoder': 'wasserstein'}
_ADDONS = (
    ('causal', lambda b: any(k.endswith('get_padding.mode') and 'causal' in v for k, v in b.items())),
    ('adain', lambda b: any('AdaptiveInstanceNormalization' in v for v in b.values())),
    ('snake', lambda b: any('@blocks.Snake' in v for v in b.values())),
    ('descript_discriminator', lambda b: 'DescriptDiscriminator' in b.get('model.RAVE.discriminator', '')),
    ('spectral_discriminator', lambda b: 'MultiScaleSpectralDiscriminator' in
     b.get('discriminator.CombineDiscriminators.discriminators', '')),
)


@dataclass(frozen=True)
class Operative:
    """A run's operative configuration: the base config and add-ons it matches, and its key values."""
    base: str
    addons: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)  # the model values (MODEL_KEYS) as bound
    bindings: Mapping[str, str] = field(default_factory=dict)  # every binding, its value as written

    @property
    def configs(self) -> tuple[str, ...]:
        return (self.base, *self.addons)

    @property
    def label(self) -> str:
        """e.g. 'v2_small + causal · capacity 48 · latent 128 · ratios 4·2·2·2 · 44.1 kHz'."""
        parts = [' + '.join(self.configs)]
        for key, said in (('CAPACITY', _('capacity {value}')), ('LATENT_SIZE', _('latent {value}'))):
            if key in self.values:
                parts.append(said.format(value=self.values[key]))
        if isinstance(self.values.get('RATIOS'), list):
            parts.append(_('ratios {ratios}').format(ratios='·'.join(str(r) for r in self.values['RATIOS'])))
        if isinstance(self.values.get('SAMPLING_RATE'), (int, float)):
            parts.append(_('{rate} kHz').format(rate=formatting.number(self.values['SAMPLING_RATE'] / 1000)))
        return ' · '.join(parts)


def read(run_folder: str | Path) -> Operative | None:
    """The operative configuration of a RAVE run folder; None when it holds no config.gin."""
    path = Path(run_folder) / 'config.gin'
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return None
    return _read(str(path), stamp)


def parse(text: str) -> Operative:
    """Recognise the base config, the add-ons and the model values in an operative config's text."""
    bindings = _bindings(text)
    values = {}
    for key in MODEL_KEYS:
        raw = bindings.get(key) or bindings.get(f'model.{key}') or bindings.get(f'rave.{key}')
        if raw is not None:
            values[key] = _literal(raw)
    addons = [name for name, test in _ADDONS if test(bindings)]
    encoder = bindings.get('model.RAVE.encoder', '')
    addons += [name for cls, name in _ENCODERS.items() if cls in encoder]
    base = _base(bindings)
    if bindings.get('blocks.GeneratorV2.noise_module') and base != 'v2_small':
        addons.append('noise')
    return Operative(base, tuple(addons), MappingProxyType(values), MappingProxyType(bindings))


def spec(run_folder: str | Path, name: str, dataset: int | None, params: Mapping) -> RunSpec:
    """A RunSpec for a run made elsewhere: its configs and model values from the operative config (those
    that differ from the base config's own), the rest as RAVE's defaults or what the studio learnt of it."""
    found = read(run_folder)
    if found is None:
        return RunSpec.from_dict({**params, 'dataset': dataset, 'name': name})
    shipped = configs.find(found.base)
    defaults = shipped.values if shipped is not None else {}
    macros = {k: v for k, v in found.values.items() if k in defaults and gin_text(v) != gin_text(defaults[k])}
    return RunSpec.from_dict({**params, 'base': found.base, 'addons': list(found.addons), 'macros': macros,
                              'dataset': dataset, 'name': name})


# ---- helpers ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def _read(path: str, _stamp: int) -> Operative:
    return parse(Path(path).read_text(errors='replace'))


def _bindings(text: str) -> dict[str, str]:
    """`key = value` statements of a gin text (continuation lines joined), comments and imports left out."""
    out: dict[str, str] = {}
    statement = ''
    for line in text.splitlines():
        stripped = line.split('#', 1)[0].rstrip()  # gin values hold no '#'
        if not stripped.strip():
            continue
        if statement and (line[:1].isspace() or statement.endswith('\\') or _open(statement)):
            statement = statement.removesuffix('\\') + ' ' + stripped.strip()
            continue
        _keep(out, statement)
        statement = stripped.strip()
    _keep(out, statement)
    return out


def _keep(out: dict[str, str], statement: str) -> None:
    match = _BINDING.match(statement)
    if match:
        out[match.group(1)] = ' '.join(match.group(2).removesuffix('\\').split())


def _open(statement: str) -> bool:
    """Whether brackets opened in the statement are still open (a value spread over lines)."""
    return sum(statement.count(c) for c in '([{') > sum(statement.count(c) for c in ')]}')


def _literal(raw: str) -> Any:
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw


def _base(bindings: Mapping[str, str]) -> str:
    """The shipped base config whose own bindings the operative ones show."""
    if not any(k.startswith(('variational/blocks.EncoderV2.', 'blocks.EncoderV2.')) for k in bindings):
        return 'v1'
    if 'mel' in bindings.get('model.RAVE.input_mode', ''):
        return 'hybrid'
    if 'raw' in bindings.get('model.RAVE.output_mode', ''):
        return 'v2_nopqmf'
    noise = bindings.get('blocks.GeneratorV2.noise_module', '')
    small = (bindings.get('blocks.NoiseGeneratorV2.noise_bands') == '32'
             and bindings.get('blocks.NoiseGeneratorV2.hidden_size') == '64')
    return 'v2_small' if noise and small else 'v2'
