"""The Models and Export pages as a user sees them: import a CLI run folder, export it, find the file."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User
from rave_fixtures import synth_audio
from waiting import until

from services.store import Export

pytestmark = pytest.mark.slow  # real RAVE: a run made by `rave train`, exported from the page


async def test_models_page_imports_a_cli_run_folder(user: User, rave_run: Path) -> None:
    await user.open('/models')
    await user.should_see('No run in this project yet')
    user.find(marker='import-path').type(str(rave_run))
    user.find(marker='import-button').click()
    await user.should_see('outside the folders you may browse')

    project = app.studio.projects.current(None)
    shutil.copytree(rave_run, Path(project.location) / 'runs' / rave_run.name)
    await user.open('/models')
    await user.should_see('Found in this project')
    user.find(marker='import-found').click()
    await user.should_see('Imported run tiny')
    await user.should_see(marker='export-run')
    await user.should_see('best.ckpt')
    await user.should_not_see('No run in this project yet')


async def test_export_page_exports_and_lists_the_file(user: User, rave_run: Path) -> None:
    """Target → export → verified → played through the export, then the library's controls (real tiny RAVE)."""
    await user.open('/export')
    await user.should_see('No checkpoint to export yet')
    studio = app.studio
    project = studio.projects.current(None)
    target = Path(project.location) / 'runs' / rave_run.name
    shutil.copytree(rave_run, target)
    run = studio.exports.import_run(project, target)
    synth_audio(Path(project.location) / 'uploads', n_files=1, seconds=3.0)

    await user.open(f'/export?run={run.id}')
    await user.should_see('Where will you play it?')
    user.find(marker='target-explorer').click()
    await user.should_see('Saved as exports/tiny.ts')
    await user.should_see('of 128 (from this checkpoint')  # the latent size, live from the fidelity curve
    user.find(marker='name').clear().type('page_model')
    user.find(marker='export').click()
    await user.should_see('Exporting page_model')
    await until(lambda: Export.get_or_none(Export.status != 'running') is not None, timeout=900,
                message='the export and its verification did not end in 900 s')
    export = Export.get()
    assert export.status == 'done', export.message
    await user.open(f'/export/view/{export.id}')
    await user.should_see('Verification: every check passed')
    await user.should_see('rave export --run')  # the equivalent RAVE command
    await user.should_see(marker='download')
    assert (Path(project.location) / 'exports' / 'page_model.ts').is_file()
    assert (Path(project.location) / 'exports' / 'page_model.guide.md').is_file()
    await user.should_see(str(Path(project.location) / 'exports' / 'page_model.ts'))
    user.find(marker='play').click()
    await until(lambda: (Path(project.location) / 'explorer').is_dir() and any(
        (Path(project.location) / 'explorer').rglob('output.wav')), timeout=600, message='nothing was played')
    await user.should_see('Through the export', retries=50)
    user.find(marker='open-explorer').click()  # the next step, this export chosen
    await user.should_see('Walk the latent space')

    await user.open(f'/export?run={run.id}')  # the same name again is refused with a clear message
    user.find(marker='target-explorer').click()
    user.find(marker='name').clear().type('page_model')
    user.find(marker='export').click()
    await user.should_see('exists already')
    await user.open('/export/library')
    user.find(marker='delete').click()
    user.find(marker='confirm').click()
    await user.should_see('No export yet')
    assert not (Path(project.location) / 'exports' / 'page_model.ts').exists()
