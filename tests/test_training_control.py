"""Execution and control of training runs with real RAVE on CPU: pause/resume between steps, stop with a
checkpoint, restart from any checkpoint without losing one, automatic recovery after a SIGKILL, the device
queue and RAVE's --gpu flags."""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest
from rave_fixtures import metric_lines, register_dataset, tiny_spec
from waiting import run_ended, wait_for

from services.store import Checkpoint, Job, RunAttempt
from services.training import run_control
from services.training.runs import TrainingError
from services.training.spec import RunSpec

PAUSE_S = 6.0


def test_gpu_flags_follow_the_device_list() -> None:
    assert run_control.gpu_flags('cpu') == ['--gpu', '-1']
    assert run_control.gpu_flags('gpu:1') == ['--gpu', '1']
    assert run_control.gpu_flags('gpu:0,gpu:1') == ['--gpu', '0', '--gpu', '1']
    assert run_control.gpu_flags(['gpu:0', 'gpu:2']) == ['--gpu', '0', '--gpu', '2']
    assert run_control.device_errors('cpu', []) == []
    assert run_control.device_errors('gpu:0,gpu:1', [0, 1]) == []
    assert 'not both' in run_control.device_errors('cpu,gpu:0', [0])[0]
    assert 'has GPU 0' in run_control.device_errors('gpu:0,gpu:3', [0])[0]


@pytest.mark.slow
def test_a_gpu_run_on_a_machine_without_that_gpu_is_refused_clearly(studio, rave_db: Path) -> None:
    project = studio.projects.current(None)
    dataset = register_dataset(studio, rave_db)
    gpus = list(studio.training.gpus())
    missing = f'gpu:{len(gpus)}'  # the first index this machine does not have (gpu:0 without a GPU)
    with pytest.raises(TrainingError, match=f'GPU {len(gpus)} is not available') as err:
        studio.training.start(project, tiny_spec(dataset, 'nogpu', devices=(missing,)))
    assert 'Pick the CPU' in str(err.value)
    assert not studio.training.list(project)  # nothing half-created
    args = RunSpec(name='multi', max_steps=10, val_every=5, n_signal=65536, batch=2,
                   devices=('gpu:0', 'gpu:1')).flags(dataset.path, '/tmp/out')
    assert ' '.join(args).count('--gpu') == 2 and '--gpu 0 --gpu 1' in ' '.join(args)


@pytest.mark.slow
def test_device_queue_runs_one_training_per_device_in_the_order_the_user_sets(studio, rave_db: Path) -> None:
    """Three runs on the CPU: one runs, two wait; moving the last to the front makes it start next."""
    project = studio.projects.current(None)
    dataset = register_dataset(studio, rave_db)
    first = studio.training.start(project, tiny_spec(dataset, 'q1', max_steps=1000, val_every=1000))
    second = studio.training.start(project, tiny_spec(dataset, 'q2', max_steps=1000, val_every=1000))
    third = studio.training.start(project, tiny_spec(dataset, 'q3', max_steps=1000, val_every=1000))
    try:
        assert Job.get_by_id(first.job_id).status == 'running'
        assert [j.id for j in studio.jobs.queued('cpu')] == [second.job_id, third.job_id]
        assert studio.training.queue_position(studio.training.get(second.id)) == (0, 2)
        assert studio.training.queue_position(studio.training.get(third.id)) == (1, 2)

        studio.jobs.reorder(third.job_id, 0)
        assert [j.id for j in studio.jobs.queued('cpu')] == [third.job_id, second.job_id]
        assert studio.training.queue_position(studio.training.get(third.id)) == (0, 2)
        studio.poll()
        assert Job.get_by_id(second.job_id).status == 'queued'  # the device is still busy

        studio.training.cancel(studio.training.get(first.id))
        wait_for(studio, lambda: Job.get_by_id(third.job_id).status == 'running', timeout=120,
                 what='the moved run to start next')
        assert Job.get_by_id(second.job_id).status == 'queued'
        assert studio.training.get(second.id).status == 'queued'
    finally:
        for run in (first, second, third):
            studio.jobs.cancel(studio.training.get(run.id).job_id)
        wait_for(studio, lambda: all(Job.get_by_id(studio.training.get(r.id).job_id).status in
                                     ('cancelled', 'done', 'failed') for r in (first, second, third)),
                 timeout=120, what='every run to end')


def test_a_multi_gpu_job_holds_every_gpu_and_keeps_its_place_in_line(studio) -> None:
    """The engine's slots: one job per GPU; a job on two GPUs waits for both, and a later one-GPU job
    does not overtake it."""
    sleep = [sys.executable, '-c', 'import time; time.sleep(120)']
    busy = studio.jobs.submit('task', 'GPU 1 busy', sleep, slot='gpu:1')
    both = studio.jobs.submit('task', 'Two GPUs', sleep, slot='gpu:0,gpu:1')
    later = studio.jobs.submit('task', 'GPU 0 only', sleep, slot='gpu:0')
    try:
        studio.poll()
        assert [Job.get_by_id(j.id).status for j in (busy, both, later)] == ['running', 'queued', 'queued']
        assert studio.jobs.queue_position(both.id) == (0, 2) and studio.jobs.queue_position(later.id) == (1,
                                                                                                          2)
        studio.jobs.cancel(busy.id)
        wait_for(studio, lambda: Job.get_by_id(both.id).status == 'running', timeout=60,
                 what='both GPUs free')
        assert Job.get_by_id(later.id).status == 'queued'  # gpu:0 is held by the two-GPU job
    finally:
        for job in (busy, both, later):
            studio.jobs.cancel(job.id)
        wait_for(studio, lambda: all(Job.get_by_id(j.id).status == 'cancelled' for j in (busy, both, later)),
                 timeout=60, what='the end')


@pytest.mark.slow
def test_pause_resume_stop_restart_and_recovery_after_a_kill(studio, rave_db: Path) -> None:
    """One real run through every control: pause → resume → stop & save → resume from the stop checkpoint
    (nothing lost, step continues) → SIGKILL of RAVE → automatic recovery from the newest checkpoint."""
    project = studio.projects.current(None)
    dataset = register_dataset(studio, rave_db)
    run = studio.training.start(project, tiny_spec(dataset, 'ctl', max_steps=1000, val_every=2))
    studio.training.set_recovery(run, 1)
    job = Job.get_by_id(run.job_id)
    wait_for(studio, lambda: studio.training.metrics(run).step >= 2, what='two steps')

    # pause: the worker waits between steps; the step does not move and the status says paused
    studio.training.pause(studio.training.get(run.id))
    assert studio.training.get(run.id).status == 'paused' and Job.get_by_id(job.id).status == 'paused'
    wait_for(studio, lambda: studio.training.metrics(run).paused, timeout=300, what='the worker to pause')
    held = studio.training.metrics(run).step
    rave = _rave_process(job)
    assert rave.status() != psutil.STATUS_STOPPED  # paused in the callback, not frozen by SIGSTOP
    deadline = time.monotonic() + PAUSE_S
    while time.monotonic() < deadline:
        studio.poll()
        time.sleep(0.5)
    assert studio.training.metrics(run).step == held
    assert max(line['step'] for line in metric_lines(job) if 'loss' in line) == held

    studio.training.unpause(studio.training.get(run.id))
    assert studio.training.get(run.id).status == 'running'
    wait_for(studio, lambda: studio.training.metrics(run).step > held, what='a step after resuming')
    assert not studio.training.metrics(run).paused
    wait_for(studio,
             lambda: any(c.kind == 'epoch' for c in studio.training.checkpoints(studio.training.get(run.id))),
             what='a validation checkpoint registered while running')

    # stop & save: a resumable checkpoint, exit 0
    studio.training.stop(studio.training.get(run.id))
    run = wait_for(studio, run_ended(studio, run.id), timeout=300, what='the graceful stop')
    assert Job.get_by_id(job.id).status == 'done', Job.get_by_id(job.id).message
    stopped_at = run.params['stopped_at']
    stop = Checkpoint.get((Checkpoint.run == run) & (Checkpoint.kind == 'stop'))
    assert stop.step == stopped_at
    before = {c.path: c.step for c in studio.training.checkpoints(run)}
    assert len(before) >= 3 and all(Path(p).exists() for p in before)  # best, epoch, stop

    # resume from the stop checkpoint: the step count continues and no checkpoint is lost
    run = studio.training.resume(run, stop.path, max_steps=1000)
    resumed = Job.get_by_id(run.job_id)
    assert resumed.id != job.id
    def resumed_with_a_new_checkpoint() -> bool:
        rows = studio.training.checkpoints(studio.training.get(run.id))
        return any(c.path not in before for c in rows) and studio.training.metrics(run).step >= stopped_at + 3

    wait_for(studio, resumed_with_a_new_checkpoint, timeout=600,
             what='a new validation checkpoint after resuming')
    steps = [line['step'] for line in metric_lines(resumed) if 'loss' in line]
    assert steps[0] == stopped_at + 1
    assert all(Path(p).exists() for p in before), 'a checkpoint registered before the resume was deleted'
    rows = {c.path: c.step for c in studio.training.checkpoints(studio.training.get(run.id))}
    assert set(before) <= set(rows)
    assert all(rows[p] == before[p] for p in before if not Path(p).name.startswith('best'))
    assert all(Path(p).exists() for p in rows)

    # a crash: SIGKILL of the RAVE process (not a stop); the run restarts from its newest checkpoint
    crashed_at = studio.training.metrics(run).step
    os.kill(_rave_process(resumed).pid, signal.SIGKILL)
    wait_for(studio, lambda: Job.get_by_id(resumed.id).status in ('failed', 'interrupted'), timeout=120,
             what='the killed job to be noticed')
    run = wait_for(studio, lambda: (r := studio.training.get(run.id)).job_id != resumed.id and r, timeout=60,
                   what='the automatic restart')
    recovery = Job.get_by_id(run.job_id)
    assert '--ckpt' in recovery.command
    # the newest checkpoint when the crash was noticed (the recovery is still loading: it has written none)
    newest = run_control.newest_checkpoint(studio.training.checkpoints(run))
    assert newest.step <= crashed_at
    attempts = studio.training.attempts(run)
    assert [a.reason for a in attempts] == ['start', 'resume', 'recovery']
    assert [a.status for a in attempts[:2]] == ['done', Job.get_by_id(resumed.id).status]
    assert attempts[1].end_step >= crashed_at and attempts[1].message
    assert attempts[2].checkpoint == newest.path and attempts[2].start_step == newest.step
    wait_for(studio, lambda: _loss_steps(recovery), timeout=600, what='a step after recovery')
    assert _loss_steps(recovery)[0] == newest.step + 1
    assert all(Path(p).exists() for p in rows)

    # a second crash: no attempts left, the run stays failed
    os.kill(_rave_process(recovery).pid, signal.SIGKILL)
    run = wait_for(studio, run_ended(studio, run.id), timeout=120, what='the second crash')
    for _ in range(3):
        studio.poll()
    run = studio.training.get(run.id)
    assert run.job_id == recovery.id and run.status in ('failed', 'interrupted')
    assert RunAttempt.select().where(RunAttempt.run == run).count() == 3


def _loss_steps(job: Job) -> list[int]:
    """The training steps a job has reported so far (none while RAVE is still loading)."""
    if not (Path(job.folder) / 'metrics.jsonl').exists():
        return []
    return [line['step'] for line in metric_lines(job) if 'loss' in line]


def _rave_process(job: Job) -> psutil.Process:
    """The training process the job's host started (the worker running RAVE)."""
    child = json.loads((Path(job.folder) / 'child.json').read_text())
    return psutil.Process(child['pid'])
