"""The lab's sharing model, installed as services/access.py's per-project rule.

A member's role in a project is the highest of: owner (its creator manages it), their membership (read, edit or
manage), and what the project's visibility grants everyone signed in ("private to me" nothing, "the lab can read"
read, "the lab can edit" edit). Admins stand above every project. Rank and state are the account's as they are
now, not as the actor was made (a page keeps its actor while it is open): a demoted admin is a member at their
next call, a disabled account may do nothing. A project made before sharing existed, or restored without its
sharing row, has the server-wide default visibility.

Decisions are cached per process and hold while the database's access generation is unchanged: triggers bump it
in the same transaction as every change of an account, a membership, a project's sharing or the default
visibility (migration 13), whichever process or code path makes it, so the next check sees the change. The
generation itself is read again only when something was written since the last read on the thread's connection
(`generation`): a check when nothing changed runs no query of a table.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from services import access
from services.access import Actor, Role
from services.i18n import N_, pgettext
from services.store import Membership, Sharing, User, db

VISIBILITY = {'private': N_('Private to its owner and members'), 'read': N_('The lab can read'),
              'edit': N_('The lab can edit')}  # English msgids: shown through _()
GRANTS = {'private': Role.NONE, 'read': Role.READ, 'edit': Role.EDIT}
DEFAULT_VISIBILITY = 'edit'  # the setting's default: a lab that starts sharing works as before
GENERATION = 'SELECT value FROM access_generation WHERE id = 1'

_cache: dict[tuple[Actor, int | None], tuple[Role, tuple[str, int]]] = {}  # → (role, the generation decided at)
_lock = threading.Lock()
_seen = threading.local()  # per thread (peewee's connection is per thread): (connection, stamp, generation)
_default: Callable[[], str] = lambda: DEFAULT_VISIBILITY  # noqa: E731 — replaced by install()


def said(role: str) -> str:
    """A role's name (access.Role's, lower case: none, read, edit, manage, admin) in the page's language."""
    return {'none': pgettext('role', 'none'), 'read': pgettext('role', 'read'), 'edit': pgettext('role', 'edit'),
            'manage': pgettext('role', 'manage'), 'admin': pgettext('role', 'admin')}.get(role, role)


def install(default_visibility: Callable[[], str]) -> None:
    """Make this the studio's rule; `default_visibility` reads the server-wide setting for new projects."""
    global _default
    _default = default_visibility
    forget()
    access.set_project_roles(project_role)


def project_role(actor: Actor, project_id: int | None) -> Role:
    if not actor.name:
        return Role.NONE  # nobody signed in
    key, now = (actor, project_id), generation()  # read before deciding: a change after it re-decides
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached[1] == now:
        return cached[0]
    found = _decide(actor, project_id)
    with _lock:
        _cache[key] = (found, now)
    return found


def generation() -> tuple[str, int]:
    """Which database, and how many changes of who may do what it has seen.

    Read from its row only when the connection saw a write since the last read: SQLite's `data_version` moves
    when another connection committed (another thread, the `users` command line, a second studio on the same
    data folder) and the connection's `total_changes` when it wrote itself (the triggers' bumps included);
    both are read without touching a table."""
    connection = db.connection()
    stamp = (connection.execute('PRAGMA data_version').fetchone()[0], connection.total_changes)
    seen = getattr(_seen, 'value', None)
    if seen is not None and seen[0] is connection and seen[1] == stamp:
        return seen[2]
    row = connection.execute(GENERATION).fetchone()
    value = (db.database, row[0] if row else 0)
    _seen.value = (connection, stamp, value)
    return value


class Watch:
    """For the poller: whether who may do what changed since it last looked (then pages redraw their actions)."""

    def __init__(self) -> None:
        self._seen = generation()

    def moved(self) -> int | None:
        """The generation now if it moved since the last call, else None."""
        now, before = generation(), self._seen
        self._seen = now
        return now[1] if now != before else None


def forget() -> None:
    """Another database: decide again."""
    with _lock:
        _cache.clear()


def sharing_of(project_id: int) -> Sharing | None:
    return Sharing.select().where(Sharing.project == project_id).order_by(Sharing.id.desc()).first()


def visibility_of(project_id: int) -> str:
    row = sharing_of(project_id)
    return row.visibility if row is not None else default_visibility()


def owner_of(project_id: int) -> str:
    row = sharing_of(project_id)
    return row.owner if row is not None else ''


def share(project_id: int, *, owner: str, visibility: str) -> None:
    """Set a project's owner and visibility (its one sharing row)."""
    with db.atomic():
        Sharing.delete().where(Sharing.project == project_id).execute()
        Sharing.create(project=project_id, owner=owner, visibility=visibility)


def default_visibility() -> str:
    value = _default()
    return value if value in GRANTS else DEFAULT_VISIBILITY


def created(project_id: int, actor: Actor) -> None:
    """A new project: its creator owns it, and it has the server-wide default visibility."""
    share(project_id, owner=actor.name, visibility=default_visibility())


def restored(project_id: int, actor: Actor) -> None:
    """A project restored from a backup keeps its sharing; whoever restored it owns it if its owner has no
    account here."""
    row = sharing_of(project_id)
    if row is None:
        created(project_id, actor)
    elif User.get_or_none(User.name == row.owner) is None:
        Sharing.update(owner=actor.name).where(Sharing.id == row.id).execute()


def _decide(actor: Actor, project_id: int | None) -> Role:
    name = actor.name
    user = User.get_or_none(User.name == name)
    if user is None and actor.user_id is not None:
        return Role.NONE  # signed in to an account deleted since (by another studio, or the command line)
    if user is not None and user.disabled:
        return Role.NONE
    if user.admin if user is not None else actor.admin:  # no account: an actor made in code says what it is
        return Role.ADMIN
    if project_id is None:
        return Role.EDIT  # studio-wide: a member may make projects of their own
    sharing = sharing_of(project_id)
    if sharing is not None and sharing.owner == name:
        return Role.MANAGE
    member = Membership.get_or_none((Membership.project == project_id) & (Membership.user == name))
    granted = GRANTS.get(sharing.visibility if sharing is not None else default_visibility(), Role.NONE)
    return max(granted, Role(member.role) if member is not None else Role.NONE)
