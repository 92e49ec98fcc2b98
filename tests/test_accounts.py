"""Accounts of a lab server (issue 12): user management through the Accounts page, the `rave-studio users`
command line and a real shared studio's sign-in (invites, initial passwords, disabled accounts)."""
from __future__ import annotations

import hashlib
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from nicegui.testing import User
from studio_process import StudioProcess, clean_env

from services import users
from services.access import Actor, Forbidden, local
from services.lab import AccountError
from services.store import AuditEntry, Invite, Membership, Run, Sharing, SignIn
from services.store import User as Account

ADMIN_PASSWORD = 'admin password 12'


def users_command(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'app.main', 'users', '--data-dir', str(data_dir), *args],
                          capture_output=True, text=True, timeout=120, env=clean_env())


@pytest.fixture(scope='module')
def lab(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp('lab') / 'data'
    studio = StudioProcess(data_dir, '--share', env=clean_env(RAVE_STUDIO_ADMIN_PASSWORD=ADMIN_PASSWORD)).start()
    yield studio
    studio.stop()


def post(studio: StudioProcess, path: str, **form: str) -> httpx.Response:
    return httpx.post(studio.url + path, data=form, timeout=60, headers={'Origin': studio.url})


def test_the_command_line_manages_accounts(tmp_path: Path) -> None:
    data = tmp_path / 'data'
    made = users_command(data, 'add', 'ada', '--password', 'first pass 1', '--admin')
    assert made.returncode == 0, made.stderr
    assert 'initial password' in made.stdout
    invited = users_command(data, 'add', 'bo', '--invite', '--url', 'https://studio.lab:8765')
    assert re.search(r'https://studio\.lab:8765/invite\?token=\S{30,}', invited.stdout), invited.stdout
    listing = users_command(data, 'list').stdout
    assert re.search(r'ada\s+admin\s+must change password', listing)
    assert re.search(r'bo\s+member\s+invited', listing)
    assert users_command(data, 'promote', 'bo').returncode == 0
    assert users_command(data, 'demote', 'ada').returncode == 0
    assert users_command(data, 'disable', 'ada').returncode == 0
    assert re.search(r'ada\s+member\s+disabled', users_command(data, 'list').stdout)
    assert users_command(data, 'enable', 'ada').returncode == 0
    assert users_command(data, 'reset', 'ada', '--password', 'second pass 2').returncode == 0
    last = users_command(data, 'demote', 'bo')
    assert last.returncode == 1 and 'last admin' in last.stderr  # a studio always keeps an admin
    refused = users_command(data, 'delete', 'ada')
    assert refused.returncode == 2 and '--yes' in refused.stderr
    assert users_command(data, 'delete', 'ada', '--yes').returncode == 0
    assert 'ada' not in users_command(data, 'list').stdout
    unknown = users_command(data, 'disable', 'nobody')
    assert unknown.returncode == 1 and 'no account named nobody' in unknown.stderr
    with sqlite3.connect(data / 'studio.db') as con:
        logged = {row[0] for row in con.execute("SELECT action FROM auditentry WHERE user = 'command line'")}
    assert {'Accounts.add', 'Accounts.promote', 'Accounts.disable', 'Accounts.reset', 'Accounts.delete'} <= logged


def test_an_initial_password_is_changed_at_the_first_sign_in(lab: StudioProcess) -> None:
    assert users_command(lab.data_dir, 'add', 'cy', '--password', 'given pass 1').returncode == 0
    first = post(lab, '/login', name='cy', password='given pass 1')
    assert first.status_code == 200 and 'choose your own' in first.text
    assert f'rave-studio-{lab.port}=' not in first.headers.get('set-cookie', '')  # no session before the change
    same = post(lab, '/login/change', name='cy', password='given pass 1', new='given pass 1', again='given pass 1')
    assert same.status_code == 400 and 'other than the one you were given' in same.text
    differ = post(lab, '/login/change', name='cy', password='given pass 1', new='my own pass 1', again='typo')
    assert differ.status_code == 400 and 'differ' in differ.text
    wrong = post(lab, '/login/change', name='cy', password='guessed', new='my own pass 1', again='my own pass 1')
    assert wrong.status_code == 401  # changing needs the given password, behind the same throttle
    done = post(lab, '/login/change', name='cy', password='given pass 1', new='my own pass 1', again='my own pass 1')
    assert done.status_code == 303 and f'rave-studio-{lab.port}=' in done.headers['set-cookie']
    assert post(lab, '/login', name='cy', password='my own pass 1').status_code == 303
    assert post(lab, '/login', name='cy', password='given pass 1').status_code == 401


def test_an_invite_link_works_once_and_is_kept_hashed(lab: StudioProcess) -> None:
    out = users_command(lab.data_dir, 'add', 'di', '--invite', '--url', lab.url).stdout
    link = re.search(r'(http\S+/invite\?token=(\S+))', out)
    token = link.group(2)
    with sqlite3.connect(lab.data_dir / 'studio.db') as con:
        stored = [row[0] for row in con.execute('SELECT key FROM invite')]
    assert token not in stored and hashlib.sha256(token.encode()).hexdigest() in stored  # hashed at rest
    form = httpx.get(link.group(1), timeout=30)
    assert form.status_code == 200 and 'Welcome, di' in form.text
    short = post(lab, '/invite', token=token, new='short', again='short')
    assert short.status_code == 400 and '8 characters' in short.text
    joined = post(lab, '/invite', token=token, new='di password 1', again='di password 1')
    assert joined.status_code == 303 and 'set-cookie' in joined.headers
    again = post(lab, '/invite', token=token, new='other pass 1', again='other pass 1')
    assert again.status_code == 410 and 'not valid any more' in again.text  # single use
    assert httpx.get(link.group(1), timeout=30).status_code == 410
    assert post(lab, '/login', name='di', password='di password 1').status_code == 303


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(lab: StudioProcess) -> None:
    assert users_command(lab.data_dir, 'add', 'ed', '--password', 'ed password 1').returncode == 0
    post(lab, '/login/change', name='ed', password='ed password 1', new='ed password 2', again='ed password 2')
    signed_in = post(lab, '/login', name='ed', password='ed password 2')
    assert signed_in.status_code == 303
    assert users_command(lab.data_dir, 'disable', 'ed').returncode == 0
    refused = post(lab, '/login', name='ed', password='ed password 2')
    assert refused.status_code == 403 and 'disabled' in refused.text
    with sqlite3.connect(lab.data_dir / 'studio.db') as con:
        (user_id,) = con.execute("SELECT id FROM user WHERE name = 'ed'").fetchone()
        assert con.execute('SELECT COUNT(*) FROM signin WHERE user_id = ?', (user_id,)).fetchone() == (0,)


def test_invites_expire_and_deleting_keeps_what_they_made(studio) -> None:
    admin = studio.session(local(), None)
    invitation = admin.accounts.invite('fay')
    assert invitation.account.invited
    Invite.update(expires=time.time() - 1).execute()
    from services.lab.accounts import redeem
    with pytest.raises(AccountError, match='not valid any more'):
        redeem(invitation.token, 'fay password 1')
    users.create('gus', 'gus password 1')
    gus = studio.session(Actor('gus', shared=True), None)
    project = gus.projects.create('Gus work')
    gus.sharing.set_role(project.id, 'fay', 'edit')
    Run.create(project=project.id, name='gus run')
    SignIn.create(key='k', user=Account.get(Account.name == 'gus'), created=time.time(), seen=time.time())
    admin.accounts.delete('gus')
    assert Account.get_or_none(Account.name == 'gus') is None and not SignIn.select().exists()
    assert Run.get(Run.name == 'gus run').project_id == project.id  # it stays with its project
    assert Sharing.get(Sharing.project == project.id).owner == ''
    admin.accounts.delete('fay')
    assert not Membership.select().where(Membership.user == 'fay').exists()
    assert AuditEntry.select().where(AuditEntry.action == 'Accounts.delete').count() == 2
    with pytest.raises(Forbidden):
        gus.accounts.list()


async def test_admins_manage_accounts_on_their_page(user: User) -> None:
    await user.open('/users')
    await user.should_see('Add a member')
    user.find(marker='new-user-name').type('hal')
    user.find(marker='new-user-add').click()  # an invite link by default
    await user.should_see('Invite link for hal')
    link = user.find(marker='invite-link').elements.pop().value
    assert '/invite?token=' in link
    user.find(marker='invite-done').click()
    await user.should_see(marker='user-hal')
    await user.should_see('member · invited')
    user.find(marker='new-user-name').type('ivy')
    user.find(marker='new-user-how').elements.pop().set_value('password')
    user.find(marker='new-user-password').type('ivy password 1')
    user.find(marker='new-user-add').click()
    await user.should_see('they change the password at their first sign-in')
    await user.should_see('member · must change password')
    user.find(marker='user-promote-ivy').click()
    await user.should_see('ivy: now an admin.')
    user.find(marker='user-disable-hal').click()
    await user.should_see('member · disabled')
    assert Account.get(Account.name == 'hal').disabled and Account.get(Account.name == 'ivy').admin
    user.find(marker='new-user-name').type('bad name!')
    user.find(marker='new-user-add').click()
    await user.should_see('A name is 1–40 letters')
    user.find(marker='user-delete-hal').click()
    await user.should_see('they made stay with their projects')
    user.find(marker='user-delete-yes').click()
    await user.should_not_see(marker='user-hal')
    assert Account.get_or_none(Account.name == 'hal') is None
