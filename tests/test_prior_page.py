"""A prior's page and a model's priors card, on a prior laid out as the prior worker leaves one (a train_prior job
with its metric lines, RAVE's prior folder with a checkpoint and a validation's generated audio): no RAVE here,
the real training is tests/test_prior.py."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf
from nicegui import app
from nicegui.testing import User
from waiting import until

from services.store import Dataset, Export, Job, Run


def make_prior(studio, root: Path, name: str = 'tp') -> Run:
    """A finished prior of a run: 4 steps, a validation at 4, last.ckpt, the audio that validation generated."""
    project = studio.projects.current(None)
    db = root / 'db'
    db.mkdir()
    dataset = Dataset.create(project=project, name='kicks', path=str(db), status='ready', channels=1, sr=44100)
    run_folder = root / 'tiny_0123456789'
    (run_folder / 'version_0' / 'checkpoints').mkdir(parents=True)
    (run_folder / 'version_0' / 'checkpoints' / 'best.ckpt').write_bytes(b'x')
    run = Run.create(project=project, dataset=dataset, name='tiny', folder=str(run_folder), status='done')
    version = Path(project.location) / 'priors' / f'{name}_0123456789' / 'version_0'
    (version / 'checkpoints').mkdir(parents=True)
    (version.parent / 'config.gin').write_text('VariationalPrior.sr = 44100\n')
    (version / 'checkpoints' / 'last.ckpt').write_bytes(b'x')
    (version / 'generation').mkdir()
    wav = version / 'generation' / 'step-00000004.wav'
    sf.write(wav, np.sin(np.linspace(0, 400, 44100)).astype(np.float32) * 0.5, 44100)
    wav.with_suffix('.json').write_text(json.dumps({'step': 4, 'sr': 44100, 'seconds': 1.0,
                                                    'envelope': {'min': [-0.5, -0.4], 'max': [0.5, 0.4]}}))
    folder = root / 'job'
    folder.mkdir()
    lines = [{'step': 0, 'max_steps': 4, 'event': 'start', 'run_dir': str(version), 't': 1.0}]
    lines += [{'step': s, 'max_steps': 4, 'epoch': 0, 'latent_prediction': 3.5 - s * 0.2, 't': 1.0 + s}
              for s in range(1, 5)]
    lines += [{'step': 4, 'event': 'validation', 'validation': 2.9, 't': 6.0}]
    (folder / 'metrics.jsonl').write_text(''.join(json.dumps(line) + '\n' for line in lines))
    Job.create(kind='train_prior', title=f'Train the prior {name} of tiny', argv=[], project=project, status='done',
               folder=str(folder), spec={'run_id': run.id, 'prior': name, 'max_steps': 4, 'fidelity': 0.95,
                                          'device': 'cpu', 'model': str(run_folder)})
    return run


async def test_the_model_page_lists_its_priors_and_trains_one_from_a_dialog(user: User, tmp_path: Path) -> None:
    run = make_prior(app.studio, tmp_path)
    await user.open(f'/models/{run.id}')
    await user.should_see(marker='model-priors')
    await user.should_see(marker='prior-tp')
    await user.should_see('1 checkpoint · fidelity 0.95')
    user.find(marker='train-prior').click()
    await user.should_see(marker='prior-dialog')
    await user.should_see('No GPU on this machine: the prior trains on the CPU.')
    user.find(marker='prior-name').clear().type('tp')
    user.find(marker='start-prior').click()
    await user.should_see('This project has a prior called tp already')  # a sentence, no job
    user.find(marker='prior-name').clear().type('a prior!')
    user.find(marker='start-prior').click()
    await user.should_see('Name the prior with letters, digits')
    assert Job.select().where(Job.kind == 'train_prior').count() == 1


async def test_a_prior_page_charts_its_metrics_and_plays_its_generations(user: User, tmp_path: Path) -> None:
    run = make_prior(app.studio, tmp_path)
    await user.open(f'/models/{run.id}/priors/tp')
    await user.should_see(marker='prior-name')
    await user.should_see('Prior of tiny · fidelity 0.95 · CPU')
    await user.should_see('4 / 4')
    await user.should_see('2.9')  # the latest validation
    chart = next(iter(user.find(marker='chart-latent_prediction').elements))
    assert chart is not None
    await user.should_see(marker='chart-validation')
    await user.should_see('Step 4')  # the validation's generation, with its player
    await user.should_see(marker='generation-4-player')
    await user.should_see(marker='prior-ckpt-last')
    await user.should_see(marker='resume-prior')  # finished with a checkpoint: it may go on
    await user.open(f'/models/{run.id}/priors/other')
    await user.should_see('No such prior')


async def test_the_prior_page_tests_its_exports(user: User, tmp_path: Path) -> None:
    run = make_prior(app.studio, tmp_path)
    await user.open(f'/models/{run.id}/priors/tp')
    await user.should_see(marker='prior-testing')
    await user.should_see('not exported yet')
    assert len(user.find(marker='prior-export').elements) == 1  # one checkpoint, one "Export with it"
    last = next((Path(app.studio.projects.current(None).location) / 'priors').glob('tp_*/version_0/checkpoints'))
    ts = tmp_path / 'tiny_tp_last.ts'
    ts.write_bytes(b'not a model')
    Export.create(project=app.studio.projects.current(None), run=run, checkpoint=run.folder, path=str(ts),
                  name='tiny_tp_last', status='done', options={'prior': str(last / 'last.ckpt'), 'fidelity': 0.95})
    await user.open(f'/models/{run.id}/priors/tp')
    await user.should_see(marker='prior-testing')
    select = next(iter(user.find(marker='prior-a').elements))
    assert list(select.options) == [str(ts)] and select.value == str(ts)  # the export of that checkpoint
    await user.should_not_see(marker='prior-export')  # exported: no second export of it
    user.find(marker='prior-generate').click()
    # generated through the model server: a fake file is refused in a sentence
    await until(lambda: user.notify.messages, 60)
    assert 'tiny_tp_last.ts is not a TorchScript export torch can load' in user.notify.messages[-1]
