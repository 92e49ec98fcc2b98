"""A project's sharing, as its owner and managers change it: visibility and members with their roles."""
from __future__ import annotations

from dataclasses import dataclass

from services import access
from services.access import Action, Actor, Role
from services.lab import roles
from services.settings import SettingsService
from services.store import Membership, Project, User

ROLE_NAMES = {Role.READ: 'read', Role.EDIT: 'edit', Role.MANAGE: 'manage'}


class SharingError(ValueError):
    """A sharing change that cannot be done, with a sentence saying why."""


@dataclass(frozen=True)
class MemberView:
    name: str
    role: str  # read | edit | manage


@dataclass(frozen=True)
class SharingView:
    project_id: int
    owner: str
    visibility: str  # private | read | edit
    members: tuple[MemberView, ...]
    role: str  # the acting user's own role here: none | read | edit | manage | admin
    may_manage: bool


@access.acts
class ProjectSharing:
    """Who may do what in a project; changing it needs Action.MANAGE there."""

    def __init__(self, actor: Actor, settings: SettingsService) -> None:
        self.actor = actor
        self._settings = settings

    @property
    def shared(self) -> bool:
        """Whether sharing means anything: on a local studio its one user has every project."""
        return self.actor.shared

    def of(self, project_id: int) -> SharingView:
        access.require(self.actor, Action.READ, project_id)
        members = tuple(MemberView(m.user, ROLE_NAMES.get(Role(m.role), 'read')) for m in
                        Membership.select().where(Membership.project == project_id).order_by(Membership.user))
        return SharingView(project_id, roles.owner_of(project_id), roles.visibility_of(project_id), members,
                           self.role(project_id), access.allowed(self.actor, Action.MANAGE, project_id))

    def role(self, project_id: int | None) -> str:
        """The acting user's role in a project, in words (the frame shows it)."""
        return access.role(self.actor, project_id).name.lower()

    def people(self) -> list[str]:
        """Every account's name, for choosing members and @mentions."""
        access.require(self.actor, Action.READ)
        return [u.name for u in User.select(User.name).where(~User.disabled).order_by(User.name)]

    def set_visibility(self, project_id: int, visibility: str) -> SharingView:
        access.require(self.actor, Action.MANAGE, project_id)
        if visibility not in roles.GRANTS:
            raise SharingError('Choose private, "the lab can read" or "the lab can edit".')
        before = roles.visibility_of(project_id)
        roles.share(project_id, owner=roles.owner_of(project_id), visibility=visibility)
        access.changed(before=before, after=visibility)
        return self.of(project_id)

    def set_role(self, project_id: int, name: str, role: str) -> SharingView:
        """Give a member a role (read, edit or manage); 'none' removes them."""
        access.require(self.actor, Action.MANAGE, project_id)
        if Project.get_or_none(Project.id == project_id) is None:
            raise SharingError('That project no longer exists.')
        if User.get_or_none(User.name == name) is None:
            raise SharingError(f'There is no account named {name}.')
        wanted = {v: k for k, v in ROLE_NAMES.items()}.get(role, Role.NONE if role == 'none' else None)
        if wanted is None:
            raise SharingError('A role is read, edit or manage.')
        row = Membership.get_or_none((Membership.project == project_id) & (Membership.user == name))
        before = ROLE_NAMES.get(Role(row.role), 'read') if row is not None else 'none'
        if wanted is Role.NONE:
            Membership.delete().where((Membership.project == project_id) & (Membership.user == name)).execute()
        else:
            Membership.insert(project=project_id, user=name, role=int(wanted)).on_conflict(
                conflict_target=[Membership.project, Membership.user], update={Membership.role: int(wanted)}) \
                .execute()
        access.changed(object_=f'project {project_id}, user {name}', before=before, after=role)
        return self.of(project_id)

    def default_visibility(self) -> str:
        return roles.default_visibility()

    def set_default_visibility(self, visibility: str) -> None:
        """The visibility new projects get (the setting `default_visibility`)."""
        access.require(self.actor, Action.SETTINGS)
        if visibility not in roles.GRANTS:
            raise SharingError('Choose private, "the lab can read" or "the lab can edit".')
        before = roles.default_visibility()
        self._settings.set('default_visibility', visibility)
        access.changed(object_='studio', before=before, after=visibility)
