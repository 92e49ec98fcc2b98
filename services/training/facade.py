"""Training: runs of `rave train` through the studio's worker (the engine is `runs.py`) and `Training`, the
facade pages use.

Pages see frozen views (services/training/views.py) and act through `Training`, which checks the acting user
first. Gin is code: extra bindings and custom configs can import and call Python, so they need
`Action.EDIT_CODE` (admins on a shared studio) and the user's explicit "this runs Python" confirmation
(`code_confirmed`); without it the facade raises `CodeNotConfirmed` and the page asks.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from services import access
from services.access import Action, Actor
from services.cluster.settings import ExecutorSettings, project_executor
from services.i18n import N_, _
from services.lab import history
from services.settings import SettingsService
from services.store import Checkpoint, Dataset, Job, Project, Run, RunAttempt
from services.training import configs, metrics
from services.training.boards import Boards
from services.training.configs import ConfigInfo, ConfigStatus
from services.training.model_values import MODEL_VALUES, gin_text
from services.training.runs import TrainingError, TrainingService, spec_of
from services.training.spec import RAVE_LR, RAVE_LR_DIS, RunSpec, TrainingData
from services.training.templates import TemplateError, TemplateService
from services.training.tensorboard import LogFolder, TensorBoardError, TensorBoardService
from services.training.views import (
    AttemptView,
    AudioValidation,
    BoardView,
    CheckpointView,
    ConfigEntry,
    MetricsView,
    QueuedRun,
    RunView,
    TemplateView,
)

__all__ = ['CODE_WARNING', 'MODEL_VALUES', 'RAVE_LR', 'RAVE_LR_DIS', 'AttemptView', 'AudioValidation',
           'BoardView', 'CheckpointView', 'CodeNotConfirmed',
           'ConfigEntry', 'ConfigInfo', 'LogFolder', 'MetricsView', 'QueuedRun', 'RunSpec', 'RunView',
           'TemplateError', 'TemplateView', 'TensorBoardError', 'Training', 'TrainingData', 'TrainingError',
           'gin_text']


STALL_S = 600.0  # a running run without a step for this long raises an alert


class CodeNotConfirmed(access.Forbidden):
    """Gin code would run without the user having confirmed that it runs Python on this machine."""


CODE_WARNING = N_('Gin configs and bindings can import and call any Python: they run with your rights on the '
                  'machine that trains. Run them only if you wrote them or trust where they come from.')


@access.acts
class Training(Boards):
    """The training area as the acting user may see and steer it."""

    def __init__(self, engine: TrainingService, templates: TemplateService, status: ConfigStatus,
                 tensorboard: TensorBoardService, settings: SettingsService, actor: Actor,
                 alerts: Callable[..., list] | None = None) -> None:
        self._engine, self._templates, self._status = engine, templates, status
        self._alerts = alerts or (lambda steps, values, **context: [])  # every plugin's run alerts
        self._tensorboard, self._settings = tensorboard, settings
        self.actor = actor
        self._project_of: dict[int, int] = {}  # run id -> its project, for the checks of live updates

    # ---- runs ------------------------------------------------------------------------------------
    def runs(self, project_id: int) -> list[RunView]:
        """The project's runs, newest first."""
        project = self._project(project_id, Action.READ)
        return [self._view(row) for row in self._engine.list(project)]

    def run(self, run_id: int | str, project_id: int | None = None) -> RunView | None:
        """One run (None when it does not exist, or is not in `project_id`)."""
        row = self._run(run_id, Action.READ, project_id)
        return self._view(row) if row is not None else None

    def checkpoints(self, run_id: int) -> list[CheckpointView]:
        """The run's checkpoints, newest first, with the validation logged at each one's step."""
        row = self._run(run_id, Action.READ)
        if row is None:
            return []
        series = MetricsView.of(self._engine.metrics(row))
        return [CheckpointView.of(c, row.folder, series.value_at('val/validation', c.step))
                for c in self._engine.checkpoints(row)]

    def attempts(self, run_id: int) -> list[AttemptView]:
        row = self._run(run_id, Action.READ)
        return [AttemptView.of(a) for a in self._engine.attempts(row)] if row is not None else []

    def health(self, series: MetricsView, current_step: int) -> list[metrics.Alert]:
        """What the run alerts — the studio's own and installed plugins' — say about a run's metrics."""
        return self._alerts(series.steps, series.values, running=False, current_step=current_step)

    @staticmethod
    def stall(last_time: float | None, running: bool, now: float) -> list[metrics.Alert]:
        """An alert when a running run has made no step for STALL_S seconds."""
        return metrics.alerts({}, {}, running=running, last_time=last_time, now=now, stall_s=STALL_S)

    def metrics(self, run_id: int) -> MetricsView:
        """The run's metrics now (a finished run's files are read once, on the first call)."""
        series = self._engine.series.get(run_id)
        if series is not None and run_id in self._project_of:  # a live page's every tick: no query
            access.require(self.actor, Action.READ, self._project_of[run_id])
            return MetricsView.of(series)
        row = self._run(run_id, Action.READ)
        return MetricsView.of(self._engine.metrics(row)) if row is not None else MetricsView()

    def pid(self, run_id: int) -> int | None:
        """The training process of a running (or paused) run, for the system monitor."""
        row = self._run(run_id, Action.READ)
        job = row.job if row is not None and row.job_id else None
        return job.pid if job is not None and job.status in ('running', 'paused') else None

    def phase_1(self, run_id: int) -> int | None:
        """The warm-up length written in the run's operative config.gin, once RAVE wrote it."""
        return metrics.phase_1_duration(self.run_root(run_id))

    def run_root(self, run_id: int) -> str | None:
        """RAVE's `<name>_<hash>` folder of the run, known once the worker reported its version folder."""
        row = self._run(run_id, Action.READ)
        if row is None:
            return None
        series = self._engine.metrics(row)
        return str(Path(series.run_dir).parent) if series.run_dir else (row.folder or None)

    def queue(self) -> list[QueuedRun]:
        """Trainings waiting for a device, per device in start order (devices are shared by every project)."""
        out = []
        jobs = [j for j in self._engine.jobs.queued() if j.kind == 'train'
                and access.allowed(self.actor, Action.READ, j.project_id)]
        for device in dict.fromkeys(j.device for j in jobs):
            line = [j for j in jobs if j.device == device]
            for place, job in enumerate(line):
                out.append(self._queued(job, place, len(line)))
        return out

    def queue_position(self, run_id: int) -> tuple[int, int] | None:
        """(0-based place, length) in the queue of the run's device while it waits; None otherwise."""
        row = self._run(run_id, Action.READ)
        return self._engine.queue_position(row) if row is not None else None

    # ---- choosing a run --------------------------------------------------------------------------
    def datasets(self, project_id: int) -> list[TrainingData]:
        """The project's ready datasets, newest first: what a run can train on."""
        project = self._project(project_id, Action.READ)
        rows = Dataset.select().where((Dataset.project == project) & (Dataset.status == 'ready')) \
            .order_by(Dataset.created.desc())
        return [TrainingData.of(d) for d in rows]

    def default_device(self) -> str:
        return self._settings.get('default_device') or 'cpu'

    def validate(self, project_id: int, spec: RunSpec, composition: dict | None = None, executor=None) -> list[str]:
        """Everything that would make RAVE fail at start (on `executor`), each with what to do instead."""
        return self._engine.validate(self._project(project_id, Action.READ), spec, composition,
                                     executor.to_dict() if executor is not None and executor.on_cluster else None)

    def warnings(self, project_id: int, spec: RunSpec, composition: dict | None) -> list[str]:
        return self._engine.warnings(self._project(project_id, Action.READ), spec, composition)

    def command(self, project_id: int, spec: RunSpec) -> str:
        """The equivalent `rave train` command of a spec in this project."""
        project = self._project(project_id, Action.READ)
        return spec.command(*self._engine.where(project, spec))

    def check(self, project_id: int, spec: RunSpec, with_overrides: bool = False, *,
              code_confirmed: bool = False) -> dict:
        """Gin's verdict on the spec's configs (and its model values and bindings); blocking, in a worker.

        The answer is configs.check's: ok, and either the error or the operative values, compression, etc."""
        project = self._project(project_id, Action.READ)
        errors = spec.config_errors(self._templates.entries(project))
        if with_overrides:
            errors += spec.value_errors()
        if errors:
            raise TrainingError(' '.join(errors))
        if with_overrides and spec.has_code:
            self._require_code(project_id, code_confirmed)
        paths = self._templates.paths(project)
        composition = {'configs': [paths.get(c, c) for c in spec.configs], 'augment': list(spec.augment),
                       'override': spec.overrides() if with_overrides else [], 'channels': spec.channels,
                       'receptive_field': True}
        answer = configs.check(self._settings.python, [composition])[0]
        return {**answer, 'reason': '' if answer['ok'] else configs.reason(answer)}

    def memory(self, spec: RunSpec, answer: dict | None, default_capacity: int | None) -> dict | None:
        """The GPU memory estimate of a spec (configs.estimate_gpu_memory), with what it is based on."""
        answer = answer or {}
        return configs.estimate_gpu_memory(spec.base, spec.batch, spec.n_signal,
                                           (answer.get('macros') or {}).get('CAPACITY'),
                                           answer.get('parameters'),
                                           default_capacity)

    # ---- acting on runs --------------------------------------------------------------------------
    def start(self, project_id: int, spec: RunSpec, composition: dict | None = None, *,
              code_confirmed: bool = False, executor: ExecutorSettings | None = None) -> RunView:
        """Create the run and queue its training — on `executor` (None: the project's choice, this machine by
        default); raises TrainingError with every problem, Forbidden if refused."""
        project = self._project(project_id, Action.RUN)
        if spec.has_code:
            self._require_code(project_id, code_confirmed)
        where = executor or self.executor(project_id)
        if where.errors():
            raise TrainingError(' '.join(where.errors()))
        return self._view(self._engine.start(project, spec, composition, where.to_dict() if where.on_cluster else None,
                                             owner=self.actor.name))

    def executor(self, project_id: int) -> ExecutorSettings:
        """Where the project's runs train unless told otherwise: its own choice, else the studio's."""
        return project_executor(self._project(project_id, Action.READ), self._settings.get('executor'))

    def resume(self, run_id: int, checkpoint: str | None = None, max_steps: int | None = None) -> RunView:
        row = self._run(run_id, Action.RUN)
        if row is None:
            raise TrainingError('This run does not exist any more.')
        if checkpoint is not None and not Checkpoint.get_or_none((Checkpoint.run == row) &
                                                                 (Checkpoint.path == checkpoint)):
            raise TrainingError('That checkpoint is not one of this run\'s: pick one from the list.')
        return self._view(self._engine.resume(row, checkpoint, max_steps, owner=self.actor.name))

    def pause(self, run_id: int) -> None:
        self._act(run_id, self._engine.pause)

    def unpause(self, run_id: int) -> None:
        self._act(run_id, self._engine.unpause)

    def stop(self, run_id: int) -> None:
        """Graceful stop: the worker saves a resumable checkpoint, then ends."""
        self._act(run_id, self._engine.stop)

    def cancel(self, run_id: int) -> None:
        self._act(run_id, self._engine.cancel)

    def set_recovery(self, run_id: int, attempts: int) -> None:
        """After a crash, restart from the newest checkpoint up to `attempts` times (0: off)."""
        self._act(run_id, lambda row: self._engine.set_recovery(row, attempts))

    def move(self, job_id: int, position: int) -> None:
        """Move a queued training to `position` in its device's line."""
        job = Job.get_or_none(Job.id == job_id)
        if job is None:
            return
        access.require(self.actor, Action.RUN, job.project_id)
        self._engine.jobs.reorder(job_id, max(0, position))

    # ---- templates -------------------------------------------------------------------------------
    def templates(self, project_id: int) -> list[TemplateView]:
        project = self._project(project_id, Action.READ)
        return [TemplateView(t['name'], t.get('description') or '', RunSpec.from_dict(t['choices']),
                             t.get('created') or '') for t in self._templates.templates(project)]

    def save_template(self, project_id: int, name: str, spec: RunSpec, description: str = '',
                      replace: bool = False) -> TemplateView:
        """Keep the spec's choices (not the run's name or description) under `name`."""
        project = self._project(project_id, Action.EDIT)
        choices = spec.to_dict()
        for key in ('name', 'description'):
            choices.pop(key)
        saved = self._templates.save_template(project, name, choices, description, replace=replace)
        history.keep(project_id, 'template', saved['name'], {'choices': choices, 'description': description},
                     self.actor)
        return TemplateView(saved['name'], saved['description'], RunSpec.from_dict(saved['choices']),
                            saved.get('created') or '')

    # ---- configs ---------------------------------------------------------------------------------
    def catalogue(self, kind: str | None = None) -> list[ConfigInfo]:
        """The configs shipped with the installed RAVE (of one kind: base, addon, augmentation)."""
        return [c for c in configs.catalogue() if kind is None or c.kind == kind]

    def shipped(self, name: str) -> ConfigInfo | None:
        return configs.find(name)

    def verdicts(self) -> dict[str, dict] | None:
        """Gin's cached verdict on every shipped config (None until checked)."""
        return self._status.cached()

    def check_catalogue(self) -> dict[str, dict]:
        """Check every shipped config with gin (blocking, a minute or two); the verdicts are kept."""
        return self._status.compute()

    def custom_configs(self, project_id: int) -> list[ConfigEntry]:
        project = self._project(project_id, Action.READ)
        return list(self._templates.entries(project).values())

    def custom_info(self, entry: ConfigEntry) -> ConfigInfo:
        """A custom config read as the catalogue reads shipped ones (its key values and includes)."""
        return configs.describe(Path(entry.path), 'custom', description=entry.description)

    def derive(self, base: str) -> str:
        """A starting text for a config derived from a shipped one."""
        return self._templates.derive(base)

    def save_config(self, project_id: int, name: str, text: str, description: str = '', role: str = 'base',
                    derived_from: str = '', replace: bool = False, *,
                    code_confirmed: bool = False) -> ConfigEntry:
        """Check the config with gin (blocking, in a worker), then keep it in the project.

        Gin runs the text: it needs the right to edit code and the user's confirmation."""
        project = self._project(project_id, Action.EDIT)
        self._require_code(project_id, code_confirmed)
        saved = self._templates.save_config(project, name, text, description, role, derived_from, replace)
        history.keep(project_id, 'config', saved['name'], text, self.actor)
        return ConfigEntry.of(saved)

    def delete_config(self, project_id: int, name: str) -> None:
        project = self._project(project_id, Action.DELETE)
        access.require(self.actor, Action.EDIT_CODE, project_id)
        self._templates.delete_config(project, name)

    def may_edit_code(self, project_id: int | None = None) -> bool:
        """Whether the acting user may write gin code at all (the page hides what would be refused)."""
        return access.allowed(self.actor, Action.EDIT_CODE, project_id)

    # ---- TensorBoard and validation audio --------------------------------------------------------
    def runs_folder(self, project_id: int) -> str:
        return str(self._engine.projects.folder(self._project(project_id, Action.READ), 'runs'))

    def audio(self, run_id: int) -> list[AudioValidation]:
        """Each validation's audio of every version of the run, labelled with its global step when known.

        Blocking (a cached worker reads the TensorBoard events): call it off the event loop."""
        row = self._run(run_id, Action.READ)
        root = self.run_root(run_id)
        if row is None or not root:
            return []
        spec = spec_of(row)
        steps = list(self._engine.metrics(row).steps.get('val/validation', []))
        return self._tensorboard.validations(Path(root), f'run_{row.id}', spec.channels, spec.n_signal, steps)

    # ---- internals -------------------------------------------------------------------------------
    def _project(self, project_id: int, action: Action) -> Project:
        access.require(self.actor, action, project_id)
        project = Project.get_or_none(Project.id == project_id)
        if project is None:
            raise TrainingError('This project does not exist any more.')
        return project

    def _run(self, run_id: int | str, action: Action, project_id: int | None = None) -> Run | None:
        row = self._engine.get(run_id)
        if row is None or (project_id is not None and row.project_id != project_id):
            return None
        access.require(self.actor, action, row.project_id)
        self._project_of[row.id] = row.project_id
        return row

    def _act(self, run_id: int, act) -> None:
        job = Job.get_or_none(Job.id == getattr(self._engine.get(run_id), 'job_id', None))
        row = self._run(run_id, access.control(self.actor, job.owner if job else ''))
        if row is not None:
            act(row)

    def _require_code(self, project_id: int | None, code_confirmed: bool) -> None:
        access.require(self.actor, Action.EDIT_CODE, project_id)
        if not code_confirmed:
            raise CodeNotConfirmed(_('Gin code runs Python on this machine: confirm that you want to run it.') + ' '
                                   + _(CODE_WARNING))

    def _view(self, row: Run) -> RunView:
        return RunView.of(row, spec_of(row), self._engine.series.get(row.id))

    def _queued(self, job: Job, place: int, length: int) -> QueuedRun:
        row = self._engine.get((job.spec or {}).get('run'))
        attempt = RunAttempt.get_or_none(RunAttempt.job == job)
        reason = attempt.reason if attempt is not None else 'start'
        if row is None:
            return QueuedRun(job.id, None, job.title, job.device, place, length, reason)
        return QueuedRun(job.id, row.id, row.name, job.device, place, length, reason,
                         tuple(row.configs or ()),
                         spec_of(row).max_steps)

