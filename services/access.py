"""The one authorisation rule: who may do what, checked in the services (a page cannot forget it).

Every facade method names the action it performs and calls `require(actor, action, project)` first. The acting
user comes from the request (app/auth.py) as an `Actor`; on a local studio the one user is `local()`.

Roles, lowest to highest: read < edit < manage < admin (MLflow's LAN model: a project grants read, edit or
manage; admins stand above every project). On a local studio the user is the admin of everything, but gin code
still asks for a confirmation (`Action.RUN_CODE` in services that execute gin).
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass


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

WHY = {  # the sentence a refusal says, after "You may not …"
    Action.READ: 'see this project',
    Action.EDIT: 'change this project',
    Action.RUN: 'start or control jobs in this project',
    Action.DELETE: 'delete things in this project',
    Action.MANAGE: 'manage this project',
    Action.EDIT_CODE: 'edit gin code (custom configs and extra bindings can run Python on the server); '
                      'ask an admin',
    Action.SETTINGS: 'change the studio settings; ask an admin',
    Action.USERS: 'manage accounts; ask an admin',
    Action.OUTSIDE_ROOTS: 'use folders outside the browsable ones; ask an admin to add the folder in Settings',
    Action.COMMENT: 'comment in this project',
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


# How a project grants roles beyond admin: set by the lab's sharing rules (see `set_project_roles`).
ProjectRoles = Callable[[Actor, int | None], Role]


def _default_roles(actor: Actor, project_id: int | None) -> Role:
    return Role.EDIT  # every signed-in member may work in every project until projects are shared


_project_roles: ProjectRoles = _default_roles


def set_project_roles(rule: ProjectRoles) -> None:
    """Install the per-project role rule (the lab's sharing model); the default lets members edit everywhere."""
    global _project_roles
    _project_roles = rule


# Who is told of every `require` (the lab's audit log): actor, action, project, granted.
Observer = Callable[[Actor, Action, int | None, bool], None]
_observers: list[Observer] = []
_acting: ContextVar[Actor | None] = ContextVar('acting', default=None)


def observe(observer: Observer) -> None:
    """Be told of every authorisation decision (once per observer)."""
    if observer not in _observers:
        _observers.append(observer)


def acting() -> Actor | None:
    """The actor a `require` granted last in this context: who the engine's work is for (a job's owner)."""
    return _acting.get()


def role(actor: Actor, project_id: int | None = None) -> Role:
    """The actor's role in a project (or studio-wide when `project_id` is None)."""
    if actor.admin or actor.local:
        return Role.ADMIN
    return _project_roles(actor, project_id)


def control(actor: Actor, owner: str) -> Action:
    """What steering a job (pause, stop, cancel) needs: RUN for one's own job, MANAGE for anyone else's."""
    return Action.RUN if actor.local or (owner and owner == actor.name) else Action.MANAGE


def allowed(actor: Actor, action: Action, project_id: int | None = None) -> bool:
    return role(actor, project_id) >= NEEDS[action]


def require(actor: Actor, action: Action, project_id: int | None = None) -> None:
    """Raise Forbidden (with a sentence) unless the actor may do `action` in the project."""
    granted = allowed(actor, action, project_id)
    if granted:
        _acting.set(actor)
    for observer in _observers:
        observer(actor, action, project_id, granted)
    if not granted:
        raise Forbidden(f'You may not {WHY[action]}.')
