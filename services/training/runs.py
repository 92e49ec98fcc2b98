"""Training: RAVE runs started through the studio's training worker, their live metrics and checkpoints.

A run is RAVE's `<out_path>/<name>_<ginhash>/version_N/` folder; the worker (services/workers/train.py)
is `rave train` plus per-step metrics and a graceful stop. Metrics arrive as JSON lines in the job
folder and are read incrementally (byte offsets) into in-memory series that pages chart.
"""
from __future__ import annotations

import json
import re
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from services.events import RunChanged, RunMetrics
from services.training import configs, run_control
from services.jobs import FINISHED, JobService, JobState
from services.training.metrics import Column
from services.projects import ProjectService
from services.settings import SettingsService
from services.store import Checkpoint, Dataset, Job, Project, Run, RunAttempt, db

TRAIN_LOSSES = ('loss', 'multiband_spectral_distance', 'fullband_spectral_distance', 'regularization',
                'feature_matching', 'adversarial', 'loss_dis')
_STOP_STEP = re.compile(r'stop-step=(\d+)')


class TrainingError(ValueError):
    """A training action that cannot be done, with a message for the user."""


@dataclass
class Series:
    """A run's metrics so far: for each scalar, the steps and values seen (numpy columns, append-only)."""
    steps: dict[str, Column] = field(default_factory=dict)
    values: dict[str, Column] = field(default_factory=dict)
    step: int = 0
    epoch: int = 0
    max_steps: int = 0
    run_dir: str = ''
    stopped_at: int | None = None
    checkpoints: dict[str, int] = field(default_factory=dict)  # path -> step, as the worker wrote them
    paused: bool = False  # the worker is waiting between two steps
    rate: float | None = None  # training steps per second, over the recent window
    recent: list[tuple[float, int]] = field(default_factory=list)
    version: int = 0  # bumps on every new line, so charts can skip idle ticks

    def add(self, line: dict) -> None:
        step = int(line.get('step') or 0)
        if line.get('run_dir'):
            self.run_dir = line['run_dir']
        if line.get('max_steps'):
            self.max_steps = int(line['max_steps'])
        if line.get('epoch') is not None:
            self.epoch = int(line['epoch'])
        event = line.get('event')
        if event == 'stopped':
            self.stopped_at = step
        elif event == 'checkpoint' and line.get('path'):
            self.checkpoints[line['path']] = step
        elif event in ('paused', 'resumed', 'start'):
            self.paused = event == 'paused'  # a new process (resume, recovery) starts unpaused
        prefix = 'val/' if event == 'validation' else ''
        for key, value in line.items() if event in (None, 'validation') else ():
            if key in ('step', 'max_steps', 'epoch', 't', 'event', 'run_dir', 'checkpoint'):
                continue
            if isinstance(value, (int, float)):
                self.steps.setdefault(prefix + key, Column(np.int64)).append(step)
                self.values.setdefault(prefix + key, Column()).append(float(value))
        if not line.get('event') and step:
            self.step = step
            self.recent = [*self.recent[-30:], (float(line.get('t', time.time())), step)]
            (t0, s0), (t1, s1) = self.recent[0], self.recent[-1]
            self.rate = (s1 - s0) / (t1 - t0) if t1 > t0 and s1 > s0 else self.rate
        self.version += 1

    def latest(self, key: str) -> float | None:
        values = self.values.get(key)
        return values[-1] if values else None


class TrainingService:
    def __init__(self, jobs: JobService, settings: SettingsService, projects: ProjectService) -> None:
        self.jobs = jobs
        self.settings = settings
        self.projects = projects
        self.series: dict[int, Series] = {}  # run id -> metrics read so far
        self._offsets: dict[int, int] = {}  # job id -> bytes of metrics.jsonl read
        self._recover_due: list[int] = []  # runs that crashed and asked to be restarted
        self._checkpoints_seen: dict[int, int] = {}  # run id -> checkpoint lines already registered
        self.gpus = run_control.visible_gpus  # () -> GPU indices on this machine
        jobs.cooperative.add('train')  # the worker pauses itself between steps (control.json)
        jobs.describe_with('train', self._describe)
        jobs.on_finish('train', self._finished)

    # ---- queries ------------------------------------------------------------------------------
    def configs(self) -> tuple[configs.BaseConfig, ...]:
        return configs.base_configs()

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
            self.series[run.id] = Series()
            for job_id in run.params.get('jobs', []):
                self._read(run.id, job_id)
        return self.series[run.id]

    # ---- validation and start -----------------------------------------------------------------
    def validate(self, project: Project, dataset: Dataset | None, name: str, config: str, n_signal: int,
                 batch: int, channels: int, max_steps: int = 1, val_every: int = 1, *,
                 composition: dict | None = None, save_every: int | None = None, lr: float | None = None,
                 ema: float | None = None) -> list[str]:
        """Everything that would make RAVE fail at start, each with what to do instead.

        `composition` is the gin worker's answer for the chosen configs (services.configs.check): with it, the
        checks use the composed model's real compression ratio and receptive field, and a gin error blocks."""
        errors = []
        name = name.strip()
        if not name:
            errors.append('Give the run a name.')
        elif not re.fullmatch(r'[A-Za-z0-9._-]+', name):
            errors.append('Use only letters, digits, ".", "_" and "-" in the run name (it becomes a folder).')
        elif Run.get_or_none((Run.project == project) & (Run.name == name)):
            errors.append(f'A run called "{name}" exists already in this project. Pick another name.')
        base = configs.get(config) or _custom_base(config, composition)
        if base is None:
            errors.append(f'Unknown base config "{config}". Pick one from the list.')
        if composition is not None and not composition.get('ok'):
            errors.append(f'The chosen configs do not work: {configs.reason(composition)}.')
        elif composition is not None and composition.get('compression') and base is not None:
            base = configs.BaseConfig(base.name, base.description, int(composition['compression']), base.discrete)
        if dataset is None:
            errors.append('Choose a dataset (build one on the Datasets page first).')
        elif dataset.status != 'ready':
            errors.append(f'The dataset "{dataset.name}" is {dataset.status}, not ready. Wait for it or pick another.')
        if max_steps < 1 or val_every < 1:
            errors.append('Max steps and validate every must be at least 1.')
        if save_every is not None and save_every < 1:
            errors.append('Save every must be at least 1 step (or left empty for RAVE\'s default).')
        if lr is not None and not 0 < lr < 1:
            errors.append('The learning rate must be between 0 and 1 (RAVE uses 0.001).')
        if ema is not None and not 0 < ema < 1:
            errors.append('EMA must be between 0 and 1, e.g. 0.999 (or off).')
        if batch < 1:
            errors.append('Batch size must be at least 1.')
        if base is not None:
            if n_signal % base.compression:
                near = max(configs.MIN_N_SIGNAL, round(n_signal / base.compression) * base.compression)
                errors.append(f'n_signal must be a multiple of {base.compression} for {config} '
                              f'(its compression ratio); try {near}.')
            if n_signal < configs.MIN_N_SIGNAL:
                errors.append(f'n_signal must be at least {configs.MIN_N_SIGNAL} samples: shorter crops do not '
                              'cover the model\'s receptive field.')
            field_ = (composition or {}).get('receptive_field')
            if field_ and n_signal <= sum(field_) + 2048:
                errors.append(f'n_signal must be larger than the model\'s receptive field plus the 2048-point '
                              f'STFT ({sum(field_) + 2048} samples): use a longer crop.')
        if dataset is not None:
            errors += _dataset_errors(dataset, base, n_signal, batch, channels)
        return errors

    def warnings(self, project: Project, dataset: Dataset | None, name: str, composition: dict | None) -> list[str]:
        """What would not stop RAVE but is probably not what you want."""
        out = []
        sr = ((composition or {}).get('macros') or {}).get('SAMPLING_RATE')
        if dataset is not None and sr and dataset.sr and int(sr) != int(dataset.sr):
            out.append(f'The config trains at {sr} Hz but the dataset is {dataset.sr} Hz: RAVE would resample every '
                       f'crop. Set SAMPLING_RATE to {dataset.sr} (Parameters step).')
        name = name.strip()
        if name:
            taken = sorted(p.name for p in self.projects.folder(project, 'runs').glob(f'{name}_*') if p.is_dir())
            if taken:
                out.append(f'The runs folder already holds {", ".join(taken)}: RAVE names the run folder '
                           f'<name>_<config hash>, so the same name and config adds a version there.')
        return out

    def arguments(self, dataset: Dataset, name: str, config: str, out_path: Path, max_steps: int,
                  val_every: int, n_signal: int, batch: int, channels: int, device: str, workers: int, *,
                  addons: list[str] | tuple = (), augment: list[str] | tuple = (), overrides: list[str] | tuple = (),
                  save_every: int | None = None, ema: float | None = None) -> list[str]:
        """The `rave train` flags for these choices."""
        flags = ['--config', config]
        for addon in addons:
            flags += ['--config', addon]
        for aug in augment:
            flags += ['--augment', aug]
        flags += ['--db_path', dataset.path, '--out_path', str(out_path), '--name', name,
                  '--max_steps', str(max_steps), '--val_every', str(val_every), '--n_signal', str(n_signal),
                  '--batch', str(batch), '--channels', str(channels), *run_control.gpu_flags(device),
                  '--workers', str(workers)]
        if save_every:
            flags += ['--save_every', str(save_every)]
        if ema:
            flags += ['--ema', str(ema)]
        for binding in overrides:
            flags += ['--override', binding]
        return flags

    def start(self, project: Project, dataset: Dataset, name: str, config: str = 'v2_small',
              max_steps: int = 100000, val_every: int = 1000, n_signal: int = 131072, batch: int = 8,
              channels: int | None = None, device: str = 'cpu', workers: int = 0, *,
              addons: list[str] | tuple = (), augment: list[str] | tuple = (), overrides: list[str] | tuple = (),
              save_every: int | None = None, ema: float | None = None, lr: float | None = None,
              lr_dis: float | None = None, description: str = '', composition: dict | None = None) -> Run:
        channels = channels or dataset.channels or 1
        errors = self.validate(project, dataset, name, config, n_signal, batch, channels, max_steps, val_every,
                               composition=composition, save_every=save_every, lr=lr, ema=ema)
        errors += self.device_errors(device)
        if errors:
            raise TrainingError(' '.join(errors))
        out = self.projects.folder(project, 'runs')
        extra = {'addons': list(addons), 'augment': list(augment), 'overrides': list(overrides),
                 'save_every': save_every, 'ema': ema}
        flags = self.arguments(dataset, name.strip(), config, out, max_steps, val_every, n_signal, batch,
                               channels, device, workers, **extra)
        params = {'max_steps': max_steps, 'val_every': val_every, 'n_signal': n_signal, 'batch': batch,
                  'channels': channels, 'device': device, 'workers': workers, 'out_path': str(out),
                  'flags': flags, 'jobs': [], **extra, 'lr': lr, 'lr_dis': lr_dis, 'description': description}
        with db.atomic():
            run = Run.create(project=project, dataset=dataset, name=name.strip(), configs=[config, *addons],
                             params=params)
        return self._launch(run, flags, f'Train {run.name}')

    def resume(self, run: Run, checkpoint: str | None = None, max_steps: int | None = None,
               reason: str = 'resume') -> Run:
        """Continue a run from any of its checkpoints (the newest when none is given) with `rave train --ckpt`.

        The step count continues from the checkpoint's; the worker keeps every earlier checkpoint file."""
        if run.job_id and run.job.status not in FINISHED:
            raise TrainingError('This run is still going: stop it before resuming.')
        known = self.checkpoints(run)
        newest = run_control.newest_checkpoint(known)
        checkpoint = checkpoint or (newest.path if newest else None)
        if not checkpoint or not Path(checkpoint).exists():
            raise TrainingError('This run has no checkpoint to resume from (RAVE writes one at each validation).')
        start_step = run_control.checkpoint_step(checkpoint, known)
        start_step = run.step if start_step is None else start_step
        target = max_steps or run.params['max_steps']
        if target <= start_step:
            raise TrainingError(f'That checkpoint is at step {start_step}: set max steps above it to train further.')
        errors = self.device_errors(run.params.get('device', 'cpu'))
        if errors:
            raise TrainingError(' '.join(errors))
        flags = _without(run.params['flags'], '--ckpt', '--max_steps')
        flags += ['--max_steps', str(target), '--ckpt', checkpoint]
        run.params = {**run.params, 'max_steps': target}
        return self._launch(run, flags, f'{"Recover" if reason == "recovery" else "Resume"} {run.name}',
                            reason=reason, checkpoint=checkpoint, start_step=start_step)

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
        """After a crash (non-zero exit, killed), restart from the newest checkpoint, up to `attempts` times."""
        run.params = {**run.params, 'recover': max(0, int(attempts))}
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

    def command(self, flags: list[str]) -> str:
        return 'rave train ' + shlex.join(flags)

    # ---- live -----------------------------------------------------------------------------------
    def poll(self) -> None:
        """Read new metric lines of active trainings (called by the global poller)."""
        for state in self.jobs.states.values():
            if state.kind != 'train' or state.status in FINISHED:
                continue
            run = Run.get_or_none(Run.id == self._run_of_job(state.id))
            if run is None:
                continue
            self.metrics(run)  # a run reattached after a restart starts from its earlier jobs' lines
            if self._read(run.id, state.id):
                self._describe(state)
                self.jobs.version += 1
                self._register_live(run)
                series = self.series[run.id]
                self.jobs.bus.publish(RunMetrics(run.id, series.step, series.version))
            if run.status != state.status:
                run.status = state.status
                run.save(only=[Run.status])
                self.jobs.bus.publish(RunChanged(run.id, run.status))
            attempt = RunAttempt.get_or_none(RunAttempt.job == state.id)
            if attempt is not None and attempt.status != state.status:
                attempt.status = state.status
                attempt.save(only=[RunAttempt.status])
        while self._recover_due:
            self._recover(self._recover_due.pop(0))

    def _sync_status(self, run: Run) -> None:
        state = self.jobs.states.get(run.job_id)
        if state is not None and run.status != state.status:
            run.status = state.status
            run.save(only=[Run.status])

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
            self.register_checkpoints(run)

    def _recover(self, run_id: int) -> None:
        """Restart a crashed run from its newest checkpoint, if it asked for it and has attempts left."""
        run = self.get(run_id)
        if run is None or run.job is None or run.job.status not in run_control.CRASHED:
            return
        allowed, used = int(run.params.get('recover') or 0), run_control.recoveries_used(run)
        if used >= allowed:
            return
        newest = run_control.newest_checkpoint(self.checkpoints(run))
        if newest is None:
            self._note(run, 'It crashed before its first checkpoint, so there is nothing to restart from.')
            return
        if newest.step is not None and newest.step >= run.params['max_steps']:
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
                start_step: int = 0) -> Run:
        argv = [self.settings.python, '-m', 'services.workers.train', *flags]
        job = self.jobs.submit('train', title, argv, command=self.command(flags), project=run.project,
                               cwd=run.params['out_path'], slot=run_control.slot(run.params['device']),
                               spec={'run': run.id},
                               env=learning_rate_env(run.params))
        run.job = job
        run.status = job.status
        run.params = {**run.params, 'jobs': [*run.params.get('jobs', []), job.id]}
        run.save()
        run_control.start_attempt(run, job, reason, checkpoint, start_step)
        self.metrics(run)
        return run

    def _run_of_job(self, job_id: int) -> int | None:
        job = Job.get_or_none(Job.id == job_id)
        return (job.spec or {}).get('run') if job else None

    def _read(self, run_id: int, job_id: int) -> bool:
        """Append the job's new metric lines to the run's series; True if there were any."""
        job = Job.get_or_none(Job.id == job_id)
        if job is None:
            return False
        path = Path(job.folder) / 'metrics.jsonl'
        offset = self._offsets.get(job_id, 0)
        try:
            if path.stat().st_size <= offset:
                return False
        except FileNotFoundError:
            return False
        with open(path, 'rb') as f:
            f.seek(offset)
            data = f.read()
        end = data.rfind(b'\n') + 1  # whole lines only; a partial one is read next time
        self._offsets[job_id] = offset + end
        series = self.series.setdefault(run_id, Series())
        for raw in data[:end].splitlines():
            try:
                series.add(json.loads(raw))
            except ValueError:
                continue
        return end > 0

    def _describe(self, state: JobState) -> None:
        run_id = self._run_of_job(state.id)
        series = self.series.get(run_id) if run_id else None
        if series is None or not series.max_steps:
            return
        state.last.update(step=series.step, max_steps=series.max_steps)
        state.progress = min(1.0, series.step / series.max_steps)
        parts = [f'step {series.step:,} / {series.max_steps:,}'.replace(',', ' ')]
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
        if run.folder:
            self.register_checkpoints(run)
        run_control.end_attempt(job, series.step or None)
        self.jobs.bus.publish(RunChanged(run.id, run.status))
        if job.status in run_control.CRASHED and run.params.get('recover'):
            self._recover_due.append(run.id)  # restarted by the next poll, outside the job engine's loop

    def register_checkpoints(self, run: Run) -> list[Checkpoint]:
        """Index every .ckpt in the run folder; forget rows whose file is gone.

        A checkpoint's step is the one the worker reported when it wrote it (best.ckpt is rewritten in place
        at each better validation); files from elsewhere (an imported run) get it from the validation steps."""
        folder = Path(run.folder)
        series = self.metrics(run)
        for ckpt in sorted(folder.rglob('*.ckpt'), key=lambda p: p.stat().st_mtime):
            kind, step = _checkpoint_kind(ckpt.name, series)
            reported = series.checkpoints.get(str(ckpt.resolve()))
            row = Checkpoint.get_or_none(Checkpoint.path == str(ckpt))
            if row is None:
                Checkpoint.create(run=run, path=str(ckpt), kind=kind, step=step if reported is None else reported)
            elif reported is not None and row.step != reported:
                row.step = reported
                row.save()
        for row in self.checkpoints(run):
            if not Path(row.path).exists():
                row.delete_instance()
        return self.checkpoints(run)


def learning_rate_env(params: dict) -> dict:
    """The environment the training worker reads its learning-rate hook from (services/workers/learning_rate)."""
    env = {}
    if params.get('lr'):
        env['RAVE_STUDIO_LR'] = repr(float(params['lr']))
    if params.get('lr_dis'):
        env['RAVE_STUDIO_DIS_LR'] = repr(float(params['lr_dis']))
    return env


def _custom_base(config: str, composition: dict | None) -> configs.BaseConfig | None:
    """A project's custom config, named by its .gin path, once the gin worker has checked it."""
    if not config.endswith('.gin') or not Path(config).exists():
        return None
    compression = int((composition or {}).get('compression') or 2048)
    return configs.BaseConfig(Path(config).stem, 'Custom config.', compression, False)


def _dataset_errors(dataset: Dataset, base: configs.BaseConfig | None, n_signal: int, batch: int,
                    channels: int) -> list[str]:
    errors = []
    num_signal = (dataset.params or {}).get('num_signal')
    if num_signal and n_signal > 2 * num_signal and not dataset.lazy:
        errors.append(f'n_signal can be at most {2 * num_signal} for this dataset (it stores '
                      f'{2 * num_signal} samples per example); lower it or rebuild the dataset.')
    if dataset.channels and not 1 <= channels <= dataset.channels:
        errors.append(f'The dataset has {dataset.channels} channel(s): train with 1 to {dataset.channels}.')
    n = dataset.n_examples
    if n:
        train = max(98 * n // 100, 1)
        val = min(n - train, 1000)
        if train // max(batch, 1) < 1:
            errors.append(f'Batch {batch} is larger than the {train} training examples of this dataset: '
                          f'use a batch of at most {train}.')
        if base is not None and not base.discrete and val * n_signal // base.compression < 128:
            errors.append(f'Validation needs at least 128 latent frames and this dataset keeps {val} example(s) '
                          f'for it: use more audio, a larger n_signal or a config with less compression.')
    return errors


def _checkpoint_kind(name: str, series: Series) -> tuple[str, int | None]:
    val_steps = series.steps.get('val/validation', [])
    if m := _STOP_STEP.search(name):
        return 'stop', int(m.group(1))
    if name.startswith('best'):
        values = series.values.get('val/validation', [])
        return 'best', val_steps[values.index(min(values))] if values else None
    kind = 'last' if name.startswith('last') else 'epoch'
    return kind, val_steps[-1] if val_steps else None


def _newest_run_folder(out: Path, name: str) -> Path | None:
    folders = [p for p in out.glob(f'{name}_*') if p.is_dir()]
    return max(folders, key=lambda p: p.stat().st_mtime, default=None)


def _without(flags: list[str], *names: str) -> list[str]:
    out, skip = [], False
    for flag in flags:
        if skip:
            skip = False
        elif flag in names:
            skip = True
        else:
            out.append(flag)
    return out
