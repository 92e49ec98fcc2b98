"""Comments on runs, models (checkpoints), datasets and exports: Markdown, @mentions of members, edit and delete
one's own (admins any), newest first, live for every viewer (`CommentsChanged`), unread marks per person.

Writing a comment needs Action.COMMENT (whoever may read the project may discuss it; the audit log records it).
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from services import access, lazy
from services.access import Action, Actor, Forbidden
from services.events import Bus, CommentsChanged
from services.store import Checkpoint, Comment, CommentRead, Dataset, Export, Run, User, now

markup = lazy.module('services.lab.markup')  # Python-Markdown loads with the first comment shown

KINDS = ('run', 'model', 'dataset', 'export')
MAX_CHARS = 10_000


class CommentError(ValueError):
    """A comment that cannot be kept, with a sentence saying why."""


@dataclass(frozen=True)
class CommentView:
    id: int
    author: str
    body: str  # the Markdown as written
    html: str  # safe to show
    mentions: tuple[str, ...]
    created: dt.datetime
    edited: dt.datetime | None
    mine: bool  # the acting user may edit and delete it
    unread: bool  # newer than the acting user's last look, and someone else's


@access.acts
class Comments:
    """The comments of one object as the acting user reads and writes them."""

    def __init__(self, actor: Actor, bus: Bus | None) -> None:
        self.actor = actor
        self._bus = bus

    def list(self, kind: str, target: str | int) -> list[CommentView]:
        """Newest first."""
        project_id = self._project(kind, target, Action.READ)
        seen = self._seen(kind, str(target))
        members = self._members(project_id)
        return [self._view(c, seen, members) for c in Comment.select().where(
            (Comment.kind == kind) & (Comment.target == str(target))).order_by(Comment.created.desc(),
                                                                              Comment.id.desc())]

    def unread(self, kind: str, target: str | int) -> int:
        return sum(c.unread for c in self.list(kind, target))

    def add(self, kind: str, target: str | int, body: str) -> CommentView:
        project_id = self._project(kind, target, Action.COMMENT)
        text = self._checked(body)
        found = markup.mentions(text, self._members(project_id))
        row = Comment.create(project=project_id, kind=kind, target=str(target), author=self.actor.name, body=text,
                             mentions=found)
        self._publish(row, tuple(found))
        return self._view(row, time.time(), self._members(project_id))

    def edit(self, comment_id: int, body: str) -> CommentView:
        row = self._own(comment_id)
        text = self._checked(body)
        members = self._members(row.project_id)
        new = [m for m in markup.mentions(text, members) if m not in (row.mentions or [])]
        row.body, row.edited = text, now()
        row.mentions = list(dict.fromkeys([*(row.mentions or []), *new]))
        row.save()
        self._publish(row, tuple(new))
        return self._view(row, time.time(), members)

    def delete(self, comment_id: int) -> None:
        row = self._own(comment_id)
        row.delete_instance()
        self._publish(row, ())

    def mark_read(self, kind: str, target: str | int) -> None:
        """The acting user has seen every comment of the object now."""
        self._project(kind, target, Action.READ)
        user = User.get_or_none(User.name == self.actor.name)
        if user is None:
            return  # the one user of a local studio: nobody else writes, nothing is unread
        CommentRead.insert(user=user, kind=kind, target=str(target), seen=time.time()).on_conflict(
            conflict_target=[CommentRead.user, CommentRead.kind, CommentRead.target],
            update={CommentRead.seen: time.time()}).execute()

    # ---- internals ---------------------------------------------------------------------------------
    def _project(self, kind: str, target: str | int, action: Action) -> int:
        project_id = project_of(kind, target)
        if project_id is None:
            raise CommentError(f'That {kind if kind in KINDS else "thing"} no longer exists.')
        access.require(self.actor, action, project_id)
        return project_id

    def _own(self, comment_id: int) -> Comment:
        row = Comment.get_or_none(Comment.id == comment_id)
        if row is None:
            raise CommentError('That comment was deleted meanwhile.')
        access.require(self.actor, Action.COMMENT, row.project_id)
        if row.author != self.actor.name and access.role(self.actor, row.project_id) < access.Role.ADMIN:
            raise Forbidden('You may edit and delete only your own comments.')
        return row

    @staticmethod
    def _checked(body: str) -> str:
        text = (body or '').strip()
        if not text:
            raise CommentError('Write something first.')
        if len(text) > MAX_CHARS:
            raise CommentError(f'A comment is at most {MAX_CHARS:,} characters.')
        return text

    def _seen(self, kind: str, target: str) -> float:
        row = CommentRead.select(CommentRead.seen).join(User).where(
            (User.name == self.actor.name) & (CommentRead.kind == kind) & (CommentRead.target == target)).first()
        return row.seen if row is not None else 0.0

    @staticmethod
    def _members(project_id: int) -> list[str]:
        """Who may be mentioned: the accounts that may read the project."""
        return [u.name for u in User.select(User.name, User.admin).where(~User.disabled)
                if access.allowed(Actor(u.name, admin=bool(u.admin), shared=True), Action.READ, project_id)]

    def _view(self, row: Comment, seen: float, members: list[str]) -> CommentView:
        mine = row.author == self.actor.name or access.role(self.actor, row.project_id) >= access.Role.ADMIN
        stamp = (row.edited or row.created).timestamp()
        return CommentView(row.id, row.author, row.body, markup.render(row.body, members), tuple(row.mentions or ()),
                           row.created, row.edited, mine, row.author != self.actor.name and stamp > seen)

    def _publish(self, row: Comment, mentions: tuple[str, ...]) -> None:
        if self._bus is not None:
            self._bus.publish(CommentsChanged(row.kind, row.target, row.id, row.author, mentions))


def project_of(kind: str, target: str | int) -> int | None:
    """The project an object belongs to (a model is a checkpoint, named by its id)."""
    try:
        key = int(target)
    except (TypeError, ValueError):
        return None
    if kind == 'model':
        checkpoint = Checkpoint.get_or_none(Checkpoint.id == key)
        return checkpoint.run.project_id if checkpoint is not None else None
    model = {'run': Run, 'dataset': Dataset, 'export': Export}.get(kind)
    row = model.get_or_none(model.id == key) if model is not None else None
    return row.project_id if row is not None else None
