"""The sweep pages through NiceGUI's simulated user: the list's empty state, the wizard's checks step by step
up to a launched sweep, and a finished sweep's page (trial table, charts, best model, resume)."""
from __future__ import annotations

from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User
from rave_fixtures import register_dataset
from waiting import see, texts, until

from services.store import Checkpoint, Job, Project, Run, Sweep, SweepTrial
from services.training.spec import RunSpec
from services.training.sweeps import Budget, Param, SweepSpec


def set_value(user: User, marker: str, value) -> None:
    for element in user.find(marker=marker).elements:
        element.set_value(value)


def click(user: User, marker: str) -> None:
    user.find(marker=marker).click()


async def test_the_sweeps_list_explains_what_a_sweep_is(user: User) -> None:
    await user.open('/training/sweeps')
    await user.should_see('No sweep yet')
    await user.should_see('lets Optuna choose the next')
    await user.open('/training/sweeps/999')
    await user.should_see('This sweep does not exist in the current project.')


@pytest.mark.slow
async def test_the_sweep_wizard_checks_each_step_and_starts_a_sweep(user: User, rave_db: Path, gin_cache) -> None:
    dataset = register_dataset(app.studio, rave_db)
    await user.open('/training/sweeps/new')
    await user.should_see(marker='dataset-tones')
    set_value(user, 'base-max_steps', 2)
    set_value(user, 'base-val_every', 2)
    set_value(user, 'base-n_signal', 65536)
    set_value(user, 'base-batch', 2)
    click(user, 'next-base-run')
    await user.should_see(marker='base')
    click(user, 'next-config')
    await see(user, 'What to vary')

    set_value(user, 'param-0-kind', 'choice')
    click(user, 'next-parameters')
    await see(user, 'Learning rate: give at least two choices, separated by commas.')
    set_value(user, 'param-0-choices', '0.001, 0.0005')
    click(user, 'add-param')
    set_value(user, 'param-1-key', 'batch')
    set_value(user, 'param-1-kind', 'float')
    set_value(user, 'param-1-low', 1)
    set_value(user, 'param-1-high', 2)
    click(user, 'next-parameters')
    await see(user, 'Batch is a whole number: choose a range of whole numbers.')
    click(user, 'param-1-remove')
    click(user, 'next-parameters')

    await see(user, 'Method and budget')
    click(user, 'next-objective')
    await see(user, 'Give the sweep a name.')
    user.find(marker='sweep-name').type('first sweep')
    set_value(user, 'sweep-pruner', 'threshold')
    set_value(user, 'sweep-trials', 2)
    click(user, 'next-objective')
    await see(user, 'Use only letters, digits')
    await see(user, 'The threshold pruner needs a limit')
    assert 'no finished run on cpu yet' in texts(user, 'estimate')
    user.find(marker='sweep-name').clear()
    user.find(marker='sweep-name').type('first')
    set_value(user, 'sweep-pruner', 'median')
    click(user, 'next-objective')

    await user.should_see(marker='summary')
    summary = texts(user, 'summary')
    assert 'Learning rate ∈ {0.001, 0.0005}' in summary and 'v2_small on dataset tones' in summary
    assert '2 trials of up to 2 steps' in texts(user, 'estimate')
    click(user, 'launch')
    sweep = await until(lambda: Sweep.get_or_none(Sweep.name == 'first'), timeout=60)
    try:
        await see(user, 'Trials', timeout=60)
        await user.should_see(marker='trial-0-state')
        assert sweep.spec['base']['dataset'] == dataset.id
        click(user, 'stop-sweep')
        await until(lambda: Sweep.get_by_id(sweep.id).status == 'stopped', timeout=30)
        await see(user, 'Resume sweep')
    finally:
        for job in Job.select():
            app.studio.jobs.cancel(job.id)


async def test_a_finished_sweeps_page_shows_its_trials_charts_and_best_model(user: User, tmp_path: Path) -> None:
    project = app.studio.projects.current(None)
    sweep = finished_sweep(project, tmp_path)
    await user.open('/training/sweeps')
    await user.should_see(marker='sweep-capacity')
    await user.should_see('best 0.25')
    await user.open(f'/training/sweeps/{sweep.id}')
    await user.should_see('capacity')
    assert 'pruned' in texts(user, 'trial-1-state') and 'complete' in texts(user, 'trial-2-state')
    assert '0.25 ★' in texts(user, 'trial-2-value')
    await user.should_see(marker='history')
    await user.should_see(marker='parallel')
    await user.should_see(marker='importance')
    await user.should_see('Export best model')
    [button] = user.find(marker='best-model').elements
    assert 'disable' not in button.props
    click(user, 'best-model')
    await user.should_see('Where will you play it?')


def finished_sweep(project: Project, folder: Path) -> Sweep:
    """A sweep of three trials on rows alone (no training): complete, pruned, complete; the best has a file."""
    spec = SweepSpec('capacity', RunSpec(max_steps=4, val_every=2),
                     (Param('CAPACITY', 'choice', choices=(4, 8, 16)),), method='grid', pruner='median',
                     budget=Budget(trials=3))
    sweep = Sweep.create(project=project, name='capacity', spec=spec.to_dict(), status='done',
                         study=str(folder / 'capacity.journal'))
    for number, (capacity, status, value) in enumerate(((4, 'complete', 0.5), (8, 'pruned', 2.0),
                                                         (16, 'complete', 0.25))):
        run = Run.create(project=project, name=f'capacity-t{number}', status='done', step=4 if number != 1 else 2,
                         configs=['v2_small'], params={'spec': spec.trial_spec(number, {'CAPACITY': capacity})
                                                       .to_dict()})
        SweepTrial.create(sweep=sweep, number=number, run=run, params={'CAPACITY': capacity}, status=status,
                          value=value, step=run.step)
    checkpoint = folder / 'best.ckpt'
    checkpoint.write_bytes(b'not a real checkpoint')
    Checkpoint.create(run=run, path=str(checkpoint), step=4, kind='best')
    return sweep
