"""A real tiny RAVE run on the one-node SLURM of tests/slurm_fixtures.py, through the Training facade: submit →
live metric with its SLURM state → studio restart (reattached from the SLURM job id) → stop with a checkpoint →
resume (on SLURM again) → scancel from outside (a checkpoint first) → automatic recovery from it → cancel. One
shared scenario: every SLURM job that trains costs a RAVE start-up (the signals alone: test_cluster_host.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from rave_fixtures import metric_lines, register_dataset, tiny_spec
from waiting import run_ended, wait_for

from services import access
from services.cluster.settings import SLURM, ExecutorSettings
from services.store import Checkpoint, Job, RunAttempt


def _facades(studio):
    return studio.session(access.local(), None)


def _stepped(job: Job) -> bool:
    return (Path(job.folder) / 'metrics.jsonl').exists() and any('loss' in line for line in metric_lines(job))


def _slurm_id(job_id: int) -> str:
    return Job.get_by_id(job_id).spec['slurm_job_id']


@pytest.mark.slow
def test_a_run_on_slurm_is_watched_stopped_resumed_and_recovered_across_a_studio_restart(
        slurm, data_dir: Path, rave_db: Path) -> None:
    from app.studio import Studio
    studio = Studio(data_dir)
    studio.start()
    project = studio.projects.current(None)
    dataset = register_dataset(studio, rave_db)
    training = _facades(studio).training
    executor = ExecutorSettings(kind=SLURM, partition='debug', time='10')
    run = training.start(project.id, tiny_spec(dataset, 'onslurm', max_steps=1000, val_every=2), executor=executor)
    training.set_recovery(run.id, 2)
    first = Job.get_by_id(run.job_id)
    assert first.spec['executor']['kind'] == SLURM and first.device == ''  # it holds no slot of this machine
    wait_for(studio, lambda: training.metrics(run.id).step >= 2, timeout=300, what='two steps on SLURM')
    assert 'running' in _facades(studio).jobs.get(first.id).where
    assert _slurm_id(first.id) in _facades(studio).jobs.get(first.id).where

    # the studio restarts: the new one reattaches to the SLURM job from its id and reads on
    studio.shutdown()
    studio = Studio(data_dir)
    studio.start()
    training = _facades(studio).training
    assert Job.get_by_id(first.id).status == 'running'
    seen = training.metrics(run.id).step
    wait_for(studio, lambda: training.metrics(run.id).step > seen, timeout=120, what='a step after the restart')

    # stop: the worker saves a resumable checkpoint and the SLURM job ends cleanly
    training.stop(run.id)
    row = wait_for(studio, run_ended(studio, run.id), timeout=300, what='the graceful stop')
    assert Job.get_by_id(first.id).status == 'done', Job.get_by_id(first.id).message
    stopped_at = row.params['stopped_at']
    stop = Checkpoint.get((Checkpoint.run == row) & (Checkpoint.kind == 'stop'))
    assert stop.step == stopped_at

    # resume: a new SLURM job, continuing from the stop checkpoint
    run = training.resume(run.id, stop.path, max_steps=1000)
    resumed = Job.get_by_id(run.job_id)
    assert resumed.spec['executor']['kind'] == SLURM
    wait_for(studio, lambda: training.metrics(run.id).step > stopped_at + 1, timeout=300, what='resumed steps')
    assert _slurm_id(resumed.id) != _slurm_id(first.id)  # submitted on the engine's thread meanwhile
    assert [line['step'] for line in metric_lines(resumed) if 'loss' in line][0] == stopped_at + 1

    # scancel from outside the studio: 'interrupted', then the automatic recovery submits again
    assert slurm.run('scancel', _slurm_id(resumed.id)).returncode == 0
    wait_for(studio, lambda: Job.get_by_id(resumed.id).status == 'interrupted', timeout=120,
             what='the scancel to be noticed')
    said = Job.get_by_id(resumed.id).message
    assert 'outside the studio' in said and 'saved a checkpoint at step' in said  # SIGTERM: a checkpoint first
    saved = int(said.rsplit('at step ', 1)[1].split()[0])
    recovered = wait_for(studio, lambda: (j := Job.get_by_id(training.run(run.id).job_id)).id != resumed.id and j,
                         timeout=60, what='the automatic recovery')
    attempt = RunAttempt.get(RunAttempt.job == recovered.id)
    # from the step SIGTERM's checkpoint saved (RAVE's epoch checkpoint may hold the same step)
    assert attempt.reason == 'recovery' and attempt.start_step == saved > stopped_at and '--ckpt' in recovered.command
    assert recovered.spec['executor']['kind'] == SLURM
    wait_for(studio, lambda: 'running' in _facades(studio).jobs.get(recovered.id).where, timeout=60,
             what='the recovery running on SLURM')
    training.cancel(run.id)
    wait_for(studio, lambda: Job.get_by_id(recovered.id).status == 'cancelled', timeout=120, what='the cancel')


@pytest.mark.slow
def test_sigterm_to_a_real_run_on_slurm_checkpoints_and_the_requeued_job_resumes_from_it(
        slurm, data_dir: Path, rave_db: Path) -> None:
    """What SLURM does at a preemption or the time limit — SIGTERM to every process of the job — on a tiny real
    v2_small run that asked to be requeued: RAVE's worker saves a stop checkpoint, the same SLURM job is requeued
    and trains on from that step (one job, one run; the second attempt says it)."""
    from app.studio import Studio
    studio = Studio(data_dir)
    studio.start()
    project = studio.projects.current(None)
    training = _facades(studio).training
    executor = ExecutorSettings(kind=SLURM, partition='debug', time='10', requeue=True)
    run = training.start(project.id, tiny_spec(register_dataset(studio, rave_db), 'preempted', max_steps=1000,
                                               val_every=1000), executor=executor)
    job = Job.get_by_id(run.job_id)
    wait_for(studio, lambda: training.metrics(run.id).step >= 2, timeout=300, what='two steps on SLURM')
    slurm_id = _slurm_id(job.id)
    assert slurm.run('scancel', '--signal=TERM', '--full', slurm_id).returncode == 0
    wait_for(studio, lambda: 'for its start time' in _facades(studio).jobs.get(job.id).where, timeout=120,
             what='the requeue')
    assert 'SLURM sent SIGTERM' in (Path(job.folder) / 'log.txt').read_text(errors='replace')
    requeue = json.loads((Path(job.folder) / 'requeue.json').read_text())  # what the host resumes from
    saved = requeue['step']
    assert Path(requeue['checkpoint']).is_file() and requeue['checkpoint'].endswith(f'stop-step={saved}.ckpt')
    assert slurm.run('scontrol', 'update', f'JobId={slurm_id}', 'StartTime=now').returncode == 0  # no 2-min hold
    wait_for(studio, lambda: training.metrics(run.id).step > saved + 1, timeout=300, what='steps after the requeue')
    attempt = RunAttempt.get((RunAttempt.job == job.id) & (RunAttempt.reason == 'requeue'))
    assert attempt.start_step == saved and attempt.checkpoint == requeue['checkpoint']
    row = Job.get_by_id(job.id)
    assert row.status == 'running' and row.spec['slurm_job_id'] == slurm_id and training.run(run.id).job_id == job.id
    steps = [line['step'] for line in metric_lines(row) if 'loss' in line]
    assert saved + 1 in steps and steps == sorted(set(steps))  # on from the checkpoint, not from the start
    training.cancel(run.id)
    wait_for(studio, lambda: Job.get_by_id(job.id).status == 'cancelled', timeout=120, what='the cancel')
    studio.shutdown()
