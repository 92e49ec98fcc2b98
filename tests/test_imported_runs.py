"""A run made by the plain `rave train`, imported: it shows what it is, its curves and its figures in the
experiments table and the model library, resumes, and exports."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rave_fixtures import register_dataset
from waiting import job_finished, run_ended, wait_for

from app.studio import Studio
from services.access import local
from services.store import Export, Job, Run
from services.training.runs import TrainingError


def write_events(folder: Path, scalars: list[tuple[int, float, str, float]]) -> None:
    """A Lightning-like `version_0/events.out.tfevents.*` of (step, wall time, tag, value) scalars."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    writer = EventFileWriter(str(folder / 'version_0'))
    for step, wall_time, tag, value in scalars:
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
        writer.add_event(event_pb2.Event(step=step, wall_time=wall_time, summary=summary))
    writer.close()


def test_an_imported_run_has_its_figures_in_the_table_and_the_library(studio) -> None:
    project = studio.projects.current(None)
    session = studio.session(local(), None)
    folder = Path(project.location) / 'runs' / 'drums_0123456789'
    (folder / 'version_0' / 'checkpoints').mkdir(parents=True)
    (folder / 'config.gin').write_text('SAMPLING_RATE = 44100\n')
    (folder / 'version_0' / 'checkpoints' / 'best.ckpt').write_bytes(b'not read here')
    write_events(folder, [(49, 1000.0, 'fullband_spectral_distance', 3.0), (49, 1000.0, 'regularization', 0.5),
                          (99, 1600.0, 'fullband_spectral_distance', 2.0), (99, 1600.0, 'regularization', 0.25),
                          (100, 1630.0, 'validation', 1.5), (200, 1900.0, 'validation', 1.25),
                          (199, 1890.0, 'fullband_spectral_distance', 1.0), (199, 1890.0, 'regularization', 0.0)])
    imported = session.models.import_run(project.id, folder)
    row = session.experiments.table(project.id).rows[0]
    assert (row.id, row.steps, row.best_validation, row.last_loss) == (imported.id, 200, 1.25, 1.0)
    assert row.seconds == pytest.approx(900.0)  # the span of its events
    card = session.models.library(project.id)[0]
    assert (card.step, card.best_validation, card.last_loss, card.seconds) == (200, 1.25, 1.0, pytest.approx(900))

    Run.update(step=0, best_validation=None, last_loss=None, seconds=None,  # imported before the import read them
               params={'imported_from': str(folder)}).where(Run.id == imported.id).execute()
    studio.training.series.clear()
    row = session.experiments.table(project.id).rows[0]  # read once, as the table opens
    assert (row.steps, row.best_validation, row.last_loss) == (200, 1.25, 1.0)
    assert session.models.library(project.id)[0].step == 200


@pytest.mark.slow  # real RAVE: the run is made by `rave train`, resumed and exported by the studio
def test_an_imported_run_shows_its_curves_resumes_and_exports(studio, rave_run: Path, rave_db: Path) -> None:
    project = studio.projects.current(None)
    session = studio.session(local(), None)
    target = Path(project.location) / 'runs' / rave_run.name
    shutil.copytree(rave_run, target)
    imported = session.models.import_run(project.id, target)
    assert imported.status == 'imported' and imported.configs == ('v2_small',)  # from its operative values
    row = session.experiments.table(project.id).rows[0]  # its figures, before any page read its curves
    assert row.steps == 4 and row.best_validation > 0 and row.seconds > 0
    assert session.models.library(project.id)[0].step == 4
    run = session.training.run(imported.id)
    assert run.spec.base == 'v2_small' and run.spec.addons == ()

    series = session.training.metrics(imported.id)  # read from its TensorBoard events
    validations = list(series.values['val/validation'])
    assert len(validations) == 2 and all(v > 0 for v in validations)
    assert (studio.data_dir / 'cache' / 'run_metrics' / f'{imported.id}.jsonl').is_file()

    with pytest.raises(TrainingError, match='dataset'):  # RAVE's folder does not say what it trained on
        session.training.resume(imported.id, max_steps=6)
    dataset = register_dataset(studio, rave_db)
    session.experiments.set_dataset(imported.id, dataset.id)
    resumed = session.training.resume(imported.id, max_steps=6)
    job = Job.get_by_id(resumed.job_id)
    assert '--ckpt' in job.command and f'--db_path {rave_db}' in job.command
    row = wait_for(studio, run_ended(studio, imported.id), what='the resumed imported run')
    assert Job.get_by_id(row.job_id).status == 'done', studio.jobs.log_tail(row.job_id, 3000)
    assert row.step >= 6 and row.params['imported_from'] == str(target)

    assert (studio.data_dir / 'cache' / 'run_series' / f'{row.id}.npz').is_file()  # kept when it ended
    live = session.training.metrics(row.id)
    assert list(live.values['val/validation'])[:2] == validations and max(live.steps['loss']) >= 6
    fresh = Studio(studio.data_dir).session(local(), None)  # after a restart: the imported curve, then the resumed
    series = fresh.training.metrics(row.id)
    assert list(series.values['val/validation']) == list(live.values['val/validation'])
    assert list(series.steps['loss']) == list(live.steps['loss'])
    table = fresh.experiments.table(project.id).rows[0]
    assert table.best_validation == min(live.values['val/validation']) and table.steps == row.step

    newest = session.training.checkpoints(row.id)[0]
    export = session.models.start_export(project.id, row.id, newest.path, target='explorer', name='imported')
    assert job_finished(studio, export.job_id, 600).status == 'done'
    wait_for(studio, lambda: Export.get_by_id(export.id).status != 'running', 600, 'the export and its verification')
    assert Path(Export.get_by_id(export.id).path).is_file()
    assert Run.get_by_id(row.id).exports.count() == 1
