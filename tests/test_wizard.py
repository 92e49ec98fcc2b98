"""The new-run wizard through NiceGUI's simulated user: each step's checks, Back/Next, the review, save as
template, and a real tiny v2_small run launched from it (with a learning rate the worker really applies);
plus the pre-launch warnings of the training service with real gin answers."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User
from rave_fixtures import register_dataset
from waiting import see, texts, until

from services.store import Job
from services.training import configs
from services.training.spec import RunSpec


def set_value(user: User, marker: str, value) -> None:
    for element in user.find(marker=marker).elements:
        element.set_value(value)


def click(user: User, marker: str) -> None:
    user.find(marker=marker).click()


def spec(dataset, name: str, base: str, n_signal: int, batch: int, channels: int, **changes) -> RunSpec:
    return RunSpec(dataset=dataset.id, name=name, base=base, n_signal=n_signal, batch=batch,
                   channels=channels,
                   **changes)


async def test_wizard_without_a_dataset_says_what_to_do(user: User) -> None:
    await user.open('/training/new')
    await user.should_see('Quick start')
    await user.should_see('No ready dataset in this project yet.')
    click(user, 'next-start')
    await user.should_see('build one on the Datasets page first')


@pytest.mark.slow
async def test_a_datasets_train_link_opens_the_wizard_with_that_dataset_chosen(user: User, rave_db: Path) -> None:
    """"Train a model on it" on a dataset's page links to /training/new?dataset=ID."""
    studio = app.studio
    register_dataset(studio, rave_db)
    second = register_dataset(studio, rave_db, name='second', channels=2)
    await user.open(f'/training/new?dataset={second.id}')
    click(user, 'next-start')
    await user.should_see(marker='dataset-second')

    def picked(name: str) -> bool:
        [card] = user.find(marker=f'dataset-{name}').elements
        return any(getattr(e, 'name', None) == 'radio_button_checked' for e in card.descendants())

    assert (picked('tones'), picked('second')) == (False, True)


async def test_wizard_steps_check_go_back_review_save_template_and_launch(user: User, rave_db: Path,
                                                                         gin_cache) -> None:
    studio = app.studio
    dataset = register_dataset(studio, rave_db)
    project = dataset.project
    await user.open('/training/new')
    await user.should_see('Quick start')
    click(user, 'next-start')
    await user.should_see(marker='dataset-tones')
    click(user, 'next-dataset')

    # config: a broken base blocks Next with gin's reason; a working composition shows its preview
    await user.should_see(marker='base')
    set_value(user, 'base', 'v2_nopqmf_small')
    click(user, 'next-config')
    await see(user, 'This combination does not work')
    await see(user, 'amp_range')
    set_value(user, 'base', 'v2_small')
    set_value(user, 'addon-causal', True)
    await see(user, 'gin parses it and builds the model')
    await user.should_see('causal changes 1 binding')
    assert user.find(marker='augment-compress').elements.pop().enabled == \
        studio.config_status.cached()['compress']['ok']  # a broken augmentation cannot be ticked
    click(user, 'next-config')

    # parameters: each problem named, Back keeps the choices
    await see(user, 'Model values')
    click(user, 'next-parameters')
    await see(user, 'Give the run a name.')
    user.find(marker='name').type('wizrun')
    set_value(user, 'n_signal', 65000)
    set_value(user, 'batch', 2)
    set_value(user, 'max_steps', 3)
    set_value(user, 'val_every', 2)
    set_value(user, 'lr', 0.0005)
    click(user, 'next-parameters')
    await see(user, 'n_signal must be a multiple of 512')
    click(user, 'back-parameters')
    await user.should_see('causal changes 1 binding')
    click(user, 'next-config')
    await see(user, 'Model values')
    set_value(user, 'n_signal', 65536)
    set_value(user, 'batch', 100)
    click(user, 'next-parameters')
    await see(user, 'Batch 100 is larger than')
    set_value(user, 'batch', 2)
    click(user, 'next-parameters')

    # review: every choice, the checks, the estimate, the command; save as template
    await see(user, 'Your choices')
    review = texts(user, 'review')
    assert 'wizrun' in review and 'v2_small + causal' in review and 'n_signal 65 536 samples' in review
    assert 'Adam 0.0005 / 0.0001' in review
    await user.should_see('never reaches the adversarial phase')  # 3 steps: a test run, said for what it is
    await user.should_see('No earlier run in this project.')
    assert 'estimate' in texts(user, 'memory') and 'README' in texts(user, 'memory')
    command = ' '.join(user.find(marker='command').elements.pop().content.replace('\\\n', ' ').split())
    assert command.startswith('RAVE_STUDIO_LR=0.0005 rave train --config v2_small --config causal')
    assert f'--db_path {dataset.path}' in command and '--n_signal 65536' in command and '--gpu -1' in command
    click(user, 'save-template')
    user.find(marker='template-name').type('quick causal')
    click(user, 'template-save')
    await until(lambda: studio.templates.template(project, 'quick causal'), 10, message='no template')
    template = studio.templates.template(project, 'quick causal')['choices']
    assert template['base'] == 'v2_small' and template['addons'] == ['causal'] and template['batch'] == 2

    # launch: a real tiny run, landing on its run page
    click(user, 'next-review')
    await see(user, 'Ready to train wizrun')
    click(user, 'launch')
    await see(user, 'Stop & save checkpoint', timeout=120)
    [run] = studio.training.list(project)
    try:
        assert run.name == 'wizrun' and run.configs == ['v2_small', 'causal']
        assert run.params['spec']['lr'] == 0.0005 and run.params['flags'][:4] == ['--config', 'v2_small',
                                                                                  '--config', 'causal']
        series = await until(lambda: (s := studio.training.metrics(run)).step >= 1 and s, 600,
                             message='no step')
        lr_gen = list(series.values['lr_gen'])  # the worker logs the optimizer's real rates each step
        lr_dis = list(series.values['lr_dis'])
        assert lr_gen[0] == pytest.approx(0.0005, rel=0.01) and lr_dis[0] == pytest.approx(0.0001, rel=0.01)
        lines = (Path(Job.get_by_id(run.job_id).folder) / 'log.txt').read_text()
        assert "[studio] learning rates: {'gen': 0.0005}" in lines
    finally:
        studio.jobs.cancel(run.job_id)
        await until(lambda: Job.get_by_id(run.job_id).status in ('cancelled', 'done', 'failed'), 600,
                    message='the run never ended')

    # the next run starts from the template and compares itself with the first run
    await user.open('/training/new')
    set_value(user, 'template', 'quick causal')
    click(user, 'next-start')
    click(user, 'next-dataset')
    await see(user, 'gin parses it and builds the model')
    click(user, 'next-config')
    await see(user, 'Model values')
    user.find(marker='name').type('wizrun')
    set_value(user, 'batch', 1)
    click(user, 'next-parameters')
    await see(user, 'exists already in this project')
    user.find(marker='name').clear()
    user.find(marker='name').type('wizrun2')
    click(user, 'next-parameters')
    await see(user, 'Compare with a previous run')
    diff = texts(user, 'diff')
    # the template kept the rate
    assert 'Batch' in diff and 'Configs' not in diff and 'Learning rate' not in diff


@pytest.mark.slow
def test_prelaunch_checks_use_the_real_composition(studio, rave_db: Path) -> None:
    project = studio.projects.current(None)
    dataset = register_dataset(studio, rave_db, name='tones48', sr=48000)
    resampled, hybrid, nopqmf = configs.check(sys.executable, [
        {'configs': ['v2_small'], 'model': True},
        {'configs': ['v2_small', 'hybrid'], 'model': True, 'receptive_field': True},
        {'configs': ['v2_nopqmf_small'], 'model': False}])
    warns = studio.training.warnings(project, spec(dataset, 'fresh', 'v2_small', 65536, 2, 1), resampled)
    assert any('44100 Hz but the dataset is 48000 Hz' in w for w in warns)
    # hybrid turns v2_small's 512× into 2048×: the checks follow the composed model, not the base's name
    assert not studio.training.validate(project, spec(dataset, 's', 'v2_small', 65536, 2, 1), resampled)
    with_hybrid = ' '.join(studio.training.validate(project,
                                                    spec(dataset, 'h', 'v2_small', 65536 + 512, 2, 1),
                                                    hybrid))
    assert 'multiple of 2048' in with_hybrid
    assert 'Validation needs at least 128 latent frames' in ' '.join(
        studio.training.validate(project, spec(dataset, 'h', 'v2_small', 65536, 2, 1), hybrid))
    field_ = sum(hybrid['receptive_field']) + 2048
    if field_ > 65536:
        assert 'receptive field' in ' '.join(studio.training.validate(project,
                                                                      spec(dataset, 'h', 'v2_small', 65536,
                                                                                    2, 1), hybrid))
    assert 'amp_range' in ' '.join(studio.training.validate(project,
                                                            spec(dataset, 'b', 'v2_nopqmf_small', 131072,
                                                                          2, 1), nopqmf))
    assert 'channel' in ' '.join(studio.training.validate(project,
                                                          spec(dataset, 'c', 'v2_small', 65536, 2, 2)))
    pca = studio.training.validate(project, spec(dataset, 'p', 'v2', 65536, 2, 1))
    assert 'Validation needs at least 128 latent frames' in ' '.join(pca)
    bad = studio.training.validate(project,
                                   spec(dataset, 'x', 'v2_small', 65536, 2, 1, lr=2.0, ema=1.5, save_every=0))
    assert any('learning rate' in b for b in bad) and any('EMA' in b for b in bad)
    assert any('Save every' in b for b in bad)
    (studio.projects.folder(project, 'runs') / 'fresh_0123456789').mkdir()
    fresh = spec(dataset, 'fresh', 'v2_small', 65536, 2, 1)
    assert any('fresh_0123456789' in w for w in studio.training.warnings(project, fresh, resampled))
    flags = RunSpec(name='n', max_steps=10, val_every=5, n_signal=65536, batch=2, addons=('causal',),
                    augment=('mute',),
                    macros={'CAPACITY': 32}, save_every=100, ema=0.999).flags(dataset.path, '/out')
    assert flags[:6] == ['--config', 'v2_small', '--config', 'causal', '--augment', 'mute']
    assert flags[-6:] == ['--save_every', '100', '--ema', '0.999', '--override', 'CAPACITY=32']


@pytest.mark.slow
async def test_extra_bindings_run_only_after_the_user_confirms(user: User, rave_db: Path, gin_cache) -> None:
    register_dataset(app.studio, rave_db)
    await user.open('/training/new')
    click(user, 'next-start')
    click(user, 'next-dataset')
    await see(user, 'gin parses it and builds the model')
    click(user, 'next-config')
    await see(user, 'Model values')
    user.find(marker='name').type('coded')
    set_value(user, 'n_signal', 65536)
    set_value(user, 'batch', 2)
    set_value(user, 'extra', 'RAVE.valid_signal_crop = True')
    set_value(user, 'macro-CAPACITY', '48\nimport os')
    click(user, 'next-parameters')
    await see(user, 'Capacity: a value is one line')  # a model value is a literal, never a second statement
    set_value(user, 'macro-CAPACITY', '')
    click(user, 'next-parameters')
    await see(user, 'These gin bindings run Python on this machine')
    click(user, 'code-no')
    await see(user, 'run only once you confirm it')
    click(user, 'next-parameters')
    await see(user, 'These gin bindings run Python on this machine')
    click(user, 'code-yes')
    await see(user, 'Your choices')
    assert 'RAVE.valid_signal_crop = True' in texts(user, 'review')
