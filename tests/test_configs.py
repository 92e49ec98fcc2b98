"""Configs: every shipped gin config checked by the real gin worker (valid, or broken with the reason), the
composition preview's operative values and per-file changes, and custom configs validated before saving."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.training import configs
from services.training.templates import TemplateError

SOX_CONFIGS = ('v2_nopqmf', 'v2_with_augs', 'normalize_ambient', 'compress')


@pytest.fixture(scope='session')
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The real gin verdict on every shipped config (one worker run over the whole catalogue)."""
    status = configs.ConfigStatus(tmp_path_factory.mktemp('gin-cache'), lambda: sys.executable)
    return status.compute()


def torchaudio_has_sox() -> bool:
    code = 'import torchaudio; print(hasattr(torchaudio, "sox_effects"))'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300,
                         check=True)
    return out.stdout.strip().endswith('True')


def line_of(path: str, needle: str) -> int:
    return next(i for i, line in enumerate(Path(path).read_text().splitlines(), 1) if needle in line)


def test_catalogue_lists_every_shipped_gin_file_by_kind() -> None:
    root = configs.rave_folder()
    files = {p.stem for p in (root / 'configs').rglob('*.gin')}
    names = [c.name for c in configs.catalogue()]
    assert sorted(names) == sorted(files) and len(names) == len(set(names))
    kinds = {c.name: c.kind for c in configs.catalogue()}
    augmentations = {p.stem for p in (root / 'configs' / 'augmentations').glob('*.gin')}
    assert {n for n, k in kinds.items() if k == 'augmentation'} == augmentations
    assert kinds['v2_small'] == kinds['v1'] == kinds['discrete'] == 'base'
    assert kinds['causal'] == kinds['snake'] == kinds['hybrid'] == 'addon'
    for c in configs.catalogue():
        assert c.description and c.source == Path(c.path).read_text()


@pytest.mark.slow
def test_every_shipped_config_is_valid_or_broken_with_a_reason(verdicts: dict) -> None:
    assert set(verdicts) == {c.name for c in configs.catalogue()}
    for name, verdict in verdicts.items():
        assert verdict['ok'] or verdict['reason'], name
        assert not verdict['ok'] or not verdict['reason'], name
    for info in configs.of_kind('base'):  # the text reading agrees with what gin builds
        verdict = verdicts[info.name]
        if verdict['ok']:
            assert verdict['compression'] == info.compression, info.name
            assert verdict['macros']['CAPACITY'] == info.values['CAPACITY'], info.name
            assert verdict['parameters'] > 100_000


@pytest.mark.slow
def test_known_broken_configs_are_found_by_gin_not_guessed(verdicts: dict) -> None:
    nopqmf_small = verdicts['v2_nopqmf_small']
    path = configs.find('v2_nopqmf_small').path
    assert not nopqmf_small['ok'] and 'amp_range' in nopqmf_small['reason']
    assert f'line {line_of(path, "amp_range")}' in nopqmf_small['reason']  # the line that caused it
    sox = torchaudio_has_sox()
    for name in SOX_CONFIGS:
        assert verdicts[name]['ok'] == sox, name
        if not sox:
            assert 'sox_effects' in verdicts[name]['reason'], name
    assert verdicts['gain']['ok'] and 'does nothing' in verdicts['gain']['warning']
    assert verdicts['mute']['ok'] and not verdicts['mute']['warning']


@pytest.mark.slow
def test_hybrid_resets_the_base_it_is_added_to(verdicts: dict) -> None:
    v2, small = configs.find('v2').values, configs.find('v2_small').values
    hybrid = verdicts['hybrid']
    assert hybrid['ok'] and hybrid['checked_with'] == ['v2_small', 'hybrid']
    assert hybrid['changed']['CAPACITY'] == [str(small['CAPACITY']), str(v2['CAPACITY'])]
    assert hybrid['changed']['RATIOS'] == [str(small['RATIOS']), str(v2['RATIOS'])]
    assert 'CAPACITY' in hybrid['warning'] and 'RATIOS' in hybrid['warning']
    assert verdicts['causal']['changed'] == {'cc.get_padding.mode': [None, "'causal'"]}


@pytest.mark.slow
def test_composition_preview_shows_operative_values_and_what_each_file_changed() -> None:
    [answer] = configs.check(sys.executable, [{
        'configs': ['v2_small', 'causal', 'snake'],
        'override': ['CAPACITY=32', 'RAVE.update_discriminator_every=3'],
        'channels': 1, 'receptive_field': True}])
    assert answer['ok'], answer.get('error')
    assert [c['config'] for c in answer['changes']] == ['v2_small', 'causal', 'snake', 'overrides']
    assert answer['changes'][1]['changed'] == {'cc.get_padding.mode': [None, "'causal'"]}
    assert any('activation' in k for k in answer['changes'][2]['changed'])
    assert answer['changes'][3]['changed']['CAPACITY'] == ['48', '32']
    assert answer['macros']['CAPACITY'] == 32 and answer['settings']['RAVE.update_discriminator_every'] == 3
    assert answer['compression'] == 16 * 4 * 2 * 2 * 2 and answer['sr'] == 44100
    left, right = answer['receptive_field']
    assert left > 0 and right >= 0
    assert 'CAPACITY = 32' in answer['operative'] or 'capacity = 32' in answer['operative']


@pytest.mark.slow
def test_errors_name_the_override_or_file_line() -> None:
    bad_override, bad_augment = configs.check(sys.executable, [
        {'configs': ['v2_small'], 'override': ['CAPACITY=32', 'RAVE.no_such_parameter=1'], 'model': False},
        {'configs': ['v2_small'], 'augment': ['no_such_augmentation'], 'model': False}])
    assert not bad_override['ok'] and bad_override['stage'] == 'parse'
    assert bad_override['error']['file'] == 'overrides' and bad_override['error']['line'] == 2
    assert 'no_such_parameter' in configs.reason(bad_override) and 'line 2' in configs.reason(bad_override)
    assert not bad_augment['ok'] and 'no_such_augmentation' in configs.reason(bad_augment)


@pytest.mark.slow
def test_custom_configs_are_checked_by_gin_before_they_are_saved(studio) -> None:
    project = studio.projects.current(None)
    text = studio.templates.derive('v2_small').replace('CAPACITY = 48', 'CAPACITY = 24')
    assert 'include "configs/v2_small.gin"' in text
    saved = studio.templates.save_config(project, 'small24', text, 'Half-width v2_small', 'base', 'v2_small')
    assert saved['macros']['CAPACITY'] == 24 and saved['compression'] == 512
    folder = studio.projects.folder(project, 'configs')
    assert (folder / 'small24.gin').read_text() == text
    assert json.loads((folder / 'index.json').read_text())['configs']['small24']['derived_from'] == 'v2_small'

    broken = text + '\nrave.RAVE:\n    no_such_parameter = 1\n'
    with pytest.raises(TemplateError) as e:
        studio.templates.save_config(project, 'broken', broken)
    assert 'no_such_parameter' in str(e.value) and f'line {len(broken.splitlines())}' in str(e.value)
    assert not (folder / 'broken.gin').exists()
    with pytest.raises(TemplateError, match='shipped with RAVE'):
        studio.templates.save_config(project, 'v2', text)
    with pytest.raises(TemplateError, match='exists already'):
        studio.templates.save_config(project, 'small24', text)

    addon = studio.templates.save_config(project, 'slow_dis', 'RAVE.update_discriminator_every = 8\n',
                                         role='addon')
    assert addon['role'] == 'addon'
    [answer] = configs.check(sys.executable, [{'configs': [saved['path'], addon['path']], 'model': False}])
    assert answer['ok'] and answer['settings']['RAVE.update_discriminator_every'] == 8
    assert answer['macros']['CAPACITY'] == 24
    studio.templates.delete_config(project, 'slow_dis')
    assert [c['name'] for c in studio.templates.configs(project)] == ['small24']


def test_templates_are_stored_in_the_project(studio) -> None:
    project = studio.projects.current(None)
    choices = {'base': 'v2', 'addons': ['causal'], 'batch': 4}
    studio.templates.save_template(project, 'causal v2', choices, 'for live use')
    with pytest.raises(TemplateError):
        studio.templates.save_template(project, 'causal v2', choices)
    [template] = studio.templates.templates(project)
    assert template['choices'] == choices and template['description'] == 'for live use'
    index = json.loads((studio.projects.folder(project, 'configs') / 'index.json').read_text())
    assert index['templates']['causal v2']['choices'] == choices


def test_gpu_memory_estimate_scales_from_the_readme_figure() -> None:
    at_defaults = configs.estimate_gpu_memory('v2', 8, 131072, 96, 30_000_000, 96)
    assert at_defaults['gb'] == pytest.approx(configs.README_MIN_GB['v2'], abs=0.1)
    smaller = configs.estimate_gpu_memory('v2', 2, 65536, 96, 30_000_000, 96)
    assert smaller['gb'] < at_defaults['gb'] / 4
    assert 'estimate' in smaller['basis'] and 'README' in smaller['basis']
    assert configs.estimate_gpu_memory('hybrid_custom', 8, 131072, 96, None, 96) is None


@pytest.mark.slow
def test_the_ui_side_never_imports_rave_or_torch() -> None:
    code = ('import sys; import services.training.configs, services.training.templates, '
            'pages.training.configs, pages.training.wizard; print(sorted(m for m in sys.modules if '
            'm.split(".")[0] in ("torch", "torchaudio", "rave", "gin", "pytorch_lightning", "scripts")))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300,
                         check=False,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == '[]'
