"""Dashboard: running jobs, the machine card, the start card, recent work with teaching empty states; theme memory."""
from __future__ import annotations

import sys
from pathlib import Path

from nicegui import app, ui
from nicegui.testing import User
from waiting import until

from services.access import local
from services.store import Dataset, Export, Run


async def test_empty_project_teaches_where_to_start(user: User) -> None:
    await user.open('/')
    await user.should_see('This machine')
    await user.should_see('CPU')
    await user.should_see('RAM')
    if app.studio.monitor.now.gpus:
        await user.should_see('GPU 0')
    else:
        await user.should_see('No GPU — jobs run on the CPU.')
    await user.should_see('Nothing is running.')
    for label in ('New dataset', 'New training', 'Export a model', 'Explore'):
        await user.should_see(label)
    await user.should_see('No training yet.')
    await user.should_see('No dataset yet.')
    await user.should_see('No export yet.')
    user.find(marker='start-explorer').click()
    await user.should_see('Explorer')


async def test_recent_work_of_the_current_project(user: User) -> None:
    await user.open('/')  # makes the Default project current
    project = app.studio.projects.current(None)
    dataset = Dataset.create(project=project, name='drum loops', path=str(Path(project.location) / 'datasets' / 'd'),
                             status='ready', sr=44100, n_seconds=754.0)
    run = Run.create(project=project, dataset=dataset, name='drums_v2', configs=['v2', 'causal'], step=41200,
                     status='done')
    Export.create(project=project, run=run, path=str(Path(project.location) / 'exports' / 'drums_v2.ts'),
                  streaming=True, status='done')
    other = app.studio.projects.create('Elsewhere')
    Run.create(project=other, name='not-here', status='done')
    await user.open('/')
    await user.should_see('drums_v2')
    await user.should_see('drum loops')
    await user.should_see('v2 + causal')
    await user.should_see('41 200 steps')
    await user.should_see('12 min 34 s')
    await user.should_see('drums_v2.ts')
    await user.should_see('streaming')
    await user.should_not_see('not-here')
    await user.should_not_see('No training yet.')


async def test_running_card_shows_a_live_job(user: User) -> None:
    jobs = app.studio.jobs
    job = jobs.submit('test', 'Waiting job for the dashboard', [sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        await user.open('/')
        await user.should_see('Waiting job for the dashboard', retries=50)
        await user.should_not_see('Nothing is running.')
    finally:
        jobs.cancel(job.id)
    await user.should_see('Nothing is running.', retries=100)


async def test_dark_mode_is_remembered(user: User) -> None:
    await user.open('/')
    dark = user.find(ui.dark_mode).elements.pop()
    assert not dark.value
    user.find(marker='theme').click()
    assert dark.value
    await user.open('/help')
    assert user.find(ui.dark_mode).elements.pop().value is True


async def test_help_explains_the_pipeline_files_and_cli(user: User) -> None:
    await user.open('/help')
    for text in ('The pipeline', 'Dataset', 'Training', 'Export', 'Explorer', 'RAVE parameters in plain words',
                 'v2_small', 'Where files live', str(app.studio.data_dir), 'rave-studio --share'):
        await user.should_see(text)


async def test_cards_update_in_place_and_the_switcher_follows_new_projects(user: User) -> None:
    jobs = app.studio.jobs
    ticker = ('import time\nfor i in range(1, 600):\n'
              '    print(f"dataset length: 0:00:{i % 60:02d}.5: : {i}it [00:00, 9.00it/s]", flush=True)\n'
              '    time.sleep(0.2)')
    job = jobs.submit('preprocess', 'Ticking job', [sys.executable, '-u', '-c', ticker])  # progress each tick
    try:
        await user.open('/')
        await user.should_see('Ticking job', retries=50)
        row = user.find(marker=f'job-{job.id}').elements.pop()
        meter = user.find(marker='machine').elements.pop()
        figures = [e for e in meter.descendants() if isinstance(e, ui.label)]
        version = jobs.version
        await until(lambda: jobs.version > version + 2, message='the job never changed')
        await until(lambda: app.studio.monitor.history, message='no system sample')
        assert user.find(marker=f'job-{job.id}').elements.pop() is row  # updated, not deleted and rebuilt
        assert [e for e in meter.descendants() if isinstance(e, ui.label)] == figures

        app.studio.session(local(), None).projects.create('Made elsewhere')
        switcher = user.find(marker='project-switcher').elements.pop()
        await until(lambda: 'Made elsewhere' in switcher.options.values(),
                    message='the switcher did not follow')
    finally:
        jobs.cancel(job.id)
