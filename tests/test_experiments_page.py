"""The experiments table and the compare view through NiceGUI's simulated user."""
from __future__ import annotations

import datetime as dt

from nicegui import app, ui
from nicegui.testing import User
from waiting import until

from services.store import Dataset, Run
from services.training.metrics import Series
from services.training.spec import RunSpec


def _runs(studio, n: int = 3) -> list[Run]:
    project = studio.projects.current(None)
    dataset = Dataset.create(project=project, name='tones', path='/tmp/tones', status='ready', channels=1)
    out = []
    for i in range(n):
        spec = RunSpec(dataset=dataset.id, name=f'try{i}', base='v2_small', macros={'CAPACITY': 32 + 16 * i},
                       description=f'attempt {i}')
        run = Run.create(project=project, dataset=dataset, name=spec.name, configs=list(spec.configs),
                         params={'spec': spec.to_dict()}, status='done', step=200, seconds=100.0,
                         best_validation=3.0 - i, last_loss=1.0, created=dt.datetime(2026, 5, 1 + i))
        series = Series()
        for step in range(1, 201):
            series.add({'step': step, 'loss': 1 + i + 10 / step})
        series.add({'step': 200, 'event': 'validation', 'validation': 3.0 - i})
        studio.training.series[run.id] = series
        out.append(run)
    return out


def _table(user: User) -> ui.table:
    return next(iter(user.find(marker='experiments-table').elements))


async def test_table_lists_searches_and_annotates(user: User) -> None:
    runs = _runs(app.studio)
    await user.open('/experiments')
    await user.should_see('Experiments')
    table = _table(user)
    assert [r['name'] for r in table.rows] == ['try2', 'try1', 'try0']
    assert table.rows[0]['configs'] == 'v2_small' and table.rows[0]['best_validation'] == '1'
    user.find(marker='search').type('capacity=48')
    await until(lambda: [r['name'] for r in _table(user).rows] == ['try1'])
    user.find(marker='search').clear()
    user.find(marker='search').type('colour=red')
    await user.should_see('is not a parameter the search knows')
    user.find(marker='search').clear()
    await until(lambda: len(_table(user).rows) == 3)
    table.sort_by = None
    user.find(marker='experiments-table').trigger(
        'request', {'pagination': {'page': 1, 'rowsPerPage': 50, 'sortBy': 'name', 'descending': False}})
    await until(lambda: [r['name'] for r in _table(user).rows] == ['try0', 'try1', 'try2'])

    user.find(marker='experiments-table').trigger('rowClick', [None, {'id': runs[0].id}, 0])
    await user.should_see(marker='run-details')
    user.find(marker='notes').type('## Verdict\nbright and **noisy**')
    await user.should_see('Verdict')  # the Markdown preview follows
    next(iter(user.find(marker='tags').elements)).value = ['keeper']
    user.find(marker='save-details').click()
    await until(lambda: Run.get_by_id(runs[0].id).tags == ['keeper'])
    assert 'noisy' in Run.get_by_id(runs[0].id).notes
    await until(lambda: next(r for r in _table(user).rows if r['id'] == runs[0].id)['tags'] == ['keeper'])
    await user.open(f'/training/runs/{runs[0].id}')  # the run page shows them too
    await user.should_see('keeper')
    await user.should_see(marker='run-notes')


async def test_archive_and_restore(user: User) -> None:
    runs = _runs(app.studio)
    await user.open('/experiments')
    table = _table(user)
    table.selected = [r for r in table.rows if r['id'] == runs[1].id]
    user.find(marker='experiments-table').trigger('selection', {})
    user.find(marker='archive').click()
    await until(lambda: Run.get_by_id(runs[1].id).archived)
    await until(lambda: runs[1].id not in [r['id'] for r in _table(user).rows])
    user.find(marker='show-archived').click()
    await until(lambda: [r['id'] for r in _table(user).rows] == [runs[1].id])
    await user.should_see('Restore')
    table = _table(user)
    table.selected = list(table.rows)
    user.find(marker='experiments-table').trigger('selection', {})
    user.find(marker='archive').click()
    await until(lambda: not Run.get_by_id(runs[1].id).archived)


async def test_compare_shows_what_differs_and_overlays(user: User) -> None:
    runs = _runs(app.studio)
    await user.open('/experiments/compare?runs=' + ','.join(str(r.id) for r in runs))
    await user.should_see('Compare runs')
    parameters = next(iter(user.find(marker='parameter-table').elements))
    assert [r['label'] for r in parameters.rows] == ['Capacity']
    assert [parameters.rows[0][f'r{i}'] for i in range(3)] == ['32', '48', '64']
    user.find(marker='show-all').click()
    await until(lambda: len(next(iter(user.find(marker='parameter-table').elements)).rows) > 10)
    chart = next(iter(user.find(marker='overlay-chart').elements))
    assert [t['name'] for t in chart.figure['data']] == ['try0', 'try1', 'try2']
    assert chart.figure['layout']['hovermode'] == 'x unified'
    user.find(marker='metric').elements.pop().value = 'loss'
    await until(lambda: len(next(iter(user.find(marker='overlay-chart').elements)).figure['data'][0]['x']) == 200)
    user.find(marker='log-scale').click()
    await until(lambda: next(iter(user.find(marker='overlay-chart').elements)).figure['layout']['yaxis']['type']
                == 'log')
    user.find(marker='axis').elements.pop().value = 'time'  # these runs logged no wall time: none drawn
    await until(lambda: next(iter(user.find(marker='overlay-chart').elements)).figure['layout']['xaxis']['title']
                == {'text': 'wall time (h)'})
    assert next(iter(user.find(marker='overlay-chart').elements)).figure['data'] == []
    figures = next(iter(user.find(marker='figure-table').elements))
    validation = next(r for r in figures.rows if r['metric'].startswith('val/validation'))
    assert validation['r2'].startswith('★ 1')


async def test_compare_needs_two_runs(user: User) -> None:
    runs = _runs(app.studio, 1)
    await user.open(f'/experiments/compare?runs={runs[0].id}')
    await user.should_see('Nothing to compare')
    await user.should_see('Pick 2 to 20 runs')


async def test_run_page_of_an_imported_run_offers_its_dataset(user: User) -> None:
    studio = app.studio
    project = studio.projects.current(None)
    folder = studio.data_dir / 'tiny_0123456789'
    folder.mkdir()
    (folder / 'config.gin').write_text('CAPACITY = 32\nLATENT_SIZE = 16\nRATIOS = [4, 2, 2, 2]\n'
                                       'SAMPLING_RATE = 44100\nvariational/blocks.EncoderV2.capacity = %CAPACITY\n'
                                       "cc.get_padding.mode = 'causal'\n")
    dataset = Dataset.create(project=project, name='tones', path='/tmp/tones', status='ready', channels=1,
                             params={'num_signal': 65536})
    run = Run.create(project=project, name='tiny', folder=str(folder), status='imported', configs=['v2', 'causal'],
                     params={'imported_from': str(folder)})
    await user.open(f'/training/runs/{run.id}')
    await user.should_see('Operative config: v2 + causal · capacity 32 · latent 16 · ratios 4·2·2·2 · 44.1 kHz')
    await user.should_see(marker='choose-dataset')
    next(iter(user.find(marker='run-dataset').elements)).value = dataset.id
    user.find('Use it').click()
    await until(lambda: Run.get_by_id(run.id).dataset_id == dataset.id)
    assert Run.get_by_id(run.id).params['spec']['n_signal'] == 65536
    await user.should_not_see(marker='choose-dataset')
