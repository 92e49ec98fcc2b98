"""The one authorisation rule: who may do what, checked in the services (a page cannot forget it).

Every facade method names the action it performs and calls `require(actor, action, project)` first. The acting
user comes from the request (app/auth.py) as an `Actor`; on a local studio the one user is `local()`.

Each facade class is marked `@acts`: a call of one of its public methods is an `Act` that notes the rights its
`require`s asked for and, once the method has returned or raised, tells the observers (the lab's audit log)
whether it was done, failed (with its sentence) or refused — what happened, not what was about to.

Roles, lowest to highest: read < edit < manage < admin (MLflow's LAN model: a project grants read, edit or
manage; admins stand above every project). On a local studio the user is the admin of everything, but gin code
still asks for a confirmation (`Action.RUN_CODE` in services that execute gin).
"""
from __future__ import annotations

import enum
import functools
import inspect
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from services.i18n import N_, _

T = TypeVar('T')
F = TypeVar('F', bound=Callable)


class Role(enum.IntEnum):
    NONE = 0
    READ = 1
    EDIT = 2
    MANAGE = 3
    ADMIN = 4


class Action(enum.Enum):
    """What a service call does; each maps to the lowest role that may do it (`NEEDS`)."""
    READ = 'read'  # see a project's datasets, runs, exports, media
    EDIT = 'edit'  # create and change things: datasets, runs, exports, tags, notes, templates
    RUN = 'run'  # start, pause, stop, resume jobs (preprocess, train, export, inference)
    DELETE = 'delete'  # remove rows and files of a project
    MANAGE = 'manage'  # rename/delete a project, share it, restore into it, cancel other people's jobs
    EDIT_CODE = 'edit code'  # custom gin configs and extra gin bindings: gin imports and calls Python
    SETTINGS = 'settings'  # studio-wide settings (browsable folders, interpreter, limits)
    USERS = 'users'  # accounts and roles
    OUTSIDE_ROOTS = 'outside roots'  # name a folder outside the browsable ones (restore, project location)
    COMMENT = 'comment'  # write comments on what one may read (recorded in the audit log, unlike READ)


NEEDS: dict[Action, Role] = {
    Action.READ: Role.READ,
    Action.EDIT: Role.EDIT,
    Action.RUN: Role.EDIT,
    Action.DELETE: Role.EDIT,
    Action.MANAGE: Role.MANAGE,
    Action.EDIT_CODE: Role.ADMIN,
    Action.SETTINGS: Role.ADMIN,
    Action.USERS: Role.ADMIN,
    Action.OUTSIDE_ROOTS: Role.ADMIN,
    Action.COMMENT: Role.READ,
}

WHY = {  # the sentence a refusal says, after "You may not …" (translated where it is said)
    Action.READ: N_('see this project'),
    Action.EDIT: N_('change this project'),
    Action.RUN: N_('start or control jobs in this project'),
    Action.DELETE: N_('delete things in this project'),
    Action.MANAGE: N_('manage this project'),
    Action.EDIT_CODE: N_('edit gin code (custom configs and extra bindings can run Python on the server); '
                         'ask an admin'),
    Action.SETTINGS: N_('change the studio settings; ask an admin'),
    Action.USERS: N_('manage accounts; ask an admin'),
    Action.OUTSIDE_ROOTS: N_('use folders outside the browsable ones; ask an admin to add the folder in Settings'),
    Action.COMMENT: N_('comment in this project'),
}


class Forbidden(PermissionError):
    """An action the acting user may not do, with a sentence saying so."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user of a shared studio, or the one local user."""
    name: str
    admin: bool = False
    shared: bool = False  # the studio serves the network (`--share`)
    user_id: int | None = None

    @property
    def local(self) -> bool:
        return not self.shared


def local() -> Actor:
    """The user of a studio that serves only this machine: everything is theirs."""
    return Actor('local', admin=True, shared=False)


# A shared studio's actor's role in a project, admin included, as it stands now (an Actor is made once per page,
# so its `admin` is only what its sign-in said): set by the lab's sharing rules (see `set_project_roles`).
ProjectRoles = Callable[[Actor, int | None], Role]


def _default_roles(actor: Actor, project_id: int | None) -> Role:
    # every signed-in member may work in every project until projects are shared
    return Role.ADMIN if actor.admin else Role.EDIT


_project_roles: ProjectRoles = _default_roles


def set_project_roles(rule: ProjectRoles) -> None:
    """Install the role rule of a shared studio (the lab's sharing model, which reads the current rank of the
    account); the default believes the actor's `admin` and lets members edit everywhere."""
    global _project_roles
    _project_roles = rule


# Who is told of every facade call that needed more than READ, once it has ended: the act, its outcome
# ('done' | 'failed' | 'refused') and, unless done, the sentence it ended with (the lab's audit log).
Observer = Callable[['Act', str, str], None]
_observers: list[Observer] = []
log = logging.getLogger(__name__)


@dataclass
class Act:
    """One call of a facade method on its way: the rights it asked for and what it says it changed."""
    method: str  # Facade.method, e.g. Training.stop
    arguments: Callable[[], dict[str, Any]]  # its arguments by name (bound when someone reads them)
    actor: Actor | None = None
    right: Action | None = None  # the first right beyond READ it asked for
    project_id: int | None = None
    object: str = ''  # what it acted on, when its arguments do not say (set through `changed`)
    before: Any = None
    after: Any = None
    reads: bool = False  # it changes nothing (marked `reads`): only a refusal is worth an entry
    inner: list[tuple[str, Callable[[], dict[str, Any]]]] = field(default_factory=list)  # facade methods it called

    def _asked(self, actor: Actor, action: Action, project_id: int | None, granted: bool) -> None:
        if action is not Action.READ and (self.right is None or not granted):  # the first, or the refused one
            self.actor, self.right, self.project_id = actor, action, project_id
            if self.inner:  # e.g. Projects.current made the user a project: the entry is Projects.create's
                self.method, self.arguments = self.inner[-1]

    def _ended(self, outcome: str, sentence: str = '') -> None:
        if self.right is None or (self.reads and outcome != 'refused'):
            return  # it only read
        for observer in _observers:
            try:
                observer(self, outcome, sentence)
            except Exception:  # the action has happened: a log that cannot be written must not undo its answer
                log.exception('Could not record %s (%s)', self.method, outcome)


_act: ContextVar[Act | None] = ContextVar('act', default=None)


def observe(observer: Observer) -> None:
    """Be told of every ended facade call that needed more than READ (once per observer)."""
    if observer not in _observers:
        _observers.append(observer)


def acts(cls: type[T]) -> type[T]:
    """Make each public method of a facade class one act: the rights its `require`s ask for, then its outcome
    once it has returned or raised, told to the observers. A method a facade method calls is part of the
    caller's act; a method marked `reads` (it asks for an admin's right only to read) is told only when refused."""
    for name in dir(cls):
        method = inspect.getattr_static(cls, name)
        if not name.startswith('_') and inspect.isfunction(method) and not hasattr(method, '__act__'):
            setattr(cls, name, _act_of(cls.__name__, method))
    cls.__acts__ = True
    return cls


def reads(method: F) -> F:
    """Mark a facade method that changes nothing although the right it asks for is more than READ."""
    method.__reads__ = True
    return method


def changed(*, before: Any = None, after: Any = None, object_: str = '') -> None:
    """What the facade call in progress changes, where its before and after matter (renames, roles, settings)."""
    act = _act.get()
    if act is not None:
        act.before, act.after = before, after
        act.object = object_ or act.object


def _act_of(owner: str, method: Callable) -> Callable:
    reads = getattr(method, '__reads__', False)

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        outer = _act.get()
        if outer is not None:  # called by another facade method: part of its act
            outer.inner.append((f'{owner}.{method.__name__}', lambda: _bound(method, self, args, kwargs)))
            try:
                return method(self, *args, **kwargs)
            finally:
                outer.inner.pop()
        act = Act(f'{owner}.{method.__name__}', lambda: _bound(method, self, args, kwargs), reads=reads)
        token = _act.set(act)
        try:
            result = method(self, *args, **kwargs)
        except Exception as e:
            _act.reset(token)
            act._ended('refused' if isinstance(e, Forbidden) else 'failed', str(e) or type(e).__name__)
            raise
        _act.reset(token)
        act._ended('done')
        return result

    call.__act__ = True
    return call


def _bound(method: Callable, this: object, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The arguments of a call by name (read only when an entry is written: signatures cost at import)."""
    try:
        arguments = inspect.signature(method).bind(this, *args, **kwargs)
    except TypeError:
        return {}
    arguments.apply_defaults()
    return dict(list(arguments.arguments.items())[1:])  # without self


def role(actor: Actor, project_id: int | None = None) -> Role:
    """The actor's role in a project (or studio-wide when `project_id` is None) as it stands now: an open page's
    actor demoted or removed since the page was built gets its new role at its next call."""
    if actor.local:
        return Role.ADMIN
    return _project_roles(actor, project_id)


def control(actor: Actor, owner: str) -> Action:
    """What steering a job (pause, stop, cancel) needs: RUN for one's own job, MANAGE for anyone else's."""
    return Action.RUN if actor.local or (owner and owner == actor.name) else Action.MANAGE


def allowed(actor: Actor, action: Action, project_id: int | None = None) -> bool:
    return role(actor, project_id) >= NEEDS[action]


def require(actor: Actor, action: Action, project_id: int | None = None) -> None:
    """Raise Forbidden (with a sentence) unless the actor may do `action` in the project; the facade call in
    progress notes the right (its act's entry in the audit log is written when it has ended)."""
    granted = allowed(actor, action, project_id)
    act = _act.get()
    if act is not None:
        act._asked(actor, action, project_id, granted)
    if not granted:
        raise Forbidden(_('You may not {what}.').format(what=_(WHY[action])))
