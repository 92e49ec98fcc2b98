"""Roles per project: each role against each facade action, through the real facades over a real store."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from nicegui.testing import User as UserClient

from services import users
from services.access import Actor, Forbidden, local
from services.store import Dataset, Export, Job, Membership, Project, Run, Sharing

ROLES = ('none', 'read', 'edit', 'manage', 'admin', 'local')
RANK = {name: n for n, name in enumerate(ROLES)}
RANK['local'] = RANK['admin']
OTHERS = 'colleague'  # who started the job in the project (not the actor)


def actor_for(role: str) -> Actor:
    if role == 'local':
        return local()
    return Actor(f'{role}-user', admin=role == 'admin', shared=True)


class World:
    """One private project of 'owner' with a dataset, a run, an export, a colleague's queued job and their export
    running in it."""

    def __init__(self, studio, role: str, n: int = 0) -> None:
        for name in ('owner', OTHERS, *(f'{r}-user' for r in ROLES[:5])):
            if users.User.get_or_none(users.User.name == name) is None:
                users.create(name, 'password!', admin=name == 'admin-user')
        owner = studio.session(Actor('owner', shared=True), None)
        self.project = owner.projects.create(f'P-{role}-{n}')
        owner.sharing.set_visibility(self.project.id, 'private')
        if role in ('read', 'edit', 'manage'):
            owner.sharing.set_role(self.project.id, f'{role}-user', role)
        folder = Path(self.project.location)
        self.dataset = Dataset.create(project=self.project.id, name='d', path=str(folder / 'datasets' / 'd'),
                                      status='ready').id
        self.run = Run.create(project=self.project.id, name='r', status='done').id
        self.export = Export.create(project=self.project.id, path=str(folder / 'exports' / 'e.ts'),
                                    status='done').id
        job = Job.create(project=self.project.id, kind='train', title='theirs', argv=['true'], owner=OTHERS)
        studio.jobs.track(job)
        self.job = job.id
        self.running_export = Export.create(project=self.project.id, path=str(folder / 'exports' / 'f.ts'),
                                            status='running', job=job).id  # deleting it cancels their job
        self.session = studio.session(actor_for(role), None)


# (what, the lowest role that may, the call)
ACTIONS: list[tuple[str, str, Callable[[World], object]]] = [
    ('see the project', 'read', lambda w: w.session.projects.summary(w.project.id)),
    ('list datasets', 'read', lambda w: w.session.datasets.list(w.project.id)),
    ('list runs', 'read', lambda w: w.session.training.runs(w.project.id)),
    ('list exports', 'read', lambda w: w.session.models.exports(w.project.id)),
    ('read the sharing', 'read', lambda w: w.session.sharing.of(w.project.id)),
    ('tag a dataset', 'edit', lambda w: w.session.datasets.set_tags(w.dataset, ['drums'])),
    ('write run notes', 'edit', lambda w: w.session.experiments.set_notes(w.run, 'better')),
    ('delete a dataset', 'edit', lambda w: w.session.datasets.delete(w.dataset)),
    ('delete an export', 'edit', lambda w: w.session.models.delete_export(w.export, delete_file=False)),
    ('cancel a colleague\'s job', 'manage', lambda w: w.session.jobs.cancel(w.job)),
    ('delete a colleague\'s running export', 'manage',
     lambda w: w.session.models.delete_export(w.running_export, delete_file=False)),
    ('rename the project', 'manage', lambda w: w.session.projects.update(w.project.id, 'Renamed', '')),
    ('share the project', 'manage', lambda w: w.session.sharing.set_visibility(w.project.id, 'read')),
    ('give a role', 'manage', lambda w: w.session.sharing.set_role(w.project.id, OTHERS, 'read')),
    ('delete gin code', 'admin', lambda w: w.session.training.delete_config(w.project.id, 'none.gin')),
    ('list accounts', 'admin', lambda w: w.session.accounts.list()),
    ('make an account', 'admin', lambda w: w.session.accounts.add(f'new-{w.project.id}', 'password!')),
    ('change the default visibility', 'admin', lambda w: w.session.sharing.set_default_visibility('read')),
]


@pytest.mark.parametrize('role', ROLES)
def test_each_role_against_each_action(studio, role: str) -> None:
    refused, wrongly = [], []
    for n, (what, needs, call) in enumerate(ACTIONS):
        world = World(studio, role, n)  # a fresh project each: an action may delete or rename
        may = RANK[role] >= RANK[needs]
        try:
            call(world)
            done = True
        except Forbidden:
            done = False
        except (ValueError, LookupError, OSError):
            done = True  # past the rule: the action itself had nothing to do
        if done != may:
            (wrongly if done else refused).append(what)
    assert not wrongly, f'{role} could: {wrongly}'
    assert not refused, f'{role} could not: {refused}'


def test_projects_a_user_may_not_read_are_not_listed(studio) -> None:
    for name in ('owner', 'reader', 'stranger'):
        users.create(name, 'password!')
    owner = studio.session(Actor('owner', shared=True), None)
    secret = owner.projects.create('Secret')
    owner.sharing.set_visibility(secret.id, 'private')
    owner.sharing.set_role(secret.id, 'reader', 'read')
    listed = {name: {p.name for p in studio.session(Actor(name, shared=True), None).projects.all()}
              for name in ('owner', 'reader', 'stranger')}
    assert 'Secret' in listed['owner'] and 'Secret' in listed['reader']
    assert 'Secret' not in listed['stranger']
    stranger = studio.session(Actor('stranger', shared=True), None).projects
    assert stranger.get(secret.id) is None
    assert stranger.current(secret.id).id != secret.id  # they land in a project of their own
    assert 'Secret' not in {p.name for p in stranger.all()}


def test_a_job_records_who_started_it_and_its_owner_may_steer_it(studio) -> None:
    users.create('ann', 'password!')
    users.create('bob', 'password!')
    ann = studio.session(Actor('ann', shared=True), None)
    project = ann.projects.create('Shared')
    ann.sharing.set_visibility(project.id, 'edit')
    job = studio.jobs.submit('train', 'ann trains', ['true'], project=Project.get_by_id(project.id),
                             start=False, owner='ann')  # the facade that starts a job names its actor
    assert job.owner == 'ann'
    assert ann.jobs.get(job.id).owner == 'ann'
    assert json.loads((Path(job.folder) / 'job.json').read_text())['owner'] == 'ann'
    bob = studio.session(Actor('bob', shared=True), None).jobs
    assert not bob.may_control(bob.get(job.id)) and ann.jobs.may_control(ann.jobs.get(job.id))
    with pytest.raises(Forbidden):
        bob.cancel(job.id)
    ann.jobs.cancel(job.id)
    assert Job.get_by_id(job.id).status == 'cancelled'


def test_a_disabled_account_may_do_nothing(studio) -> None:
    users.create('gone', 'password!')
    project = studio.session(local(), None).projects.create('Open')
    gone = studio.session(Actor('gone', shared=True), None)
    assert gone.projects.summary(project.id)
    studio.session(local(), None).accounts.disable('gone')
    with pytest.raises(Forbidden):
        gone.projects.summary(project.id)


def test_a_job_belongs_to_whoever_started_it_not_to_whoever_was_let_in_last(studio, monkeypatch) -> None:
    monkeypatch.setattr(studio.jobs, '_start_ready', lambda: None)  # queued only: nothing runs
    for name in ('ann', 'bob'):
        users.create(name, 'password!')
    ann = studio.session(Actor('ann', shared=True), None)
    project = ann.projects.create('Shared')  # the lab can edit (the default visibility)
    folder = Path(project.location) / 'datasets' / 'd'
    folder.mkdir(parents=True)
    (folder / 'data.mdb').write_bytes(b'')
    dataset = Dataset.create(project=project.id, name='d', path=str(folder), status='ready').id
    bob = studio.session(Actor('bob', shared=True), None)
    bob.projects.summary(project.id)
    ann.datasets.recompute_statistics(dataset)
    bob.datasets.recompute_statistics(dataset)
    ann.projects.summary(project.id)  # ann is the last one let in
    started = Job.select().where(Job.kind == 'dataset_stats').order_by(Job.id)
    assert [j.owner for j in started] == ['ann', 'bob']
    assert studio.jobs.submit('task', 'from the command line', ['true'], start=False).owner == ''  # nobody named


async def test_the_sharing_dialog_sets_visibility_and_members(user: UserClient, monkeypatch) -> None:
    from nicegui import app

    from app import auth
    users.create('ann', 'password!')
    users.create('bob', 'password!')
    await user.open('/projects')
    monkeypatch.setitem(auth._state, 'shared', True)  # NiceGUI's simulated user, signed in as ann
    app.storage.user.update(user='ann', admin=False)
    mine = app.studio.session(Actor('ann', shared=True), None).projects.create('Ann work')
    await user.open('/projects')
    user.find(marker=f'share-{mine.id}').click()
    await user.should_see('your role here: manage')
    user.find(marker='share-visibility').elements.pop().set_value('private')
    await user.should_see(marker='member-new')
    user.find(marker='member-new').elements.pop().set_value('bob')
    user.find(marker='member-new-role').elements.pop().set_value('read')
    user.find(marker='member-add').click()
    await user.should_see(marker='member-bob')
    assert Sharing.get(Sharing.project == mine.id).visibility == 'private'
    assert Membership.get(Membership.user == 'bob').role == 1
    app.storage.user.update(user='bob')
    await user.open('/projects')
    user.find(marker=f'share-{mine.id}').click()
    await user.should_see('your role here: read')
    await user.should_see(marker='share-readonly')


def test_a_demoted_member_is_refused_at_the_next_call(studio, monkeypatch) -> None:
    """Role decisions are cached, but only while nothing changed who may do what — here or in another process
    (the `users` command line, a second studio on the same data folder)."""
    from services.lab import roles
    for name in ('owner', 'ann'):
        users.create(name, 'password!')
    owner = studio.session(Actor('owner', shared=True), None)
    project = owner.projects.create('Band')
    owner.sharing.set_visibility(project.id, 'private')
    owner.sharing.set_role(project.id, 'ann', 'edit')
    run = Run.create(project=project.id, name='r').id
    ann = studio.session(Actor('ann', shared=True), None)
    ann.experiments.set_notes(run, 'first')  # decided and cached: edit
    owner.sharing.set_role(project.id, 'ann', 'read')
    with pytest.raises(Forbidden):
        ann.experiments.set_notes(run, 'second')
    owner.sharing.set_role(project.id, 'ann', 'edit')
    ann.experiments.set_notes(run, 'third')
    with sqlite3.connect(studio.data_dir / 'studio.db') as other:  # no facade, no forget(): another process
        other.execute("UPDATE membership SET role = 1 WHERE user = 'ann'")
    with pytest.raises(Forbidden):
        ann.experiments.set_notes(run, 'fourth')
    decided = []
    decide = roles._decide
    monkeypatch.setattr(roles, '_decide', lambda *a: decided.append(a) or decide(*a))
    for _ in range(3):
        ann.projects.summary(project.id)
    assert not decided  # nothing changed since her last check: the cache answers
    with sqlite3.connect(studio.data_dir / 'studio.db') as other:
        other.execute('UPDATE "user" SET disabled = 1 WHERE name = ?', ('ann',))
    with pytest.raises(Forbidden):
        ann.projects.summary(project.id)
    studio.settings.set('default_visibility', 'read')  # a project without its sharing row has the default
    Sharing.delete().where(Sharing.project == project.id).execute()
    assert studio.session(Actor('owner', shared=True), None).sharing.role(project.id) == 'read'
