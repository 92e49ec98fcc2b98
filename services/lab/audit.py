"""The audit log: every state-changing facade action, recorded at the one place every action passes.

`access.require` tells its observers of each decision; for every action but READ this module records who asked,
when, which facade method (found on the stack: the first public method above `require`), on which object (that
method's `*_id`/`name`/`path` arguments), and whether the rule allowed or refused it. Changes whose content
matters (roles, visibility, accounts, settings) add an explicit entry with their before and after (`record`).
"""
from __future__ import annotations

import datetime as dt
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from services import access
from services.access import Action, Actor
from services.store import AuditEntry, now

OBJECT_ARGUMENTS = ('run_id', 'dataset_id', 'export_id', 'job_id', 'project_id', 'comment_id', 'version_id',
                    'name', 'path', 'checkpoint')
NAMED = ('name', 'path', 'checkpoint')  # shown as their value alone ("Choir", not "name Choir")
_last: ContextVar[tuple[int, str] | None] = ContextVar('last_audit_entry', default=None)


@dataclass(frozen=True)
class AuditView:
    id: int
    time: dt.datetime
    user: str
    action: str
    right: str
    project_id: int | None
    object: str
    outcome: str
    before: Any = None
    after: Any = None


def install() -> None:
    access.observe(_observed)


def record(actor: Actor, action: str, object_: str = '', *, project_id: int | None = None, before: Any = None,
           after: Any = None, right: str = '') -> None:
    """What a change did, before and after: added to the entry `require` just made for the same method (one
    action, one entry), or a new entry for changes `require` does not log (accounts)."""
    last = _last.get()
    if last is not None and last[1] == action:
        _last.set(None)
        AuditEntry.update(before=before, after=after, **({'object': object_} if object_ else {})) \
            .where(AuditEntry.id == last[0]).execute()
        return
    AuditEntry.create(user=actor.name, action=action, right=right, project_id=project_id, object=object_,
                      before=before, after=after)


def entries(*, user: str = '', action: str = '', object_: str = '', since: dt.date | None = None,
            until: dt.date | None = None, project_ids: set[int] | None = None, limit: int = 200) -> list[AuditView]:
    """The newest entries first, filtered (every filter is a substring, dates inclusive)."""
    query = AuditEntry.select().order_by(AuditEntry.time.desc(), AuditEntry.id.desc())
    if user:
        query = query.where(AuditEntry.user.contains(user))
    if action:
        query = query.where(AuditEntry.action.contains(action) | AuditEntry.right.contains(action))
    if object_:
        query = query.where(AuditEntry.object.contains(object_))
    if since:
        query = query.where(AuditEntry.time >= dt.datetime.combine(since, dt.time.min))
    if until:
        query = query.where(AuditEntry.time <= dt.datetime.combine(until, dt.time.max))
    if project_ids is not None:
        query = query.where(AuditEntry.project_id.in_(list(project_ids)) | AuditEntry.project_id.is_null())
    return [AuditView(e.id, e.time, e.user, e.action, e.right, e.project_id, e.object, e.outcome, e.before,
                      e.after) for e in query.limit(limit)]


def _observed(actor: Actor, action: Action, project_id: int | None, granted: bool) -> None:
    if action is Action.READ or (action is Action.USERS and granted):
        return  # reading; account changes record themselves, with before and after (services/lab/accounts.py)
    method, object_ = _caller()
    row = AuditEntry.create(time=now(), user=actor.name, action=method, right=action.value, project_id=project_id,
                            object=object_, outcome='allowed' if granted else 'refused')
    _last.set((row.id, method))


def _caller() -> tuple[str, str]:
    """The public facade method that asked, and the object its arguments name."""
    frame = sys._getframe(2)  # above _observed and access.require
    while frame is not None:
        code = frame.f_code
        if not code.co_name.startswith('_') and code.co_filename != access.__file__:
            owner = frame.f_locals.get('self')
            where = f'{type(owner).__name__}.{code.co_name}' if owner is not None else code.co_name
            names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
            words = [f'{frame.f_locals["kind"]} {frame.f_locals["target"]}'] if {'kind', 'target'} <= set(names) \
                else []
            words += [str(frame.f_locals[n]) if n in NAMED else f'{n.removesuffix("_id")} {frame.f_locals[n]}'
                      for n in OBJECT_ARGUMENTS if n in names and frame.f_locals.get(n) not in (None, '')]
            return where, ', '.join(words)[:240]
        frame = frame.f_back
    return '?', ''


class AuditLog:
    """The audit log as an admin reads it."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def may_read(self) -> bool:
        return access.allowed(self.actor, Action.USERS)

    def entries(self, *, user: str = '', action: str = '', object_: str = '', since: dt.date | None = None,
                until: dt.date | None = None, limit: int = 200) -> list[AuditView]:
        access.require(self.actor, Action.USERS)
        return entries(user=user, action=action, object_=object_, since=since, until=until, limit=limit)
