"""The audit log: every state-changing facade action recorded once it has happened, with its outcome (done, failed
with its sentence, refused), by the one mechanism every facade call passes (services/access.py's acts)."""
from __future__ import annotations

import datetime as dt

import pytest
from nicegui.testing import User

from services import users
from services.access import Actor, Forbidden, local
from services.lab import SharingError
from services.session import Session
from services.store import AuditEntry, Run


def test_state_changing_actions_are_recorded_with_their_object_and_reads_are_not(studio) -> None:
    users.create('ann', 'password!')
    users.create('bob', 'password!')
    ann = studio.session(Actor('ann', shared=True), None)
    project = ann.projects.create('Drums')
    run = Run.create(project=project.id, name='r').id
    assert AuditEntry.get(AuditEntry.action == 'Projects.create').user == 'ann'
    AuditEntry.delete().execute()
    ann.projects.summary(project.id)
    ann.training.runs(project.id)
    assert not AuditEntry.select().exists()  # reading is not logged
    ann.experiments.set_notes(run, 'kick is muddy')
    ann.sharing.set_visibility(project.id, 'private')
    bob = studio.session(Actor('bob', shared=True), None)
    with pytest.raises(Forbidden):
        bob.experiments.set_notes(run, 'vandalism')
    entries = studio.session(local(), None).audit.entries()
    notes = [e for e in entries if e.action == 'Experiments.set_notes']
    assert [(e.user, e.object, e.outcome, e.right) for e in notes] == [
        ('bob', f'run {run}', 'refused', 'edit'), ('ann', f'run {run}', 'done', 'edit')]  # newest first
    assert notes[0].project_id == project.id
    shared = [e for e in entries if e.action == 'ProjectSharing.set_visibility']
    assert [(e.before, e.after) for e in shared] == [('edit', 'private')]  # one action, one entry
    studio.session(Actor('bob', shared=True), None).projects.current(None)  # he sees none: one is made for him
    made = AuditEntry.select().where(AuditEntry.user == 'bob').order_by(AuditEntry.id.desc()).first()
    assert (made.action, made.outcome) == ('Projects.create', 'done')  # named by what it did, not Projects.current


def test_an_entry_says_how_the_action_ended_done_failed_or_refused_once_each(studio) -> None:
    for name in ('ann', 'bob'):
        users.create(name, 'password!')
    ann = studio.session(Actor('ann', shared=True), None)
    project = ann.projects.create('Drums')
    ann.sharing.set_visibility(project.id, 'read')
    AuditEntry.delete().execute()
    with pytest.raises(SharingError):
        ann.sharing.set_role(project.id, 'nobody', 'edit')  # allowed, then it could not be done
    with pytest.raises(Forbidden):
        studio.session(Actor('bob', shared=True), None).projects.update(project.id, 'Mine now', '')
    ann.projects.update(project.id, 'Drum loops', 'kicks')  # reads itself back: still one entry
    entries = studio.session(local(), None).audit.entries()
    assert [(e.user, e.action, e.outcome, e.message) for e in entries] == [
        ('ann', 'Projects.update', 'done', ''),
        ('bob', 'Projects.update', 'refused', 'You may not manage this project.'),
        ('ann', 'ProjectSharing.set_role', 'failed', 'There is no account named nobody.')]
    assert (entries[0].before, entries[0].after) == ({'name': 'Drums', 'description': ''},
                                                     {'name': 'Drum loops', 'description': 'kicks'})
    assert entries[1].before is None and entries[2].object == f'project {project.id}, nobody'
    assert [e.outcome for e in studio.session(local(), None).audit.entries(outcome='failed')] == ['failed']
    with pytest.raises(Forbidden):
        studio.session(Actor('bob', shared=True), None).audit.entries()  # reading the log: only a refusal counts
    assert [(e.user, e.action, e.outcome) for e in studio.session(local(), None).audit.entries()][:2] == [
        ('bob', 'AuditLog.entries', 'refused'), ('ann', 'Projects.update', 'done')]


def test_an_entry_is_written_after_the_action_not_before(studio, monkeypatch) -> None:
    from services.projects import ProjectService
    project = studio.session(local(), None).projects.create('Drums')
    seen = []
    update = ProjectService.update
    monkeypatch.setattr(ProjectService, 'update', lambda *a: seen.append(AuditEntry.select().count()) or update(*a))
    AuditEntry.delete().execute()
    studio.session(local(), None).projects.update(project.id, 'Later', '')
    assert seen == [0] and AuditEntry.select().count() == 1  # nothing said "done" while it was still going


def test_settings_record_what_they_changed(studio) -> None:
    import dataclasses
    settings = studio.session(local(), None).settings
    settings.save(dataclasses.replace(settings.values(), max_upload_mb=7))
    entry = studio.session(local(), None).audit.entries(action='Settings.save')[0]
    assert entry.outcome == 'done' and entry.after == {'max_upload_mb': 7}
    assert entry.before['max_upload_mb'] != 7


def test_every_facade_of_a_session_is_audited() -> None:
    """A facade class that forgot `@access.acts` would change things without a trace in the log."""
    plain = {'actor', 'events', 'files', 'system'}  # who acts, events, the file policy, the monitor (reads only)
    facades = {name: kind for name, kind in Session.types().items() if name not in plain}
    assert len(facades) > 15
    assert [name for name, kind in facades.items() if not getattr(kind, '__acts__', False)] == []


def test_the_log_filters_by_user_action_object_and_date(studio) -> None:
    AuditEntry.create(time=dt.datetime(2026, 1, 5, 10), user='ann', action='Training.stop', object='run 3')
    AuditEntry.create(time=dt.datetime(2026, 2, 5, 10), user='bob', action='Datasets.delete', object='dataset 4')
    AuditEntry.create(time=dt.datetime(2026, 3, 5, 10), user='ann', action='Datasets.delete', object='dataset 9')
    log = studio.session(local(), None).audit

    def actions(**filters) -> list[str]:
        return [f'{e.user} {e.object}' for e in log.entries(**filters)]

    assert actions(user='ann') == ['ann dataset 9', 'ann run 3']
    assert actions(action='delete') == ['ann dataset 9', 'bob dataset 4']
    assert actions(object_='run 3') == ['ann run 3']
    assert actions(since=dt.date(2026, 2, 1), until=dt.date(2026, 2, 28)) == ['bob dataset 4']
    with pytest.raises(Forbidden):
        studio.session(Actor('ann', shared=True), None).audit.entries()


async def test_admins_read_and_filter_the_log_on_its_page(user: User) -> None:
    AuditEntry.create(time=dt.datetime(2026, 1, 5, 10), user='ann', action='Training.stop', object='run 3')
    AuditEntry.create(time=dt.datetime(2026, 2, 5, 10), user='bob', action='Datasets.delete', object='dataset 4',
                      before={'tags': ['a']}, after=None)
    await user.open('/audit')
    await user.should_see('Audit log')
    table = user.find(marker='audit-table').elements.pop()
    assert {r['user'] for r in table.rows} >= {'ann', 'bob'}
    user.find(marker='audit-user').type('bob')
    assert {r['user'] for r in table.rows} == {'bob'}
    assert table.rows[0]['change'] == '{"tags": ["a"]} → —'
    user.find(marker='audit-since').type('yesterday')
    await user.should_see('A date is YYYY-MM-DD')
