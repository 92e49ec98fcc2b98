"""What a sweep is, as chosen: the base RunSpec, the choices it varies and how, what it optimises, its budget,
its method and pruner — typed, frozen, stored on the Sweep row, checked with sentences before anything runs.

No Optuna here: `controller.py` turns a SweepSpec into Optuna's sampler, pruner and `trial.suggest_*` calls,
so the wizard checks and describes a sweep without importing it.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.i18n import N_, _
from services.training.model_values import MODEL_KEYS, MODEL_VALUES, GinValueError, parse_literal
from services.training.spec import NAME, RunSpec

# RunSpec fields a sweep may vary: key -> (label, type); the model values (gin macros) come beside them
FIELDS: dict[str, tuple[str, type]] = {
    'lr': (N_('Learning rate'), float), 'lr_dis': (N_('Discriminator rate'), float), 'ema': (N_('EMA'), float),
    'batch': (N_('Batch'), int), 'n_signal': ('n_signal', int), 'max_steps': (N_('Max steps'), int),
    'base': (N_('Base config'), str),
}
METHODS = {'grid': N_('Grid: every combination of the choices, in the order listed'),
           'random': N_('Random: values drawn independently'),
           'tpe': N_('Bayesian (TPE): each trial learns from the earlier ones')}  # shown through _()
PRUNERS = {'none': N_('No pruning: every trial runs to its end'),
           'median': N_('Median: stop a trial worse than the median of finished ones at the same step'),
           'hyperband': N_('Hyperband: successive halving over the validation steps'),
           'threshold': N_('Threshold: stop a trial whose objective passes a limit (it diverged)')}
KINDS = ('float', 'int', 'choice')
GRID_ERROR = N_('A grid needs a list of choices for every parameter: list the values to try (or choose random '
                'or Bayesian for ranges).')  # the wizard's Parameters step checks this one


def label(key: str) -> str:
    """A parameter as a person reads it, in the page's language: the RunSpec field's or model value's label."""
    if key in FIELDS:
        return _(FIELDS[key][0])
    return next((_(v.label) for v in MODEL_VALUES if v.key == key), key)


def parameters() -> dict[str, str]:
    """Every parameter a sweep may vary, key -> label (the wizard's list)."""
    return {**{k: _(v[0]) for k, v in FIELDS.items()}, **{v.key: _(v.label) for v in MODEL_VALUES}}


@dataclass(frozen=True)
class Param:
    """One varied choice: a range (float or int, optionally log scale) or a list of choices."""
    key: str
    kind: str = 'float'  # float | int | choice
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, 'choices', tuple(self.choices))

    def errors(self) -> list[str]:
        name = label(self.key)
        if self.key not in FIELDS and self.key not in MODEL_KEYS:
            return [_('{key} is neither a training choice nor a model value: pick one from the list.')
                    .format(key=self.key)]
        if self.kind not in KINDS:
            return [_('{name}: choose a range of numbers, of whole numbers, or a list of choices.').format(name=name)]
        if self.kind == 'choice':
            if len(self.choices) < 2:
                return [_('{name}: give at least two choices, separated by commas.').format(name=name)]
            if len(set(map(repr, self.choices))) < len(self.choices):
                return [_('{name}: a choice is listed twice.').format(name=name)]
            return [f'{name}: {e}' for e in (_choice_error(self.key, c) for c in self.choices) if e]
        if self.key in FIELDS and FIELDS[self.key][1] is str:
            return [_('{name} takes names, not numbers: list the choices.').format(name=name)]
        if self.low is None or self.high is None or not (math.isfinite(self.low) and math.isfinite(self.high)):
            return [_('{name}: give the lowest and highest value of the range.').format(name=name)]
        if self.low >= self.high:
            return [_('{name}: the lowest value must be below the highest.').format(name=name)]
        if self.log and self.low <= 0:
            return [_('{name}: a log scale needs a lowest value above 0.').format(name=name)]
        if self.kind == 'int' and (self.low != int(self.low) or self.high != int(self.high)):
            return [_('{name}: a range of whole numbers needs whole ends.').format(name=name)]
        if self.key in FIELDS and FIELDS[self.key][1] is int and self.kind == 'float':
            return [_('{name} is a whole number: choose a range of whole numbers.').format(name=name)]
        return []

    def size(self) -> int | None:
        """How many values it takes (None: a continuous range)."""
        if self.kind == 'choice':
            return len(self.choices)
        return int(self.high - self.low) + 1 if self.kind == 'int' else None

    def describe(self) -> str:
        if self.kind == 'choice':
            return f'{label(self.key)} ∈ {{{", ".join(map(str, self.choices))}}}'
        scale = _(', log') if self.log else ''
        return f'{label(self.key)} ∈ [{_num(self.low)}, {_num(self.high)}{scale}]'


@dataclass(frozen=True)
class Objective:
    """What a trial is judged by: a logged metric's best value, or its value at (or last before) a step."""
    metric: str = 'val/validation'
    mode: str = 'best'  # best | at
    step: int | None = None
    direction: str = 'minimize'  # minimize | maximize

    def of(self, steps: list[int], values: list[float]) -> float | None:
        """The trial's value from the metric's series (None when it logged nothing that counts)."""
        pairs = [(s, v) for s, v in zip(steps, values) if math.isfinite(v)]
        if self.mode == 'at':
            pairs = [(s, v) for s, v in pairs if self.step is None or s <= self.step]
            return pairs[-1][1] if pairs else None
        if not pairs:
            return None
        pick = min if self.direction == 'minimize' else max
        return pick(v for _, v in pairs)

    def describe(self) -> str:
        lowest = self.direction == 'minimize'
        if self.mode == 'at':
            said = _('{metric} at step {step} (lowest wins)') if lowest else _('{metric} at step {step} (highest wins)')
            return said.format(metric=self.metric, step=self.step)
        return (_('lowest {metric}') if lowest else _('highest {metric}')).format(metric=self.metric)


@dataclass(frozen=True)
class Budget:
    trials: int = 10
    gpu_hours: float | None = None  # device-hours of all trials together (None: no limit)
    parallel: int = 1  # trials queued or training at once


@dataclass(frozen=True)
class SweepSpec:
    name: str
    base: RunSpec
    params: tuple[Param, ...]
    objective: Objective = Objective()
    budget: Budget = Budget()
    method: str = 'tpe'
    pruner: str = 'none'
    startup: int = 1  # finished trials before the pruner judges (median)
    warmup: int = 0  # steps of each trial before it may be pruned
    threshold: float | None = None  # the threshold pruner's limit
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, 'params', tuple(self.params))
        object.__setattr__(self, 'name', self.name.strip())

    def errors(self) -> list[str]:
        """What is wrong with the sweep's own choices, each with what to do instead."""
        errors = []
        if not self.name:
            errors.append(_('Give the sweep a name.'))
        elif not NAME.fullmatch(self.name):
            errors.append(_('Use only letters, digits, ".", "_" and "-" in the sweep name (its trials are named '
                            'after it).'))
        if not self.params:
            errors.append(_('Choose at least one parameter to vary.'))
        keys = [p.key for p in self.params]
        if len(set(keys)) < len(keys):
            errors.append(_('A parameter is varied twice: keep one row per parameter.'))
        for param in self.params:
            errors += param.errors()
        if self.method not in METHODS:
            errors.append(_('Choose a method: grid, random or Bayesian.'))
        if self.method == 'grid' and any(p.kind != 'choice' for p in self.params):
            errors.append(_(GRID_ERROR))
        if self.pruner not in PRUNERS:
            errors.append(_('Choose a pruner, or none.'))
        if self.pruner == 'threshold' and (self.threshold is None or not math.isfinite(self.threshold)):
            errors.append(_('The threshold pruner needs a limit: the objective value past which a trial stops.'))
        if self.budget.trials < 1 or self.budget.parallel < 1:
            errors.append(_('The budget needs at least one trial, and at least one at a time.'))
        if self.budget.gpu_hours is not None and self.budget.gpu_hours <= 0:
            errors.append(_('A device-hours budget must be above 0 (or left empty for no limit).'))
        if self.startup < 0 or self.warmup < 0:
            errors.append(_("The pruner's start-up trials and warm-up steps cannot be negative."))
        if self.objective.mode not in ('best', 'at') or self.objective.direction not in ('minimize', 'maximize'):
            errors.append(_('Choose the objective: the best value of a metric, or its value at a step.'))
        if self.objective.mode == 'at' and (self.objective.step is None or self.objective.step < 1):
            errors.append(_('Give the step at which the objective is read (at least 1).'))
        if self.objective.mode == 'at' and self.objective.step and self.objective.step > self.base.max_steps:
            errors.append(_("The objective's step {step} is past the trials' max steps ({max_steps}): read it earlier "
                            "or train longer.").format(step=self.objective.step, max_steps=self.base.max_steps))
        return errors

    @property
    def trials(self) -> int:
        """How many trials it runs: the budget, or the whole grid when that is smaller."""
        grid = self.grid_size()
        return min(self.budget.trials, grid) if grid is not None else self.budget.trials

    def grid_size(self) -> int | None:
        if self.method != 'grid':
            return None
        return math.prod(p.size() or 1 for p in self.params)

    def grid(self) -> list[dict[str, Any]]:
        """Every combination of the choices, the first parameter's varying slowest."""
        return [dict(zip((p.key for p in self.params), values))
                for values in itertools.product(*(p.choices for p in self.params))]

    def trial_spec(self, number: int, values: Mapping[str, Any]) -> RunSpec:
        """The run of trial `number`: the base with the trial's values (fields typed, macros as literals)."""
        changes: dict[str, Any] = {'name': f'{self.name}-t{number}',
                                   'description': f'Trial {number} of sweep {self.name}: ' +
                                                  ', '.join(f'{label(k)} {v}' for k, v in values.items())}
        macros = dict(self.base.macros)
        for key, value in values.items():
            if key in FIELDS:
                changes[key] = FIELDS[key][1](value)
            else:
                macros[key] = value
        return self.base.replace(macros=macros, **changes)

    # ---- storage ---------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out.update(base=self.base.to_dict(), objective=dataclasses.asdict(self.objective),
                   budget=dataclasses.asdict(self.budget),
                   params=[{**dataclasses.asdict(p), 'choices': list(p.choices)} for p in self.params])
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> SweepSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values['base'] = RunSpec.from_dict(data.get('base') or {})
        values['params'] = tuple(Param(**p) for p in data.get('params') or ())
        values['objective'] = Objective(**(data.get('objective') or {}))
        values['budget'] = Budget(**(data.get('budget') or {}))
        return cls(**values)


def choices_of(key: str, text: str) -> tuple:
    """A comma-separated list as the parameter's values: numbers as numbers, the rest as written."""
    out = []
    for part in (p.strip() for p in _split(text)):
        if not part:
            continue
        try:
            value = parse_literal(part)
        except GinValueError:
            value = part
        if (key in FIELDS and FIELDS[key][1] is str) or isinstance(value, (list, tuple)):
            value = part  # Optuna's choices are plain values: a list stays its gin text, which the macro takes
        out.append(value)
    return tuple(out)


def _split(text: str) -> list[str]:
    """Commas split choices, except inside brackets (a ratio list is one choice)."""
    parts, depth, current = [], 0, ''
    for char in text:
        depth += char in '[(' and 1 or (-1 if char in '])' else 0)
        if char == ',' and depth == 0:
            parts.append(current)
            current = ''
        else:
            current += char
    return [*parts, current]


def _choice_error(key: str, value: Any) -> str:
    if key in FIELDS:
        kind = FIELDS[key][1]
        if kind is str:
            return '' if isinstance(value, str) and value else 'give config names.'
        if not isinstance(value, (int, float)) or isinstance(value, bool) or (kind is int and value != int(value)):
            return f'{value} is not a {"whole number" if kind is int else "number"}.'
        return ''
    try:
        parse_literal(value)
    except GinValueError as e:
        return str(e)
    return ''


def _num(value: float | None) -> str:
    return '' if value is None else f'{value:g}'
