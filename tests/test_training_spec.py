"""The one run specification: gin literals (never code), the `rave train` flags and command, diff, storage,
and the runs and templates older studios stored."""
from __future__ import annotations

import json

import pytest

from services.training.model_values import GinValueError, gin_literal, model_values
from services.training.spec import RunSpec, TrainingData

DATA = TrainingData(1, 'tones', '/data/tones', sr=44100, channels=1, n_examples=12, num_signal=65536)


@pytest.mark.parametrize('text, gin', [('44100', '44100'), ('[4, 2, 2, 2]', '[4, 2, 2, 2]'), ('-3', '-3'),
                                       ('1e-6', '1e-06'), ('True', 'True'), ('None', 'None'),
                                       ('"causal"', "'causal'"),
                                       ('(1,)', '(1,)'), (' 0.5 ', '0.5'), (32, '32'), ([4, 4], '[4, 4]')])
def test_model_values_are_gin_literals(text, gin) -> None:
    assert gin_literal(text) == gin


@pytest.mark.parametrize('text, why', [
    ('32\nimport os', 'line break'), ('@os.popen()', 'gin reference'), ('[@foo(), 1]', 'gin reference'),
    ('%CAPACITY', 'macro reference'), ('os.system', 'not a gin value'), ('nan', 'not a gin value'),
    ('{"a": 1}', 'not a gin value'), ('', 'give a value'), ('1 + 1', 'not a gin value')])
def test_anything_that_could_run_or_bind_is_refused_with_a_sentence(text, why) -> None:
    with pytest.raises(GinValueError, match=why):
        gin_literal(text)


def test_a_value_cannot_smuggle_a_second_gin_statement() -> None:
    spec = RunSpec(name='x', macros={'CAPACITY': '32\nrave.RAVE.encoder = @os.system()'})
    assert [e for e in spec.value_errors() if e.startswith('Capacity: a value is one line')]
    with pytest.raises(GinValueError):
        spec.overrides()
    unknown = RunSpec(name='x', macros={'import os\nX': 1})
    assert 'not one of the model values' in unknown.value_errors()[0]
    with pytest.raises(GinValueError):
        unknown.flags('/db', '/out')
    ratios = RunSpec(name='x', macros={'RATIOS': '[4, 0]'})
    assert ratios.value_errors() == ['Ratios must be a list of whole numbers, e.g. [4, 2, 2, 2].']


def test_flags_and_command_are_rave_trains() -> None:
    spec = RunSpec(dataset=1, name='n', addons=('causal',), augment=('mute',), macros={'CAPACITY': 32},
                   bindings=('RAVE.valid_signal_crop = True',), max_steps=10, val_every=5, n_signal=65536,
                   batch=2,
                   devices=('gpu:0', 'gpu:1'), save_every=100, ema=0.999, lr=0.0005)
    flags = spec.flags('/db', '/out', {'causal': '/p/configs/causal.gin'})
    assert flags[:6] == ['--config', 'v2_small', '--config', '/p/configs/causal.gin', '--augment', 'mute']
    assert ' '.join(flags).count('--gpu') == 2 and '--gpu 0 --gpu 1' in ' '.join(flags)
    assert flags[-8:] == ['--save_every', '100', '--ema', '0.999', '--override', 'CAPACITY=32',
                          '--override', 'RAVE.valid_signal_crop = True']
    command = spec.command('/db', '/out')
    assert command.startswith('RAVE_STUDIO_LR=0.0005 rave train --config v2_small --config causal --augment '
                              'mute')
    assert "'--override' " not in command and "'RAVE.valid_signal_crop = True'" in command
    assert spec.has_code and not spec.replace(bindings=()).has_code
    assert RunSpec(lr=0.001, lr_dis=0.0001).env() == {}  # RAVE's own rates are no change


def test_validation_needs_no_database() -> None:
    assert RunSpec(dataset=1, name='fine', n_signal=65536, batch=2).validate(DATA, gpus=[]) == []
    errors = ' '.join(RunSpec(dataset=1, name='bad name', base='v9', addons=('nope',), augment=('causal',),
                              n_signal=65536, batch=2, devices=('gpu:3',), lr=2.0).validate(DATA, gpus=[0]))
    for part in ('letters, digits', 'Unknown base config "v9"', 'Unknown add-on "nope"',
                 'Unknown augmentation "causal"', 'GPU 3 is not available', 'learning rate'):
        assert part in errors
    assert 'exists already' in ' '.join(RunSpec(dataset=1, name='a', n_signal=65536, batch=2).validate(
        DATA, taken={'a'}))
    assert 'Choose a dataset' in ' '.join(RunSpec(name='a').validate(None))


def test_a_path_to_some_gin_file_is_not_a_config() -> None:
    spec = RunSpec(dataset=1, name='x', base='/home/someone/uploads/evil.gin', n_signal=65536, batch=2)
    assert 'Unknown base config' in ' '.join(spec.config_errors({}))


def test_storage_round_trip_and_diff() -> None:
    spec = RunSpec(dataset=1, name='x', addons=('causal',), macros={'RATIOS': '[4, 2, 2, 2]'},
                   bindings=('A=1',),
                   devices=('gpu:0',), recover=2)
    stored = json.loads(json.dumps(spec.to_dict()))
    assert RunSpec.from_dict(stored) == spec
    other = spec.replace(batch=4, addons=())
    assert spec.diff(other, {1: 'tones'}) == [('Configs', 'v2_small + causal', 'v2_small'),
                                              ('Batch', '8', '4')]
    assert spec.summary({1: 'tones'})['dataset'] == 'tones'


def test_older_templates_and_runs_are_read() -> None:
    choices = {'dataset': 3, 'base': 'v2', 'addons': ['causal'], 'augment': [], 'macros': {'CAPACITY': '64'},
               'extra': 'RAVE.a = 1\n\nRAVE.b = 2', 'max_steps': 1000, 'val_every': 100, 'save_every': None,
               'n_signal': 131072, 'batch': 4, 'channels': 1, 'workers': 0, 'lr': 0.001, 'lr_dis': 0.0001,
               'ema': None, 'devices': ['cpu']}
    spec = RunSpec.from_dict(choices)
    assert spec.base == 'v2' and spec.addons == ('causal',) and spec.bindings == ('RAVE.a = 1', 'RAVE.b = 2')
    assert spec.lr is None and spec.devices == ('cpu',) and spec.macros == {'CAPACITY': '64'}
    params = {'max_steps': 500, 'val_every': 50, 'n_signal': 65536, 'batch': 2, 'channels': 1,
              'device': 'gpu:0',
              'workers': 0, 'overrides': ['CAPACITY=32', 'RAVE.encoder = @my.module()'], 'lr': 0.0005,
              'recover': 3, 'save_every': None, 'ema': None, 'flags': [], 'jobs': [1]}
    old = RunSpec.of_run(['/p/configs/small24.gin', 'causal'], params, 7, 'old')
    assert (old.base, old.addons, old.dataset, old.name) == ('small24', ('causal',), 7, 'old')
    assert old.macros == {'CAPACITY': 32} and old.bindings == ('RAVE.encoder = @my.module()',)
    assert (old.max_steps, old.devices, old.lr, old.recover) == (500, ('gpu:0',), 0.0005, 3)


def test_model_values_keep_only_what_changed() -> None:
    defaults = {'CAPACITY': 48, 'RATIOS': [4, 2, 2, 2], 'SAMPLING_RATE': 44100}
    entered = {'CAPACITY': '48', 'RATIOS': '[4, 4, 2, 2]', 'SAMPLING_RATE': 44100, 'LATENT_SIZE': ''}
    assert model_values(entered, defaults) == {'RATIOS': '[4, 4, 2, 2]'}
