"""The sweep engine: Optuna studies driven by the studio's own runs (Optuna 5, imported on first use).

A sweep is an Optuna study in a journal file of the project folder (it survives a restart and can be resumed)
plus rows linking each trial to its run. Trials are ordinary queued training runs started through the
TrainingService, at most `budget.parallel` at a time. The controller lives in the studio process and never
waits: it listens to the bus (RunMetrics → `trial.report` and, when the pruner says so, a graceful stop told
PRUNED; RunChanged to a finished status → `study.tell` the objective, or FAIL) and fills free places with
`study.ask`. `reconcile()` at start-up catches up with what happened while the studio was down.
"""
from __future__ import annotations

import logging
import math
import random
import time
from pathlib import Path
from typing import Any

from services.events import Bus, RunChanged, RunMetrics, SweepChanged
from services.jobs import FINISHED
from services.projects import ProjectService
from services.store import Job, Project, Run, Sweep, SweepTrial, db
from services.training.runs import TrainingError, TrainingService, spec_of
from services.training.sweeps.space import SweepSpec

OPEN = Sweep.OPEN
GIVE_UP = 3  # trials in a row that could not start end the sweep (the base or the space is at fault)


class SweepError(ValueError):
    """A sweep action that cannot be done, with a message for the user."""


class SweepService:
    def __init__(self, training: TrainingService, projects: ProjectService, bus: Bus) -> None:
        self.training, self.projects = training, projects
        self._studies: dict[int, Any] = {}  # sweep id -> its loaded optuna.Study
        self._trial_of_run: dict[int, int] = {}  # run id -> SweepTrial id, for the open sweeps' trials
        self.bus = bus
        bus.listen(self.on_event)

    # ---- queries ------------------------------------------------------------------------------
    def list(self, project: Project) -> list[Sweep]:
        return list(Sweep.select().where(Sweep.project == project).order_by(Sweep.created.desc()))

    def get(self, sweep_id: int | str) -> Sweep | None:
        try:
            return Sweep.get_or_none(Sweep.id == int(sweep_id))
        except (TypeError, ValueError):
            return None

    def trials(self, sweep: Sweep) -> list[SweepTrial]:
        return list(SweepTrial.select().where(SweepTrial.sweep == sweep).order_by(SweepTrial.number))

    def study(self, sweep: Sweep):
        """The sweep's Optuna study (loaded from its journal once per studio)."""
        if sweep.id not in self._studies:
            self._studies[sweep.id] = _load(sweep, SweepSpec.from_dict(sweep.spec))
        return self._studies[sweep.id]

    def device_hours(self, sweep: Sweep) -> float:
        """Device-hours its trials trained so far (finished runs' time, running ones' time since start)."""
        total = 0.0
        for trial in self.trials(sweep):
            run = trial.run
            if run is None:
                continue
            seconds = run.seconds or 0.0
            job = run.job
            if job is not None and job.status in ('running', 'paused') and job.started:
                seconds += max(0.0, time.time() - job.started.timestamp())
            total += seconds * max(1, len(spec_of(run).devices)) / 3600
        return total

    # ---- acting -------------------------------------------------------------------------------
    def create(self, project: Project, spec: SweepSpec, owner: str = '') -> Sweep:
        """Check the sweep and its base run, create its study and queue its first trials (for `owner`)."""
        errors = spec.errors()
        if Sweep.get_or_none((Sweep.project == project) & (Sweep.name == spec.name)):
            errors.append(f'A sweep called "{spec.name}" exists already in this project. Pick another name.')
        if not errors:
            errors += self.training.validate(project, spec.trial_spec(0, {}).replace(name=f'{spec.name}-check'))
        if errors:
            raise SweepError(' '.join(errors))
        if spec.seed == 0:
            spec = SweepSpec.from_dict({**spec.to_dict(), 'seed': random.randrange(1, 2 ** 31)})
        with db.atomic():
            sweep = Sweep.create(project=project, name=spec.name, spec=spec.to_dict(), status=OPEN)
            sweep.study = str(self.projects.folder(project, 'sweeps') / f'{sweep.id}-{spec.name}.journal')
            sweep.save(only=[Sweep.study])
        study = self.study(sweep)
        for values in spec.grid()[:spec.trials] if spec.method == 'grid' else ():
            study.enqueue_trial(values)  # the grid in the order the user listed it
        self.fill(sweep, owner)
        return sweep

    def stop(self, sweep: Sweep) -> None:
        """Stop the sweep: running trials stop with a checkpoint (told FAIL), queued ones are cancelled."""
        sweep.status = 'stopped'
        sweep.save(only=[Sweep.status])
        self.bus.publish(SweepChanged(sweep.id, sweep.status))
        for trial in self.trials(sweep):
            if trial.status != 'running':
                continue
            run = trial.run
            if run is not None and run.job_id and run.job.status == 'queued':
                self.training.cancel(run)
            elif run is not None:
                self.training.stop(run)
            self._tell(sweep, trial, 'stopped', message='Stopped with the sweep.')

    def resume(self, sweep: Sweep, owner: str | None = None) -> None:
        """Go on asking for trials until the budget is spent (for `owner`; None: whoever started it)."""
        if sweep.status == OPEN:
            return
        sweep.status, sweep.message = OPEN, ''
        sweep.save(only=[Sweep.status, Sweep.message])
        self.bus.publish(SweepChanged(sweep.id, sweep.status))
        self.fill(sweep, owner)

    def reconcile(self) -> None:
        """At start-up: tell the study what its trials did while the studio was down, then fill."""
        for sweep in Sweep.select().where(Sweep.status == OPEN):
            study = self.study(sweep)
            linked = {t.number for t in self.trials(sweep)}
            for frozen in study.get_trials(deepcopy=False):
                if frozen.state.name == 'RUNNING' and frozen.number not in linked:  # asked, never started
                    study.tell(frozen.number, state=_state('FAIL'))
            for trial in self.trials(sweep):
                if trial.status == 'running':
                    self._follow(sweep, trial)
            self.fill(sweep)

    def on_event(self, event: object) -> None:
        """The bus's listener: new metrics or a run's end, for a run that is a trial."""
        if not isinstance(event, (RunMetrics, RunChanged)):
            return
        trial = SweepTrial.get_or_none(SweepTrial.id == self._trial_of_run.get(event.run_id, -1))
        if trial is None:
            return
        sweep = trial.sweep
        if trial.status == 'running':
            self._follow(sweep, trial)
        if sweep.status == OPEN:
            self.fill(sweep)

    def fill(self, sweep: Sweep, owner: str | None = None) -> None:
        """Queue new trials while places are free and the budget lasts; end the sweep when all is done. The
        trials' jobs are `owner`'s; None (a trial ended, the studio restarted): the owner of its earlier ones."""
        spec = SweepSpec.from_dict(sweep.spec)
        owner = self.owner(sweep) if owner is None else owner
        failures = 0
        while sweep.status == OPEN:
            trials = self.trials(sweep)
            active = [t for t in trials if t.status == 'running']
            asked = len([t for t in trials if t.status != 'stopped'])
            spent = spec.budget.gpu_hours is not None and self.device_hours(sweep) >= spec.budget.gpu_hours
            if asked >= spec.trials or spent:
                if not active:
                    self._end(sweep, 'done', 'Device-hours budget spent.' if spent and asked < spec.trials else '')
                return
            if len(active) >= spec.budget.parallel:
                return
            message = self._ask(sweep, spec, owner)
            if message is None:
                failures = 0
                continue
            failures += 1
            if failures >= GIVE_UP:
                self._end(sweep, 'failed', f'{GIVE_UP} trials in a row could not start: {message}')
                return

    # ---- internals ----------------------------------------------------------------------------
    def owner(self, sweep: Sweep) -> str:
        """Who the sweep's trials are for: the owner of the newest job of its trials' runs."""
        job = Job.select(Job.owner).join(Run, on=(Run.job == Job.id)).join(SweepTrial).where(
            SweepTrial.sweep == sweep).order_by(Job.id.desc()).first()
        return job.owner if job is not None else ''

    def _ask(self, sweep: Sweep, spec: SweepSpec, owner: str) -> str | None:
        """Ask the study for one trial and queue its run; the reason when it could not start."""
        study = self.study(sweep)
        trial = study.ask()
        values = {p.key: _suggest(trial, p) for p in spec.params}
        row = SweepTrial.create(sweep=sweep, number=trial.number, params=values)
        try:
            run = self.training.start(sweep.project, spec.trial_spec(trial.number, values), owner=owner)
        except TrainingError as e:
            self._tell(sweep, row, 'failed', message=str(e))
            return str(e)
        row.run = run
        row.save(only=[SweepTrial.run])
        trial.set_user_attr('run_id', run.id)
        self._trial_of_run[run.id] = row.id
        self.bus.publish(SweepChanged(sweep.id, sweep.status))
        return None

    def _follow(self, sweep: Sweep, trial: SweepTrial) -> None:
        """Report the trial's new objective values; prune it if the pruner says so; tell its end."""
        run = trial.run
        if run is None:
            self._tell(sweep, trial, 'failed', message='Its run was deleted.')
            return
        self._trial_of_run[run.id] = trial.id
        spec = SweepSpec.from_dict(sweep.spec)
        steps, values = self._series(run, spec)
        study = self.study(sweep)
        optuna_trial = _trial(study, trial.number)
        fresh = [(s, v) for s, v in zip(steps, values) if s > trial.step and math.isfinite(v)]
        for step, value in fresh:
            optuna_trial.report(value, step)
            trial.step = step
        if fresh:
            trial.save(only=[SweepTrial.step])
            if optuna_trial.should_prune():
                self.training.stop(run)
                self._tell(sweep, trial, 'pruned', value=fresh[-1][1],
                           message=f'Pruned at step {fresh[-1][0]}: stopped with a checkpoint.')
                return
        status = Run.get_by_id(run.id).status
        if status not in FINISHED:
            return
        value = spec.objective.of(steps, values)
        if status == 'done' and value is not None:
            self._tell(sweep, trial, 'complete', value=value)
        else:
            job = Job.get_or_none(Job.id == run.job_id)
            why = (job.message if job is not None and job.message else f'Its run ended {status}') \
                if status != 'done' else f'Its run logged no {spec.objective.metric}.'
            self._tell(sweep, trial, 'failed', message=why)

    def _series(self, run: Run, spec: SweepSpec) -> tuple[list[int], list[float]]:
        """The objective metric's (step, value) pairs; a training metric only at validation steps."""
        series = self.training.metrics(run)
        steps = list(series.steps.get(spec.objective.metric, []))
        values = list(series.values.get(spec.objective.metric, []))
        if spec.objective.metric.startswith('val/'):
            return steps, values
        every = max(1, spec.base.val_every)
        kept = [(s, v) for s, v in zip(steps, values) if s % every == 0]
        return [s for s, _ in kept], [v for _, v in kept]

    def _tell(self, sweep: Sweep, trial: SweepTrial, status: str, value: float | None = None,
              message: str = '') -> None:
        study = self.study(sweep)
        state = {'complete': 'COMPLETE', 'pruned': 'PRUNED'}.get(status, 'FAIL')
        if _trial_state(study, trial.number) == 'RUNNING':
            study.tell(trial.number, value if state == 'COMPLETE' else None, state=_state(state))
        trial.status, trial.value, trial.message = status, value, message
        trial.save(only=[SweepTrial.status, SweepTrial.value, SweepTrial.message])
        self.bus.publish(SweepChanged(sweep.id, sweep.status))

    def _end(self, sweep: Sweep, status: str, message: str = '') -> None:
        sweep.status, sweep.message = status, message
        sweep.save(only=[Sweep.status, Sweep.message])
        self.bus.publish(SweepChanged(sweep.id, sweep.status))


# ---- Optuna, imported on first use ----------------------------------------------------------------
def _optuna():
    import optuna
    optuna.logging.set_verbosity(logging.WARNING)  # a line per trial would fill the studio's log
    return optuna


def _load(sweep: Sweep, spec: SweepSpec):
    optuna = _optuna()
    from optuna.storages.journal import JournalFileBackend
    Path(sweep.study).parent.mkdir(parents=True, exist_ok=True)
    storage = optuna.storages.JournalStorage(JournalFileBackend(sweep.study))
    done = SweepTrial.select().where(SweepTrial.sweep == sweep).count()
    return optuna.create_study(storage=storage, study_name=f'sweep-{sweep.id}', direction=spec.objective.direction,
                               sampler=_sampler(optuna, spec, done), pruner=_pruner(optuna, spec),
                               load_if_exists=True)


def _sampler(optuna, spec: SweepSpec, done: int):
    seed = spec.seed + done  # a study loaded again (after a restart) does not replay the same draws
    if spec.method == 'grid':
        return optuna.samplers.GridSampler({p.key: list(p.choices) for p in spec.params}, seed=spec.seed)
    if spec.method == 'random':
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(2, spec.trials // 4)))


def _pruner(optuna, spec: SweepSpec):
    if spec.pruner == 'median':
        return optuna.pruners.MedianPruner(n_startup_trials=spec.startup, n_warmup_steps=spec.warmup)
    if spec.pruner == 'hyperband':
        return optuna.pruners.HyperbandPruner(min_resource=max(1, spec.base.val_every),
                                              max_resource=max(spec.base.max_steps, spec.base.val_every + 1))
    if spec.pruner == 'threshold':
        bound = {'upper' if spec.objective.direction == 'minimize' else 'lower': spec.threshold}
        return optuna.pruners.ThresholdPruner(**bound, n_warmup_steps=spec.warmup)
    return optuna.pruners.NopPruner()


def _state(name: str):
    return getattr(_optuna().trial.TrialState, name)


def _trial(study, number: int):
    """The live Trial of an asked trial (rebuilt from its number after a restart)."""
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    return _optuna().trial.Trial(study, trial_id)


def _trial_state(study, number: int) -> str:
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    return study._storage.get_trial(trial_id).state.name


def _suggest(trial, param) -> Any:
    if param.kind == 'choice':
        return trial.suggest_categorical(param.key, list(param.choices))
    if param.kind == 'int':
        return trial.suggest_int(param.key, int(param.low), int(param.high), log=param.log)
    return trial.suggest_float(param.key, float(param.low), float(param.high), log=param.log)
