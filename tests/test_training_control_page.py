"""The run controls through NiceGUI's simulated user: the device queue with reorder, queue position, and a
real (tiny, CPU) run paused, continued, stopped with a checkpoint and resumed from the checkpoint picker."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User
from rave_fixtures import register_dataset, tiny_spec
from waiting import until

from services.store import Job
from services.training.runs import spec_of

pytestmark = pytest.mark.slow


def click(user: User, marker: str) -> None:
    user.find(marker=marker).click()


async def test_queue_panel_reorders_trainings_waiting_for_the_cpu(user: User, rave_db: Path) -> None:
    studio = app.studio
    dataset = register_dataset(studio, rave_db)
    # the CPU is busy with another job, so both trainings wait in line
    busy = studio.jobs.submit('task', 'Busy CPU', [sys.executable, '-c', 'import time; time.sleep(300)'],
                              slot='cpu')
    first = studio.training.start(dataset.project, tiny_spec(dataset, 'alpha', max_steps=10, val_every=5))
    second = studio.training.start(dataset.project, tiny_spec(dataset, 'beta', max_steps=10, val_every=5))
    try:
        await user.open('/training')
        await user.should_see(marker='queue')
        await user.should_see(marker='queued-alpha')
        assert [j.id for j in studio.jobs.queued('cpu')] == [first.job_id, second.job_id]
        click(user, 'up-beta')
        await until(lambda: [j.id for j in studio.jobs.queued('cpu')] == [second.job_id, first.job_id],
                    10, message='no beta to move up')

        await user.open(f'/training/runs/{first.id}')
        await user.should_see('Queued · number 2 in line of 2 for CPU')
        await user.open(f'/training/runs/{second.id}')
        await user.should_see('Queued · next in line of 2 for CPU')
        await user.should_see(marker='cancel-run')
        await user.should_not_see(marker='pause')
    finally:
        for job_id in (first.job_id, second.job_id, busy.id):
            studio.jobs.cancel(job_id)
        await until(lambda: all(Job.get_by_id(i).status in ('cancelled', 'done', 'failed')
                                for i in (first.job_id, second.job_id, busy.id)), 60, message='no the end')


async def test_run_page_pause_continue_stop_and_resume_from_a_checkpoint(user: User, rave_db: Path) -> None:
    studio = app.studio
    dataset = register_dataset(studio, rave_db)
    run = studio.training.start(dataset.project, tiny_spec(dataset, 'knobs', max_steps=1000, val_every=1000))
    await user.open(f'/training/runs/{run.id}')
    await user.should_see(marker='attempt-1')
    await user.should_see('#1')
    await user.should_see('Started')
    try:
        await until(lambda: studio.training.metrics(run).step >= 1, 600, message='no the first step')
        await user.should_see(marker='pause', retries=20)
        click(user, 'pause')
        await until(lambda: studio.training.get(run.id).status == 'paused', 10, message='no paused')
        await until(lambda: studio.training.metrics(run).paused, 300, message='no the worker to pause')
        await user.should_see('Paused between two steps', retries=50)
        click(user, 'unpause')
        await until(lambda: studio.training.get(run.id).status == 'running', 10, message='no running again')
        await user.should_see(marker='stop-save', retries=20)
        click(user, 'stop-save')
        await until(lambda: Job.get_by_id(run.job_id).status == 'done', 300, message='no the graceful stop')
        await user.should_see(marker='resume', retries=30)
        click(user, 'resume')
        await user.should_see(marker='resume-dialog')
        await user.should_see('stop · step')
        stopped_at = studio.training.get(run.id).params['stopped_at']
        for element in user.find(marker='resume-steps').elements:
            element.set_value(stopped_at + 1)
        click(user, 'resume-go')
        await until(lambda: studio.training.get(run.id).job_id != run.job_id, 10,
                    message='no the resumed job')
        resumed = studio.training.get(run.id)
        assert '--ckpt' in Job.get_by_id(resumed.job_id) \
            .command and 'stop-step=' in Job.get_by_id(resumed.job_id).command
        await until(lambda: Job.get_by_id(resumed.job_id).status == 'done', 600, message='no the resumed run')
        assert studio.training.metrics(resumed).step == stopped_at + 1
        await user.open(f'/training/runs/{run.id}')
        await user.should_see(marker='attempt-2')
        await user.should_see('Resumed')
        await user.should_see(f'from step {stopped_at} to {stopped_at + 1}')
    finally:
        current = studio.training.get(run.id)
        studio.jobs.cancel(current.job_id)
        await until(lambda: Job.get_by_id(current.job_id).status in ('cancelled', 'done', 'failed'), 600,
                    message='no the end')


async def test_recovery_setting_is_saved_from_the_run_page(user: User, rave_db: Path) -> None:
    studio = app.studio
    dataset = register_dataset(studio, rave_db)
    busy = studio.jobs.submit('task', 'Busy CPU', [sys.executable, '-c', 'import time; time.sleep(300)'],
                              slot='cpu')
    run = studio.training.start(dataset.project, tiny_spec(dataset, 'safe', max_steps=10, val_every=5))
    try:
        await user.open(f'/training/runs/{run.id}')
        await user.should_see('Restart after a crash')
        for element in user.find(marker='recover').elements:
            element.set_value(3)
        await until(lambda: spec_of(studio.training.get(run.id)).recover == 3, 5, message='no the setting')
        click(user, 'cancel-run')
        await user.should_see('It leaves the queue and does not start.')
        click(user, 'cancel-run-yes')
        await until(lambda: Job.get_by_id(run.job_id).status == 'cancelled', 30, message='no cancelled')
        assert studio.training.get(run.id).job_id == run.job_id  # a cancel is not a crash: no recovery
    finally:
        studio.jobs.cancel(busy.id)
