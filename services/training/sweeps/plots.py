"""What the sweep page charts, computed here so pages only draw: the objective over trials (with the best so
far), the parallel coordinates of the trials that reported a value, and Optuna's parameter importances."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from services.training.sweeps.space import label
from services.training.sweeps.views import SweepView


@dataclass(frozen=True)
class Axis:
    label: str
    values: tuple  # one per trial, in `Figures.numbers` order; text choices as their index
    ticks: tuple[str, ...] = ()  # the choices' names of a text axis


@dataclass(frozen=True)
class Figures:
    numbers: tuple[int, ...] = ()  # trials that reported a value
    values: tuple[float, ...] = ()
    statuses: tuple[str, ...] = ()
    best_so_far: tuple[float | None, ...] = ()  # the best complete objective up to each trial
    axes: tuple[Axis, ...] = field(default_factory=tuple)  # parallel coordinates: each parameter, then the objective


def figures(view: SweepView) -> Figures:
    shown = [t for t in view.trials if t.value is not None and math.isfinite(t.value)]
    pick = min if view.spec.objective.direction == 'minimize' else max
    best, running = [], None
    for trial in shown:
        if trial.status == 'complete':
            running = trial.value if running is None else pick(running, trial.value)
        best.append(running)
    axes = []
    for param in view.spec.params:
        raw = [t.params.get(param.key) for t in shown]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw):
            if param.log and all(v > 0 for v in raw):  # drawn as it was searched: in orders of magnitude
                axes.append(Axis(f'{label(param.key)} (log₁₀)', tuple(math.log10(v) for v in raw)))
            else:
                axes.append(Axis(label(param.key), tuple(float(v) for v in raw)))
        else:
            names = [str(c) for c in param.choices] or sorted({str(v) for v in raw})
            axes.append(Axis(label(param.key), tuple(names.index(str(v)) if str(v) in names else -1 for v in raw),
                             tuple(names)))
    axes.append(Axis(view.spec.objective.metric, tuple(t.value for t in shown)))
    return Figures(tuple(t.number for t in shown), tuple(t.value for t in shown), tuple(t.status for t in shown),
                   tuple(best), tuple(axes))


def importance(study) -> dict[str, float]:
    """Optuna's importances of the parameters, by label; empty until they can be told apart."""
    import optuna
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == 'COMPLETE']
    if len(complete) < 2 or all(t.params == complete[0].params for t in complete):
        return {}
    try:
        found = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError):  # a space Optuna cannot judge yet (one value per parameter)
        return {}
    return {label(k): float(v) for k, v in found.items()}
