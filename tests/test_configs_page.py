"""The config catalogue page through NiceGUI's simulated user: verdicts from the real gin worker, key
values, add-on changes, source, a custom config checked before saving, and editing kept to admins on a
shared studio."""
from __future__ import annotations

from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User
from waiting import see, texts

from app import auth
from services.training import configs

pytestmark = pytest.mark.slow


async def test_catalogue_shows_verdicts_values_changes_and_source(user: User, gin_cache) -> None:
    await user.open('/training')
    user.find(marker='configs').click()
    await user.should_see('Base configs')
    await user.should_see(marker='config-v2_small')
    assert 'Small v2' in texts(user, 'config-detail') and '512×' in texts(user, 'values')
    assert 'Parses and builds a model' in texts(user, 'verdict')
    user.find(marker='config-hybrid').click()
    await user.should_see('What it changes on v2_small')
    assert 'also resets the base' in texts(user, 'verdict')
    assert 'include "configs/v2.gin"' in user.find(marker='source').elements.pop().content
    user.find(marker='config-v2_nopqmf_small').click()
    await user.should_see('Broken: gin cannot parse it')
    assert 'amp_range' in texts(user, 'verdict')
    user.find(marker='config-gain').click()
    await user.should_see('does nothing')


async def test_custom_config_is_checked_then_listed(user: User, gin_cache) -> None:
    await user.open('/training/configs')
    user.find(marker='config-v2_small').click()
    user.find(marker='derive').click()
    await user.should_see('New config from v2_small')
    editor = user.find(marker='config-text').elements.pop()
    editor.set_value(editor.value + '\nrave.RAVE:\n    not_a_parameter = 3\n')
    user.find(marker='config-save').click()
    # asked once, before gin reads it
    await user.should_see('Checking this config runs its Python on this machine')
    user.find(marker='code-yes').click()
    await see(user, 'Not saved')
    message = texts(user, 'config-message')
    assert 'not_a_parameter' in message and 'your config line' in message
    fixed = editor.value.replace('rave.RAVE:\n    not_a_parameter = 3\n', '')
    editor.set_value(fixed.replace('CAPACITY = 48', 'CAPACITY = 40'))
    user.find(marker='config-save').click()
    await see(user, 'This project\'s configs')
    project = app.studio.projects.current(None)
    [saved] = app.studio.templates.configs(project)
    assert saved['name'] == 'v2_small_custom' and saved['macros']['CAPACITY'] == 40
    assert Path(saved['path']).read_text() == editor.value
    await user.should_see('Derived from v2_small.')


async def test_only_admins_edit_configs_on_a_shared_studio(user: User, gin_cache,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    await user.open('/training/configs')
    await user.should_see(marker='new-config')
    session = user.client.request.session['id']
    monkeypatch.setitem(auth._state, 'shared', True)  # as a signed-in non-admin on --share
    app.storage._users[session].update(user='guest', admin=False)
    await user.open('/training/configs')
    await user.should_see('Base configs')
    await user.should_not_see(marker='new-config')
    await user.should_not_see(marker='derive')
    assert configs.find('v2_small')
