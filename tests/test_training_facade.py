"""The Training facade: who may do what (gin is code), read-only views of runs, checkpoints and metrics,
and runs stored by older studios read through it. No RAVE process runs here."""
from __future__ import annotations

import dataclasses
import json
import time

import pytest

from services import access
from services.access import Actor, Forbidden, local
from services.events import Bus
from services.store import Checkpoint, Dataset, Job, Run
from services.training import CodeNotConfirmed, RunSpec, TrainingError

GUEST = Actor('guest', admin=False, shared=True)
ADMIN = Actor('boss', admin=True, shared=True)
BINDINGS = ('rave.RAVE.encoder = @os.system()',)


def facade(studio, actor: Actor = None):
    return studio.session(actor or local(), Bus()).training


def fake_dataset(studio) -> Dataset:
    """A ready dataset row (nothing here trains on it)."""
    return Dataset.create(project=studio.projects.current(None), name='tones',
                          path=str(studio.data_dir / 'db'),
                          status='ready', sr=44100, channels=1, n_examples=12, n_seconds=36.0,
                          params={'num_signal': 65536})


def test_gin_code_needs_the_right_and_a_confirmation(studio) -> None:
    project = studio.projects.current(None)
    dataset = fake_dataset(studio)
    spec = RunSpec(dataset=dataset.id, name='code', n_signal=65536, batch=2, bindings=BINDINGS)
    with pytest.raises(Forbidden, match='edit gin code'):
        facade(studio, GUEST).start(project.id, spec, code_confirmed=True)
    with pytest.raises(Forbidden, match='edit gin code'):
        facade(studio, GUEST).save_config(project.id, 'mine', 'import os\n', code_confirmed=True)
    with pytest.raises(Forbidden):
        facade(studio, GUEST).delete_config(project.id, 'mine')
    assert not facade(studio, GUEST).may_edit_code(project.id) and facade(studio).may_edit_code(project.id)
    for actor in (local(), ADMIN):  # allowed, but only once the user said yes
        with pytest.raises(CodeNotConfirmed, match='runs Python'):
            facade(studio, actor).start(project.id, spec)
        with pytest.raises(CodeNotConfirmed):
            facade(studio, actor).save_config(project.id, 'mine', 'import os\n')
        with pytest.raises(CodeNotConfirmed):
            facade(studio, actor).check(project.id, spec, with_overrides=True)
    with pytest.raises(TrainingError):  # past the code gate: the spec's own problems stop it here
        facade(studio).start(project.id, spec.replace(n_signal=1000), code_confirmed=True)
    assert not Run.select().count() and not Job.select().count()
    plain = spec.replace(bindings=(), macros={'CAPACITY': 32})
    with pytest.raises(TrainingError):  # model values are not code: no confirmation asked
        facade(studio, GUEST).start(project.id, plain.replace(n_signal=1000))


def test_a_newline_or_reference_in_a_model_value_never_reaches_gin(studio) -> None:
    project = studio.projects.current(None)
    dataset = fake_dataset(studio)
    training = facade(studio, GUEST)
    for value in ('32\nimport os', '@os.system()'):
        spec = RunSpec(dataset=dataset.id, name='sneaky', n_signal=65536, batch=2, macros={'CAPACITY': value})
        assert any(e.startswith('Capacity:') for e in training.validate(project.id, spec))
        with pytest.raises(TrainingError, match='Capacity'):
            training.check(project.id, spec, with_overrides=True)  # refused before the gin worker starts
        with pytest.raises(TrainingError, match='Capacity'):
            training.start(project.id, spec)
    evil = RunSpec(dataset=dataset.id, name='x', base=str(studio.data_dir / 'evil.gin'))
    with pytest.raises(TrainingError, match='Unknown base config'):
        training.check(project.id, evil)


def test_runs_are_read_only_views_also_of_older_runs(studio, tmp_path) -> None:
    project = studio.projects.current(None)
    dataset = fake_dataset(studio)
    job_dir = tmp_path / 'job'
    job_dir.mkdir()
    (job_dir / 'metrics.jsonl').write_text('\n'.join(json.dumps(line) for line in [
        {'step': 1, 't': time.time(), 'loss': 2.0}, {'step': 2, 't': time.time(), 'loss': 1.5},
        {'step': 2, 'event': 'validation', 'validation': 0.75}]) + '\n')
    job = Job.create(project=project, kind='train', title='Train old', argv=[], folder=str(job_dir),
                     status='done')
    folder = tmp_path / 'old_0123456789'
    (folder / 'version_0' / 'checkpoints').mkdir(parents=True)
    ckpt = folder / 'version_0' / 'checkpoints' / 'best.ckpt'
    ckpt.write_bytes(b'x' * 1000)
    run = Run.create(project=project, dataset=dataset, name='old', folder=str(folder),
                     configs=['v2_small', 'causal'],
                     status='done', step=2, job=job,
                     params={'jobs': [job.id], 'max_steps': 2, 'val_every': 2, 'n_signal': 65536, 'batch': 2,
                             'channels': 1, 'device': 'cpu', 'overrides': ['CAPACITY=32'], 'recover': 1})
    Checkpoint.create(run=run, path=str(ckpt), kind='best', step=2)
    training = facade(studio)
    [view] = training.runs(project.id)
    assert (view.name, view.configs, view.max_steps, view.dataset_name) == ('old', ('v2_small', 'causal'),
                                                                            2, 'tones')
    assert view.spec.macros == {'CAPACITY': 32} and view.spec.recover == 1 and view.spec.addons == ('causal',)
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.status = 'running'
    assert training.run(run.id, project_id=project.id + 1) is None
    [checkpoint] = training.checkpoints(run.id)
    assert (checkpoint.kind, checkpoint.step, checkpoint.validation, checkpoint.size) == ('best', 2, 0.75,
                                                                                          1000)
    assert checkpoint.where == 'version_0/checkpoints/best.ckpt'
    series = training.metrics(run.id)
    assert series.step == 2 and series.latest('loss') == 1.5 and list(series.traces['loss'].steps) == [1, 2]
    with pytest.raises(ValueError):
        series.traces['loss'].values[0] = 0.0  # a snapshot: its arrays are read-only


def test_every_method_checks_the_actor(studio, monkeypatch: pytest.MonkeyPatch) -> None:
    project = studio.projects.current(None)
    run = Run.create(project=project, name='theirs', configs=['v2_small'], status='done',
                     params={'max_steps': 1})
    monkeypatch.setattr(access, '_project_roles', lambda actor, project_id: access.Role.NONE)
    outsider = facade(studio, Actor('nobody', shared=True))
    for call in (lambda: outsider.runs(project.id), lambda: outsider.run(run.id),
                 lambda: outsider.metrics(run.id),
                 lambda: outsider.set_recovery(run.id, 3), lambda: outsider.resume(run.id),
                 lambda: outsider.templates(project.id), lambda: outsider.log_folders(project.id)):
        with pytest.raises(Forbidden):
            call()


def test_templates_keep_the_spec_without_its_name(studio) -> None:
    project = studio.projects.current(None)
    training = facade(studio)
    spec = RunSpec(dataset=1, name='mine', description='try', addons=('causal',), batch=4)
    saved = training.save_template(project.id, 'causal4', spec)
    assert saved.spec == spec.replace(name='', description='')
    assert [t.name for t in training.templates(project.id)] == ['causal4']


def test_the_indexer_keeps_one_row_per_checkpoint_file(studio, tmp_path) -> None:
    from services.training import checkpoints
    project = studio.projects.current(None)
    folder = tmp_path / 'run_0123456789'
    (folder / 'version_0' / 'checkpoints').mkdir(parents=True)
    ckpt = folder / 'version_0' / 'checkpoints' / 'stop-step=7.ckpt'
    ckpt.write_bytes(b'not a zip')
    run = Run.create(project=project, name='r', folder=str(folder), configs=['v2_small'], params={})
    Checkpoint.create(run=run,
                      path=str(folder / 'version_0' / '..' / 'version_0' / 'checkpoints' / ckpt.name),
                      kind='stop', step=7)  # how an older studio could have kept it
    [row] = checkpoints.index(run)
    assert row.path == str(ckpt.resolve()) and row.step == 7 and row.kind == 'stop'
