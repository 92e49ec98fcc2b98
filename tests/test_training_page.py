"""Training pages through NiceGUI's simulated user, with a real (tiny, CPU) RAVE run behind the form."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import lmdb
from nicegui import app, ui
from nicegui.testing import User

from services.store import Dataset, Job


def register(db_path: Path) -> Dataset:
    studio = app.studio
    env = lmdb.open(str(db_path), readonly=True, lock=False)
    entries = env.stat()['entries']
    env.close()
    return Dataset.create(project=studio.projects.current(None), name='tones', path=str(db_path), status='ready',
                          sr=44100, channels=1, n_examples=entries, params={'num_signal': 65536})


def set_value(user: User, marker: str, value) -> None:
    for element in user.find(marker=marker).elements:
        element.set_value(value)


async def until(condition, timeout: float = 600, what: str = 'condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        await asyncio.sleep(0.3)
    raise AssertionError(f'timed out waiting for {what}')


async def test_empty_state_teaches_and_leads_to_the_form(user: User) -> None:
    await user.open('/training')
    await user.should_see('No training runs yet')
    user.find(marker='new').click()
    await user.should_see('No ready dataset in this project')
    await user.should_see('Go to Datasets')


async def test_form_validates_live_shows_the_command_and_starts_a_run(user: User, rave_db: Path) -> None:
    dataset = register(rave_db)
    await user.open('/training/new')
    await user.should_see('Equivalent RAVE command')
    await user.should_see('Small v2')  # the base config's one-line description
    user.find(marker='name').type('pagerun')
    set_value(user, 'n_signal', 65000)
    await user.should_see('n_signal must be a multiple of 512')
    set_value(user, 'n_signal', 65536)
    set_value(user, 'batch', 100)
    await user.should_see('Batch 100 is larger than')
    set_value(user, 'batch', 2)
    set_value(user, 'max_steps', 3)
    set_value(user, 'val_every', 100)
    await user.should_not_see('Batch 100 is larger than')
    command = ' '.join(user.find(marker='command').elements.pop().content.replace('\\\n', ' ').split())
    assert command.startswith('rave train --config v2_small') and f'--db_path {dataset.path}' in command
    assert '--channels 1' in command and '--gpu -1' in command and '--name pagerun' in command

    user.find(marker='start').click()
    await user.should_see(marker='loss-chart')
    run = await until(lambda: app.studio.training.list(dataset.project), timeout=30, what='the run row')
    run = run[0]
    try:
        await user.should_see('Stop & save checkpoint')
        assert run.name == 'pagerun' and Job.get_by_id(run.job_id).kind == 'train'
        await until(lambda: app.studio.training.metrics(run).step >= 1, what='the first step')
        await user.should_see('/ 3', retries=20)
        card = next(iter(user.find(marker='loss-chart').elements))
        loss_chart = next(e for e in card.descendants() if isinstance(e, ui.plotly))
        await until(lambda: loss_chart.figure['data'][0]['x'], timeout=60, what='points on the loss chart')
        assert loss_chart.figure['data'][0]['x'][0] == 1  # per step, from step 1
    finally:
        app.studio.jobs.cancel(run.job_id)
        await until(lambda: Job.get_by_id(run.job_id).status in ('cancelled', 'done', 'failed'), what='the end')

    await user.open('/training')
    await user.should_see('pagerun')
    await user.should_see('tones')
