"""Hyper-parameter sweeps: Optuna studies whose trials are ordinary training runs (the engine is
`controller.py`), and `Sweeps`, the facade pages use. Pages see frozen views (`views.py`) and act through
`Sweeps`, which checks the acting user first.
"""
from __future__ import annotations

import statistics
from pathlib import Path
from urllib.parse import quote

from services import access, formatting
from services.access import Action, Actor
from services.i18n import _, ngettext
from services.store import Project, Run, Sweep
from services.training.runs import spec_of
from services.training.sweeps import plots
from services.training.sweeps.controller import SweepError, SweepService
from services.training.sweeps.space import (
    FIELDS,
    METHODS,
    PRUNERS,
    Budget,
    Objective,
    Param,
    SweepSpec,
    choices_of,
    label,
    parameters,
)
from services.training.sweeps.views import BestModel, SweepView, TrialView

__all__ = ['FIELDS', 'METHODS', 'PRUNERS', 'BestModel', 'Budget', 'Objective', 'Param', 'SweepError',
           'SweepSpec', 'SweepView', 'Sweeps', 'TrialView', 'choices_of', 'label', 'parameters']


ESTIMATE_RUNS = 10  # the newest finished runs the estimate measures


@access.acts
class Sweeps:
    """The project's sweeps as the acting user may see and steer them."""

    def __init__(self, engine: SweepService, actor: Actor) -> None:
        self._engine = engine
        self.actor = actor

    def list(self, project_id: int) -> list[SweepView]:
        """The project's sweeps, newest first."""
        project = self._project(project_id, Action.READ)
        return [self._view(row) for row in self._engine.list(project)]

    def sweep(self, sweep_id: int | str, project_id: int | None = None) -> SweepView | None:
        """One sweep with its trials (None when it does not exist, or is not in `project_id`)."""
        row = self._sweep(sweep_id, Action.READ, project_id)
        return self._view(row) if row is not None else None

    def create(self, project_id: int, spec: SweepSpec) -> SweepView:
        """Create the sweep and queue its first trials; raises SweepError with every problem found."""
        project = self._project(project_id, Action.RUN)
        if spec.base.has_code:  # a trial would run the bindings with no one there to confirm each
            raise SweepError(_('A sweep cannot carry extra gin bindings: vary model values instead, or start '
                               'the runs one by one.'))
        return self._view(self._engine.create(project, spec, self.actor.name))

    def stop(self, sweep_id: int) -> None:
        """Stop the sweep: running trials stop with a checkpoint, queued ones are cancelled."""
        row = self._sweep(sweep_id, Action.RUN)
        if row is not None:
            self._engine.stop(row)

    def resume(self, sweep_id: int) -> None:
        row = self._sweep(sweep_id, Action.RUN)
        if row is not None:
            self._engine.resume(row, self.actor.name)

    def best(self, sweep_id: int) -> BestModel | None:
        """The best trial's best checkpoint (lowest validation, else its newest), ready for the export wizard."""
        view = self.sweep(sweep_id)
        trial = view.best if view is not None else None
        if trial is None or trial.run_id is None:
            return None
        run = Run.get_or_none(Run.id == trial.run_id)
        checkpoints = [c for c in self._engine.training.checkpoints(run) if Path(c.path).exists()]
        if not checkpoints:
            return None
        best = next((c for c in checkpoints if c.kind == 'best'), None)
        chosen = best or max(checkpoints, key=lambda c: c.step or -1)
        return BestModel(trial, chosen.path, chosen.step,
                         f'/export?run={trial.run_id}&checkpoint={quote(str(chosen.path))}')  # the wizard picks it

    def figures(self, sweep_id: int) -> plots.Figures:
        """The objective over trials and the parallel coordinates, from the trials' rows (quick)."""
        view = self.sweep(sweep_id)
        return plots.figures(view) if view is not None else plots.Figures()

    def importance(self, sweep_id: int) -> dict[str, float]:
        """Optuna's parameter importances (fANOVA over the complete trials); blocking, call it off the loop.
        Empty until two trials with different values completed."""
        row = self._sweep(sweep_id, Action.READ)
        return plots.importance(self._engine.study(row)) if row is not None else {}

    def estimate(self, project_id: int, spec: SweepSpec) -> str:
        """One line: how many trials, of how many steps, and how long at the speed measured on the project's
        finished runs on that device (steps/s while training, plus each process's start-up)."""
        project = self._project(project_id, Action.READ)
        trials, steps = spec.trials, spec.base.max_steps
        what = ngettext('{count} trial of up to {steps} steps', '{count} trials of up to {steps} steps', trials) \
            .format(count=trials, steps=formatting.count(steps))
        if spec.pruner != 'none':
            what += _(' (pruned ones stop early)')
        measured = []  # (steps/s, start-up seconds) of the newest finished runs on the device
        for run in Run.select().where((Run.project == project) & (Run.status == 'done')) \
                .order_by(Run.created.desc()).limit(ESTIMATE_RUNS):
            rate = self._engine.training.metrics(run).rate
            if rate and run.seconds and run.step and spec_of(run).device == spec.base.device:
                measured.append((rate, max(0.0, run.seconds - run.step / rate)))
        if not measured:
            return _('{what}; no finished run on {device} yet to measure how long a step takes.') \
                .format(what=what, device=spec.base.device)
        rate = statistics.median(r for r, _s in measured)
        start_up = statistics.median(s for _r, s in measured)
        seconds = trials * (start_up + steps / rate)  # trials on one device take turns, whatever the parallel
        return ngettext('{what}: about {time} at {rate} steps/s on {device}, {start_up} start-up each (measured on '
                        '{count} finished run of this project).',
                        '{what}: about {time} at {rate} steps/s on {device}, {start_up} start-up each (measured on '
                        '{count} finished runs of this project).', len(measured)) \
            .format(what=what, time=formatting.duration(seconds), rate=formatting.number(float(f'{rate:.3g}')),
                    device=spec.base.device, start_up=formatting.duration(start_up), count=len(measured))

    # ---- internals -------------------------------------------------------------------------------
    def _project(self, project_id: int, action: Action) -> Project:
        access.require(self.actor, action, project_id)
        project = Project.get_or_none(Project.id == project_id)
        if project is None:
            raise SweepError(_('This project does not exist any more.'))
        return project

    def _sweep(self, sweep_id: int | str, action: Action, project_id: int | None = None) -> Sweep | None:
        row = self._engine.get(sweep_id)
        if row is None or (project_id is not None and row.project_id != project_id):
            return None
        access.require(self.actor, action, row.project_id)
        return row

    def _view(self, row: Sweep) -> SweepView:
        return SweepView.of(row, self._engine.trials(row), self._engine.device_hours(row))
