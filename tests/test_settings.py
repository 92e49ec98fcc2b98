"""Settings page: every documented setting shown with its hint, saved and shown again, bad input explained."""
from __future__ import annotations

import sys

from nicegui import app
from nicegui.testing import User

from services.settings import DOCS, check_python


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
    assert settings.within_roots(samples / 'a.wav')

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
