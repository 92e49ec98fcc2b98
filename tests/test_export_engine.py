"""The export engine without RAVE: targets through the plugin hook, flags checked with a sentence, the chain
export → verify in a fresh process, a failed verification kept with its reasons, batch and re-export.

The exporting process is a stand-in (a target's own `command`, as a plugin declares one) that writes a
truncated .ts; the verification is the real one (services/workers/verify_export.py), run as its own job.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from waiting import poll_until

from pages import BUILTIN_PLUGINS
from services.events import ExportChanged
from services.models import ExportError, Models
from services.models.targets import BUILTIN
from services.plugins import ExportTarget, PluginManager
from services.store import Export, Job

TRUNCATED = r'''
import json, os, pathlib, sys
out = pathlib.Path(sys.argv[1])
print(json.dumps({"stage": "load", "fraction": 0.0, "message": "Loading"}), flush=True)
out.write_bytes(b"PK\x03\x04 this is not a whole TorchScript file")
print("WARNING: RAVE said something worth keeping", flush=True)
job = pathlib.Path(os.environ["RAVE_STUDIO_JOB_DIR"])
(job / "export.json").write_text(json.dumps({"status": "done", "path": str(out), "command": "rave export --fake",
                                             "warnings": ["RAVE said something worth keeping"]}))
'''
FAILING = r'''
import json, os, pathlib
job = pathlib.Path(os.environ["RAVE_STUDIO_JOB_DIR"])
(job / "export.json").write_text(json.dumps({"status": "failed", "message": "The stand-in refuses on purpose."}))
raise SystemExit(1)
'''


def stand_in(script: str) -> ExportTarget:
    def command(checkpoint: str, output: Path, options: dict) -> list[str]:
        return ['python', '-c', script, str(output / f'{options["name"]}.ts')]
    return ExportTarget('stand-in', 'A stand-in target', '.ts', 'Writes a file that does not load.',
                        flags={'streaming': False}, command=command)


@pytest.fixture
def fake_run(studio):
    """A run folder with config.gin and a checkpoint file, imported in the current project."""
    project = studio.projects.current(None)
    folder = Path(project.location) / 'runs' / 'fake_0123456789'
    (folder / 'version_0' / 'checkpoints').mkdir(parents=True)
    (folder / 'config.gin').write_text('SAMPLING_RATE = 44100\n')
    for name in ('best.ckpt', 'epoch-epoch=0001.ckpt'):
        (folder / 'version_0' / 'checkpoints' / name).write_bytes(b'not a real checkpoint')
    run = studio.exports.import_run(project, folder)
    return project, run, [str(p.resolve()) for p in sorted((folder / 'version_0' / 'checkpoints').iterdir())]


def with_targets(studio, *extra: ExportTarget) -> None:
    studio.exports._targets = lambda: [*BUILTIN, *extra]


def test_the_built_in_targets_come_through_the_plugin_hook(studio) -> None:
    manager = PluginManager(BUILTIN_PLUGINS, entry_points=False)
    targets = manager.export_targets()
    assert [t.name for t in targets] == ['nn~', 'vst', 'neutone', 'onnx', 'explorer', 'custom']
    assert {t.plugin for t in targets} == {'pages.models.plugin'}
    assert all(t.why and t.title for t in targets)
    from services.access import local
    views = Models(studio.exports, studio.inference, studio.files, local()).targets()
    by_name = {t.name: t for t in views}
    assert by_name['nn~'].preset['streaming'] is True and by_name['explorer'].preset['streaming'] is False
    assert by_name['vst'].preset['prior'] is True and by_name['onnx'].makes == '.onnx'
    assert by_name['neutone'].stages[-2:] == ('wrap', 'verify') and all(t.stages[-1] == 'verify' for t in views)


def test_flags_are_checked_with_a_sentence(studio, fake_run) -> None:
    project, run, (best, _epoch) = fake_run
    start = studio.exports.start
    with pytest.raises(ExportError, match='integer multiple of the model\'s 44100 Hz'):
        start(project, run, best, 'custom', 'x', {'sr': 48000})
    with pytest.raises(ExportError, match='Fidelity must be between'):
        start(project, run, best, 'custom', 'x', {'fidelity': 1.5})
    with pytest.raises(ExportError, match='without EMA weights'):
        start(project, run, best, 'custom', 'x', {'ema_weights': True})
    with pytest.raises(ExportError, match='not a prior run folder'):
        start(project, run, best, 'custom', 'x', {'prior': run.folder + '/nowhere'})
    with pytest.raises(ExportError, match='takes the model as trained'):
        start(project, run, best, 'onnx', 'x', {'channels': 2})
    with pytest.raises(ExportError, match='No export target called'):
        start(project, run, best, 'betamax', 'x')
    with pytest.raises(ExportError, match='no spaces'):
        start(project, run, best, 'nn~', 'two words')
    assert Export.select().count() == 0 and Job.select().count() == 0


def test_the_choices_say_how_to_get_a_prior(studio, fake_run) -> None:
    project, run, (best, _epoch) = fake_run
    from services.access import local
    models = Models(studio.exports, studio.inference, studio.files, local())
    choices = models.choices(project.id, run.id, best)
    assert choices.sr == 44100 and choices.rates[:2] == (44100, 88200)
    assert choices.priors == () and 'Train a prior' in choices.prior_hint
    prior = Path(run.folder) / 'priors' / 'prior_abc'
    (prior / 'version_0').mkdir(parents=True)
    (prior / 'config.gin').write_text('')
    (prior / 'version_0' / 'best.ckpt').write_bytes(b'x')
    assert models.choices(project.id, run.id, best).priors == (str(prior),)


def test_a_failed_verification_is_kept_with_its_reasons(studio, fake_run) -> None:
    project, run, (best, _epoch) = fake_run
    with_targets(studio, stand_in(TRUNCATED))
    seen: list[ExportChanged] = []
    studio.bus.listen(lambda e: seen.append(e) if isinstance(e, ExportChanged) else None)
    export = studio.exports.start(project, run, best, 'stand-in', 'broken')
    assert export.status == 'running' and export.stage == 'export'

    def ended() -> Export | None:
        row = Export.get_by_id(export.id)
        return row if row.status != 'running' else None
    row = poll_until(ended, 300, studio=studio, message=lambda: studio.jobs.log_tail(Export.get_by_id(export.id)
                                                                                       .job_id))
    assert row.status == 'failed' and row.stage == 'verify'
    assert row.message.startswith('Exported, but the verification failed:') and 'truncated' in row.message
    checks = {c['check']: c for c in row.verdict['checks']}
    assert checks['load']['ok'] is False and 'damaged or truncated' in checks['load']['message']
    assert row.result['warnings'] == ['RAVE said something worth keeping']
    kinds = [j.kind for j in studio.exports.jobs_of(row)]
    assert kinds == ['export', 'verify_export']  # two processes: the verification ran in its own
    assert 'RAVE said something' in studio.jobs.log_tail(studio.exports.jobs_of(row)[0].id)
    assert not (Path(row.path).with_suffix('.guide.md')).exists()  # a guide only for a verified export
    assert {e.status for e in seen if e.export_id == export.id} >= {'running', 'failed'}

    from services.access import local
    view = Models(studio.exports, studio.inference, studio.files, local()).export(export.id)
    assert not view.ready and view.verified == 'failed' and view.checks[0].ok is False
    assert [h.verdict for h in view.hosts] == ['no'] * 4


def test_a_batch_queues_every_checkpoint_for_every_target_and_a_reexport_repeats_the_flags(studio,
                                                                                           fake_run) -> None:
    project, run, checkpoints = fake_run
    failing = stand_in(FAILING)
    other = dataclasses.replace(failing, name='other', title='Another stand-in')
    with_targets(studio, failing, other)
    made = studio.exports.batch(project, run, checkpoints, ['stand-in', 'other'], 'drums', {'fidelity': 0.9})
    assert len(made) == 4 and len({e.path for e in made}) == 4
    assert {e.target for e in made} == {'stand-in', 'other'}
    assert all(e.options['fidelity'] == 0.9 for e in made)
    jobs = [Job.get_by_id(e.job_id) for e in made]
    assert {j.device for j in jobs} == {'export'}  # one line: the batch runs one export at a time
    poll_until(lambda: all(Export.get_by_id(e.id).status != 'running' for e in made), 300, studio=studio)
    for export in made:
        row = Export.get_by_id(export.id)
        assert row.status == 'failed' and row.message == 'Export failed: The stand-in refuses on purpose.'
    with pytest.raises(ExportError, match='at least one checkpoint'):
        studio.exports.batch(project, run, [], ['stand-in'], 'drums')

    first = Export.get_by_id(made[0].id)
    again = studio.exports.reexport(first, target='other')
    assert again.target == 'other' and again.checkpoint == first.checkpoint
    assert again.options['fidelity'] == 0.9 and again.name != first.name
    onto = studio.exports.reexport(first, checkpoint=checkpoints[1])
    assert onto.checkpoint == checkpoints[1] and onto.target == first.target
    poll_until(lambda: all(Export.get_by_id(e.id).status != 'running' for e in (again, onto)), 300, studio=studio)
    studio.exports.delete(Export.get_by_id(onto.id))
    assert Export.get_or_none(Export.id == onto.id) is None


VERDICT = {'status': 'passed', 'checks': [{'check': 'load', 'ok': True, 'message': 'loads'}],
           'hosts': [{'host': 'nn~ (Max/MSP, PureData)', 'verdict': 'caveat', 'message': 'Made with torch 2.14.1'}],
           'facts': {'sr': 44100, 'n_channels': 1, 'latent_size': 16, 'full_latent_size': 128,
                     'compression_ratio': 2048, 'streaming': True, 'size': 1000, 'made_with_torch': '2.14.1',
                     'methods': {'forward': [1, 1, 1, 1]}, 'attributes': ['learn_target'],
                     'latency': [{'buffer': 2048, 'samples': 4096, 'ms': 92.9, 'includes_model_delay': True}]}}


@pytest.mark.parametrize(('target', 'file', 'says'), [
    ('nn~', 'tiny_streaming.ts', ('    nn~ tiny_streaming.ts forward 2048', 'Packages/nn_tilde/models', '92.9 ms')),
    ('vst', 'tiny_streaming.ts', ('Import your custom model', 'listed as `Tiny Streaming`',
                                  '~/Library/Application Support/ACIDS/RAVE/', '%APPDATA%\\ACIDS\\RAVE\\',
                                  'bundles its own libtorch')),
    ('onnx', 'tiny.onnx.json', ('ort.InferenceSession("tiny.encode.onnx")', 'No streaming state')),
    ('neutone', 'model.nm', ('Load your own model', 'Native sample rate 44100 Hz')),
])
def test_the_deployment_guide_says_what_goes_where(studio, fake_run, target: str, file: str, says) -> None:
    from services.models.guide import guide_for, guide_path, write_guide
    from services.models.views import ExportView
    project, run, (best, _epoch) = fake_run
    folder = Path(project.location) / 'exports' / ('tiny' if target == 'neutone' else '')
    folder.mkdir(parents=True, exist_ok=True)
    row = Export.create(project=project, run=run, checkpoint=best, path=str(folder / file), name='tiny',
                        target=target, status='done', stage='done', verdict=VERDICT)
    text = guide_for(ExportView.of(row)).markdown()
    for words in says:
        assert words in text, (words, text)
    assert '**caveat**. Made with torch 2.14.1' in text and 'latent size 16 of 128' in text
    path = write_guide(row)
    assert path == guide_path(row) and path.read_text() == text and path.parent == folder
    assert path.name == ('tiny.guide.md' if target in ('onnx', 'neutone') else 'tiny_streaming.guide.md')


def test_the_fidelity_curve_gives_rave_exports_latent_size() -> None:
    from services.models.checkpoint_facts import CheckpointFacts
    facts = CheckpointFacts((0.5, 0.7, 0.8, 0.9, 0.96, 0.99, 1.0, 1.0), ema=False)
    assert facts.latent_size(0.95) == 4 and facts.latent_size(0.99) == 8 and facts.latent_size(0.4) == 1
    assert facts.full_latent_size == 8 and CheckpointFacts((), False).latent_size(0.95) is None


def test_a_neutone_card_takes_its_examples_from_the_runs_dataset_sources(tmp_path: Path) -> None:
    from services.models import steps
    (tmp_path / 'takes' / 'b').mkdir(parents=True)
    for name in ('b/02.flac', 'b/01.wav', 'notes.txt', 'cover.jpg'):
        (tmp_path / 'takes' / name).write_bytes(b'x')
    single = tmp_path / 'solo.aiff'
    single.write_bytes(b'x')
    assert steps.card_examples([str(tmp_path / 'takes')]) == [str(tmp_path / 'takes/b/01.wav'),
                                                               str(tmp_path / 'takes/b/02.flac')]
    assert steps.card_examples([str(single), str(tmp_path / 'takes'), str(tmp_path / 'gone')]) == \
        [str(single), str(tmp_path / 'takes/b/01.wav')]
    assert steps.card_examples([str(tmp_path / 'gone')]) == []
    step = steps.wrap_step('python', 'm.ts', tmp_path, 'tiny', {'examples': steps.card_examples([str(single)])})
    assert step.argv[step.argv.index('--example') + 1] == str(single)
