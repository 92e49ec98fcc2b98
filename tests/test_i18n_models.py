"""The models area in French: the library, a model's page, the export wizard, library, viewer and deployment guide,
model testing, the Play pages and a prior's page show no English and nothing outside the catalogue (the crawl of
tests/test_i18n.py), on a project seeded with rows and files only — no RAVE, no model loaded."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from i18n_crawl import english_ids, fine, french_pattern, shown
from nicegui import app
from nicegui.testing import User

from services import formatting, i18n
from services.models import stats
from services.models.guide import guide_for
from services.models.play import Play
from services.models.views import ExportView
from services.store import Checkpoint, Dataset, Export, Job, Run

STATS = {'sr': 44100, 'channels': 1, 'parameters': 14_570_888, 'compression': 2048,
         'modules': [['pqmf', 16656], ['encoder', 3_945_904], ['decoder', 3_816_608], ['discriminator', 6_791_720]],
         'receptive_field': [10604, 10044], 'latent_size': 128, 'fidelity_dims': {'0.9': 8, '0.99': 30},
         'tree': {'name': 'model', 'type': 'RAVE', 'parameters': 14_570_888, 'shape': None, 'children': [
             {'name': 'encoder', 'type': 'VariationalEncoder', 'parameters': 3_945_904, 'shape': [1, 256, 21],
              'folded': 9}]}}
# what the export's verification wrote (services/workers/verify_export.py, in a worker: English data, see below)
VERDICT = {'status': 'passed',
           'checks': [{'check': 'load', 'ok': True, 'message': 'Loaded in a fresh process.'},
                      {'check': 'signal', 'ok': True, 'message': 'Not silent.'}],
           'hosts': [{'host': 'nn~', 'verdict': 'ready', 'message': 'Streaming, as nn~ wants.'}],
           'facts': {'sr': 44100, 'n_channels': 1, 'latent_size': 8, 'full_latent_size': 16, 'compression_ratio': 2048,
                     'streaming': True, 'size': 4096, 'made_with_torch': '2.5.1', 'step': 1000,
                     'methods': {'forward': [1, 1, 1, 1], 'encode': [1, 1, 8, 2048]}, 'attributes': ['temperature'],
                     'latency': [{'buffer': 2048, 'samples': 4096, 'ms': 92.9}]}}
FIGURE = re.compile(r'[\d\s\u202f.,]+ ?[kM]')  # 3,95 M parameters


@pytest.fixture
def seeded(tmp_path: Path):
    """A project with a ready dataset, a run with two checkpoints (statistics cached), a verified export of it and
    a finished prior: (run, export, what the crawl may show as it is — the user's names, paths and the
    verification's own sentences)."""
    studio = app.studio
    project = studio.projects.current(None)
    db = tmp_path / 'db'
    db.mkdir()
    dataset = Dataset.create(project=project, name='kicks', path=str(db), status='ready', channels=1, sr=44100)
    folder = tmp_path / 'bright_0123456789'
    (folder / 'version_0' / 'checkpoints').mkdir(parents=True)
    (folder / 'config.gin').write_text('SAMPLING_RATE = 44100\nCAPACITY = 32\n')
    run = Run.create(project=project, dataset=dataset, name='bright', folder=str(folder), configs=['v2'],
                     status='done', step=1000, best_validation=2.5, last_loss=1.25, seconds=600.0, tags=['drums'])
    for kind in ('best', 'last'):
        path = folder / 'version_0' / 'checkpoints' / f'{kind}.ckpt'
        path.write_bytes(b'x' * 1000)
        Checkpoint.create(run=run, path=str(path), step=1000, kind=kind)
        stats.cache_path(path).write_text(json.dumps({**STATS, 'checkpoint': str(path), 'stamp': path.stat().st_mtime}))
    exports = Path(project.location) / 'exports'
    exports.mkdir(parents=True, exist_ok=True)
    file = exports / 'bright_streaming.ts'
    file.write_bytes(b'x' * 4096)
    export = Export.create(project=project, run=run, checkpoint=str(folder / 'version_0' / 'checkpoints' / 'best.ckpt'),
                           path=str(file), name='bright_streaming', status='done', target='nn~', streaming=True,
                           options={'streaming': True, 'fidelity': 0.95}, stage='verify', verdict=VERDICT,
                           result={'command': 'rave export --run bright --streaming', 'warnings': ['a warning'],
                                   'provenance': {'step': 1000}})
    _prior(project, run, tmp_path)
    size = sum(f.stat().st_size for f in folder.rglob('*') if f.is_file())
    with i18n.speaking('fr'):
        said = {formatting.day(run.created), formatting.moment(export.created), f'{folder}  ({formatting.size(size)})'}
    data = {run.name, dataset.name, export.name, file.name, str(file), 'drums', 'v2', 'tp', 'tp_0123456789', 'nn~',
            'best.ckpt', 'last.ckpt', 'version_0/checkpoints/best.ckpt', 'version_0/checkpoints/last.ckpt',
            project.name, project.description, str(folder), export.checkpoint, export.result['command'],
            *export.result['warnings'], *(c['message'] for c in VERDICT['checks']),
            *(h['message'] for h in VERDICT['hosts']), *i18n.LANGUAGES.values(), *said,
            '.ts', '.onnx', '.nm', 'n_signal', 'torch'}  # RAVE's and torch's own names, file types
    return run, export, data


def _prior(project, run: Run, root: Path) -> None:
    """A finished prior `tp` of the run as the prior worker leaves one: a checkpoint, a generation, its job."""
    version = Path(project.location) / 'priors' / 'tp_0123456789' / 'version_0'
    (version / 'checkpoints').mkdir(parents=True)
    (version.parent / 'config.gin').write_text('VariationalPrior.sr = 44100\n')
    (version / 'checkpoints' / 'last.ckpt').write_bytes(b'x')
    (version / 'generation').mkdir()
    wav = version / 'generation' / 'step-00000004.wav'
    sf.write(wav, np.zeros(4410, np.float32), 44100)
    wav.with_suffix('.json').write_text(json.dumps({'step': 4, 'sr': 44100, 'seconds': 0.1,
                                                    'envelope': {'min': [-0.1], 'max': [0.1]}}))
    folder = root / 'job'
    folder.mkdir()
    lines = [{'step': 0, 'max_steps': 4, 'event': 'start', 'run_dir': str(version), 't': 1.0},
             {'step': 4, 'max_steps': 4, 'epoch': 0, 'latent_prediction': 2.5, 't': 2.0},
             {'step': 4, 'event': 'validation', 'validation': 2.9, 't': 3.0}]
    (folder / 'metrics.jsonl').write_text(''.join(json.dumps(line) + '\n' for line in lines))
    Job.create(kind='train_prior', title='Train the prior tp of bright', argv=[], project=project, status='done',
               folder=str(folder), spec={'run_id': run.id, 'prior': 'tp', 'max_steps': 4, 'fidelity': 0.95,
                                          'device': 'cpu', 'model': run.folder})


async def _crawl(user: User, routes: list[str], data: set[str], *, opened=None) -> list[str]:
    """What the routes show in French that is English or outside the catalogue (`opened(route)` opens the dialogs
    the route holds before the crawl)."""
    french, english = french_pattern(), english_ids()
    wrong = []
    for route in routes:
        await user.open(route)
        if opened is not None:
            await opened(route)
        for where, text in shown(user.client):
            if _shown_fine(text, data, french):
                continue
            why = 'English left untranslated' if text in english else 'not in the catalogue'
            wrong.append(f'{route} {where}: {text!r} ({why})')
    return wrong


def _shown_fine(text: str, data: set[str], french) -> bool:
    """The crawl's rule (a sentence, or facts joined by " · "), with figures: 3,95 M parameters, a multiplier ×
    (no letter), a count in parentheses after a title."""
    def part_fine(part: str) -> bool:
        bare = part.replace('×', ' ')
        return (FIGURE.fullmatch(bare) is not None or fine(part, data, french) or fine(bare, data, french)
                or fine(re.sub(r' \(\d+\)$', '', part), data, french))
    return part_fine(text) or all(part_fine(p) for p in text.split(' · '))


async def test_the_models_pages_speak_french(user: User, seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    run, export, data = seeded
    monkeypatch.setattr(Play, 'info', lambda *_args, **_kwargs: None)  # the Play pages load no model here
    user.http_client.headers['Accept-Language'] = 'fr-FR,fr;q=0.9'

    async def opened(route: str) -> None:
        if route == '/models':
            user.find(marker=f'delete-{run.name}').click()  # the deletion dialog, with its plan
            await user.should_see(marker='delete-run-dialog')
        if route == f'/export?run={run.id}':
            user.find(marker='batch').click()
            user.find(marker='target-explorer').click()  # nn~ and the Explorer: the batch's line
            await user.should_see('2 cibles choisies')
    routes = ['/models', f'/models/{run.id}', '/models/999', f'/export?run={run.id}', '/export/library',
              f'/export/view/{export.id}', f'/export/guide/{export.id}', '/export/view/999', '/models/test',
              f'/models/test?run={run.id}', '/generate', '/explorer', '/transfer', f'/models/{run.id}/priors/tp',
              f'/models/{run.id}/priors/none']
    wrong = await _crawl(user, routes, data, opened=opened)
    assert not wrong, '\n'.join(wrong)


async def test_an_empty_project_says_so_in_french(user: User) -> None:
    user.http_client.headers['Accept-Language'] = 'fr'
    project = app.studio.projects.current(None)
    wrong = await _crawl(user, ['/models', '/export', '/export/library', '/models/test', '/generate', '/explorer',
                                '/transfer'], {project.name, project.description, *i18n.LANGUAGES.values()})
    assert not wrong, '\n'.join(wrong)
    await user.open('/models')
    await user.should_see("Aucun entraînement dans ce projet pour l'instant")


def test_the_deployment_guide_is_written_in_the_language_it_is_read_in(seeded) -> None:
    """The guide's prose (Markdown, which the crawl does not read) is French on a French page; the file written
    next to the export, outside any page, stays English."""
    _run, export, data = seeded
    view = ExportView.of(Export.get_by_id(export.id))
    french, english = french_pattern(), english_ids()
    with i18n.speaking('fr'):
        guide = guide_for(view)
        verdicts = [line for s in guide.sections for line in s.lines if line.startswith('- nn~: ')]
        lines = [guide.title, guide.host, *(s.title for s in guide.sections),
                 *(line for s in guide.sections for line in s.lines
                   if line.strip() and not line.startswith('    ') and line not in verdicts)]
        wrong = [line for line in lines if not fine(line, data, french) and line not in english]
        wrong += [line for line in lines if line in english]
        assert guide.title == 'Déployer bright_streaming'
        assert verdicts == ['- nn~: **prêt**. Streaming, as nn~ wants.']  # the verification's sentence is its own
    assert not wrong, '\n'.join(wrong)
    assert guide_for(view).markdown().startswith('# Deploying bright_streaming')
