"""The audit log: every state-changing facade action recorded at the one place they all pass (`require`)."""
from __future__ import annotations

import datetime as dt

import pytest
from nicegui.testing import User

from services import users
from services.access import Actor, Forbidden, local
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
        ('bob', f'run {run}', 'refused', 'edit'), ('ann', f'run {run}', 'allowed', 'edit')]  # newest first
    assert notes[0].project_id == project.id
    shared = [e for e in entries if e.action == 'ProjectSharing.set_visibility']
    assert [(e.before, e.after) for e in shared] == [('edit', 'private')]  # one action, one entry


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
