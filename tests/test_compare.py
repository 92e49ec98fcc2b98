"""Comparing runs: the parameters that differ, metric overlays on a shared step axis, best and last values,
steps per second."""
from __future__ import annotations

import pytest

from services.access import local
from services.store import Run
from services.training.metrics import Series
from services.training.runs import TrainingError
from services.training.spec import RunSpec


def make(studio, name: str, loss: float, steps: int = 100, **spec) -> Run:
    project = studio.projects.current(None)
    choice = RunSpec(name=name, **spec)
    run = Run.create(project=project, name=name, configs=list(choice.configs), params={'spec': choice.to_dict()},
                     status='done', step=steps, seconds=steps / 4)
    series = Series()
    for step in range(1, steps + 1):
        series.add({'step': step, 'loss': loss + 1 / step, 't': float(step)})
        if step % 50 == 0:
            series.add({'step': step, 'event': 'validation', 'validation': loss * 10 - step / 100})
    studio.training.series[run.id] = series
    return run


def test_parameters_that_differ_and_metrics(studio) -> None:
    a = make(studio, 'small', 1.0, base='v2_small')
    b = make(studio, 'wide', 0.5, base='v2_small', macros={'CAPACITY': 64}, batch=4)
    experiments = studio.session(local(), None).experiments
    comparison = experiments.compare([a.id, b.id])
    assert [r.name for r in comparison.runs] == ['small', 'wide']
    differing = {p.label: p.values for p in comparison.differing()}
    assert differing == {'Batch': ('8', '4'), 'Capacity': ('48', '64')}  # v2_small's own 48 against 64
    assert len(comparison.parameters) > len(differing)  # "show all" has every row
    assert comparison.keys[:2] == ('val/validation', 'loss')
    validation = comparison.metrics[0]
    assert validation.lower_is_better and validation.best == (9.0, 4.0) and validation.last == (9.0, 4.0)
    assert comparison.steps_per_second == (4.0, 4.0)


def test_overlay_shares_the_step_axis_and_smooths(studio) -> None:
    runs = [make(studio, f'r{i}', 1.0 + i, steps=3000) for i in range(3)]
    experiments = studio.session(local(), None).experiments
    traces = experiments.overlay([r.id for r in runs], 'loss')
    assert [t.name for t in traces] == ['r0', 'r1', 'r2']
    assert all(t.steps[0] == 1 and t.steps[-1] == 3000 and len(t.steps) <= 2 * 300 + 4 for t in traces)
    smooth = experiments.overlay([runs[0].id], 'loss', smoothing=0.9)[0]
    assert smooth.values[0] == pytest.approx(2.0) and len(smooth.values) <= 302
    assert experiments.overlay([r.id for r in runs], 'no such metric') == []


def test_two_to_twenty_runs(studio) -> None:
    run = make(studio, 'alone', 1.0)
    experiments = studio.session(local(), None).experiments
    with pytest.raises(TrainingError, match='2 to 20'):
        experiments.compare([run.id])
    with pytest.raises(TrainingError, match='2 to 20'):
        experiments.compare(list(range(1, 30)))


def test_overlay_on_wall_time(studio) -> None:
    """Each step's wall-clock time (the worker's `t`) gives the time axis: hours since the run's first step."""
    fast = make(studio, 'fast', 1.0, steps=100)
    slow = make(studio, 'slow', 1.0, steps=100)
    series = studio.training.series[slow.id] = Series()
    for step in range(1, 101):
        series.add({'step': step, 'loss': 1 + 1 / step, 't': 1000.0 + 36.0 * step})  # 100 steps an hour
    experiments = studio.session(local(), None).experiments
    by_name = {t.name: t for t in experiments.overlay([fast.id, slow.id], 'loss', axis='time')}
    assert by_name['slow'].steps[0] == 0 and by_name['slow'].steps[-1] == pytest.approx(99 * 36 / 3600)
    assert by_name['fast'].steps[-1] == pytest.approx(99 / 3600)
    assert 'wall_time' not in experiments.compare([fast.id, slow.id]).keys  # a time axis, not a metric
    untimed = make(studio, 'untimed', 1.0)
    studio.training.series[untimed.id] = Series()
    studio.training.series[untimed.id].add({'step': 1, 'loss': 1.0})
    assert [t.name for t in experiments.overlay([fast.id, untimed.id], 'loss', axis='time')] == ['fast']
