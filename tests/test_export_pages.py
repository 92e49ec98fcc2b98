"""The export pages as a user sees them, without RAVE: every wizard step, the library's controls, the viewer's
verification report and the deployment guide. The export is a stand-in target's file that does not load, so
the real verification fails it in a fresh process, check by check."""
from __future__ import annotations

from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User
from waiting import until

from services.hookspecs import ExportTarget
from services.models.targets import BUILTIN
from services.store import Export

TRUNCATED = r'''
import json, os, pathlib, sys
out = pathlib.Path(sys.argv[1])
out.write_bytes(b"PK\x03\x04 not a whole TorchScript file")
job = pathlib.Path(os.environ["RAVE_STUDIO_JOB_DIR"])
(job / "export.json").write_text(json.dumps({"status": "done", "path": str(out), "command": "rave export --fake",
                                             "warnings": ["a warning RAVE printed"]}))
'''


def _command(checkpoint: str, output: Path, options: dict) -> list[str]:
    return ['python', '-c', TRUNCATED, str(output / f'{options["name"]}.ts')]


STAND_IN = ExportTarget('stand-in', 'A stand-in host', '.ts', 'Writes a file that does not load.',
                        flags={'streaming': False}, command=_command)


def fake_run(studio) -> tuple:
    project = studio.projects.current(None)
    folder = Path(project.location) / 'runs' / 'fake_0123456789'
    (folder / 'version_0' / 'checkpoints').mkdir(parents=True)
    (folder / 'config.gin').write_text('SAMPLING_RATE = 44100\n')
    for name in ('best.ckpt', 'last.ckpt'):
        (folder / 'version_0' / 'checkpoints' / name).write_bytes(b'not a real checkpoint')
    studio.exports._targets = lambda: [*BUILTIN, STAND_IN]
    return project, studio.exports.import_run(project, folder)


async def test_the_wizard_starts_from_the_target(user: User) -> None:
    await user.open('/export')
    await user.should_see('No checkpoint to export yet')
    _project, run = fake_run(app.studio)
    await user.open(f'/export?run={run.id}')
    await user.should_see('1 · Where will you play it?')
    for target in BUILTIN:
        await user.should_see(target.title)
    await user.should_see('Saved as exports/fake_streaming.ts')  # nn~ is picked first: streaming on
    await user.should_see('sets: streaming')
    user.find(marker='target-onnx').click()
    await user.should_see('Saved as exports/fake.onnx.json')
    user.find(marker='target-neutone').click()
    await user.should_see('Saved as exports/fake/model.nm')
    user.find(marker='target-explorer').click()
    await user.should_see('Saved as exports/fake.ts')
    user.find(marker='target-custom').click()
    await user.should_see('Every flag is yours to set.')
    await user.should_see('No prior for fake yet')  # the prior option says how to get one
    await user.should_see('trained without EMA')
    user.find(marker='checkpoint').click()
    await user.should_see('best · step ?')
    user.find(marker='name').clear().type('two words')
    user.find(marker='export').click()
    await user.should_see('no spaces')
    assert Export.select().count() == 0


async def test_a_batch_names_every_export(user: User) -> None:
    _project, run = fake_run(app.studio)
    await user.open(f'/export?run={run.id}')
    user.find(marker='batch').click()
    user.find(marker='target-explorer').click()  # nn~ and the Explorer
    await user.should_see('2 exports queued one after the other')


async def test_export_verification_report_library_and_guide(user: User) -> None:
    project, run = fake_run(app.studio)
    await user.open(f'/export?run={run.id}')
    user.find(marker='target-stand-in').click()
    user.find(marker='name').clear().type('broken')
    user.find(marker='export').click()
    await user.should_see('each is verified when it is written')
    await user.should_see(marker='stages-1')
    await until(lambda: Export.get_by_id(1).status == 'failed', timeout=240,
                message='the stand-in export was not verified in 240 s')
    await user.should_see('Exported, but the verification failed')

    await user.open('/export/view/1')
    await user.should_see('Verification failed')
    await user.should_see('damaged or truncated')
    await user.should_see(marker='check-load')
    await user.should_see('Verdict per host')
    await user.should_see('RAVE warned 1 time')
    await user.should_see('Export log')
    await user.should_not_see(marker='player')  # a failed export is never played nor listed as ready

    await user.open('/export/library')
    await user.should_see('A stand-in host (1)')
    await user.should_see('1 check failed')
    await user.should_see(marker='copy-path')
    await user.should_not_see(marker='download')
    await user.should_not_see(marker='open-explorer')  # nothing to play
    user.find(marker='tab-stand-in').click()
    await user.should_see(marker='export-1')
    user.find(marker='reexport-explorer').click()
    await until(lambda: Export.get_or_none(Export.id == 2) is not None, timeout=10)
    again = Export.get_by_id(2)
    assert again.target == 'explorer' and again.checkpoint == Export.get_by_id(1).checkpoint
    app.studio.exports.delete(again)

    await user.open('/export/guide/1')
    await user.should_see('Deploying broken')
    await user.should_see('not verified')

    await user.open('/export/library')
    user.find(marker='delete').click()
    user.find(marker='confirm').click()
    await user.should_see('No export yet')
    assert not (Path(project.location) / 'exports' / 'broken.ts').exists()


@pytest.mark.parametrize('path', ['/export/view/999', '/export/guide/999', '/export/view/x'])
async def test_an_unknown_export_says_so(user: User, path: str) -> None:
    await user.open(path)
    await user.should_see('No such export in this project.')
