"""Accounts of a shared studio, as an admin manages them: invite, disable, reset, promote, delete.

An account is made with a one-time invite link (a random token; the database keeps its SHA-256, an expiry and
whether it was used) or with an initial password its user must replace at the first sign-in. Disabling, a reset
and a change of rank end the user's sessions (a cached session would otherwise keep the old rank for a while).
Deleting an account keeps what they made: runs, datasets and exports belong to their projects; the projects they
owned are left to their members and the admins.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from services import access, sessions, users
from services.access import Action, Actor
from services.i18n import _
from services.store import Invite, Membership, Sharing, User, db

INVITE_S = 7 * 24 * 3600.0  # how long an invite link stays good
NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$')


class AccountError(ValueError):
    """An account change that cannot be done, with a sentence saying why."""


@dataclass(frozen=True)
class AccountView:
    id: int
    name: str
    admin: bool
    disabled: bool
    must_change: bool
    invited: bool  # has an unused invite and no password yet
    created: str


@dataclass(frozen=True)
class Invitation:
    """A new account's invite: the token is shown once (the link), never stored."""
    account: AccountView
    token: str
    expires: float

    def link(self, base: str = '') -> str:
        return f'{base}/invite?token={self.token}'


@access.acts
class Accounts:
    """The studio's accounts as an admin changes them; every method needs Action.USERS."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def may_manage(self) -> bool:
        return access.allowed(self.actor, Action.USERS)

    @access.reads
    def list(self) -> list[AccountView]:
        access.require(self.actor, Action.USERS)
        return [_view(u) for u in User.select().order_by(User.name)]

    def invite(self, name: str, *, admin: bool = False) -> Invitation:
        """A new account that signs up through a one-time link."""
        access.require(self.actor, Action.USERS)
        user = self._new(name, None, admin=admin, must_change=False)
        token = _new_invite(user)
        return Invitation(_view(user), token, time.time() + INVITE_S)

    def add(self, name: str, password: str, *, admin: bool = False) -> AccountView:
        """A new account with an initial password, to be changed at the first sign-in."""
        access.require(self.actor, Action.USERS)
        return _view(self._new(name, password, admin=admin, must_change=True))

    def reinvite(self, name: str) -> Invitation:
        """A fresh invite link for an account (the older links stop working)."""
        access.require(self.actor, Action.USERS)
        user = self._user(name)
        token = _new_invite(user)
        access.changed(object_=f'user {name}')
        return Invitation(_view(user), token, time.time() + INVITE_S)

    def disable(self, name: str) -> AccountView:
        return self._change(name, disabled=True)

    def enable(self, name: str) -> AccountView:
        return self._change(name, disabled=False)

    def promote(self, name: str) -> AccountView:
        return self._change(name, admin=True)

    def demote(self, name: str) -> AccountView:
        return self._change(name, admin=False)

    def reset(self, name: str, password: str) -> AccountView:
        """A new initial password (its user chooses their own at the next sign-in); their sessions end."""
        access.require(self.actor, Action.USERS)
        user = self._user(name)
        try:
            users.set_password(user.name, password, must_change=True)
        except ValueError as e:
            raise AccountError(str(e)) from e
        access.changed(object_=f'user {name}')
        return _view(User.get_by_id(user.id))

    def delete(self, name: str) -> None:
        """Remove an account; what they made stays with its projects."""
        access.require(self.actor, Action.USERS)
        user = self._user(name)
        self._keep_an_admin(user, _('{name} is the last admin: promote someone else before you delete them.'))
        sessions.end_user(user.id)
        with db.atomic():
            Membership.delete().where(Membership.user == user.name).execute()
            Sharing.update(owner='').where(Sharing.owner == user.name).execute()
            user.delete_instance()
        access.changed(object_=f'user {name}', before={'admin': bool(user.admin)})

    # ---- internals ---------------------------------------------------------------------------------
    def _new(self, name: str, password: str | None, *, admin: bool, must_change: bool) -> User:
        name = (name or '').strip()
        if not NAME.match(name):
            raise AccountError(_('A name is 1–40 letters, digits, dots, dashes or underscores, starting with a '
                                 'letter or digit.'))
        if User.get_or_none(User.name == name) is not None:
            raise AccountError(_('There is already an account named {name}.').format(name=name))
        try:
            user = users.create(name, password, admin=admin, must_change=must_change)
        except ValueError as e:
            raise AccountError(str(e)) from e
        access.changed(object_=f'user {name}', after={'admin': admin, 'invited': password is None})
        return user

    def _change(self, name: str, **values: bool) -> AccountView:
        access.require(self.actor, Action.USERS)
        user = self._user(name)
        if values.get('admin') is False or values.get('disabled'):
            self._keep_an_admin(user, _('{name} is the last admin: promote someone else before you demote or '
                                        'disable them.'))
        before = {k: bool(getattr(user, k)) for k in values}
        User.update(**values).where(User.id == user.id).execute()
        sessions.end_user(user.id)  # the next sign-in carries the new rank; a disabled one cannot sign in
        access.changed(object_=f'user {name}', before=before, after=values)
        return _view(User.get_by_id(user.id))

    def _user(self, name: str) -> User:
        user = User.get_or_none(User.name == (name or '').strip())
        if user is None:
            raise AccountError(_('There is no account named {name}.').format(name=name))
        return user

    @staticmethod
    def _keep_an_admin(user: User, refusal: str) -> None:
        if user.admin and not user.disabled and User.select().where(
                User.admin & ~User.disabled & (User.id != user.id)).count() == 0:
            raise AccountError(refusal.format(name=user.name))


def redeem(token: str, password: str) -> User:
    """Set an invited account's password through its link (once, before it expires); the user to sign in."""
    key = hashlib.sha256((token or '').encode()).hexdigest()
    invite = Invite.get_or_none(Invite.key == key)
    if invite is None or invite.used or invite.expires < time.time():
        raise AccountError(_('This invite link is not valid any more: ask an admin for a new one.'))
    user = invite.user
    if user.disabled:
        raise AccountError(_('This account is disabled: ask an admin.'))
    try:
        users.set_password(user.name, password)
    except ValueError as e:
        raise AccountError(str(e)) from e
    Invite.update(used=True).where(Invite.id == invite.id).execute()
    return User.get_by_id(user.id)


def invite_user(token: str) -> str | None:
    """The name an invite link is for, while it is good."""
    invite = Invite.get_or_none(Invite.key == hashlib.sha256((token or '').encode()).hexdigest())
    if invite is None or invite.used or invite.expires < time.time():
        return None
    return invite.user.name


def _new_invite(user: User) -> str:
    token = secrets.token_urlsafe(32)
    with db.atomic():
        Invite.update(used=True).where(Invite.user == user).execute()
        Invite.create(user=user, key=hashlib.sha256(token.encode()).hexdigest(), expires=time.time() + INVITE_S)
    return token


def _view(user: User) -> AccountView:
    invited = user.password_hash == users.NO_PASSWORD and Invite.select().where(
        (Invite.user == user) & ~Invite.used & (Invite.expires >= time.time())).exists()
    return AccountView(user.id, user.name, bool(user.admin), bool(user.disabled), bool(user.must_change),
                       bool(invited), f'{user.created:%Y-%m-%d}')
