"""The audit log: every state-changing facade action, recorded once it has happened, with its outcome.

Each facade call is an act (services/access.py): it notes the rights its `require`s asked for and tells this
module when it has ended. For every act that needed more than READ this module records who, when, which facade
method, on which object (that method's `*_id`/`name`/`path` arguments), and what happened: done, failed (with
the sentence it failed with) or refused. Changes whose content matters (roles, visibility, accounts, renames,
settings) say their before and after through `access.changed`.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from services import access
from services.access import Act, Action, Actor
from services.i18n import pgettext
from services.store import AuditEntry, now

OBJECT_ARGUMENTS = ('run_id', 'dataset_id', 'export_id', 'job_id', 'project_id', 'comment_id', 'version_id',
                    'name', 'path', 'checkpoint')
NAMED = ('name', 'path', 'checkpoint')  # shown as their value alone ("Choir", not "name Choir")
OUTCOMES = ('done', 'failed', 'refused')  # entries written before acts had outcomes say 'allowed'


@dataclass(frozen=True)
class AuditView:
    id: int
    time: dt.datetime
    user: str
    action: str
    right: str
    project_id: int | None
    object: str
    outcome: str  # done | failed | refused
    message: str = ''  # the sentence a failed or refused action ended with
    before: Any = None
    after: Any = None


def install() -> None:
    access.observe(_ended)


def entries(*, user: str = '', action: str = '', object_: str = '', outcome: str = '',
            since: dt.date | None = None, until: dt.date | None = None, project_ids: set[int] | None = None,
            limit: int = 200) -> list[AuditView]:
    """The newest entries first, filtered (the words are substrings, the outcome exact, dates inclusive)."""
    query = AuditEntry.select().order_by(AuditEntry.time.desc(), AuditEntry.id.desc())
    if user:
        query = query.where(AuditEntry.user.contains(user))
    if action:
        query = query.where(AuditEntry.action.contains(action) | AuditEntry.right.contains(action))
    if object_:
        query = query.where(AuditEntry.object.contains(object_))
    if outcome:
        query = query.where(AuditEntry.outcome == outcome)
    if since:
        query = query.where(AuditEntry.time >= dt.datetime.combine(since, dt.time.min))
    if until:
        query = query.where(AuditEntry.time <= dt.datetime.combine(until, dt.time.max))
    if project_ids is not None:
        query = query.where(AuditEntry.project_id.in_(list(project_ids)) | AuditEntry.project_id.is_null())
    return [AuditView(e.id, e.time, e.user, e.action, e.right, e.project_id, e.object, e.outcome, e.message,
                      e.before, e.after) for e in query.limit(limit)]


def _ended(act: Act, outcome: str, sentence: str) -> None:
    AuditEntry.create(time=now(), user=act.actor.name if act.actor else '?', action=act.method,
                      right=act.right.value if act.right else '', project_id=act.project_id,
                      object=act.object or object_of(act.arguments()), outcome=outcome, message=sentence[:1000],
                      before=act.before, after=act.after)


KINDS = ('run', 'dataset', 'export', 'job', 'project', 'comment', 'version', 'model')  # what an entry names
_KIND = re.compile(r'\b(' + '|'.join(KINDS) + r') (?=\S)')


def shown_object(text: str) -> str:
    """An entry's object as the reader reads it: "run 12" is "entraînement 12" on a French page (the log keeps
    the English words, so a filter means the same in every language)."""
    words = {'run': pgettext('object', 'run'), 'dataset': pgettext('object', 'dataset'),
             'export': pgettext('object', 'export'), 'job': pgettext('object', 'job'),
             'project': pgettext('object', 'project'), 'comment': pgettext('object', 'comment'),
             'version': pgettext('object', 'version'), 'model': pgettext('object', 'model')}
    return _KIND.sub(lambda m: words[m.group(1)] + ' ', text)


def object_of(arguments: dict[str, Any]) -> str:
    """What a facade method's arguments say it acted on, e.g. "run 12" or "comment on run 12"."""
    words = [f'{arguments["kind"]} {arguments["target"]}'] if {'kind', 'target'} <= set(arguments) else []
    words += [str(arguments[n]) if n in NAMED else f'{n.removesuffix("_id")} {arguments[n]}'
              for n in OBJECT_ARGUMENTS if arguments.get(n) not in (None, '')]
    return ', '.join(words)[:240]


@access.acts
class AuditLog:
    """The audit log as an admin reads it."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def may_read(self) -> bool:
        return access.allowed(self.actor, Action.USERS)

    @access.reads
    def entries(self, *, user: str = '', action: str = '', object_: str = '', outcome: str = '',
                since: dt.date | None = None, until: dt.date | None = None, limit: int = 200) -> list[AuditView]:
        access.require(self.actor, Action.USERS)
        return entries(user=user, action=action, object_=object_, outcome=outcome, since=since, until=until,
                       limit=limit)
