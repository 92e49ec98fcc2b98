"""Training pages through NiceGUI's simulated user: the runs list and the run page follow events, the console
reads its log only once its tab is open, and a run can be rerun from the wizard."""
from __future__ import annotations

import asyncio

import pytest
from nicegui import app
from nicegui.testing import User
from waiting import see, until

from services.events import RunChanged, RunMetrics
from services.store import Checkpoint, Dataset, Job, Run
from services.training import RunSpec


async def test_empty_state_teaches_and_leads_to_the_wizard(user: User) -> None:
    await user.open('/training')
    await user.should_see('No training runs yet')
    user.find(marker='new').click()
    await user.should_see('Quick start')  # the new-run wizard (tests/test_wizard.py covers it)
    await user.should_see('No ready dataset in this project')
    await user.should_see('Build one')


def _run(studio, status: str = 'running') -> Run:
    project = studio.projects.current(None)
    dataset = Dataset.create(project=project, name='tones', path=str(studio.data_dir / 'db'),
                             status='ready', sr=44100,
                             channels=1, n_examples=12, n_seconds=36.0, params={'num_signal': 65536})
    job = Job.create(project=project, kind='train', title='Train listed', argv=[], status='done')
    job_dir = studio.jobs.root / f'{job.id:06d}'
    job_dir.mkdir(parents=True)
    (job_dir / 'log.txt').write_text('train set: 11 examples\n')
    Job.update(folder=str(job_dir)).where(Job.id == job.id).execute()
    spec = RunSpec(dataset=dataset.id, name='listed', description='a try', addons=('causal',),
                   max_steps=500, batch=4)
    return Run.create(project=project, dataset=dataset, name='listed', configs=list(spec.configs),
                      status=status,
                      job=job, params={'spec': spec.to_dict(), 'jobs': [job.id], 'out_path': '', 'flags': []})


async def test_runs_list_follows_run_events(user: User) -> None:
    run = _run(app.studio)
    await user.open('/training')
    await user.should_see(marker='run-listed')
    await user.should_see('0 / 500')
    app.studio.bus.publish(RunMetrics(run.id, 77, 1))  # what the poller publishes when new lines arrive
    await see(user, '77 / 500', timeout=10)  # delivered at the poller's next tick
    Run.update(status='failed').where(Run.id == run.id).execute()
    app.studio.bus.publish(RunChanged(run.id, 'failed'))
    await see(user, 'failed', timeout=10)


async def test_console_reads_the_log_only_once_its_tab_is_open(user: User,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    run = _run(app.studio, status='done')
    reads = []
    read_log = app.studio.jobs.read_log
    monkeypatch.setattr(app.studio.jobs, 'read_log', lambda *a: reads.append(a) or read_log(*a))
    await user.open(f'/training/runs/{run.id}')
    await user.should_see('a try')
    assert not reads
    user.find(marker='tab-console').click()
    await until(lambda: reads, message='the console did not read its log when its tab opened')
    await see(user, 'train set: 11 examples', timeout=10)


async def test_rerun_opens_the_wizard_with_the_runs_choices(user: User) -> None:
    run = _run(app.studio, status='done')
    await user.open(f'/training/runs/{run.id}')
    user.find(marker='rerun').click()  # one "Run again" menu: the same settings, or from its best checkpoint
    await user.should_see('Same settings')
    user.find(marker='rerun-same').click()
    await user.should_see('Starting from listed\'s choices.')
    user.find(marker='next-start').click()
    await user.should_see(marker='dataset-tones')


async def test_run_header_is_redrawn_when_its_job_changes_state_not_at_every_progress_line(user: User) -> None:
    from services.events import JobsChanged
    run = _run(app.studio)
    await user.open(f'/training/runs/{run.id}')
    await user.should_see(marker='run-name')
    drawn = user.find(marker='run-name').elements.pop().id
    heard = []
    app.studio.bus.listen(lambda e: heard.append(e) if isinstance(e, JobsChanged) else None)
    # what the poller publishes at every metric line of a running job: its progress moved
    app.studio.bus.publish(JobsChanged((run.job_id,)))
    await until(lambda: heard, message='the poller did not deliver the event')
    await asyncio.sleep(0.2)  # the page's handler ran on the loop by now
    assert user.find(marker='run-name').elements.pop().id == drawn
    app.studio.jobs.states[run.job_id].status = 'failed'  # the job's state moved: the header follows
    app.studio.bus.publish(JobsChanged((run.job_id,)))
    await until(lambda: user.find(marker='run-name').elements.pop().id != drawn,
                message='the header was not redrawn when its job failed')


async def test_a_confirm_dialog_survives_the_header_redrawing_under_it(user: User) -> None:
    from services.events import JobsChanged
    run = _run(app.studio)
    await user.open(f'/training/runs/{run.id}')
    await user.should_see(marker='run-name')
    drawn = user.find(marker='run-name').elements.pop().id
    user.find(marker='cancel-run').click()
    await user.should_see(marker='cancel-run-dialog')
    # the run starts (or its job changes state) while the user reads the question: the header is redrawn
    app.studio.jobs.states[run.job_id].status = 'failed'
    app.studio.bus.publish(JobsChanged((run.job_id,)))
    await until(lambda: user.find(marker='run-name').elements.pop().id != drawn,
                message='the header was not redrawn when its job failed')
    await user.should_see(marker='cancel-run-dialog')  # the question is still there, and still answers
    user.find(marker='cancel-run-no').click()
    await user.should_not_see(marker='cancel-run-dialog')


async def test_run_again_continues_from_the_best_checkpoint(user: User) -> None:
    run = _run(app.studio, status='done')
    await user.open(f'/training/runs/{run.id}')
    continued = next(iter(user.find(marker='continue-best').elements))
    assert not continued.enabled  # no best checkpoint yet
    folder = app.studio.data_dir / 'listed_0123' / 'version_0' / 'checkpoints'
    folder.mkdir(parents=True)
    for name, step in (('best.ckpt', 200), ('epoch-epoch=0003.ckpt', 300)):
        (folder / name).write_bytes(b'x')
        Checkpoint.create(run=run, path=str(folder / name), step=step, kind=name.split('.')[0].split('-')[0])
    await user.open(f'/training/runs/{run.id}')
    await user.should_see('step 200')  # the menu says which checkpoint it continues from
    user.find(marker='rerun').click()
    user.find(marker='continue-best').click()
    await user.should_see(marker='resume-dialog')
    picker = next(iter(user.find(marker='resume-checkpoint').elements))
    assert picker.value == str(folder / 'best.ckpt')  # not the newest: the best
