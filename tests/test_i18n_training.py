"""Two languages in the training area and the lab pages: the new-run wizard walked to its last step, a run page
with metrics and checkpoints, the config catalogue, the experiments table and the comparison, TensorBoard's log
folders, the sweeps and the new-sweep wizard, the team, accounts, audit and history pages — opened in French, they
show no English and no sentence outside the catalogue (the crawl of tests/test_i18n.py). Rows and files only: gin
and RAVE are stood in for."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from i18n_crawl import english_ids, fine, french_pattern, shown
from nicegui import app
from nicegui.testing import User

from services import i18n
from services.access import local
from services.store import Checkpoint, Dataset, Job, Run, RunAttempt, Sharing, Sweep, SweepTrial
from services.training import RunSpec, Training, configs
from services.training.sweeps import Budget, Param, SweepSpec

MACROS = {'SAMPLING_RATE': 44100, 'CAPACITY': 48, 'LATENT_SIZE': 16, 'N_BAND': 16, 'RATIOS': [4, 2, 2],
          'PHASE_1_DURATION': 200}
# gin's answer for a composition, as the worker gives it (stood in for: no gin here)
ANSWER = {'ok': True, 'stage': 'done', 'reason': '', 'macros': MACROS, 'settings': {}, 'compression': 256,
          'receptive_field': [2048, 2048], 'parameters': 3_400_000,
          'changes': [{'config': 'v2_small', 'changed': {}}, {'config': 'causal', 'changed': {'CAPACITY': (48, 64)}}]}
# what these pages show that is neither theirs nor data: the comments card (components/comments.py), the charts'
# text summaries (components/metric_chart.py) and the system monitor's GPU sentence (services/monitor.py) belong to
# other areas; gin's own error text is gin's
OTHERS = ('Comments', 'Comment', 'Markdown; @name mentions a member', 'Post',
          '**bold**, *italic*, `code`, [links](https://…); HTML is shown as text.',
          'No comments yet: say what you hear, what to try next.', 'this machine',
          'No NVIDIA GPU found (no NVIDIA driver answers); jobs run on the CPU.', 'No configurable matching foo')
GIN = re.compile(r'[A-Za-z_.]+=\S+(?:, [A-Za-z_.]+=\S+)*')  # gin overrides, as --override writes them
VARIED = re.compile(r'(.+?) ∈ [\[{][^\]}]*[\]}]')  # a sweep's parameter and its range or choices: a label, figures
DATE = re.compile(r'\d\d [a-zéû]+\.? \d{4}(?:, \d\d:\d\d)?')  # formatting.day/moment: figures, not words
VERDICTS = {'v2_small': {'ok': True, 'reason': '', 'warning': '', 'macros': MACROS, 'compression': 256,
                         'checked_with': ['v2_small'], 'parameters': 3_400_000},
            'v2': {'ok': False, 'reason': 'gin cannot parse it: No configurable matching foo', 'warning': '',
                   'stage': 'parse', 'error': {'message': 'No configurable matching foo', 'line': 3, 'file': 'v2.gin'}},
            'hybrid': {'ok': True, 'reason': '', 'warning': 'also resets the base: CAPACITY 48 → 64', 'noop': '',
                       'changed': {'CAPACITY': [48, 64]}, 'checked_with': ['v2_small', 'hybrid']},
            'gain': {'ok': True, 'reason': '', 'warning': 'runs but does nothing: gain returned its input unchanged '
                     'when forced on', 'noop': 'gain', 'changed': {}, 'checked_with': ['v2_small']}}


def seed(studio, tmp_path: Path) -> dict:
    """A ready dataset and two finished runs, one with metrics (warm-up, GAN phase, validation), checkpoints,
    attempts, notes and a tag; the ids and every word that is data."""
    project = studio.projects.current(None)
    dataset = Dataset.create(project=project, name='violons', path=str(tmp_path / 'violons'), status='ready',
                             sr=44100, channels=2, n_examples=400, n_seconds=600.0, params={'num_signal': 131072})
    runs = [_run(studio, project, dataset, name, steps) for name, steps in (('archet', 300), ('pizz', 120))]
    experiments = studio.session(local(), None).experiments
    experiments.set_notes(runs[0].id, 'Plus de **grain**.')
    experiments.set_tags(runs[0].id, ['essai'])
    sweep = _sweep(project, tmp_path)
    Sharing.create(project=project, owner='admin', visibility='read')  # the team view's 'owner' chip
    return {'run': runs[0].id, 'other': runs[1].id, 'sweep': sweep.id,
            'data': {project.name, project.description, dataset.name, 'archet', 'pizz', 'essai', 'local', 'alto',
                     'Plus de **grain**.', 'box', 'cpu', 'n_signal', 'PyTorch', 'RAVE.valid_signal_crop = True',
                     'version_0', 'version_0/checkpoints/best.ckpt', *(f'{r.name}_abc123' for r in runs), *OTHERS,
                     *(r.folder for r in runs), *configs.DESCRIPTIONS, 'v2_small',
                     'v2', 'causal', 'capacite', *(f'capacite-t{n}' for n in range(3))}}


def _run(studio, project, dataset, name: str, steps: int) -> Run:
    folder = studio.projects.folder(project, 'runs') / f'{name}_abc123'
    (folder / 'version_0' / 'checkpoints').mkdir(parents=True)
    (folder / 'config.gin').write_text('PHASE_1_DURATION = 200\nCAPACITY = 48\n')
    job_dir = studio.data_dir / 'jobs' / name
    job_dir.mkdir(parents=True)
    lines = [{'run_dir': str(folder / 'version_0'), 'step': 0, 'max_steps': steps, 'event': 'start',
              't': time.time(), 'machine': {'host': 'box', 'device': 'cpu', 'torch': '2.1.2', 'rave': '2.3.1'}}]
    for s in range(1, steps + 1):
        line = {'step': s, 'max_steps': steps, 'epoch': s // 50, 't': time.time(), 'loss': 3 / s ** .5,
                'multiband_spectral_distance': 2 / s ** .5, 'fullband_spectral_distance': 1 / s ** .5,
                'regularization': .1, 'beta_factor': min(1.0, s / 100) * .01, 'lr_gen': 1e-3, 'lr_dis': 1e-4}
        if s >= 200:
            line.update(adversarial=2.0, feature_matching=1.0, loss_dis=.5, pred_real=.4, pred_fake=-.4)
        lines.append(line)
        if s % 100 == 0:
            lines.append({'step': s, 'event': 'validation', 'validation': 5 / s ** .5, 'fidelity_0.99': 8.0,
                          't': time.time()})
    (job_dir / 'metrics.jsonl').write_text(''.join(json.dumps(line) + '\n' for line in lines))
    job = Job.create(project=project, kind='train', title=f'Train {name}', argv=[], folder=str(job_dir),
                     status='done')
    spec = RunSpec(dataset=dataset.id, name=name, description='', devices=('cpu',), max_steps=steps,
                   val_every=100)
    run = Run.create(project=project, dataset=dataset, name=name, folder=str(folder), configs=list(spec.configs),
                     params={'spec': spec.to_dict(), 'jobs': [job.id]}, status='done', step=steps,
                     seconds=600.0, job=job)
    RunAttempt.create(run=run, number=1, job=job, status='done', start_step=0, end_step=steps)
    path = folder / 'version_0' / 'checkpoints' / 'best.ckpt'
    path.write_bytes(b'x' * 1000)
    Checkpoint.create(run=run, path=str(path), step=steps, kind='best')
    return run


def _sweep(project, folder: Path) -> Sweep:
    """A finished sweep of three trials on rows alone: complete, pruned, complete; the best has a checkpoint."""
    spec = SweepSpec('capacite', RunSpec(max_steps=4, val_every=2), (Param('CAPACITY', 'choice', choices=(4, 8, 16)),),
                     method='grid', pruner='median', budget=Budget(trials=3))
    sweep = Sweep.create(project=project, name='capacite', spec=spec.to_dict(), status='done',
                         study=str(folder / 'capacite.journal'))
    for number, (capacity, status, value) in enumerate(((4, 'complete', 0.5), (8, 'pruned', 2.0),
                                                         (16, 'complete', 0.25))):
        run = Run.create(project=project, name=f'capacite-t{number}', status='done', step=4, configs=['v2_small'],
                         params={'spec': spec.trial_spec(number, {'CAPACITY': capacity}).to_dict()})
        SweepTrial.create(sweep=sweep, number=number, run=run, params={'CAPACITY': capacity}, status=status,
                          value=value, step=run.step)
    checkpoint = folder / 'best.ckpt'
    checkpoint.write_bytes(b'not a real checkpoint')
    Checkpoint.create(run=run, path=str(checkpoint), step=4, kind='best')
    return sweep


@pytest.fixture
def stood_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """gin's verdicts and answers without gin."""
    monkeypatch.setattr(configs.ConfigStatus, 'cached', lambda self: VERDICTS)
    monkeypatch.setattr(Training, 'check', lambda self, project_id, spec, with_overrides=False, **kw: ANSWER)


async def test_the_training_and_lab_pages_speak_french(user: User, tmp_path: Path, stood_in) -> None:
    user.http_client.headers['Accept-Language'] = 'fr-FR,fr;q=0.9'
    await user.open('/')
    ids = seed(app.studio, tmp_path)
    french, english, wrong = french_pattern(), english_ids(), []

    def ok(text: str) -> bool:
        varied = VARIED.fullmatch(text)
        return DATE.fullmatch(text) is not None or GIN.fullmatch(text) is not None or \
            (varied is not None and ok(varied[1])) or fine(text, ids['data'], french) or \
            fine(text.replace('×', '*'), ids['data'], french)  # a figure's sign, not a letter (it sits in À-ÿ)

    def crawl(where: str) -> None:
        for element, text in shown(user.client):
            if element == '_Plot[aria-label]':
                continue  # the charts' text summaries: components/metric_chart.py's
            if ok(text) or all(ok(p) for p in text.split(' · ')):
                continue
            why = 'English left untranslated' if text in english else 'not in the catalogue'
            wrong.append(f'{where} {element}: {text!r} ({why})')

    await user.open('/training/new')
    await user.should_see('Nouvel entraînement')
    for step, marker in (('start', 'dataset-violons'), ('dataset', 'composition-ok'), ('config', 'macros')):
        user.find(marker=f'next-{step}').click()
        await user.should_see(marker=marker)
    user.find(marker='name').type('alto')
    user.find(marker='next-parameters').click()
    await user.should_see(marker='checks')
    user.find(marker='next-review').click()
    await user.should_see(marker='ready')
    crawl('/training/new (every step)')
    for route in (f'/training/new?from={ids["run"]}', f'/training/runs/{ids["run"]}', '/training/configs',
                  '/experiments', f'/experiments/compare?runs={ids["run"]},{ids["other"]}', '/training/tensorboard',
                  '/team', '/users', '/audit', '/history', '/training/sweeps', '/training/sweeps/new',
                  f'/training/sweeps/{ids["sweep"]}'):
        await user.open(route)
        crawl(route)
    await user.open(f'/training/runs/{ids["run"]}')
    with i18n.speaking('fr'):
        details = i18n._('Details')
    user.find(marker='run-tabs').elements.pop().set_value(details)  # built when it first opens
    await user.should_see(marker='details-spec')
    crawl('/training/runs/… (details)')
    assert not wrong, '\n'.join(wrong)
