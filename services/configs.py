"""RAVE's base configs, read as text from the installed `rave/configs` folder (RAVE is never imported here)."""
from __future__ import annotations

import importlib.util
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# one line each, in RAVE's words (RAVE_NOTES.md §3); configs RAVE adds later still show, with a generic line
DESCRIPTIONS = {
    'v2_small': 'Small v2 (capacity 48, 512× compression): fastest to train, good for timbre transfer.',
    'v2': 'RAVE v2: the default, multi-period + multi-scale discriminators, 2048× compression.',
    'v3': 'v2 with AdaIN, Snake activations and the Descript discriminator.',
    'v1': 'The original RAVE: 16-band PQMF, multi-scale discriminator.',
    'discrete': 'v2 with residual vector quantisation (16 × 1024 codes), for token models.',
    'discrete_v3': 'Discrete with Snake activations and the Descript discriminator.',
    'v2_nopqmf': 'v2 decoding raw audio without the PQMF filter bank.',
    'v2_with_augs': 'v2 with mel-spectrogram input and random compression augmentation.',
    'onnx': 'v1 at capacity 32 without noise, meant for ONNX export.',
    'raspberry': 'The onnx config at capacity 16, small enough for a Raspberry Pi.',
}
ORDER = list(DESCRIPTIONS)
BROKEN = {'v2_nopqmf_small'}  # does not parse in RAVE 2.3.1 (RAVE_NOTES.md §3)
MIN_N_SIGNAL = 65536  # smaller crops fail RAVE's receptive-field crop + STFT (32768 fails on v2_small)

_INCLUDE = re.compile(r'^\s*include\s+["\'](.+?)["\']', re.MULTILINE)
_MACRO = re.compile(r'^(N_BAND|RATIOS)\s*=\s*(.+)$', re.MULTILINE)


@dataclass(frozen=True)
class BaseConfig:
    name: str
    description: str
    compression: int  # N_BAND × prod(RATIOS): n_signal must be a multiple of it
    discrete: bool


def rave_folder() -> Path | None:
    """The installed `rave` package folder, found without importing it."""
    spec = importlib.util.find_spec('rave')
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def base_configs() -> tuple[BaseConfig, ...]:
    """The base configs of the installed RAVE, best-known first."""
    root = rave_folder()
    if root is None:
        return ()
    found = []
    for path in sorted((root / 'configs').glob('*.gin')):
        name = path.stem
        if name in BROKEN or not _is_base(root, path):
            continue
        macros = _macros(root, path)
        ratios = macros.get('RATIOS', [4, 4, 4, 2])
        found.append(BaseConfig(name, DESCRIPTIONS.get(name, f'RAVE config {name}.gin.'),
                                int(macros.get('N_BAND', 16)) * math.prod(ratios), 'discrete' in name))
    found.sort(key=lambda c: (ORDER.index(c.name) if c.name in ORDER else len(ORDER), c.name))
    return tuple(found)


def get(name: str) -> BaseConfig | None:
    return next((c for c in base_configs() if c.name == name), None)


def _includes(root: Path, path: Path) -> list[Path]:
    return [root / inc for inc in _INCLUDE.findall(path.read_text())]


def _is_base(root: Path, path: Path) -> bool:
    """A base config is v1 or builds on it (add-ons such as causal or snake do not); hybrid re-includes v2."""
    if path.stem == 'v1':
        return True
    if path.stem == 'hybrid':
        return False
    return any(inc.exists() and _is_base(root, inc) for inc in _includes(root, path))


def _macros(root: Path, path: Path) -> dict:
    """N_BAND and RATIOS as gin would bind them: includes first, later assignments win."""
    values: dict = {}
    text = path.read_text()
    for inc in _includes(root, path):
        if inc.exists():
            values.update(_macros(root, inc))
    for key, raw in _MACRO.findall(text):
        numbers = [int(n) for n in re.findall(r'\d+', raw)]
        values[key] = numbers if key == 'RATIOS' else numbers[0]
    return values
