"""The one run specification: what to train, on what, how long and where — typed, frozen, stored on the run.

The wizard fills it, templates keep it, resume and rerun rebuild it from the run, and later sweeps and cluster
jobs vary it. It knows every rule that needs no database: its own `validate` (given what the service looked
up), the `rave train` flags and the equivalent command. Model values are gin *literals* (numbers, strings,
booleans, None, lists and tuples of those): a value cannot smuggle a second gin statement or an `@reference`
in. Extra bindings are gin *code* — gin can import and call Python — so the service asks for the right to run
code (`has_code`).
"""
from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from services.i18n import N_, _
from services.training import configs, phases, spec_compat
from services.training.model_values import MODEL_KEYS, MODEL_VALUES, GinValueError, gin_literal, parse_literal
from services.training.run_control import device_errors, gpu_flags
from services.workers.learning_rate import ENV

# rave.RAVE's Adam rates; the worker's hook changes them (learning_rate.py)
RAVE_LR, RAVE_LR_DIS = 0.001, 0.0001
NAME = re.compile(r'[A-Za-z0-9._-]+')


# what `diff` compares, in the order a person reads a run: (field, label)
DIFF_FIELDS = (('dataset', N_('Dataset')), ('configs', N_('Configs')), ('augment', N_('Augmentations')),
               ('overrides', N_('Overrides')), ('max_steps', N_('Max steps')), ('val_every', N_('Validate every')),
               ('save_every', N_('Save every')), ('n_signal', 'n_signal'), ('batch', N_('Batch')),
               ('channels', N_('Channels')), ('device', N_('Device')), ('workers', N_('Workers')),
               ('lr', N_('Learning rate')), ('ema', N_('EMA')))  # labels shown through _()


@dataclass(frozen=True)
class TrainingData:
    """What a run needs to know of its dataset (a copy of the row's figures)."""
    id: int
    name: str
    path: str
    status: str = 'ready'
    sr: int | None = None
    channels: int | None = None
    n_examples: int | None = None
    n_seconds: float | None = None
    num_signal: int | None = None  # samples per example as preprocessed (each stores twice that)
    lazy: bool = False
    on_cluster: bool = False  # it lives on the cluster's file system: only a run on the cluster reads it

    @classmethod
    def of(cls, row) -> TrainingData:
        params = row.params or {}
        return cls(row.id, row.name, row.path, row.status, row.sr, row.channels, row.n_examples, row.n_seconds,
                   params.get('num_signal'), bool(row.lazy), params.get('location') == 'cluster')


class CustomConfig(Protocol):
    """What validation needs of a project's own config (services.training.views.ConfigEntry has it)."""
    role: str  # base | addon
    compression: int | None


@dataclass(frozen=True)
class RunSpec:
    """One training run as chosen: `rave train`'s flags plus the studio's own (learning rates, recovery)."""
    dataset: int | None = None  # the dataset's id
    name: str = ''
    description: str = ''
    base: str = 'v2_small'  # a shipped base config or one of the project's own, by name
    addons: tuple[str, ...] = ()
    augment: tuple[str, ...] = ()
    macros: Mapping[str, Any] = field(default_factory=dict)  # model values changed, as gin literals
    bindings: tuple[str, ...] = ()  # extra gin bindings, one per line: code
    max_steps: int = 100000
    val_every: int = 1000
    save_every: int | None = None  # None: RAVE's 500 000
    n_signal: int = 131072
    batch: int = 8
    channels: int = 1
    devices: tuple[str, ...] = ('cpu',)
    workers: int = 0
    ema: float | None = None
    lr: float | None = None  # None: RAVE's own
    lr_dis: float | None = None
    recover: int = 0  # automatic restarts from the newest checkpoint after a crash

    def __post_init__(self) -> None:
        for name in ('addons', 'augment', 'bindings', 'devices'):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, 'macros', MappingProxyType(dict(self.macros)))
        object.__setattr__(self, 'name', self.name.strip())
        object.__setattr__(self, 'bindings', tuple(b.strip() for b in self.bindings if b.strip()))
        if self.lr == RAVE_LR:  # RAVE's own rate is no change: the same run whether or not it is written
            object.__setattr__(self, 'lr', None)
        if self.lr_dis == RAVE_LR_DIS:
            object.__setattr__(self, 'lr_dis', None)

    # ---- what it is ------------------------------------------------------------------------------
    @property
    def configs(self) -> tuple[str, ...]:
        return (self.base, *self.addons)

    @property
    def device(self) -> str:
        """The job engine's slot string: 'cpu', 'gpu:0' or 'gpu:0,gpu:1'."""
        return ','.join(self.devices)

    @property
    def has_code(self) -> bool:
        """Whether it carries gin code (extra bindings), which needs the right to run Python."""
        return bool(self.bindings)

    def fitted(self, dataset: TrainingData) -> RunSpec:
        """This spec on `dataset`: its channels, and a batch no larger than its training examples (a first
        dataset of a few files holds fewer than RAVE's default batch)."""
        batch = min(self.batch, _split(dataset.n_examples)[0]) if dataset.n_examples else self.batch
        return self.replace(dataset=dataset.id, channels=dataset.channels or 1, batch=batch)

    def replace(self, **changes) -> RunSpec:
        return dataclasses.replace(self, **changes)

    def overrides(self) -> list[str]:
        """The `--override` strings: each model value as a checked gin literal, then the extra bindings."""
        out = []
        for key, value in self.macros.items():
            if key not in MODEL_KEYS:
                raise GinValueError(f'{key} is not one of the model values: write it as an extra gin '
                                    'binding.')
            out.append(f'{key}={gin_literal(value)}')
        return out + list(self.bindings)

    def env(self) -> dict[str, str]:
        """The environment the training worker reads its learning-rate hook from (services/workers/learning_rate)."""
        out = {}
        if self.lr:
            out[ENV['gen']] = repr(float(self.lr))
        if self.lr_dis:
            out[ENV['dis']] = repr(float(self.lr_dis))
        return out

    # ---- checks ----------------------------------------------------------------------------------
    def field_errors(self) -> list[str]:
        """What is wrong with the choices themselves, before anything is looked up or checked with gin."""
        errors = []
        if not self.name:
            errors.append(_('Give the run a name.'))
        elif not NAME.fullmatch(self.name):
            errors.append(_('Use only letters, digits, ".", "_" and "-" in the run name (it becomes a folder).'))
        if self.max_steps < 1 or self.val_every < 1:
            errors.append(_('Max steps and validate every must be at least 1.'))
        if self.save_every is not None and self.save_every < 1:
            errors.append(_("Save every must be at least 1 step (or left empty for RAVE's default)."))
        if self.lr is not None and not 0 < self.lr < 1:
            errors.append(_('The learning rate must be between 0 and 1 (RAVE uses 0.001).'))
        if self.lr_dis is not None and not 0 < self.lr_dis < 1:
            errors.append(_('The discriminator rate must be between 0 and 1 (RAVE uses 0.0001).'))
        if self.ema is not None and not 0 < self.ema < 1:
            errors.append(_('EMA must be between 0 and 1, e.g. 0.999 (or off).'))
        if self.batch < 1:
            errors.append(_('Batch size must be at least 1.'))
        if self.workers < 0:
            errors.append(_('Data loader workers cannot be negative (0 reads in the training process).'))
        if not self.devices:
            errors.append(_('Choose a device: the CPU or one or more GPUs.'))
        return errors + self.value_errors()

    def value_errors(self) -> list[str]:
        """Each model value that is not a gin literal (or not a value the studio exposes), with what to
        write."""
        errors = []
        for key, value in self.macros.items():
            if key not in MODEL_KEYS:
                errors.append(_('{key} is not one of the model values: write it as an extra gin binding '
                                'instead.').format(key=key))
                continue
            try:
                parsed = parse_literal(value)
            except GinValueError as e:
                errors.append(f'{_(_label(key))}: {e}')
                continue
            if key == 'RATIOS' and not (isinstance(parsed, (list, tuple)) and parsed and
                                        all(isinstance(r, int) and not isinstance(r, bool) and r > 0
                                            for r in parsed)):
                errors.append(_('Ratios must be a list of whole numbers, e.g. [4, 2, 2, 2].'))
        return errors

    def config_errors(self, custom: Mapping[str, CustomConfig]) -> list[str]:
        """Configs that are neither shipped with RAVE nor the project's own (no other file is read by gin)."""
        errors = []
        if _base(self.base, custom, None) is None:
            errors.append(_('Unknown base config "{config}". Pick one from the list.').format(config=self.base))
        for addon in self.addons:
            shipped = configs.find(addon)
            own = addon in custom and custom[addon].role == 'addon'
            if not ((shipped and shipped.kind != 'augmentation') or own):
                errors.append(_('Unknown add-on "{config}". Pick one from the list.').format(config=addon))
        for aug in self.augment:
            shipped = configs.find(aug)
            if not (shipped and shipped.kind == 'augmentation'):
                errors.append(_('Unknown augmentation "{config}". Pick one from the list.').format(config=aug))
        return errors

    def validate(self, dataset: TrainingData | None, composition: dict | None = None, *,
                 taken: Collection[str] = (), custom: Mapping[str, CustomConfig] | None = None,
                 gpus: Collection[int] | None = None) -> list[str]:
        """Everything that would make RAVE fail at start, each with what to do instead.

        `composition` is the gin worker's answer for these configs (configs.check): with it, the checks use
        the composed model's real compression ratio and receptive field, and a gin error blocks. `taken`
        are the project's run names, `custom` its own configs by name, `gpus` this machine's GPUs (None:
        not checked)."""
        errors = self.field_errors()
        if self.name and self.name in taken:
            errors.append(_('A run called "{name}" exists already in this project. Pick another name.')
                          .format(name=self.name))
        custom = custom or {}
        errors += self.config_errors(custom)
        base = _base(self.base, custom, composition)
        if composition is not None and not composition.get('ok'):
            errors.append(_('The chosen configs do not work: {reason}.').format(reason=configs.reason(composition)))
        elif composition is not None and composition.get('compression') and base is not None:
            base = configs.BaseConfig(base.name, base.description, int(composition['compression']),
                                      base.discrete)
        if dataset is None:
            errors.append(_('Choose a dataset (build one on the Datasets page first).'))
        elif dataset.status != 'ready':
            errors.append(_('The dataset "{name}" is {status}, not ready. Wait for it or pick another.')
                          .format(name=dataset.name, status=_(dataset.status)))
        if base is not None:
            errors += self._crop_errors(base, composition)
        if dataset is not None:
            errors += self._dataset_errors(dataset, base)
        if gpus is not None and self.devices:
            errors += device_errors(self.device, list(gpus))
        return errors

    def _crop_errors(self, base: configs.BaseConfig, composition: dict | None) -> list[str]:
        """n_signal against the model: a multiple of its compression, longer than its receptive field."""
        errors = []
        if self.n_signal % base.compression:
            near = max(configs.MIN_N_SIGNAL, round(self.n_signal / base.compression) * base.compression)
            errors.append(_('n_signal must be a multiple of {compression} for {config} (its compression ratio); '
                            'try {near}.').format(compression=base.compression, config=self.base, near=near))
        if self.n_signal < configs.MIN_N_SIGNAL:
            errors.append(_("n_signal must be at least {samples} samples: shorter crops do not cover the model's "
                            "receptive field.").format(samples=configs.MIN_N_SIGNAL))
        field_ = (composition or {}).get('receptive_field')
        if field_ and self.n_signal <= sum(field_) + 2048:
            errors.append(_("n_signal must be larger than the model's receptive field plus the 2048-point "
                            "STFT ({samples} samples): use a longer crop.").format(samples=sum(field_) + 2048))
        return errors

    def _dataset_errors(self, dataset: TrainingData, base: configs.BaseConfig | None) -> list[str]:
        """What the dataset allows (RAVE_NOTES §7): the crop, the channels, the split, the PCA of
        validation."""
        errors = []
        if dataset.num_signal and self.n_signal > 2 * dataset.num_signal and not dataset.lazy:
            errors.append(_('n_signal can be at most {samples} for this dataset (it stores {samples} samples per '
                            'example); lower it or rebuild the dataset.').format(samples=2 * dataset.num_signal))
        if dataset.channels and not 1 <= self.channels <= dataset.channels:
            errors.append(_('The dataset has {count} channel(s): train with 1 to {count}.')
                          .format(count=dataset.channels))
        if dataset.n_examples:
            train, val = _split(dataset.n_examples)
            if train // max(self.batch, 1) < 1:
                errors.append(_('Batch {batch} is larger than the {train} training examples of this dataset: use '
                                'a batch of at most {train}.').format(batch=self.batch, train=train))
            if base is not None and not base.discrete and val * self.n_signal // base.compression < 128:
                errors.append(_('Validation needs at least 128 latent frames and this dataset keeps {count} '
                                'example(s) for it: use more audio, a larger n_signal or a config with less '
                                'compression.').format(count=val))
        return errors

    def warnings(self, dataset: TrainingData | None, composition: dict | None,
                 folders: Collection[str] = ()) -> list[str]:
        """What would not stop RAVE but is probably not what you want; `folders` are the runs folder's
        entries."""
        out = phases.short_run(self.max_steps, self.macros, composition)
        sr = ((composition or {}).get('macros') or {}).get('SAMPLING_RATE')
        if dataset is not None and sr and dataset.sr and int(sr) != int(dataset.sr):
            out.append(_('The config trains at {config} Hz but the dataset is {dataset} Hz: RAVE would '
                         'resample every crop. Set SAMPLING_RATE to {dataset} (Parameters step).')
                       .format(config=sr, dataset=dataset.sr))
        taken = sorted(f for f in folders if self.name and f.startswith(f'{self.name}_'))
        if taken:
            out.append(_('The runs folder already holds {folders}: RAVE names the run folder '
                         '<name>_<config hash>, so the same name and config adds a version there.')
                       .format(folders=', '.join(taken)))
        return out

    # ---- RAVE's words ----------------------------------------------------------------------------
    def flags(self, db_path: str, out_path: str, paths: Mapping[str, str] | None = None) -> list[str]:
        """The `rave train` flags; `paths` gives the .gin file of each of the project's own configs."""
        paths = paths or {}
        flags = []
        for config in self.configs:
            flags += ['--config', paths.get(config, config)]
        for aug in self.augment:
            flags += ['--augment', aug]
        flags += ['--db_path', db_path, '--out_path', out_path, '--name', self.name or '<name>',
                  '--max_steps', str(self.max_steps), '--val_every', str(self.val_every),
                  '--n_signal', str(self.n_signal), '--batch', str(self.batch), '--channels',
                  str(self.channels),
                  *gpu_flags(self.device), '--workers', str(self.workers)]
        if self.save_every:
            flags += ['--save_every', str(self.save_every)]
        if self.ema:
            flags += ['--ema', str(self.ema)]
        for binding in self.overrides():
            flags += ['--override', binding]
        return flags

    def command(self, db_path: str, out_path: str, paths: Mapping[str, str] | None = None) -> str:
        """The equivalent shell command (with the learning-rate variables the studio's worker reads)."""
        return command(self.flags(db_path, out_path, paths), self.env())

    def diff(self, other: RunSpec, datasets: Mapping[int, str] | None = None) -> list[tuple[str, str, str]]:
        """(label, this, other) for each choice that differs; `datasets` names the dataset ids."""
        mine, theirs = self.summary(datasets), other.summary(datasets)
        return [(label, mine[key], theirs[key]) for key, label in DIFF_FIELDS if mine[key] != theirs[key]]

    def summary(self, datasets: Mapping[int, str] | None = None) -> dict[str, str]:
        """Each choice of DIFF_FIELDS as a person reads it."""
        try:
            overrides = ', '.join(self.overrides()) or _('none')
        except GinValueError:
            overrides = ', '.join(f'{k}={v}' for k, v in self.macros.items())
        name = (datasets or {}).get(self.dataset) if self.dataset is not None else None
        return {'dataset': name or (f'#{self.dataset}' if self.dataset is not None else '—'),
                'configs': ' + '.join(self.configs), 'augment': ', '.join(self.augment) or _('none'),
                'overrides': overrides, 'max_steps': str(self.max_steps), 'val_every': str(self.val_every),
                'save_every': str(self.save_every or ''), 'n_signal': str(self.n_signal),
                'batch': str(self.batch),
                'channels': str(self.channels), 'device': self.device, 'workers': str(self.workers),
                'lr': _show(self.lr), 'ema': _show(self.ema)}

    # ---- storage ---------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-ready copy (Run.params['spec'], templates)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out.update(macros=dict(self.macros),
                   **{k: list(out[k]) for k in ('addons', 'augment', 'bindings', 'devices')})
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> RunSpec:
        """Rebuild a spec, also from what older studios stored (wizard choices of templates, run
        parameters)."""
        data = spec_compat.upgrade(data)
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known and v is not None}
        for key in ('max_steps', 'val_every', 'n_signal', 'batch', 'channels', 'workers', 'recover'):
            if key in values:
                values[key] = int(values[key] or 0)
        return cls(**values)

    @classmethod
    def of_run(cls, configs_: list[str], params: Mapping, dataset: int | None, name: str) -> RunSpec:
        """The spec of a stored run: its own copy, or one rebuilt from the parameters older studios kept."""
        if params.get('spec'):
            return cls.from_dict(params['spec'])
        names = [c.rsplit('/', 1)[-1].removesuffix('.gin') for c in configs_] or ['v2_small']
        return cls.from_dict({**params, 'base': names[0], 'addons': names[1:], 'dataset': dataset,
                              'name': name})


def command(flags: list[str], env: Mapping[str, str] | None = None) -> str:
    """`rave train …` as a shell line, prefixed by the environment the studio's worker reads."""
    return ''.join(f'{k}={v} ' for k, v in (env or {}).items()) + 'rave train ' + shlex.join(flags)


# ---- helpers ----------------------------------------------------------------------------------------------
def _base(name: str, custom: Mapping[str, CustomConfig],
          composition: dict | None) -> configs.BaseConfig | None:
    shipped = configs.get(name)
    if shipped is not None:
        return shipped
    own = custom.get(name)
    if own is None or own.role != 'base':
        return None
    compression = int((composition or {}).get('compression') or own.compression or 2048)
    return configs.BaseConfig(name, 'Custom config.', compression, False)


def _split(n_examples: int) -> tuple[int, int]:
    """(training, validation) examples of a dataset, as RAVE splits it (98 % / the rest, at most 1 000)."""
    train = max(98 * n_examples // 100, 1)
    return train, min(n_examples - train, 1000)


def _label(key: str) -> str:
    return next((v.label for v in MODEL_VALUES if v.key == key), key)


def _show(value: Any) -> str:
    return '' if value is None else str(value)
