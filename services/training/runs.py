"""Training: RAVE runs started through the studio's training worker, their live metrics and checkpoints.

A run is RAVE's `<out_path>/<name>_<ginhash>/version_N/` folder; the worker (services/workers/train.py)
is `rave train` plus per-step metrics and a graceful stop. Metrics arrive as JSON lines in the job
folder and are read incrementally (byte offsets) into in-memory series that pages chart.
"""
from __future__ import annotations

from pathlib import Path

from services import formatting, progress
from services.events import JobsChanged, RunChanged, RunMetrics
from services.hookspecs import JobKind
from services.jobs import FINISHED, JobService, JobState
from services.jobs.host import appended
from services.projects import ProjectService
from services.settings import SettingsService
from services.store import Checkpoint, Dataset, Job, Project, Run, RunAttempt, db
from services.training import checkpoints as indexer
from services.training import experiment_table, imported, operative, run_control, series_cache
from services.training.metrics import Series
from services.training.spec import RunSpec, TrainingData, command
from services.training.templates import TemplateService


class TrainingError(ValueError):
    """A training action that cannot be done, with a message for the user."""


class TrainingService:
    def __init__(self, jobs: JobService, settings: SettingsService, projects: ProjectService,
                 templates: TemplateService | None = None) -> None:
        self.jobs = jobs
        self.settings = settings
        self.projects = projects
        self.templates = templates or TemplateService(projects, lambda: settings.python)
        self.series: dict[int, Series] = {}  # run id -> metrics read so far
        self._recent = series_cache.Recent()  # finished runs held in memory; the rest come back from the cache
        self._offsets: dict[int, int] = {}  # job id -> bytes of metrics.jsonl read
        self._recover_due: list[int] = []  # runs that crashed and asked to be restarted
        # run id -> checkpoint lines of the worker already indexed
        self._checkpoints_seen: dict[int, int] = {}
        self.gpus = run_control.visible_gpus  # () -> GPU indices on this machine

    def job_kinds(self) -> list[JobKind]:
        """Training: its worker pauses itself between steps (control.json) instead of being frozen."""
        return [JobKind('train', parse=progress.parse_train, describe=self._describe, on_finish=self._finished,
                        cooperative=True)]

    # ---- queries ------------------------------------------------------------------------------
    def list(self, project: Project) -> list[Run]:
        return list(Run.select().where(Run.project == project).order_by(Run.created.desc()))

    def get(self, run_id: int | str) -> Run | None:
        try:
            return Run.get_or_none(Run.id == int(run_id))
        except (TypeError, ValueError):
            return None

    def checkpoints(self, run: Run) -> list[Checkpoint]:
        return list(Checkpoint.select().where(Checkpoint.run == run).order_by(Checkpoint.created.desc()))

    def metrics(self, run: Run) -> Series:
        """The run's series; a finished run's metric files are read once, on demand."""
        if run.id not in self.series:
            self.series[run.id] = self._load(run)
        series = self.series[run.id]
        if run.status not in ('queued', 'running', 'paused'):
            for old in self._recent.touch(run.id):
                self._forget(old)
        return series

    def read_imported(self, run: Run) -> None:
        """An imported run's TensorBoard events read into the metric store, once: its row then holds its steps,
        last loss, best validation and training time for the tables to show and sort."""
        if imported.unread(run):
            self._forget(run.id)
            self.metrics(run)

    def _forget(self, run_id: int) -> None:
        """Drop a finished run's series and where its files were read (a later read starts from the cache)."""
        run = self.get(run_id)
        if run is not None and run.status in ('queued', 'running', 'paused'):
            return  # resumed since: the poller feeds it
        self.series.pop(run_id, None)
        self._checkpoints_seen.pop(run_id, None)
        for job_id in (run.params.get('jobs', []) if run is not None else []):
            self._offsets.pop(job_id, None)

    # ---- validation and start -----------------------------------------------------------------
    def data(self, project: Project, dataset_id: int | None) -> TrainingData | None:
        """The project's dataset a spec names, as validation reads it."""
        row = Dataset.get_or_none((Dataset.id == dataset_id) & (Dataset.project == project)) \
            if dataset_id is not None else None
        return TrainingData.of(row) if row is not None else None

    def validate(self, project: Project, spec: RunSpec, composition: dict | None = None,
                 executor: dict | None = None) -> list[str]:
        """Everything that would make RAVE fail at start (RunSpec.validate, with the project's runs,
        configs and the GPUs of this machine — or those a cluster `executor` allocates — looked up);
        `composition` is the gin worker's answer for the spec's configs."""
        taken, data = {r.name for r in Run.select(Run.name).where(Run.project == project)}, \
            self.data(project, spec.dataset)
        return spec.validate(data, composition, taken=taken, custom=self.templates.entries(project),
                             gpus=self._gpus(executor)) + run_control.place_errors(data, executor)

    def warnings(self, project: Project, spec: RunSpec, composition: dict | None) -> list[str]:
        """What would not stop RAVE but is probably not what you want."""
        runs = self.projects.folder(project, 'runs')
        folders = [p.name for p in runs.iterdir() if p.is_dir()] if runs.is_dir() else []
        return spec.warnings(self.data(project, spec.dataset), composition, folders)

    def where(self, project: Project, spec: RunSpec) -> tuple[str, str, dict[str, str]]:
        """What a spec's flags name in this project: the dataset's folder, the runs folder, its own
        configs."""
        data = self.data(project, spec.dataset)
        return (data.path if data else '<dataset>', str(self.projects.folder(project, 'runs')),
                self.templates.paths(project))

    def start(self, project: Project, spec: RunSpec, composition: dict | None = None,
              executor: dict | None = None, *, owner: str = '') -> Run:
        """Create the run and queue its training job (on `executor`, e.g. a SLURM cluster: services/cluster);
        raises TrainingError with every problem found."""
        errors = self.validate(project, spec, composition, executor)
        if errors:
            raise TrainingError(' '.join(errors))
        out = self.projects.folder(project, 'runs')
        params = {'spec': spec.to_dict(), 'out_path': str(out),
                  'flags': spec.flags(*self.where(project, spec)),
                  'jobs': [], **({'executor': executor} if executor else {})}
        with db.atomic():
            run = Run.create(project=project, dataset=spec.dataset, name=spec.name,
                             configs=list(spec.configs),
                             params=params)
        return self._launch(run, params['flags'], f'Train {run.name}', owner=owner)

    def resume(self, run: Run, checkpoint: str | None = None, max_steps: int | None = None,
               reason: str = 'resume', *, owner: str | None = None) -> Run:
        """Continue a run from any of its checkpoints (the newest when none is given) with `rave train
        --ckpt`, for `owner` (None: whoever started its last job, as an automatic recovery does). The step
        count continues from the checkpoint's; the worker keeps every earlier checkpoint file."""
        if run.job_id and run.job.status not in FINISHED:
            raise TrainingError('This run is still going: stop it before resuming.')
        known = self.checkpoints(run)
        newest = run_control.newest_checkpoint(known)
        checkpoint = checkpoint or (newest.path if newest else None)
        if not checkpoint or not Path(checkpoint).exists():
            raise TrainingError('This run has no checkpoint to resume from (RAVE writes one at each '
                                'validation).')
        start_step = run_control.checkpoint_step(checkpoint, known)
        start_step = run.step if start_step is None else start_step
        spec = spec_of(run)
        target = max_steps or spec.max_steps
        if target <= start_step:
            raise TrainingError(f'That checkpoint is at step {start_step}: set max steps above it to train '
                                'further.')
        errors = run_control.device_errors(spec.device, self._gpus(run.params.get('executor')))
        if errors:
            raise TrainingError(' '.join(errors))
        try:
            flags = run.params.get('flags') or imported.flags(run, spec, self.templates.paths(run.project))
        except imported.ImportedRunError as e:
            raise TrainingError(str(e)) from e
        flags = run_control.without(flags, '--ckpt', '--max_steps')
        flags += ['--max_steps', str(target), '--ckpt', checkpoint]
        run.params = {**run.params, 'spec': spec.replace(max_steps=target).to_dict(), 'flags': flags,
                      'out_path': run.params.get('out_path') or str(Path(run.folder).parent)}
        owner = (run.job.owner if run.job_id else '') if owner is None else owner
        return self._launch(run, flags, f'{"Recover" if reason == "recovery" else "Resume"} {run.name}',
                            reason=reason, checkpoint=checkpoint, start_step=start_step, owner=owner)

    def stop(self, run: Run) -> None:
        """Graceful stop: the worker saves a resumable checkpoint, then ends."""
        if run.job_id:
            self.jobs.request_stop(run.job_id)

    def pause(self, run: Run) -> None:
        """Pause between two steps (the worker waits; model, optimizers and GPU memory stay as they are)."""
        if run.job_id:
            self.jobs.pause(run.job_id)
            self._sync_status(run)

    def unpause(self, run: Run) -> None:
        if run.job_id:
            self.jobs.resume(run.job_id)
            self._sync_status(run)

    def set_recovery(self, run: Run, attempts: int) -> None:
        """After a crash (non-zero exit, killed), restart from the newest checkpoint, up to `attempts`
        times."""
        run.params = {**run.params, 'spec': spec_of(run).replace(recover=max(0, int(attempts))).to_dict()}
        run.save(only=[Run.params])

    def attempts(self, run: Run) -> list[RunAttempt]:
        return run_control.attempts(run)

    def queue_position(self, run: Run) -> tuple[int, int] | None:
        """(0-based place, length) in the queue of the run's device while it waits; None otherwise."""
        return self.jobs.queue_position(run.job_id) if run.job_id else None

    def device_errors(self, device: str | list[str]) -> list[str]:
        return run_control.device_errors(device, list(self.gpus()))

    def cancel(self, run: Run) -> None:
        if run.job_id:
            self.jobs.cancel(run.job_id)

    # ---- live -----------------------------------------------------------------------------------
    def poll(self) -> None:
        """Read new metric lines of active trainings (called by the global poller)."""
        for state in self.jobs.states.values():
            if state.kind != 'train' or state.status in FINISHED:
                continue
            run = Run.get_or_none(Run.id == self._run_of_job(state.id))
            if run is None:
                continue
            # a run reattached after a restart starts from its earlier lines
            paused = self.metrics(run).paused
            if self._read(run.id, state.id):
                self._describe(state)
                self.jobs.version += 1
                self.jobs.bus.publish(JobsChanged((state.id,)))
                self._register_live(run)
                series = self.series[run.id]
                self.jobs.bus.publish(RunMetrics(run.id, series.step, series.version))
                if series.paused != paused:  # the worker reached (or left) its pause between two steps
                    self.jobs.bus.publish(RunChanged(run.id, run.status))
            if run.status != state.status:
                run.status = state.status
                run.save(only=[Run.status])
                self.jobs.bus.publish(RunChanged(run.id, run.status))
            run_control.follow_attempt(run, state)
        while self._recover_due:
            self._recover(self._recover_due.pop(0))

    def _sync_status(self, run: Run) -> None:
        state = self.jobs.states.get(run.job_id)
        if state is not None and run.status != state.status:
            run.status = state.status
            run.save(only=[Run.status])
            self.jobs.bus.publish(RunChanged(run.id, run.status))

    def _register_live(self, run: Run) -> None:
        """Index checkpoints as the worker writes them, so a crash or a resume can use them at once."""
        series = self.series.get(run.id)
        if series is None or len(series.checkpoints) == self._checkpoints_seen.get(run.id, 0):
            return
        self._checkpoints_seen[run.id] = len(series.checkpoints)
        if not run.folder and series.run_dir:
            run.folder = str(Path(series.run_dir).parent)
            run.save(only=[Run.folder])
        if run.folder:
            indexer.index(run)
            self.jobs.bus.publish(RunChanged(run.id, run.status))

    def _recover(self, run_id: int) -> None:
        """Restart a crashed run from its newest checkpoint, if it asked for it and has attempts left."""
        run = self.get(run_id)
        if run is None or run.job is None or run.job.status not in run_control.CRASHED:
            return
        spec = spec_of(run)
        if run_control.recoveries_used(run) >= spec.recover:
            return
        newest = run_control.newest_checkpoint(self.checkpoints(run))
        if newest is None:
            self._note(run, 'It crashed before its first checkpoint, so there is nothing to restart from.')
            return
        if newest.step is not None and newest.step >= spec.max_steps:
            return
        try:
            self.resume(run, newest.path, reason='recovery')
        except TrainingError as e:
            self._note(run, f'Automatic restart failed: {e}')

    def _note(self, run: Run, message: str) -> None:
        job = run.job
        job.message = f'{job.message} {message}'.strip()
        job.save(only=[Job.message])
        attempt = RunAttempt.get_or_none(RunAttempt.job == job)
        if attempt is not None:
            attempt.message = job.message
            attempt.save(only=[RunAttempt.message])

    def _launch(self, run: Run, flags: list[str], title: str, reason: str = 'start', checkpoint: str = '',
                start_step: int = 0, *, owner: str) -> Run:
        spec = spec_of(run)
        argv = [self.settings.python, '-m', 'services.workers.train', *flags]
        job = self.jobs.submit('train', title, argv, command=command(flags, spec.env()), project=run.project,
                               cwd=run.params['out_path'], slot=run_control.slot(spec.device),
                               spec={'run': run.id}, env=spec.env(), executor=run.params.get('executor'),
                               owner=owner)
        run.job = job
        run.status = job.status
        run.params = {**run.params, 'jobs': [*run.params.get('jobs', []), job.id]}
        run.save()
        run_control.start_attempt(run, job, reason, checkpoint, start_step)
        self.metrics(run)
        self.jobs.bus.publish(RunChanged(run.id, run.status))
        return run

    def _gpus(self, executor: dict | None) -> list[int]:
        """The GPU indices a run may name: this machine's, or the ones a cluster job is allocated."""
        if executor and executor.get('kind', 'local') != 'local':
            return list(range(int(executor.get('gpus_per_node') or 0)))
        return list(self.gpus())

    def _run_of_job(self, job_id: int) -> int | None:
        job = Job.get_or_none(Job.id == job_id)
        return (job.spec or {}).get('run') if job else None

    def _read(self, run_id: int, job_id: int) -> bool:
        """Append the job's new metric lines to the run's series; True if there were any."""
        job = Job.get_or_none(Job.id == job_id)
        if job is None:
            return False
        records, offset = appended(Path(job.folder) / 'metrics.jsonl', self._offsets.get(job_id, 0))
        self._offsets[job_id] = offset
        series = self.series.setdefault(run_id, Series())
        for record in records:
            series.add(record)
        return bool(records)

    def _load(self, run: Run) -> Series:
        """A run's series from its metric files (what it logged before an import, from its events); a finished
        run's is kept in series_cache and read back from there while its files are unchanged."""
        stamp, sizes = series_cache.stamp(run)
        finished = run.status not in ('queued', 'running', 'paused')
        saved = series_cache.load(self._cached(run), stamp) if finished and not imported.unread(run) else None
        if saved is not None:
            self._offsets.update({i: n for i, n in sizes.items() if n >= 0})  # their lines are in it
            return saved
        self.series[run.id] = Series()
        if run.params.get('imported_from') and run.folder:
            imported.read_events(run, self.series[run.id], self._cached(run, 'run_metrics', '.jsonl'))
        for job_id in sizes:
            self._read(run.id, job_id)
        if finished:
            series_cache.save(self._cached(run), self.series[run.id], stamp)
            if run.best_validation is None and run.last_loss is None:  # it ended before the table kept them
                experiment_table.figures(run, self.series[run.id])
        return self.series[run.id]

    def _cached(self, run: Run, kind: str = 'run_series', suffix: str = '.npz') -> Path:
        return self.settings.data_dir / 'cache' / kind / f'{run.id}{suffix}'

    def _describe(self, state: JobState) -> None:
        run_id = self._run_of_job(state.id)
        series = self.series.get(run_id) if run_id else None
        if series is None or not series.max_steps:
            return
        state.last.update(step=series.step, max_steps=series.max_steps)
        state.progress = min(1.0, series.step / series.max_steps)
        parts = [f'step {formatting.count(series.step)} / {formatting.count(series.max_steps)}']
        if series.rate:
            parts.append(f'{series.rate:.1f} it/s')
            state.eta_s = max(0.0, (series.max_steps - series.step) / series.rate)
        loss = series.latest('loss')
        if loss is not None:
            parts.append(f'loss {loss:.3g}')
        state.detail = ' · '.join(parts)

    def _finished(self, job: Job) -> None:
        run = Run.get_or_none(Run.id == (job.spec or {}).get('run'))
        if run is None:
            return
        self._read(run.id, job.id)
        series = self.metrics(run)
        if series.run_dir:
            run.folder = str(Path(series.run_dir).parent)
        elif not run.folder:
            run.folder = str(_newest_run_folder(Path(run.params['out_path']), run.name) or '')
        run.status = job.status
        run.step = max(run.step, series.step)
        if series.stopped_at is not None:
            run.params = {**run.params, 'stopped_at': series.stopped_at}
        run.save()
        experiment_table.figures(run, series)
        series_cache.save(self._cached(run), series, series_cache.stamp(run)[0])  # comparing it later parses nothing
        if run.folder:
            indexer.index(run)
        run_control.end_attempt(job, series.step or None)
        self.jobs.bus.publish(RunChanged(run.id, run.status))
        if job.status in run_control.CRASHED and spec_of(run).recover:
            self._recover_due.append(run.id)  # restarted by the next poll, outside the job engine's loop


def spec_of(run: Run) -> RunSpec:
    """The run's specification: its stored copy, one read from the operative config of a run made by the plain
    CLI, or one rebuilt from what older studios kept."""
    params = run.params or {}
    if not params.get('spec') and params.get('imported_from') and run.folder:
        return operative.spec(run.folder, run.name, run.dataset_id, params)
    return RunSpec.of_run(run.configs or [], run.params or {}, run.dataset_id, run.name)


def _newest_run_folder(out: Path, name: str) -> Path | None:
    folders = [p for p in out.glob(f'{name}_*') if p.is_dir()]
    return max(folders, key=lambda p: p.stat().st_mtime, default=None)
