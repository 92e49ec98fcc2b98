"""The projects page through the simulated user: wizard, switch, edit, back up, restore, delete."""
from __future__ import annotations

from pathlib import Path

from nicegui import app
from nicegui.testing import User

from services.store import Project


async def test_wizard_creates_a_project_that_becomes_current(user: User) -> None:
    await user.open('/projects')
    user.find(marker='new-project').click()
    await user.should_see('Project name')
    user.find(marker='wizard-name').type('Voices')
    user.find(marker='wizard-next-1').click()
    user.find(marker='wizard-description').type('choir takes')
    user.find(marker='wizard-next-2').click()
    await user.should_see(str(app.studio.projects.default_location('Voices')), retries=20)
    user.find(marker='wizard-next-3').click()
    user.find(marker='wizard-create').click()
    await user.should_see('is now your current project', retries=20)
    project = Project.get(Project.name == 'Voices')
    assert project.description == 'choir takes'
    assert (Path(project.location) / 'datasets').is_dir()
    await user.open('/')
    switcher = user.find(marker='project-switcher').elements.pop()
    assert switcher.value == project.id
    await user.should_see('choir takes')


async def test_wizard_refuses_a_taken_name(user: User) -> None:
    app.studio.projects.create('Taken')
    await user.open('/projects')
    user.find(marker='new-project').click()
    user.find(marker='wizard-name').type('Taken')
    user.find(marker='wizard-next-1').click()
    await user.should_see('A project with this name exists already.')


async def test_switching_projects(user: User) -> None:
    app.studio.projects.create('First')
    second = app.studio.projects.create('Second', 'the other one')
    await user.open('/projects')
    user.find(marker=f'switch-{second.id}').click()
    await user.open('/')
    await user.should_see('the other one', retries=20)
    assert user.find(marker='project-switcher').elements.pop().value == second.id


async def test_edit_name_and_description(user: User) -> None:
    project = app.studio.projects.create('Draft')
    await user.open('/projects')
    user.find(marker=f'edit-{project.id}').click()
    user.find(marker='edit-name').clear().type('Final')
    user.find(marker='edit-description').type('mixed')
    user.find(marker='edit-save').click()
    await user.should_see('Project saved.')
    await user.should_see('Final')
    assert Project.get_by_id(project.id).name == 'Final'


async def test_backup_downloads_a_zip_and_restore_refuses_then_accepts(user: User) -> None:
    project = app.studio.projects.create('Keep')
    (Path(project.location) / 'uploads' / 'take.wav').write_bytes(b'RIFF....WAVE')
    await user.open('/projects')
    user.find(marker=f'backup-{project.id}').click()
    await user.download.next(timeout=30)
    backups = list((app.studio.data_dir / 'backups').glob('Keep-*.zip'))
    assert len(backups) == 1
    assert app.studio.backups.read_manifest(backups[0])['project']['name'] == 'Keep'

    user.find(marker='restore').click()
    user.find(marker='restore-path').type(str(backups[0]))
    user.find(marker='restore-go').click()
    await user.should_see('exists already', retries=40)
    assert user.find(marker='restore-name').elements.pop().value == 'Keep (2)'  # a free name is offered
    user.find(marker='restore-go').click()
    await user.should_see('Restored "Keep (2)"', retries=40)
    restored = Project.get(Project.name == 'Keep (2)')
    assert (Path(restored.location) / 'uploads' / 'take.wav').read_bytes() == b'RIFF....WAVE'


async def test_restore_refuses_a_file_that_is_not_a_backup(user: User) -> None:
    bogus = app.studio.data_dir / 'notes.zip'
    bogus.write_text('hello')
    await user.open('/projects')
    user.find(marker='restore').click()
    user.find(marker='restore-path').type(str(bogus))
    user.find(marker='restore-go').click()
    await user.should_see('is not a zip file', retries=40)
    user.find(marker='restore-path').clear().type('/etc/passwd')
    user.find(marker='restore-go').click()
    await user.should_see('outside the folders this studio may browse')


async def test_delete_dialog_needs_the_name_and_keeps_files(user: User) -> None:
    project = app.studio.projects.create('Gone')
    await user.open('/projects')
    user.find(marker=f'delete-{project.id}').click()
    await user.should_see('Type Gone to confirm')
    await user.should_see('Files are kept')
    go = user.find(marker='delete-go').elements.pop()
    user.find(marker='delete-confirm').type('gone')
    assert not go.enabled
    user.find(marker='delete-confirm').clear().type('Gone')
    assert go.enabled
    user.find(marker='delete-go').click()
    await user.should_see('its files are kept', retries=20)
    assert not Project.get_or_none(Project.id == project.id)
    assert Path(project.location).is_dir()


async def test_delete_can_remove_the_files(user: User) -> None:
    project = app.studio.projects.create('Wipe')
    await user.open('/projects')
    user.find(marker=f'delete-{project.id}').click()
    user.find(marker='delete-files').click()
    await user.should_see('deleted for good')
    user.find(marker='delete-confirm').type('Wipe')
    user.find(marker='delete-go').click()
    await user.should_see('and its files', retries=20)
    assert not Path(project.location).exists()
