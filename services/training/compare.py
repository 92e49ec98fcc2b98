"""Runs side by side: the parameters that differ, every metric overlaid on a shared step axis, and per run the
best and last value of each metric and its training speed.

Overlays are cut down per run to what a chart can show (min/max buckets, or bucket means of the smoothed curve,
`metrics.display`), so 100 runs of 10 000 steps each become ~100 × 2·BUCKETS points.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services import lazy
from services.training import configs, metrics
from services.training.model_values import MODEL_VALUES, gin_text
from services.training.spec import DIFF_FIELDS, RunSpec

np = lazy.module('numpy')

MIN_RUNS, MAX_RUNS = 2, 20
BUCKETS = 300
LOWER_IS_BETTER = ('loss', 'distance', 'validation', 'regularization', 'feature_matching', 'adversarial')


@dataclass(frozen=True)
class ParameterRow:
    label: str
    values: tuple[str, ...]  # one per run, as a person reads it

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


@dataclass(frozen=True)
class MetricRow:
    """One metric across the runs: best (lowest, or highest where higher is better) and last values."""
    key: str
    best: tuple[float | None, ...]
    last: tuple[float | None, ...]
    lower_is_better: bool


@dataclass(frozen=True)
class Trace:
    run_id: int
    name: str
    steps: list
    values: list


def parameters(specs: Sequence[RunSpec], datasets: Mapping[int, str]) -> list[ParameterRow]:
    """Every choice of the runs as rows; a model value shows what the run trains with (its base config's value
    when it did not change it)."""
    summaries = [s.summary(datasets) for s in specs]
    rows = [ParameterRow(label, tuple(s[key] for s in summaries)) for key, label in DIFF_FIELDS if key != 'overrides']
    for value in MODEL_VALUES:
        rows.append(ParameterRow(value.label, tuple(_model_value(s, value.key) for s in specs)))
    rows.append(ParameterRow('Extra bindings', tuple('\n'.join(s.bindings) or 'none' for s in specs)))
    return rows


def metric_rows(series: Sequence) -> list[MetricRow]:
    """Best and last value of every scalar any of the runs logged (MetricsView or Series, one per run)."""
    keys = sorted({k for s in series for k in s.values} - metrics.NOT_CHARTED, key=_order)
    out = []
    for key in keys:
        lower = key.rsplit('/', 1)[-1].startswith(LOWER_IS_BETTER) or key.endswith(LOWER_IS_BETTER)
        best, last = [], []
        for s in series:
            values = np.asarray(s.values[key], dtype=np.float64) if key in s.values else np.empty(0)
            finite = values[np.isfinite(values)]
            best.append(float(finite.min() if lower else finite.max()) if finite.size else None)
            last.append(float(values[-1]) if values.size and math.isfinite(values[-1]) else None)
        out.append(MetricRow(key, tuple(best), tuple(last), lower))
    return out


def overlay(named: Sequence[tuple[int, str, object]], key: str, smoothing: float = 0.0,
            buckets: int = BUCKETS, axis: str = 'step') -> list[Trace]:
    """Each run's curve of `key` (runs that did not log it are left out), thinned for display; with
    `axis='time'` its x values are hours of wall-clock time since the run's first step (runs that logged no
    wall time are left out)."""
    out = []
    for run_id, name, series in named:
        if key not in series.values or key not in series.steps:
            continue
        xs, ys = metrics.display(series.steps[key], series.values[key], smoothing, buckets)
        if axis == 'time':
            xs = _hours(series, xs)
            if xs is None:
                continue
        out.append(Trace(run_id, name, xs, ys))
    return out


def _hours(series, steps: list) -> list | None:
    """Wall-clock hours since the first step at each of `steps` (interpolated between logged steps)."""
    wall_steps, wall = series.steps.get(metrics.WALL_TIME), series.values.get(metrics.WALL_TIME)
    if wall_steps is None or wall is None or not len(wall):
        return None
    at = np.interp(np.asarray(steps, dtype=np.float64), np.asarray(wall_steps, dtype=np.float64),
                   np.asarray(wall, dtype=np.float64))
    return ((at - float(wall[0])) / 3600).tolist()


def steps_per_second(steps: int, seconds: float | None) -> float | None:
    return steps / seconds if seconds and steps else None


def _model_value(spec: RunSpec, key: str) -> str:
    if key in spec.macros:
        return gin_text(spec.macros[key])
    shipped = configs.find(spec.base)
    default = (shipped.values if shipped is not None else {}).get(key.rsplit('.', 1)[-1])
    return gin_text(default) if default is not None else '—'


def _order(key: str) -> tuple[int, str]:
    """Validation first, then the loss, then the rest by name."""
    return (0 if key.startswith('val/validation') else 1 if key == 'loss' else 2, key)


@dataclass(frozen=True)
class Comparison:
    """2–20 runs side by side (in the order asked)."""
    runs: tuple  # ExperimentRow per run
    parameters: tuple[ParameterRow, ...]
    metrics: tuple[MetricRow, ...]
    steps_per_second: tuple[float | None, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(m.key for m in self.metrics)

    def differing(self) -> tuple[ParameterRow, ...]:
        return tuple(p for p in self.parameters if p.differs)
