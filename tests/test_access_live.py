"""Rights as they are now: an open page's actor loses what its account lost (demoted, disabled, deleted, removed
from a project) at its next call and its page is drawn again; and a check costs no query while nothing changed
who may do what — here, in another thread or in another process on the same database."""
from __future__ import annotations

import subprocess
import sys

import pytest
from nicegui import app
from nicegui.testing import User as UserClient

from services import access, users
from services.access import Action, Actor, Forbidden, Role
from services.events import AccessChanged
from services.lab import roles
from services.store import User, db


def other_process(studio, sql: str, *args: object) -> None:
    """Change the database from another process, as the `users` command line or a second studio would."""
    code = 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2], sys.argv[3:]); c.commit()'
    subprocess.run([sys.executable, '-c', code, str(studio.data_dir / 'studio.db'), sql, *map(str, args)],
                   check=True, timeout=60)


def signed_in(name: str) -> Actor:
    """The actor a sign-in makes (app/security.py): its account's id and its rank at that moment."""
    user = User.get(User.name == name)
    return Actor(name, admin=bool(user.admin), shared=True, user_id=user.id)


def test_an_actor_has_the_rights_its_account_has_now(studio) -> None:
    users.create('ann', 'password!', admin=True)
    users.create('bob', 'password!', admin=True)
    ann = studio.session(signed_in('ann'), None)
    project = ann.projects.create('Lab')
    bob = signed_in('bob')  # a page built while bob was an admin keeps this actor
    access.require(bob, Action.USERS)
    ann.accounts.demote('bob')
    with pytest.raises(Forbidden, match='manage accounts'):
        access.require(bob, Action.USERS)
    access.require(bob, Action.EDIT, project.id)  # a member of a project the lab can edit
    other_process(studio, 'UPDATE "user" SET admin = 1 WHERE name = ?', 'bob')  # promoted from the command line
    access.require(bob, Action.USERS)
    other_process(studio, 'DELETE FROM "user" WHERE name = ?', 'bob')
    assert access.role(bob, project.id) is Role.NONE  # signed in to an account that is gone: nothing
    assert access.role(Actor('script', admin=True, shared=True), project.id) is Role.ADMIN  # no account: its word


def test_a_check_runs_no_query_while_nothing_changed(studio) -> None:
    users.create('owner', 'password!')
    users.create('ann', 'password!')
    owner = studio.session(signed_in('owner'), None)
    project = owner.projects.create('Band')
    owner.sharing.set_visibility(project.id, 'private')
    owner.sharing.set_role(project.id, 'ann', 'edit')
    ann = signed_in('ann')
    statements: list[str] = []
    connection = db.connection()
    connection.set_trace_callback(statements.append)
    try:
        assert access.allowed(ann, Action.EDIT, project.id)  # decided once
        statements.clear()
        for _ in range(100):  # a live run page: a check per metric line per client
            access.require(ann, Action.READ, project.id)
            access.require(ann, Action.EDIT, project.id)
        assert {s.strip().upper() for s in statements} == {'PRAGMA DATA_VERSION'}, set(statements)
        other_process(studio, 'UPDATE membership SET role = 1 WHERE user = ?', 'ann')  # read only, elsewhere
        statements.clear()
        assert not access.allowed(ann, Action.EDIT, project.id)
        assert any('access_generation' in s for s in statements)  # the change was seen: read and decided again
        statements.clear()
        assert access.allowed(ann, Action.READ, project.id) and not access.allowed(ann, Action.EDIT, project.id)
        assert not any('access_generation' in s for s in statements)
        owner.sharing.set_role(project.id, 'ann', 'manage')  # on this very connection
        assert access.allowed(ann, Action.MANAGE, project.id)
    finally:
        connection.set_trace_callback(None)


def test_another_thread_sees_a_change_made_on_this_one(studio) -> None:
    import threading
    users.create('owner', 'password!')
    users.create('ann', 'password!')
    owner = studio.session(signed_in('owner'), None)
    project = owner.projects.create('Band')
    owner.sharing.set_visibility(project.id, 'private')
    ann = signed_in('ann')
    seen: list[bool] = []

    def check() -> None:
        seen.append(access.allowed(ann, Action.READ, project.id))
    for change in (lambda: None, lambda: owner.sharing.set_role(project.id, 'ann', 'read')):
        change()
        worker = threading.Thread(target=check)
        worker.start()
        worker.join()
        check()
    assert seen == [False, False, True, True]


def test_the_poller_says_when_who_may_do_what_changed(studio) -> None:
    users.create('ann', 'password!', admin=True)
    users.create('bob', 'password!')
    heard: list[object] = []
    studio.bus.listen(heard.append)
    studio.poll()  # the accounts made above
    heard.clear()
    studio.poll()
    assert not [e for e in heard if isinstance(e, AccessChanged)]  # nothing changed since
    studio.session(signed_in('ann'), None).accounts.promote('bob')
    studio.poll()
    studio.poll()
    assert len([e for e in heard if isinstance(e, AccessChanged)]) == 1
    other_process(studio, 'UPDATE "user" SET disabled = 1 WHERE name = ?', 'bob')
    studio.poll()
    changes = [e for e in heard if isinstance(e, AccessChanged)]
    assert len(changes) == 2 and changes[-1].generation == roles.generation()[1]


async def test_a_demoted_admin_is_refused_on_the_open_page_which_redraws_without_the_action(
        user: UserClient, monkeypatch) -> None:
    from app import auth
    users.create('ann', 'password!', admin=True)
    users.create('bob', 'password!', admin=True)
    users.create('carl', 'password!')
    await user.open('/projects')
    monkeypatch.setitem(auth._state, 'shared', True)  # NiceGUI's simulated user, signed in as bob (an admin)
    app.storage.user.update(user='bob', admin=True)
    await user.open('/users')
    await user.should_see(marker='user-disable-carl')
    ann = app.studio.session(Actor('ann', admin=True, shared=True), None)
    ann.accounts.demote('bob')  # in another browser, while bob's page is open
    user.find(marker='user-disable-carl').click()  # before the page heard of it
    await user.should_see('You may not manage accounts')
    assert not User.get(User.name == 'carl').disabled
    await user.should_see(marker='users-refused', retries=100)  # the poller told the page: drawn as a member
    await user.should_not_see(marker='user-disable-carl')
