"""The team view: the lab's activity (from the audit log), what runs on which device for whom, and each member's
projects — all limited to the projects the viewer may read."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services import access
from services.access import Action, Actor, Role
from services.i18n import N_
from services.jobs.engine import ACTIVE
from services.lab import roles
from services.store import AuditEntry, Job, Membership, Project, User

VERBS = {  # how an audited facade method reads in the feed (shown through _()); others read as "method (Facade)"
    'Training.start': N_('started a training'), 'Training.stop': N_('stopped a training'),
    'Training.resume': N_('resumed a run'), 'Training.cancel': N_('cancelled a training'),
    'Training.pause': N_('paused a training'), 'Datasets.start': N_('started preprocessing a dataset'),
    'Datasets.delete': N_('deleted a dataset'), 'Models.start_export': N_('started an export'),
    'Models.start_batch': N_('started exports'), 'Models.delete_export': N_('deleted an export'),
    'Comments.add': N_('commented'), 'Comments.edit': N_('edited a comment'), 'Projects.create': N_('made a project'),
    'Projects.delete': N_('deleted a project'), 'Experiments.set_notes': N_('wrote run notes'),
    'Experiments.set_tags': N_('tagged a run'),
    'ProjectSharing.set_role': N_('changed a role'),
    'ProjectSharing.set_visibility': N_('changed who may see a project'), 'Jobs.cancel': N_('cancelled a job'),
    'Accounts.add': N_('added an account'), 'Accounts.invite': N_('invited someone'),
    'Accounts.disable': N_('disabled an account'), 'Accounts.enable': N_('enabled an account'),
    'Accounts.promote': N_('made an admin'), 'Accounts.demote': N_('demoted an admin'),
    'Accounts.delete': N_('deleted an account'), 'Accounts.reset': N_('reset a password'),
}
DONE = ('done', 'allowed')  # entries written before the log had outcomes say 'allowed'


@dataclass(frozen=True)
class ActivityView:
    time: dt.datetime
    user: str
    what: str
    object: str
    project: str


@dataclass(frozen=True)
class RunningView:
    job_id: int
    title: str
    kind: str
    status: str
    device: str
    owner: str
    project: str


@dataclass(frozen=True)
class MemberView:
    name: str
    admin: bool
    disabled: bool
    projects: tuple[tuple[str, str], ...]  # (project name, role) of the projects the viewer may read


@access.acts
class Team:
    """The lab at a glance, as the acting user may see it."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def activity(self, limit: int = 40) -> list[ActivityView]:
        """What people did lately, newest first (failed and refused attempts are the audit log's, not the
        feed's)."""
        access.require(self.actor, Action.READ)
        names = self._readable()
        query = AuditEntry.select().where(AuditEntry.outcome.in_(DONE)).order_by(AuditEntry.time.desc(),
                                                                                  AuditEntry.id.desc())
        found: list[ActivityView] = []
        for entry in query.limit(limit * 4):
            if entry.project_id is not None and entry.project_id not in names:
                continue
            facade, _, method = entry.action.partition('.')
            what = VERBS.get(entry.action) or f'{method.replace("_", " ")} ({facade})'
            found.append(ActivityView(entry.time, entry.user, what, entry.object,
                                      names.get(entry.project_id, '') if entry.project_id else ''))
            if len(found) == limit:
                break
        return found

    def running(self) -> list[RunningView]:
        """Every running, paused or queued job of a project the viewer may read, by device."""
        access.require(self.actor, Action.READ)
        names = self._readable()
        jobs = Job.select().where(Job.status.in_(list(ACTIVE))).order_by(Job.device, Job.id)
        return [RunningView(j.id, j.title, j.kind, j.status, j.device or 'cpu', j.owner or '—',
                            names.get(j.project_id, '')) for j in jobs
                if j.project_id is None or j.project_id in names]

    def members(self) -> list[MemberView]:
        """Each account and their role in each project the viewer may read."""
        access.require(self.actor, Action.READ)
        names = self._readable()
        memberships: dict[str, list[tuple[str, str]]] = {}
        for m in Membership.select().where(Membership.project.in_(list(names))):
            memberships.setdefault(m.user, []).append((names[m.project_id], Role(m.role).name.lower()))
        for project_id, name in names.items():
            owner = roles.owner_of(project_id)
            if owner:
                memberships.setdefault(owner, []).append((name, 'owner'))
        return [MemberView(u.name, bool(u.admin), bool(u.disabled), tuple(sorted(memberships.get(u.name, []))))
                for u in User.select().order_by(User.name)]

    def _readable(self) -> dict[int, str]:
        return {p.id: p.name for p in Project.select(Project.id, Project.name)
                if access.allowed(self.actor, Action.READ, p.id)}
