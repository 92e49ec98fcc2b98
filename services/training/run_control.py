"""Execution bookkeeping of training runs: devices → RAVE's `--gpu` flags, the attempts of a run (first start,
resumes, automatic recoveries after a crash, SLURM requeues) and which checkpoint a recovery continues from.

No NiceGUI, no torch: the GPU count comes from pynvml (as the system monitor reads it), once.
"""
from __future__ import annotations

import functools
from pathlib import Path

from services.i18n import _
from services.jobs import slots_of
from services.jobs.executors import remote
from services.store import Checkpoint, Job, Run, RunAttempt, now

# a cancel is the user's wish and a graceful stop ends 'done': no recovery
CRASHED = ('failed', 'interrupted')


def gpu_flags(device: str | list[str]) -> list[str]:
    """RAVE's `--gpu` flags for a device list: CPU is `--gpu -1`, each GPU adds one `--gpu N`."""
    devices = slots_of(device) if isinstance(device, str) else list(device)
    gpus = [d.split(':', 1)[1] for d in devices if d.startswith('gpu:')]
    return [flag for g in gpus for flag in ('--gpu', g)] or ['--gpu', '-1']


def slot(device: str | list[str]) -> str:
    """The job engine's slot string for a device list: 'cpu', 'gpu:0' or 'gpu:0,gpu:1' (one run per GPU)."""
    return ','.join(slots_of(device) if isinstance(device, str) else device)


def device_errors(device: str | list[str], gpus: list[int]) -> list[str]:
    """What is wrong with a device choice on this machine (whose GPUs are `gpus`), with what to do instead."""
    devices = slots_of(device) if isinstance(device, str) else list(device)
    if not devices:
        return [_('Choose a device: the CPU or one or more GPUs.')]
    if 'cpu' in devices and len(devices) > 1:
        return [_('Train on the CPU or on GPUs, not both: remove the CPU or the GPUs from the device list.')]
    errors = []
    for d in devices:
        if d == 'cpu':
            continue
        index = d.split(':', 1)[1] if d.startswith('gpu:') else ''
        if not index.isdigit():
            errors.append(_('"{device}" is not a device: use cpu or gpu:N.').format(device=d))
        elif int(index) not in gpus:
            where = (_('this machine has GPU {gpus}').format(gpus=', '.join(map(str, gpus))) if gpus else
                     _('this machine has no NVIDIA GPU (or its driver is not loaded)'))
            errors.append(_('GPU {index} is not available: {where}. Pick the CPU or another GPU.')
                          .format(index=index, where=where))
    return errors


@functools.lru_cache(maxsize=1)
def visible_gpus() -> tuple[int, ...]:
    """Indices of the NVIDIA GPUs on this machine; empty without a driver."""
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', FutureWarning)
            import pynvml
        pynvml.nvmlInit()
        return tuple(range(pynvml.nvmlDeviceGetCount()))
    except Exception:  # noqa: BLE001 — no driver, no library: the studio trains on the CPU
        return ()


def start_attempt(run: Run, job: Job, reason: str, checkpoint: str = '', start_step: int = 0) -> RunAttempt:
    number = RunAttempt.select().where(RunAttempt.run == run).count() + 1
    return RunAttempt.create(run=run, number=number, job=job, reason=reason, checkpoint=checkpoint or '',
                             start_step=start_step, status=job.status)


def follow_attempt(run: Run, state) -> None:
    """The run's latest attempt follows its job's status. A SLURM requeue inside the job (its host said
    {"requeued": N} in progress: services/workers/cluster_host) is the next attempt, from the checkpoint saved
    before it; the one before ends interrupted there."""
    attempts = list(RunAttempt.select().where(RunAttempt.job == state.id).order_by(RunAttempt.number))
    if not attempts:
        return
    while len(attempts) <= int(state.last.get('requeued') or 0):
        before = attempts[-1]
        before.status, before.end_step, before.ended = 'interrupted', state.last.get('requeue_step'), now()
        before.message = 'SLURM\'s time limit came near (or a preemption): requeued from its checkpoint.'
        before.save()
        attempts.append(start_attempt(run, Job.get_by_id(state.id), 'requeue', state.last.get('checkpoint', ''),
                                      int(state.last.get('requeue_step') or 0)))
    if attempts[-1].status != state.status:
        attempts[-1].status = state.status
        attempts[-1].save(only=[RunAttempt.status])


def end_attempt(job: Job, end_step: int | None) -> RunAttempt | None:
    attempt = RunAttempt.select().where(RunAttempt.job == job).order_by(RunAttempt.number.desc()).first()
    if attempt is not None:
        attempt.status, attempt.end_step, attempt.ended = job.status, end_step, job.ended or now()
        attempt.message = job.message or ''
        attempt.save()
    return attempt


def attempts(run: Run) -> list[RunAttempt]:
    return list(RunAttempt.select().where(RunAttempt.run == run).order_by(RunAttempt.number))


def recoveries_used(run: Run) -> int:
    return RunAttempt.select().where((RunAttempt.run == run) & (RunAttempt.reason == 'recovery')).count()


def newest_checkpoint(checkpoints: list[Checkpoint]) -> Checkpoint | None:
    """The checkpoint furthest into training (then the most recently written) whose file exists."""
    existing = [c for c in checkpoints if Path(c.path).exists()]
    return max(existing, key=lambda c: (c.step if c.step is not None else -1, Path(c.path).stat().st_mtime),
               default=None)


def checkpoint_step(checkpoint: str, checkpoints: list[Checkpoint]) -> int | None:
    return next((c.step for c in checkpoints if c.path == checkpoint), None)


def place_errors(data, executor: dict | None) -> list[str]:
    """A dataset on the cluster's file system trains on the cluster only: this machine cannot read it."""
    if data is not None and data.on_cluster and not remote(executor):
        return [f'{data.name} lives on the cluster\'s file system: a run on this machine cannot read it. Choose '
                'the SLURM cluster under "Where it trains", or another dataset.']
    return []


def without(flags: list[str], *names: str) -> list[str]:
    """`flags` less each of `names` and the value that follows it."""
    out, skip = [], False
    for flag in flags:
        if skip:
            skip = False
        elif flag in names:
            skip = True
        else:
            out.append(flag)
    return out
