"""Settings page: every documented setting shown with its hint, saved and shown again, bad input explained."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User

from services.access import Actor, Forbidden, local
from services.settings import DOCS, SettingsView, check_python


async def test_every_setting_appears_with_its_hint(user: User) -> None:
    await user.open('/settings')
    for doc in DOCS:
        assert user.find(marker=f'setting-{doc.key}').elements, doc.key
        await user.should_see(doc.hint)
    await user.should_see(str(app.studio.data_dir))
    await user.should_see('--data-dir')


async def test_settings_are_saved_and_shown_after_reload(user: User, tmp_path) -> None:
    samples = tmp_path / 'samples'
    samples.mkdir()
    await user.open('/settings')
    user.find(marker='new-root').type(str(samples))
    user.find(marker='add-root').click()
    await user.should_see(str(samples.resolve()))
    user.find(marker='setting-parallel_preprocess').elements.pop().set_value(3)
    user.find(marker='setting-max_upload_mb').elements.pop().set_value(64)
    user.find(marker='setting-python').type(sys.executable)  # the studio's own venv has acids-rave
    user.find(marker='save-settings').click()
    await user.should_see('Settings saved.', retries=100)
    settings = app.studio.settings
    assert settings.get('browse_roots') == [str(samples.resolve())]
    assert (settings.get('parallel_preprocess'), settings.get('max_upload_mb')) == (3, 64)
    assert settings.get('python') == sys.executable
    assert app.studio.jobs.limits['preprocess'] == 3
    assert app.studio.files.within_roots(samples / 'a.wav')

    await user.open('/settings')
    await user.should_see(str(samples.resolve()))
    assert user.find(marker='setting-max_upload_mb').elements.pop().value == 64
    assert user.find(marker='setting-python').elements.pop().value == sys.executable


async def test_a_missing_folder_cannot_be_added(user: User, tmp_path) -> None:
    await user.open('/settings')
    user.find(marker='new-root').type(str(tmp_path / 'nowhere'))
    user.find(marker='add-root').click()
    await user.should_see('is not an existing folder')
    assert app.studio.settings.get('browse_roots') == []


async def test_an_invalid_python_gives_a_clear_message(user: User, tmp_path) -> None:
    await user.open('/settings')
    user.find(marker='setting-python').type(str(tmp_path / 'no-python'))
    user.find(marker='save-settings').click()
    await user.should_see('does not exist', retries=50)
    await user.should_see('Not saved')
    assert app.studio.settings.get('python') == ''


async def test_a_python_without_rave_is_refused(user: User) -> None:
    system_python = '/usr/bin/python3'
    assert check_python(system_python)  # the Debian interpreter has no acids-rave
    await user.open('/settings')
    user.find(marker='setting-python').type(system_python)
    user.find(marker='save-settings').click()
    await user.should_see('has no acids-rave installed', retries=100)
    assert app.studio.settings.get('python') == ''


async def test_default_device_offers_the_cpu(user: User) -> None:
    await user.open('/settings')
    select = user.find(marker='setting-default_device').elements.pop()
    assert select.value == 'cpu' and 'cpu' in select.options


def test_the_settings_view_holds_every_documented_setting() -> None:
    assert [f.name for f in dataclasses.fields(SettingsView)] == [d.key for d in DOCS]


def test_only_an_admin_changes_settings_and_the_engine_follows(studio) -> None:
    member = studio.session(Actor('member', shared=True), None).settings
    admin = studio.session(local(), None).settings
    assert admin.may_change and not member.may_change
    values = admin.values()
    with pytest.raises(Forbidden, match='change the studio settings'):
        member.save(dataclasses.replace(values, parallel_preprocess=4))
    assert studio.jobs.limits['preprocess'] == 1
    admin.save(dataclasses.replace(values, parallel_preprocess=4))
    assert studio.settings.get('parallel_preprocess') == 4 and studio.jobs.limits['preprocess'] == 4


def test_the_home_folder_is_browsable_on_a_local_studio_only(studio) -> None:
    assert studio.settings.get('browse_home') is True
    assert Path.home().resolve() in studio.files.roots()
    from services.files import FilePolicy
    assert Path.home().resolve() not in FilePolicy(studio.data_dir, studio.settings, shared=True).roots()
    admin = studio.session(local(), None).settings
    admin.save(dataclasses.replace(admin.values(), browse_home=False))
    assert Path.home().resolve() not in studio.files.roots()
