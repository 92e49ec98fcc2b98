"""Version history of edited things (run notes, templates, custom gin configs): every save, diff, restore."""
from __future__ import annotations

import pytest
from nicegui.testing import User

from services import users
from services.access import Actor, Forbidden, local
from services.lab.history import HistoryError
from services.store import Run, Version
from services.training.spec import RunSpec


def test_every_save_of_notes_is_kept_diffed_and_restored(studio) -> None:
    users.create('ann', 'password!')
    users.create('bob', 'password!')
    ann = studio.session(Actor('ann', shared=True), None)
    project = ann.projects.create('Notes')
    run = Run.create(project=project.id, name='r')
    ann.experiments.set_notes(run.id, 'line one\nline two')
    ann.experiments.set_notes(run.id, 'line one\nline two')  # unchanged: no new version
    bob = studio.session(Actor('bob', shared=True), None)
    bob.experiments.set_notes(run.id, 'line one\nline 2, better\nline three')
    versions = ann.history.versions(project.id, 'notes', run.id)
    assert [(v.author, v.current) for v in versions] == [('bob', True), ('ann', False)]
    diff = ann.history.diff(versions[1].id, versions[0].id)
    assert '-line two' in diff and '+line 2, better' in diff and '+line three' in diff and ' line one' in diff
    assert diff[0].startswith('---') and 'ann' in diff[0] and 'bob' in diff[1]
    ann.history.restore(versions[1].id)
    assert Run.get_by_id(run.id).notes == 'line one\nline two'
    newest = ann.history.versions(project.id, 'notes', run.id)
    assert len(newest) == 3 and newest[0].author == 'ann'  # a restore is a save: the newest version
    assert ann.history.names(project.id)['notes'] == [str(run.id)]
    ann.sharing.set_visibility(project.id, 'read')
    with pytest.raises(Forbidden):  # a reader sees the history but may not restore
        bob.history.restore(versions[0].id)
    assert bob.history.text(versions[0].id).endswith('line three')


def test_templates_and_gin_configs_keep_their_versions(studio, monkeypatch) -> None:
    admin = studio.session(local(), None)
    project = admin.projects.create('Templates')
    admin.training.save_template(project.id, 'small', RunSpec(name='x', max_steps=100))
    admin.training.save_template(project.id, 'small', RunSpec(name='x', max_steps=500),
                                 replace=True)
    versions = admin.history.versions(project.id, 'template', 'small')
    assert len(versions) == 2
    diff = '\n'.join(admin.history.diff(versions[1].id, versions[0].id))
    assert '"max_steps": 100' in diff and '"max_steps": 500' in diff
    admin.history.restore(versions[1].id)
    assert admin.training.templates(project.id)[0].spec.max_steps == 100
    monkeypatch.setattr(studio.templates, 'validate_config', lambda *a, **k: {'ok': True})  # gin is checked elsewhere
    admin.training.save_config(project.id, 'mine', 'a = 1\n', code_confirmed=True)
    admin.training.save_config(project.id, 'mine', 'a = 2\n', replace=True, code_confirmed=True)
    first, = [v for v in admin.history.versions(project.id, 'config', 'mine') if not v.current]
    admin.history.restore(first.id, code_confirmed=True)
    entry = admin.training.custom_configs(project.id)[0]
    assert open(entry.path).read() == 'a = 1\n'
    with pytest.raises(HistoryError, match='same thing'):
        admin.history.diff(first.id, versions[0].id)
    Version.delete().where(Version.id == first.id).execute()
    with pytest.raises(HistoryError, match='no longer exists'):
        admin.history.text(first.id)


async def test_the_history_page_shows_a_diff_and_restores(user: User) -> None:
    from nicegui import app
    facades = app.studio.session(local(), None)
    project = facades.projects.create('Paged')
    run = Run.create(project=project.id, name='noted')
    facades.experiments.set_notes(run.id, 'old words')
    facades.experiments.set_notes(run.id, 'new words')
    await user.open('/projects')
    app.storage.user['project'] = project.id
    await user.open(f'/history?kind=notes&name={run.id}')
    await user.should_see('new words')
    await user.should_see('-old words')
    older = facades.history.versions(project.id, 'notes', run.id)[1]
    user.find(marker=f'restore-{older.id}').click()
    await user.should_see('Restore this version?')
    user.find(marker='restore-yes').click()
    await user.should_see('Restored')
    assert Run.get_by_id(run.id).notes == 'old words'
