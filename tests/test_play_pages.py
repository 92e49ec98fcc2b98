"""The Play pages with NiceGUI's simulated user and a real tiny model: Generate (batch, save, preset), Explorer
(map, a click heard, sliders re-rendered live, A ⇄ B mix, a drawn path) and Transfer (sliders and crossfade)."""
from __future__ import annotations

from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User
from rave_fixtures import register_dataset, register_export, synth_audio
from waiting import until

from services.access import local
from services.store import Run

pytestmark = pytest.mark.slow  # real RAVE: model servers on the tiny export

LOAD_S = 240  # a model server starts in seconds, more under load


def _project_with_model(rave_export: Path, rave_db: Path | None = None, rave_run: Path | None = None):
    studio = app.studio
    run = None
    if rave_db is not None:
        dataset = register_dataset(studio, rave_db)
        run = Run.create(project=studio.projects.current(None), dataset=dataset, name='tiny',
                         folder=str(rave_run), status='done')
    project, export = register_export(studio, rave_export, run=run)
    return project, export


def _element(user: User, marker: str):
    return next(iter(user.find(marker=marker).elements))


def _source(user: User, marker: str, suffix: str = '-player') -> str | None:
    """The URL the player `marker` plays ('' while there is none; with suffix '', None while `marker` is not
    on the page)."""
    try:
        element = _element(user, marker + suffix)
    except AssertionError:
        return '' if suffix else None
    return getattr(element, 'source', '')


async def _rendered(user: User, marker: str, before: str = '', timeout: float = LOAD_S) -> str:
    """Wait until the player `marker` plays a render other than `before`; return its URL."""
    try:
        return await until(lambda: (s := _source(user, marker)) and s != before and s, timeout,
                           message=f'{marker} never played a new render')
    except AssertionError as e:
        raise AssertionError(f'{e}; the page said: {user.notify.messages}') from None


async def test_generate_page_makes_variations_saves_one_and_keeps_a_preset(user: User, rave_export: Path) -> None:
    await user.open('/generate')
    await user.should_see('No exported model yet')
    project, _ = _project_with_model(rave_export)
    await user.open('/generate')
    await until(lambda: 'latent dims' in _element(user, 'model-info').text, LOAD_S, message='model never loaded')
    _element(user, 'seed').set_value(11)
    _element(user, 'variations').set_value(2)
    _element(user, 'duration').set_value(1.0)
    user.find(marker='generate').click()
    await _rendered(user, 'result-1')
    await user.should_see('seeds 11, 12')
    user.find(marker='save-wav-0').click()
    await until(lambda: (Path(project.location) / 'renders' / 'tiny seed 11.wav').is_file(), 30)
    await until(lambda: (Path(project.location) / 'renders' / 'tiny seed 11.json').is_file(), 30)
    await user.should_see('tiny seed 11.wav')
    user.find(marker='save-preset').click()
    user.find(marker='preset-name').type('eleven')
    user.find(marker='preset-save').click()
    await user.should_see('Preset “eleven” saved.')
    assert [p.data['seed'] for p in app.studio.session(local(), None).play.favourites(project.id, 'preset')] == [11]


async def test_explorer_map_click_sliders_mix_and_path(user: User, rave_export: Path, rave_db: Path,
                                                       rave_run: Path) -> None:
    _project_with_model(rave_export, rave_db, rave_run)
    await user.open('/explorer')
    await until(lambda: 'latent dims' in _element(user, 'model-info').text, LOAD_S, message='model never loaded')
    assert _element(user, 'map-dataset').value is not None  # the run's dataset is picked
    user.find(marker='build-map').click()
    await until(lambda: _source(user, 'latent-map', '') is not None, LOAD_S, message='no map')
    chart = _element(user, 'latent-map')
    dots = chart.figure['data'][0]
    assert len(dots['x']) > 500 and dots['customdata'][0][1].startswith('example ')

    def click(i: int) -> None:  # what Plotly sends for a click on dot i
        user.find(marker='latent-map').trigger('plotly_click', {'points': [
            {'curveNumber': 0, 'pointNumber': i, 'customdata': dots['customdata'][i]}]})
    click(10)  # "Listen": the moment and its decode
    heard = await _rendered(user, 'moment-original')
    await _rendered(user, 'moment-decode')
    assert heard.startswith('/media/project/') and chart.figure['data'][3]['x']  # the picked dot is ringed
    await user.should_see(marker='input-note')
    bias = _element(user, 'bias-0')
    before = _source(user, 'live')
    bias.set_value(1.5)  # a slider moved: the input decoded again and played
    first = await _rendered(user, 'live', before)
    bias.set_value(-1.0)
    await _rendered(user, 'live', first)
    pick = _element(user, 'pick-mode')
    pick.set_value('A')
    click(20)
    await user.should_see('A: example')  # a click is handled as a task: wait before the mode changes
    pick.set_value('B')
    click(400)
    await user.should_see('B: example')
    before = _source(user, 'morph-output')
    _element(user, 'mix').set_value(0.25)
    await _rendered(user, 'morph-output', before)
    pick.set_value('path')
    for n, i in enumerate((30, 200, 450), start=1):
        click(i)
        await until(lambda n=n: f'{n} point' in _element(user, 'path-note').text, 10)
    await user.should_see('3 points drawn')
    assert len(chart.figure['data'][1]['x']) == 3  # the path is drawn on the map
    mixed = _source(user, 'morph-output')
    user.find(marker='play-path').click()
    await _rendered(user, 'morph-output', mixed)


async def test_transfer_page_sliders_and_crossfade(user: User, rave_export: Path, rave_export_narrow: Path) -> None:
    project, _ = _project_with_model(rave_export)
    register_export(app.studio, rave_export_narrow)
    synth_audio(Path(project.location) / 'uploads', n_files=1, seconds=2.0, prefix='take')
    await user.open('/transfer')
    await until(lambda: 'latent dims' in _element(user, 'model-info').text, LOAD_S, message='model never loaded')
    user.find(marker='reconstruct').click()
    plain = await _rendered(user, 'reconstruction')
    await user.should_see('take_00.wav · 44100 Hz')
    await user.should_see('latent size')
    _element(user, 'scale-0').set_value(2.0)  # a tiny model may keep one latent dimension only
    scaled = await _rendered(user, 'reconstruction', plain)
    second = _element(user, 'second-model')
    second.set_value(next(k for k in second.options if k.endswith('.ts') and 'narrow' in k))
    faded = await _rendered(user, 'reconstruction', scaled)
    _element(user, 'mix').set_value(0.7)
    await _rendered(user, 'reconstruction', faded)
