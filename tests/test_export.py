"""Export through the studio: import a run folder made by the plain RAVE CLI, export it, load the .ts."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from waiting import job_finished, wait_for

from services.models.exports import ExportError
from services.store import Export

pytestmark = pytest.mark.slow  # real RAVE: a run made by `rave train`, exports by `rave export`


@pytest.fixture
def imported(studio, rave_run: Path):
    """The CLI run copied into the project's runs/ folder and imported."""
    project = studio.projects.current(None)
    target = Path(project.location) / 'runs' / rave_run.name
    shutil.copytree(rave_run, target)
    assert studio.exports.discover(project) == [target.resolve()]
    run = studio.exports.import_run(project, target)
    return project, run


def test_import_cli_run_folder(studio, imported) -> None:
    project, run = imported
    assert run.name == 'tiny' and run.status == 'imported'
    entries = studio.exports.runs_with_checkpoints(project)
    assert [e.run.id for e in entries] == [run.id]
    on_disk = sorted(str(p.resolve()) for p in Path(run.folder).rglob('*.ckpt'))
    assert sorted(c.path for c in entries[0].checkpoints) == on_disk and on_disk
    # the step each checkpoint was saved at (validation at steps 2 and 4), never the epoch in its name
    steps = {c.step for c in entries[0].checkpoints}
    assert 4 in steps and steps <= {2, 4}, steps
    assert studio.exports.discover(project) == []
    assert studio.exports.import_run(project, run.folder).id == run.id  # importing again is harmless


def test_import_refuses_bad_folders(studio, tmp_path: Path, rave_run: Path) -> None:
    project = studio.projects.current(None)
    with pytest.raises(ExportError, match='outside the folders'):
        studio.exports.import_run(project, rave_run)  # the fixture lives outside the browse roots
    empty = Path(project.location) / 'runs' / 'empty'
    empty.mkdir(parents=True)
    with pytest.raises(ExportError, match='config.gin'):
        studio.exports.import_run(project, empty)


@pytest.mark.parametrize('streaming', [False, True])
def test_export_checkpoint_and_use_it(studio, imported, streaming: bool) -> None:
    import torch
    project, run = imported
    checkpoint = studio.exports.runs_with_checkpoints(project)[0].checkpoints[0]
    export = studio.exports.start(project, run, checkpoint.path, 'nn~' if streaming else 'explorer', 'tiny_model')
    assert export.status == 'running'
    job = job_finished(studio, export.job_id, 600)  # the export's first process; verification follows
    export = wait_for(studio, lambda: (e := Export.get_by_id(export.id)).status != 'running' and e, 600,
                      'the export and its verification')
    assert job.status == 'done', studio.jobs.log_tail(job.id)
    assert export.verdict['status'] == 'passed', export.message
    assert job.command.startswith('rave export --run ')
    expected = Path(project.location) / 'exports' / ('tiny_model_streaming.ts' if streaming else 'tiny_model.ts')
    assert export.status == 'done' and Path(export.path) == expected and expected.is_file()
    assert export.streaming is streaming and export.checkpoint == checkpoint.path
    assert [e.id for e in studio.exports.list(project)] == [export.id]

    model = torch.jit.load(str(expected)).eval()
    x = torch.randn(1, int(model.n_channels), 2 ** 15) * 0.1
    with torch.no_grad():
        z = model.encode(x)
        y = model.decode(z)
    assert z.shape[1] == int(model.latent_size) and y.shape[-1] >= 2 ** 15 - 4096
    assert torch.isfinite(y).all()

    with pytest.raises(ExportError, match='exists already'):
        studio.exports.start(project, run, checkpoint.path, 'nn~' if streaming else 'explorer', 'tiny_model')
    studio.exports.delete(export)
    assert not expected.exists() and studio.exports.list(project) == []


def test_export_of_broken_checkpoint_fails_clearly(studio, imported) -> None:
    project, run = imported
    with pytest.raises(ExportError, match='does not exist'):
        studio.exports.start(project, run, Path(run.folder) / 'nope.ckpt', 'explorer', 'ghost')
    broken = Path(run.folder) / 'version_0' / 'checkpoints' / 'broken.ckpt'
    broken.write_bytes(b'this is not a torch checkpoint')
    export = studio.exports.start(project, run, broken, 'explorer', 'broken')
    job = job_finished(studio, export.job_id, 600)
    wait_for(studio, lambda: Export.get_by_id(export.id).status != 'running', 60, 'the failed export')
    export = Export.get_by_id(export.id)
    assert job.status == 'failed' and export.status == 'failed'
    message = studio.exports.message(export)
    assert message.startswith('Export failed:') and 'checkpoint' in message
    assert not (Path(project.location) / 'exports' / 'broken.ts').exists()
