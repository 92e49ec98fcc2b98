"""RAVE's gin configs: the shipped catalogue read as text (RAVE is never imported here), and real gin checks
of a composition run by the worker services/workers/gin_check.py in a child process.

Kinds: a *base* is v1 or builds on it (choose one); an *add-on* changes a base (causal, snake, …; combine
freely); an *augmentation* is only read through `rave train --augment`. hybrid re-includes v2, so it is an
add-on that also resets v2's CAPACITY and RATIOS — the gin check shows that in its per-file changes.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import re
import subprocess
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from services.i18n import N_, _

# one line each, in RAVE's words (RAVE_NOTES.md §3, RAVE 2.3 README); files RAVE adds later get a generic line
DESCRIPTIONS = {
    'v2_small': N_('Small v2 (capacity 48, 512× compression): fastest to train, good for timbre transfer.'),
    'v2': N_('RAVE v2: the default, multi-period + multi-scale discriminators, 2048× compression.'),
    'v3': N_('v2 with AdaIN, Snake activations and the Descript discriminator, for style transfer.'),
    'v1': N_('The original RAVE: 16-band PQMF, multi-scale discriminator.'),
    'discrete': N_('v2 with residual vector quantisation (16 × 1024 codes), for token models.'),
    'discrete_v3': N_('Discrete with Snake activations and the Descript discriminator.'),
    'v2_nopqmf': N_('Experimental v2 decoding raw audio without the PQMF filter bank, with random compression.'),
    'v2_nopqmf_small': N_('A smaller v2_nopqmf (capacity 64) with a compressor augmentation.'),
    'v2_with_augs': N_('v2 with mel-spectrogram input and random compression augmentation.'),
    'onnx': N_('v1 at capacity 32 without noise, meant for ONNX export.'),
    'raspberry': N_('The onnx config at capacity 16, small enough for a Raspberry Pi 4.'),
    'causal': N_('Causal convolutions: lower latency for real-time use, slightly lower quality.'),
    'snake': N_('Snake activations (periodic), better for pitched material.'),
    'noise': N_('Adds the v2 noise synthesiser to the decoder.'),
    'adain': N_('Adaptive instance normalisation in the decoder, for style transfer.'),
    'descript_discriminator': N_('Replaces the discriminators with the Descript audio codec discriminator.'),
    'spectral_discriminator': N_('Adds EnCodec\'s multi-scale spectral discriminator.'),
    'wasserstein': N_('Wasserstein auto-encoder (MMD) instead of the VAE objective; latent size 16.'),
    'spherical': N_('Spherical auto-encoder: latents on a hypersphere; latent size 16.'),
    'hybrid': N_('Mel-spectrogram encoder with a GRU decoder layer. Re-includes v2, resetting its capacity and '
                 'ratios.'),
    'normalize_ambient': N_('Compresses the training audio with sox (an old-syntax dataset augmentation).'),
    'compress': N_('Random dynamic-range compression of each example (sox compand).'),
    'gain': N_('Random gain of each example.'),
    'mute': N_('Silences a random 10 % of examples.'),
}
ORDER = ['v2_small', 'v2', 'v3', 'v1', 'discrete', 'discrete_v3', 'v2_nopqmf', 'v2_nopqmf_small',
         'v2_with_augs',
         'onnx', 'raspberry']
# RAVE 2.3 README: minimum GPU memory per config at its defaults (batch 8, n_signal 131072)
README_MIN_GB = {'v1': 8, 'v2': 16, 'v2_small': 8, 'v2_nopqmf': 16, 'v3': 32, 'discrete': 18, 'onnx': 6,
                 'raspberry': 5}
MIN_N_SIGNAL = 65536  # smaller crops fail RAVE's receptive-field crop + STFT (32768 fails on v2_small)
HOST_BASE = 'v2_small'  # add-ons and augmentations are checked on top of it
KEY_MACROS = ('SAMPLING_RATE', 'CAPACITY', 'LATENT_SIZE', 'N_BAND', 'RATIOS', 'PHASE_1_DURATION')

_INCLUDE = re.compile(r'^\s*include\s+["\'](.+?)["\']', re.MULTILINE)
_MACRO = re.compile(r'^([A-Z][A-Z0-9_]*)\s*=\s*(.+)$', re.MULTILINE)
_WARMUP = re.compile(r'^\s*(?:rave\.)?(?:RAVE\.)?(phase_1_duration|warmup_len)\s*=\s*(\d+)', re.MULTILINE)


@dataclass(frozen=True)
class BaseConfig:
    name: str
    description: str
    compression: int  # N_BAND × prod(RATIOS) as written: n_signal must be a multiple of it
    discrete: bool


@dataclass(frozen=True)
class ConfigInfo:
    """A gin file as text: where it is, what kind it is and its key values."""
    name: str
    kind: str  # base | addon | augmentation | custom
    description: str
    path: str
    includes: tuple[str, ...] = ()
    values: dict = field(default_factory=dict)  # key macros as written (with includes), for the catalogue
    compression: int | None = None

    @property
    def source(self) -> str:
        return Path(self.path).read_text()


def rave_folder() -> Path | None:
    """The installed `rave` package folder, found without importing it."""
    spec = importlib.util.find_spec('rave')
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def catalogue() -> tuple[ConfigInfo, ...]:
    """Every gin config shipped with the installed RAVE: bases first (best-known first), add-ons,
    augmentations."""
    root = rave_folder()
    if root is None:
        return ()
    found = []
    shipped = root / 'configs'
    for path in sorted(shipped.glob('*.gin')) + sorted((shipped / 'augmentations').glob('*.gin')):
        kind = 'augmentation' if path.parent.name == 'augmentations' else \
            'base' if _is_base(root, path) else 'addon'
        found.append(describe(path, kind, root))
    rank = {'base': 0, 'addon': 1, 'augmentation': 2}
    found.sort(key=lambda c: (rank[c.kind], ORDER.index(c.name) if c.name in ORDER else len(ORDER), c.name))
    return tuple(found)


def describe(path: Path, kind: str, root: Path | None = None, description: str = '') -> ConfigInfo:
    """Read one gin file's includes and key values (what gin would bind, includes first, later ones win)."""
    root = root or rave_folder() or path.parent
    values = _macros(root, path)
    values.update({k: v for k, v in _warmups(root, path).items()})
    compression = None
    if 'RATIOS' in values and kind != 'augmentation':
        compression = int(values.get('N_BAND', 1)) * math.prod(values['RATIOS'])
    return ConfigInfo(path.stem, kind,
                      description or DESCRIPTIONS.get(path.stem, f'RAVE config {path.stem}.gin.'),
                      str(path), tuple(_INCLUDE.findall(path.read_text())),
                      {k: values[k] for k in (*KEY_MACROS, 'warmup_len') if k in values}, compression)


def find(name: str) -> ConfigInfo | None:
    return next((c for c in catalogue() if c.name == name), None)


def of_kind(kind: str) -> list[ConfigInfo]:
    return [c for c in catalogue() if c.kind == kind]


@lru_cache(maxsize=1)
def base_configs() -> tuple[BaseConfig, ...]:
    """The base configs of the installed RAVE, best-known first."""
    return tuple(BaseConfig(c.name, c.description, c.compression or 2048, 'discrete' in c.name)
                 for c in of_kind('base'))


def get(name: str) -> BaseConfig | None:
    return next((c for c in base_configs() if c.name == name), None)


# ---- real gin checks (in a worker) ---------------------------------------------------------------------
def check(python: str, compositions: list[dict], timeout: float = 900) -> list[dict]:
    """Run the gin worker on compositions ({configs, augment, override, channels, model}); blocking.

    Each answer has ok, and either the error (message, file, line, text) or the operative macros, the
    compression ratio, the parameter count and what each config file changed. Call it off the event loop.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_'))}
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                      env.get('PYTHONPATH', '')]))
    out = subprocess.run([python, '-m', 'services.workers.gin_check'],
                         input=json.dumps({'checks': compositions}),
                         capture_output=True, text=True, timeout=timeout, env=env, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith('{')]
    if out.returncode != 0 or not lines:
        tail = '\n'.join(out.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f'The config checker could not run ({python}): {tail or out.returncode}')
    return json.loads(lines[-1])['checks']


def reason(answer: dict) -> str:
    """Why a checked composition is broken, in one line, naming the line of the file that caused it."""
    error = answer.get('error') or {}
    message = error.get('message') or _('unknown error')  # gin's or Python's own words otherwise
    if 'sox_effects' in message:
        message = _('needs torchaudio.sox_effects, which this torchaudio does not have (RAVE_NOTES §6)')
    where = ''
    if error.get('line'):
        where = ' — ' + _('{file} line {line}').format(file=Path(error['file']).name if error.get('file') else
                                                       _('overrides'), line=error['line'])
        where += f': {error["text"]}' if error.get('text') else ''
    said = {'parse': _('gin cannot parse it: {message}'), 'model': _('the model cannot be built: {message}'),
            'augmentation': _('its augmentation fails: {message}')}.get(answer.get('stage'), _('it fails: {message}'))
    return said.format(message=message) + where


def broken(verdict: dict) -> str:
    """Why a config's verdict is broken, in the language of the page that shows it (a verdict cached before the
    studio kept gin's answer says it as it was written)."""
    return reason(verdict) if 'error' in verdict else verdict.get('reason') or ''


def composition_for(info: ConfigInfo) -> dict:
    """How a shipped config is checked on its own: a base alone, an add-on on v2_small, an augmentation via
    --augment."""
    if info.kind == 'augmentation':
        return {'configs': [HOST_BASE], 'augment': [info.name], 'model': False}
    if info.kind == 'addon':
        return {'configs': [HOST_BASE, info.name]}
    return {'configs': [info.name]}


class ConfigStatus:
    """The real gin verdict on every shipped config, cached per installed RAVE (the check takes a minute)."""

    def __init__(self, cache_dir: Path, python) -> None:
        self.path = cache_dir / 'gin_catalogue.json'
        self.python = python  # a callable: the interpreter setting may change while the studio runs
        self.running = False
        self._lock = threading.Lock()
        self._generation = 0

    def cached(self) -> dict[str, dict] | None:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        return data['status'] if data.get('key') == _install_key() else None

    def compute(self) -> dict[str, dict]:
        """Check every shipped config with gin (blocking: call it off the event loop) and cache the verdicts.

        One check at a time: a second caller waits for the first and gets its result."""
        generation = self._generation
        with self._lock:
            if self._generation != generation and (cached := self.cached()) is not None:
                return cached  # computed by the caller we waited for
            self.running = True
            try:
                return self._compute()
            finally:
                self.running = False
                self._generation += 1

    def _compute(self) -> dict[str, dict]:
        items = catalogue()
        answers = check(self.python(), [composition_for(c) for c in items])
        status = {}
        for info, answer in zip(items, answers):
            augs = answer.get('augmentations') or []
            noop = info.kind == 'augmentation' and answer['ok'] and augs and augs[0].get('noop')
            noop_kind = (augs[0].get('kind') or '?') if noop else ''
            changes = answer.get('changes') or []
            changed = changes[-1]['changed'] if info.kind == 'addon' and changes else {}
            status[info.name] = {
                'ok': answer['ok'], 'reason': '' if answer['ok'] else reason(answer),
                'stage': answer.get('stage'), 'error': answer.get('error'),
                'warning': _warning(noop_kind, changed), 'noop': noop_kind,
                'macros': answer.get('macros'), 'compression': answer.get('compression'),
                'parameters': answer.get('parameters'), 'checked_with': answer['configs'], 'changed': changed}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({'key': _install_key(), 'status': status}))
        return status


def estimate_gpu_memory(base: str, batch: int, n_signal: int, capacity: int | None, parameters: int | None,
                        default_capacity: int | None) -> dict | None:
    """An estimate of training GPU memory, in GB, with what it is based on (None without a README figure).

    The README gives each config's minimum at RAVE's defaults (batch 8, n_signal 131072). Weights, gradients
    and Adam's two moments take 16 bytes per parameter; the rest (activations) is scaled linearly by
    batch × n_signal × capacity relative to those defaults.
    """
    minimum = README_MIN_GB.get(base)
    if minimum is None:
        return None
    capacity = capacity or default_capacity or 1
    default_capacity = default_capacity or capacity
    fixed = 16 * (parameters or 0) / 1e9
    fixed_default = fixed * (default_capacity / capacity) ** 2  # parameters grow with capacity squared
    activations = max(minimum - fixed_default,
                      0.5) * (batch * n_signal * capacity) / (8 * 131072 * default_capacity)
    return {'gb': round(fixed + activations, 1), 'readme_gb': minimum,
            'basis': _('estimate: README minimum for {config} ({size} GB at batch 8, n_signal 131072, capacity '
                      '{capacity}) scaled by batch × n_signal × capacity, plus 16 bytes per parameter.')
            .format(config=base, size=minimum, capacity=default_capacity)}


def warning(verdict: dict) -> str:
    """What works but surprises in a verdict, in the language of the page that shows it (a verdict cached before
    the studio kept what it was made from says it as it was written)."""
    if 'noop' not in verdict:
        return verdict.get('warning') or ''
    return _warning(verdict['noop'], verdict.get('changed') or {})


def _warning(noop_kind: str, changed: dict) -> str:
    """What works but surprises: an augmentation that changes nothing (`noop_kind`, the augmentation's kind), an
    add-on that resets the base's shape."""
    if noop_kind:
        return _('runs but does nothing: {kind} returned its input unchanged when forced on').format(kind=noop_kind)
    reset = [f'{k} {old} → {new}' for k, (old, new) in changed.items() if k in ('CAPACITY', 'RATIOS') and old]
    return _('also resets the base: {changes}').format(changes=', '.join(reset)) if reset else ''


# ---- text reading ---------------------------------------------------------------------------------------
def _install_key() -> str:
    root = rave_folder()
    stamp = [importlib.metadata.version('acids-rave') if root else 'none']
    if root:
        stamp += [f'{p.name}:{p.stat().st_mtime_ns}' for p in sorted((root / 'configs').rglob('*.gin'))]
    return hashlib.md5('|'.join(stamp).encode()).hexdigest()


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
    """Upper-case macros as gin would bind them: includes first, later assignments win."""
    values: dict = {}
    text = path.read_text()
    for inc in _includes(root, path):
        if inc.exists():
            values.update(_macros(root, inc))
    for key, raw in _MACRO.findall(text):
        numbers = [int(float(n)) for n in re.findall(r'-?\d+(?:\.\d+)?(?:e\d+)?', raw)]
        if key == 'RATIOS':
            values[key] = numbers
        elif numbers and raw.strip()[0].isdigit():
            values[key] = numbers[0]
    return values


def _warmups(root: Path, path: Path) -> dict:
    """phase_1_duration written on rave.RAVE and BetaWarmupCallback.warmup_len (the β warm-up length)."""
    values: dict = {}
    for inc in _includes(root, path):
        if inc.exists():
            values.update(_warmups(root, inc))
    for key, raw in _WARMUP.findall(path.read_text()):
        values['PHASE_1_DURATION' if key == 'phase_1_duration' else key] = int(raw)
    return values
