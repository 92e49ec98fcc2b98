"""A finished run's metrics are parsed from its files once, then read back from the series cache while the
files keep their sizes."""
from __future__ import annotations

import json

from app.studio import Studio
from services.store import Job, Run
from services.training import series_cache
from services.training.metrics import Series


def _run(studio, status: str = 'done', steps: int = 300) -> Run:
    project = studio.projects.current(None)
    job = Job.create(project=project, kind='train', title='Train cached', argv=[], status=status)
    folder = studio.jobs.root / f'{job.id:06d}'
    folder.mkdir(parents=True)
    with open(folder / 'metrics.jsonl', 'w') as out:
        out.write(json.dumps({'run_dir': '/runs/cached_0123456789/version_0', 'step': 0, 'max_steps': steps,
                              'event': 'start'}) + '\n')
        for step in range(1, steps + 1):
            out.write(json.dumps({'step': step, 'epoch': step // 100, 'loss': 1 / step, 't': step}) + '\n')
        out.write(json.dumps({'step': steps, 'event': 'validation', 'validation': 2.5}) + '\n')
    Job.update(folder=str(folder)).where(Job.id == job.id).execute()
    return Run.create(project=project, name='cached', status=status, job=job, params={'jobs': [job.id]})


def test_a_finished_run_is_read_back_from_the_cache(studio, monkeypatch) -> None:
    run = _run(studio)
    first = studio.training.metrics(run)
    assert len(first.values['loss']) == 300 and first.max_steps == 300
    row = Run.get_by_id(run.id)  # a run that ended before the table kept its figures gets them now
    assert row.best_validation == 2.5 and row.last_loss == 1 / 300
    fresh = Studio(studio.data_dir).training  # after a restart
    monkeypatch.setattr(fresh, '_read', lambda *a: (_ for _ in ()).throw(AssertionError('parsed again')))
    again = fresh.metrics(run)
    assert list(again.values['loss']) == list(first.values['loss'])
    assert list(again.steps['val/validation']) == [300] and again.run_dir == first.run_dir
    assert (again.step, again.epoch, again.max_steps) == (first.step, first.epoch, first.max_steps)
    again.values['loss'].append(0.5)  # still an append-only column
    assert len(again.values['loss']) == 301


def test_a_changed_file_or_a_live_run_is_parsed(studio) -> None:
    run = _run(studio)
    studio.training.metrics(run)
    job = Job.get_by_id(run.job_id)
    with open(f'{job.folder}/metrics.jsonl', 'a') as out:
        out.write(json.dumps({'step': 301, 'loss': 0.1}) + '\n')
    assert len(Studio(studio.data_dir).training.metrics(run).values['loss']) == 301
    live = _run(studio, status='running')
    Studio(studio.data_dir).training.metrics(live)
    assert not (studio.data_dir / 'cache' / 'run_series' / f'{live.id}.npz').exists()


def test_a_damaged_cache_is_ignored(tmp_path) -> None:
    path = tmp_path / 'x.npz'
    path.write_bytes(b'not numpy')
    assert series_cache.load(path, []) is None
    series = Series()
    series.add({'step': 1, 'loss': 1.0})
    series_cache.save(path, series, [[1, 10]])
    assert series_cache.load(path, [[1, 11]]) is None and len(series_cache.load(path, [[1, 10]]).values['loss']) == 1


def test_memory_holds_the_recently_read_finished_runs_and_forgets_the_rest(studio) -> None:
    """TrainingService.series does not grow with every run ever opened: past `keep` finished runs, the least
    recently read are dropped (with where their files were read) and come back whole from the cache."""
    training = studio.training
    training._recent.keep = 2
    runs = [_run(studio, steps=50 + i) for i in range(3)]
    live = _run(studio, status='running', steps=40)
    training.metrics(live)
    for run in runs:
        training.metrics(run)
    assert set(training.series) == {live.id, runs[1].id, runs[2].id}
    training.metrics(runs[1])  # read again: now the most recent
    training.metrics(runs[0])
    assert set(training.series) == {live.id, runs[1].id, runs[0].id}
    again = training.metrics(runs[2])
    assert len(again.values['loss']) == 52 and list(again.steps['val/validation']) == [52]
    (studio.data_dir / 'cache' / 'run_series' / f'{runs[1].id}.npz').unlink()  # no cache: parsed from offset 0
    training._forget(runs[1].id)
    assert len(training.metrics(runs[1]).values['loss']) == 51
