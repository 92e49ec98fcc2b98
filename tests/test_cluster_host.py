"""The job engine's SLURM executor on the real one-node SLURM, with a stand-in worker (no RAVE: seconds): the
SLURM state in words (pending with its reason, running), the time limit's signal turned into a checkpoint, an
outside scancel and the studio's cancel told apart, and SLURM's refusal said as the job's message."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from waiting import poll_until

from services.cluster.settings import SLURM
from services.jobs import FINISHED
from services.store import Job

# Works like the training worker's control: steps until control.json says stop, then "saves" and exits 0.
WORKER = '''
import json, os, pathlib, sys, time
folder = pathlib.Path(os.environ['RAVE_STUDIO_JOB_DIR'])
print('started', flush=True)
while True:
    try:
        control = json.loads((folder / 'control.json').read_text())
    except (OSError, ValueError):
        control = {}
    if control.get('stop'):
        (folder / 'saved.txt').write_text('checkpoint')
        print('saved a checkpoint', flush=True)
        sys.exit(0)
    time.sleep(0.1)
'''
ON_SLURM = {'kind': SLURM, 'partition': 'debug', 'time': '5'}


def _submit(studio, title: str, **executor) -> Job:
    return studio.jobs.submit('cluster-test', title, [sys.executable, '-c', WORKER],
                              executor={**ON_SLURM, **executor})


def _submitted(studio, title: str) -> Job:
    """Submitted, and taken by SLURM (sbatch runs on the engine's thread: in order, one after the other)."""
    job = _submit(studio, title)
    poll_until(lambda: Job.get_by_id(job.id).spec.get('slurm_job_id'), 30, studio=studio,
               message=lambda: Job.get_by_id(job.id).message)
    return job


def _where(studio, job: Job) -> str:
    return str(studio.jobs.track(Job.get_by_id(job.id)).where)


def _status(studio, job: Job) -> str:
    return studio.jobs.track(Job.get_by_id(job.id)).status


def _ended(studio, job: Job, timeout: float = 60) -> Job:
    return poll_until(lambda: (row := Job.get_by_id(job.id)).status in FINISHED and row, timeout, studio=studio,
                      message=lambda: f'{job.title} did not end: {studio.jobs.log_tail(job.id)}')


@pytest.mark.slow
def test_slurm_states_signals_and_cancels_reach_the_job_engine(slurm, studio) -> None:
    # the node has 2 CPUs and each job asks 1: the third waits in SLURM's queue, and says why
    jobs = [_submitted(studio, name) for name in ('deadline', 'outside', 'waiting')]
    assert all(Job.get_by_id(j.id).status == 'running' for j in jobs)  # handed to SLURM, none holds a slot here
    poll_until(lambda: all('started' in studio.jobs.log_tail(j.id) for j in jobs[:2]), 60, studio=studio,
               message='the first two never started')
    poll_until(lambda: 'waiting in the SLURM queue for free resources' in _where(studio, jobs[2])
               or 'behind jobs of higher priority' in _where(studio, jobs[2]), 30, studio=studio,
               message=lambda: _where(studio, jobs[2]))
    assert _status(studio, jobs[2]) == 'queued'  # SLURM holds it unstarted: queued, with the reason in words
    # squeue is read by a background thread: the first job's state in words follows within a refresh
    poll_until(lambda: 'running on' in _where(studio, jobs[0]), 30, studio=studio,
               message=lambda: _where(studio, jobs[0]))

    # the time limit's warning: the worker is asked to stop with a checkpoint, the job ends 'interrupted'
    slurm_id = Job.get_by_id(jobs[0].id).spec['slurm_job_id']
    assert slurm.run('scancel', '--signal=USR2', '--batch', slurm_id).returncode == 0
    deadline = _ended(studio, jobs[0])
    assert deadline.status == 'interrupted' and 'time limit' in deadline.message
    assert (Path(deadline.folder) / 'saved.txt').exists()

    # an outside scancel is an interruption (recovery may restart it), not the user's cancel
    assert slurm.run('scancel', Job.get_by_id(jobs[1].id).spec['slurm_job_id']).returncode == 0
    outside = _ended(studio, jobs[1])
    assert outside.status == 'interrupted' and 'outside the studio' in outside.message

    # the third got a CPU meanwhile; the studio's Cancel ends it as 'cancelled'
    poll_until(lambda: 'started' in studio.jobs.log_tail(jobs[2].id), 60, studio=studio,
               message='the waiting job never started')
    poll_until(lambda: _status(studio, jobs[2]) == 'running', 30, studio=studio,
               message=lambda: f'{_status(studio, jobs[2])}: {_where(studio, jobs[2])}')
    studio.jobs.cancel(jobs[2].id)
    assert _ended(studio, jobs[2]).status == 'cancelled'


@pytest.mark.slow
def test_a_refused_submission_is_the_jobs_message(slurm, studio) -> None:
    job = _submit(studio, 'nowhere', partition='no-such-partition')  # sbatch answers on the engine's thread
    row = poll_until(lambda: (j := Job.get_by_id(job.id)).status != 'running' and j, 30, studio=studio)
    assert row.status == 'failed' and 'Could not submit the job' in row.message
    assert 'partition' in row.message.lower()


# Prints the training worker's stop line (services/workers/train.py) and the flags it was started with; SIGTERM
# does not end it (RAVE's Lightning under SLURM bypasses it: its SLURMEnvironment's auto-requeue).
REQUEUED_WORKER = '''
import json, os, pathlib, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
folder = pathlib.Path(os.environ['RAVE_STUDIO_JOB_DIR'])
print('started with', ' '.join(sys.argv[1:]), flush=True)
while True:
    try:
        control = json.loads((folder / 'control.json').read_text())
    except (OSError, ValueError):
        control = {}
    if control.get('stop'):
        print(f'[studio] stop requested: saved {folder}/stop-step=7.ckpt at step 7', flush=True)
        sys.exit(0)
    time.sleep(0.1)
'''


def _stand_in_run(studio, name: str, requeue: bool):
    from services.store import Run
    from services.training import RunSpec
    from services.training.run_control import start_attempt
    project = studio.projects.current(None)
    spec = RunSpec(name=name, max_steps=100)
    run = Run.create(project=project, name=name, configs=list(spec.configs), status='queued',
                     params={'spec': spec.to_dict(), 'jobs': [], 'out_path': '', 'flags': []})
    job = studio.jobs.submit('train', f'Train {name}', [sys.executable, '-c', REQUEUED_WORKER, '--max_steps', '100'],
                             project=project, spec={'run': run.id}, executor={**ON_SLURM, 'requeue': requeue})
    run.job, run.params = job, {**run.params, 'jobs': [job.id]}
    run.save()
    start_attempt(run, job, 'start')
    return run, job


@pytest.mark.slow
@pytest.mark.parametrize('warning', ['--signal=USR2 --batch', '--signal=TERM --full'],
                         ids=['time-limit-warning', 'sigterm'])
def test_the_time_limit_requeues_the_same_slurm_job_which_resumes_from_its_checkpoint(slurm, studio,
                                                                                      warning) -> None:
    """SLURM's warning before the time limit (sbatch --signal=B:USR2@N), or its SIGTERM to every process of the
    job (a preemption, the limit itself, `scancel --signal=TERM`): a checkpoint, then a requeue of this same job."""
    from services.store import Run, RunAttempt
    run, job = _stand_in_run(studio, 'requeued', requeue=True)
    poll_until(lambda: 'started with --max_steps 100' in studio.jobs.log_tail(job.id), 60, studio=studio,
               message=lambda: studio.jobs.log_tail(job.id))
    slurm_id = Job.get_by_id(job.id).spec['slurm_job_id']
    script = (Path(job.folder) / 'slurm').glob('*_submission.sh')
    assert '#SBATCH --requeue' in next(script).read_text()

    # the signal: a checkpoint, then SLURM requeues this same job, which resumes from it
    assert slurm.run('scancel', *warning.split(), slurm_id).returncode == 0
    poll_until(lambda: 'for its start time' in _where(studio, job), 60, studio=studio,
               message=lambda: f'{_where(studio, job)}\n{studio.jobs.log_tail(job.id)}')
    assert _status(studio, job) == 'queued' and Run.get_by_id(run.id).status == 'queued'
    # SLURM holds a requeued job ~2 minutes before it may start again: start it now
    assert slurm.run('scontrol', 'update', f'JobId={slurm_id}', 'StartTime=now').returncode == 0
    resumed = f'started with --max_steps 100 --ckpt {job.folder}/stop-step=7.ckpt'
    poll_until(lambda: resumed in studio.jobs.log_tail(job.id), 120, studio=studio,
               message=lambda: f'{_where(studio, job)}\n{studio.jobs.log_tail(job.id)}')
    row = Job.get_by_id(job.id)
    assert row.status == 'running' and row.spec['slurm_job_id'] == slurm_id  # one job, one SLURM job id
    assert 'requeued by SLURM (1): resuming from' in studio.jobs.log_tail(job.id)
    attempts = poll_until(lambda: len(a := list(RunAttempt.select().where(RunAttempt.run == run)
                                                .order_by(RunAttempt.number))) == 2 and a, 30, studio=studio)
    assert [a.reason for a in attempts] == ['start', 'requeue'] and attempts[0].status == 'interrupted'
    assert attempts[1].start_step == 7 and attempts[1].checkpoint.endswith('stop-step=7.ckpt')
    assert attempts[0].end_step == 7

    studio.jobs.request_stop(job.id)  # a stop of the user's own is no deadline: the job ends done
    assert _ended(studio, job).status == 'done'


@pytest.mark.slow
def test_sigterm_from_outside_ends_a_training_with_a_checkpoint(slurm, studio) -> None:
    """SIGTERM to every process of a training's job, no requeue asked: the worker saves a checkpoint first, then the
    job ends 'interrupted' saying so (the run's recovery resumes from it); a second SIGTERM changes nothing."""
    run, job = _stand_in_run(studio, 'terminated', requeue=False)
    poll_until(lambda: 'started with --max_steps 100' in studio.jobs.log_tail(job.id), 60, studio=studio,
               message=lambda: studio.jobs.log_tail(job.id))
    slurm_id = Job.get_by_id(job.id).spec['slurm_job_id']
    for _ in range(2):
        assert slurm.run('scancel', '--signal=TERM', '--full', slurm_id).returncode == 0
    ended = _ended(studio, job)
    assert ended.status == 'interrupted', ended.message
    assert 'outside the studio' in ended.message and 'saved a checkpoint at step 7 first' in ended.message
    log = studio.jobs.log_tail(job.id)
    assert log.count('SLURM sent SIGTERM') == 1 and 'stop requested: saved' in log
