"""The experiments table: every run of a project, sorted, filtered, searched and paged in one query; tags,
notes and the archive."""
from __future__ import annotations

import datetime as dt

import pytest

from services import access
from services.access import Actor, Forbidden, Role, local
from services.store import Dataset, Run, db
from services.training.experiment_table import SearchError, TableQuery
from services.training.runs import TrainingError
from services.training.spec import RunSpec


def make_runs(studio, n: int = 12) -> tuple:
    project = studio.projects.current(None)
    drums = Dataset.create(project=project, name='drums', path='/tmp/drums', status='ready', channels=1,
                           params={'num_signal': 65536})
    voice = Dataset.create(project=project, name='voice', path='/tmp/voice', status='ready', channels=1)
    start = dt.datetime(2026, 3, 1)
    for i in range(n):
        spec = RunSpec(dataset=(drums if i % 2 else voice).id, name=f'run{i:02d}', base='v2' if i % 3 else 'v2_small',
                       addons=('causal',) if i % 4 == 0 else (), macros={'CAPACITY': 64} if i == 5 else {},
                       batch=4 if i == 7 else 8, description='tight kick' if i == 3 else '')
        Run.create(project=project, dataset=spec.dataset, name=spec.name, configs=list(spec.configs),
                   params={'spec': spec.to_dict()}, status='done' if i % 5 else 'failed', step=100 * i,
                   best_validation=None if i == 4 else 10.0 - i / 2, last_loss=1.0 + i, seconds=60.0 * i,
                   created=start + dt.timedelta(days=i), tags=['baseline'] if i < 3 else [])
    return project, drums, voice


def names(page) -> list[str]:
    return [r.name for r in page.rows]


def test_sort_filter_and_page(studio) -> None:
    project, drums, _ = make_runs(studio)
    experiments = studio.session(local(), None).experiments
    page = experiments.table(project.id)
    assert page.total == 12 and names(page)[0] == 'run11'  # newest first
    by_val = experiments.table(project.id, TableQuery(sort='best_validation', descending=False))
    assert names(by_val)[0] == 'run11' and names(by_val)[-1] == 'run04'  # no value: last either way
    assert names(experiments.table(project.id, TableQuery(sort='best_validation')))[-1] == 'run04'
    assert names(experiments.table(project.id, TableQuery(sort='dataset', descending=False)))[0] in \
        {f'run{i:02d}' for i in range(1, 12, 2)}
    assert names(experiments.table(project.id, TableQuery(sort='name', descending=False, per_page=5,
                                                          page=2))) == ['run10', 'run11']
    assert experiments.table(project.id, TableQuery(per_page=5)).pages == 3
    assert names(experiments.table(project.id, TableQuery(status=('failed',), sort='name', descending=False))) \
        == ['run00', 'run05', 'run10']
    assert experiments.table(project.id, TableQuery(dataset=(drums.id,))).total == 6
    assert experiments.table(project.id, TableQuery(config='causal')).total == 3
    assert experiments.table(project.id, TableQuery(config='v2_small')).total == 4
    assert experiments.table(project.id, TableQuery(tag='baseline')).total == 3
    window = TableQuery(since=dt.date(2026, 3, 3), until=dt.date(2026, 3, 5))
    assert sorted(names(experiments.table(project.id, window))) == ['run02', 'run03', 'run04']
    past = experiments.table(project.id, TableQuery(page=9, per_page=5))
    assert past.rows == () and past.total == 12


def test_search_words_and_parameters(studio) -> None:
    project, *_ = make_runs(studio)
    experiments = studio.session(local(), None).experiments

    def found(text: str) -> list[str]:
        return sorted(names(experiments.table(project.id, TableQuery(search=text))))
    assert found('run1') == ['run10', 'run11']
    assert found('kick') == ['run03']  # the description
    assert found('capacity=64') == ['run05']  # a model value the run set
    assert found('capacity=48') == ['run00', 'run03', 'run06', 'run09']  # v2_small's own capacity
    assert found('batch=4') == ['run07']
    assert found('base=v2_small capacity=48') == ['run00', 'run03', 'run06', 'run09']
    with pytest.raises(SearchError, match='capacity=64'):
        experiments.table(project.id, TableQuery(search='colour=blue'))
    with pytest.raises(SearchError):
        experiments.table(project.id, TableQuery(sort='nothing'))


def test_a_page_is_one_query(studio) -> None:
    project, *_ = make_runs(studio, 40)
    experiments = studio.session(local(), None).experiments
    experiments.table(project.id)  # imported runs get their spec once, outside the count below
    queries = []
    original = db.execute_sql
    db.execute_sql = lambda sql, params=None, *a, **k: queries.append(sql) or original(sql, params, *a, **k)
    try:
        page = experiments.table(project.id, TableQuery(search='run', sort='last_loss', config='v2'))
        assert [r.dataset for r in page.rows] and all(r.dataset for r in page.rows)
    finally:
        db.execute_sql = original
    assert len([q for q in queries if 'FROM "run"' in q]) == 2  # imported runs to adopt (none), then the page


def test_tags_notes_and_archive(studio) -> None:
    project, *_ = make_runs(studio, 4)
    experiments = studio.session(local(), None).experiments
    run = Run.get(Run.name == 'run01')
    assert experiments.set_tags(run.id, ['drums', ' drums', 'long-run', '']) == ('drums', 'long-run')
    with pytest.raises(TrainingError, match='one word'):
        experiments.set_tags(run.id, ['two words'])
    experiments.set_notes(run.id, '# Snare\nsounds **crisp**')
    row = next(r for r in experiments.table(project.id).rows if r.id == run.id)
    assert row.tags == ('drums', 'long-run') and row.notes.startswith('# Snare')
    assert names(experiments.table(project.id, TableQuery(search='crisp'))) == ['run01']
    assert experiments.choices(project.id)['tag'] == ['baseline', 'drums', 'long-run']
    assert experiments.archive([run.id]) == 1
    assert 'run01' not in names(experiments.table(project.id))
    assert names(experiments.table(project.id, TableQuery(archived=True))) == ['run01']
    experiments.archive([run.id], archived=False)
    assert 'run01' in names(experiments.table(project.id))
    Run.update(status='running').where(Run.id == run.id).execute()
    with pytest.raises(TrainingError, match='stop it first'):
        experiments.archive([run.id])


def test_across_projects_and_refused(studio) -> None:
    project, *_ = make_runs(studio, 3)
    session = studio.session(local(), None)
    other = session.projects.create('Other')
    Run.create(project=other.id, name='elsewhere', configs=['v1'])
    assert session.experiments.table(project.id).total == 3
    page = session.experiments.table(project.id, TableQuery(all_projects=True))
    assert page.total == 4 and {r.project for r in page.rows} == {project.name, 'Other'}
    access.set_project_roles(lambda actor, project_id: Role.READ if project_id == other.id else Role.EDIT)
    try:
        reader = studio.session(Actor('guest', shared=True, user_id=99), None).experiments
        assert reader.table(other.id).total == 1
        with pytest.raises(Forbidden):
            reader.set_notes(Run.get(Run.name == 'elsewhere').id, 'mine now')
    finally:
        access.set_project_roles(lambda actor, project_id: Role.EDIT)
