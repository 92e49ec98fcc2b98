"""What a new user hit on their first run, each fixed: folders outside the browsable ones are allowed in place,
Enter adds a pasted folder, the dashboard opens the wizard it names, and a ready dataset or a finished export
offers the next step."""
from __future__ import annotations

from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User
from rave_fixtures import synth_audio

from services.access import Actor, Forbidden, local
from services.datasets import FolderRefused
from services.store import Dataset


async def _to_sources(user: User) -> None:
    await user.open('/datasets?new')
    await user.should_see(marker='wizard')
    user.find(marker='name').type('tones')
    user.find(marker='next-name').click()
    await user.should_see('Input folders')


async def test_a_refused_folder_is_allowed_in_place_and_the_wizard_keeps_its_state(user: User, data_dir: Path,
                                                                                    tmp_path: Path) -> None:
    synth_audio(data_dir / 'takes', n_files=1, seconds=2.0)
    outside = tmp_path / 'elsewhere' / 'piano'
    synth_audio(outside, n_files=2, seconds=2.0)
    await _to_sources(user)
    user.find(marker='folder-path').type(str(data_dir / 'takes')).trigger('keydown.enter')  # Enter adds it
    await user.should_see('1 file · 2 s of audio', retries=100)
    user.find(marker='folder-path').type(str(outside)).trigger('keydown.enter')
    await user.should_see('is outside the browsable folders', retries=50)
    user.find(marker='allow-folder').click()
    await user.should_see('3 files · 6 s of audio', retries=100)  # both folders: nothing of the wizard was lost
    assert str(outside.resolve()) in app.studio.settings.get('browse_roots')
    assert user.find(marker='name').elements.pop().value == 'tones'
    await user.should_see(str(outside.resolve()))
    user.find(marker='next-sources').click()
    await user.should_see('Example length (num_signal)')


async def test_enter_in_the_name_goes_to_the_next_step(user: User) -> None:
    await user.open('/datasets?new')
    user.find(marker='name').type('violin').trigger('keydown.enter')
    await user.should_see('Input folders')


def test_only_who_may_change_settings_allows_a_folder(studio, tmp_path: Path) -> None:
    outside = tmp_path / 'elsewhere'
    outside.mkdir()
    project = studio.projects.current(None)
    member = studio.session(Actor('member', shared=True), None)
    with pytest.raises(FolderRefused) as refused:
        member.datasets.input_folder(project.id, str(outside))
    assert refused.value.path == outside.resolve()
    assert not member.settings.may_change
    with pytest.raises(Forbidden, match='change the studio settings'):
        member.settings.allow_folder(refused.value.path)
    assert studio.settings.get('browse_roots') == []
    admin = studio.session(local(), None)
    assert admin.settings.allow_folder(refused.value.path) == str(outside.resolve())
    assert admin.datasets.input_folder(project.id, str(outside)) == outside.resolve()
    admin.settings.allow_folder(outside)  # twice: kept once
    assert studio.settings.get('browse_roots') == [str(outside.resolve())]


def test_a_missing_folder_is_refused_without_an_offer(studio, tmp_path: Path) -> None:
    from services.datasets import DatasetError
    project = studio.projects.current(None)
    datasets = studio.session(local(), None).datasets
    with pytest.raises(DatasetError) as refused:
        datasets.input_folder(project.id, str(tmp_path / 'nowhere'))
    assert not isinstance(refused.value, FolderRefused)


async def test_the_home_folder_is_offered_in_the_browser(user: User) -> None:
    await _to_sources(user)
    root = user.find(marker='root').elements.pop()
    assert f'Home folder · {Path.home().resolve()}' in root.options.values()


async def test_dashboard_new_dataset_opens_the_wizard(user: User) -> None:
    await user.open('/')
    user.find(marker='start-datasets').click()
    await user.should_see(marker='wizard')
    await user.should_see('your recordings cut into short examples')


async def test_a_ready_dataset_offers_to_train_a_model_on_it(user: User) -> None:
    await user.open('/')
    project = app.studio.projects.current(None)
    dataset = Dataset.create(project=project, name='chorales', path=str(Path(project.location) / 'datasets' / 'c'),
                             status='ready', sr=44100, channels=1, n_examples=120, n_seconds=700.0)
    await user.open(f'/datasets/{dataset.id}')
    user.find(marker='train-on-it').click()
    await user.should_see('New training')
    assert user.back_history[-1] == f'/training/new?dataset={dataset.id}'


def test_a_run_shorter_than_phase_1_is_told_it_never_reaches_the_adversarial_phase() -> None:
    from services.training.spec import RunSpec
    composed = {'macros': {'PHASE_1_DURATION': 1000000}}  # v2_small's, as gin reads it
    warned = RunSpec(name='short', max_steps=400).warnings(None, composed)
    assert len(warned) == 1 and 'never reaches the adversarial phase' in warned[0]
    assert 'stops at step 400, before phase 2 (adversarial training) starts at step 1 000 000' in warned[0]
    assert not RunSpec(name='long', max_steps=1_200_000).warnings(None, composed)
    assert not RunSpec(name='lowered', max_steps=400, macros={'PHASE_1_DURATION': '200'}).warnings(None, composed)
    assert not RunSpec(name='unknown', max_steps=400).warnings(None, {})  # no composition yet: nothing to say


def _run_with_curves(studio) -> int:
    import json
    import time

    from services.store import Job, Run
    project = studio.projects.current(None)
    folder = studio.data_dir / 'jobs' / 'curves'
    folder.mkdir(parents=True)
    lines = [{'step': s, 't': time.time(), 'loss': 1 / s, 'multiband_spectral_distance': 0.5 / s,
              'fullband_spectral_distance': 0.5 / s} for s in range(1, 21)]
    (folder / 'metrics.jsonl').write_text(''.join(json.dumps(line) + '\n' for line in lines))
    job = Job.create(project=project, kind='train', title='Train curves', argv=[], folder=str(folder), status='done')
    return Run.create(project=project, name='curves', folder='', configs=['v2_small'], status='done', step=20,
                      job=job, params={'jobs': [job.id], 'max_steps': 20, 'val_every': 10}).id


@pytest.mark.parametrize(('language', 'separators'), [('fr-FR,fr;q=0.9', ',\u202f'), ('en-GB,en;q=0.9', '. ')])
async def test_chart_hovers_write_numbers_in_the_page_language(user: User, language: str, separators: str) -> None:
    """Plotly writes hover and tick numbers with layout.separators: a French page's charts say 0,25, not 0.25."""
    from nicegui import ui
    user.http_client.headers['Accept-Language'] = language
    await user.open('/')
    run_id = _run_with_curves(app.studio)
    await user.open(f'/training/runs/{run_id}')
    await user.should_see(marker='chart-spectral-distance')
    plots = [e for e in user.client.layout.descendants() if isinstance(e, ui.plotly)]
    assert plots and all(p.figure['layout']['separators'] == separators for p in plots)
