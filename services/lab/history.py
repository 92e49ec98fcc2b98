"""Version history of what people edit in the studio: custom gin configs, run templates and run notes.

Every save is kept as a row (`keep`, called where each of them is saved); two versions compare as a unified diff
(difflib) and an old one is restored by saving it again through its own facade, so a restore checks what a
save checks (gin for configs) and becomes the newest version itself.

Why the database and not a git repository per project (dulwich/pygit2): the things kept are small texts that
already live in the database or beside it, a version needs its author from the studio's accounts and its
project's roles, a backup carries the rows with its project (services/backup.py) and a restore keeps them, and
the studio stays one SQLite file to copy; git would add a second store to keep consistent with it, for branches
and merges nobody asked for.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from services import access
from services.access import Action, Actor
from services.i18n import N_, _
from services.store import Run, Version

if TYPE_CHECKING:  # the training area imports this module to keep its versions
    from services.training import Training
    from services.training.experiments import Experiments

KINDS = {'config': N_('custom gin config'), 'template': N_('run template'), 'notes': N_('run notes')}  # through _()


class HistoryError(ValueError):
    """A version that cannot be shown or restored, with a sentence saying why."""


@dataclass(frozen=True)
class VersionView:
    id: int
    kind: str
    name: str
    author: str
    created: dt.datetime
    size: int  # characters
    current: bool  # the newest version


def keep(project_id: int, kind: str, name: str | int, body: str | dict, actor: Actor) -> None:
    """A new version of a thing just saved (unchanged saves make no new version)."""
    text = body if isinstance(body, str) else json.dumps(body, indent=2, sort_keys=True)
    last = _versions(project_id, kind, str(name)).first()
    if last is None or last.body != text:
        Version.create(project=project_id, kind=kind, name=str(name), body=text, author=actor.name)


# How an old version is saved again: (project id, name, body, code confirmed) → None.
Restorer = Callable[[int, str, str, bool], None]


def restorers(training: Training, experiments: Experiments) -> dict[str, Restorer]:
    """Each kind restored through the facade that saves it (as the same acting user)."""
    def config(project_id: int, name: str, body: str, confirmed: bool) -> None:
        entry = next((c for c in training.custom_configs(project_id) if c.name == name), None)
        training.save_config(project_id, name, body, entry.description if entry else '',
                             entry.role if entry else 'base', entry.derived_from if entry else '', replace=True,
                             code_confirmed=confirmed)

    def template(project_id: int, name: str, body: str, confirmed: bool) -> None:
        from services.training.spec import RunSpec  # here: the training area imports this module
        kept = json.loads(body)
        training.save_template(project_id, name, RunSpec.from_dict({**kept['choices'], 'name': name}),
                               kept.get('description') or '', replace=True)

    def notes(project_id: int, name: str, body: str, confirmed: bool) -> None:
        experiments.set_notes(int(name), body)

    return {'config': config, 'template': template, 'notes': notes}


@access.acts
class History:
    """The versions of one project's edited things, as the acting user may read and restore them."""

    def __init__(self, actor: Actor, restorers: dict[str, Restorer]) -> None:
        self.actor = actor
        self._restorers = restorers

    def names(self, project_id: int) -> dict[str, list[str]]:
        """What has a history in the project, by kind."""
        access.require(self.actor, Action.READ, project_id)
        found: dict[str, list[str]] = {kind: [] for kind in KINDS}
        for row in Version.select(Version.kind, Version.name).where(Version.project == project_id) \
                .distinct().order_by(Version.kind, Version.name):
            found.setdefault(row.kind, []).append(row.name)
        return found

    def versions(self, project_id: int, kind: str, name: str | int) -> list[VersionView]:
        """Newest first."""
        access.require(self.actor, Action.READ, project_id)
        rows = list(_versions(project_id, kind, str(name)))
        return [VersionView(r.id, r.kind, r.name, r.author, r.created, len(r.body), n == 0)
                for n, r in enumerate(rows)]

    def text(self, version_id: int) -> str:
        return self._row(version_id, Action.READ).body

    def diff(self, older_id: int, newer_id: int) -> list[str]:
        """The unified diff from one version to another (lines, without line ends)."""
        old, new = self._row(older_id, Action.READ), self._row(newer_id, Action.READ)
        if (old.project_id, old.kind, old.name) != (new.project_id, new.kind, new.name):
            raise HistoryError(_('Compare two versions of the same thing.'))
        return list(difflib.unified_diff(old.body.splitlines(), new.body.splitlines(),
                                         f'{old.created:%Y-%m-%d %H:%M:%S} {old.author}',
                                         f'{new.created:%Y-%m-%d %H:%M:%S} {new.author}', lineterm=''))

    def restore(self, version_id: int, *, code_confirmed: bool = False) -> None:
        """Save an old version again (it becomes the newest); slow for gin configs (gin checks it, and it
        needs `code_confirmed`): off the event loop."""
        row = self._row(version_id, Action.EDIT)
        restorer = self._restorers.get(row.kind)
        if restorer is None:
            raise HistoryError(_('A {kind} cannot be restored here.').format(kind=_(KINDS.get(row.kind, row.kind))))
        if row.kind == 'notes' and Run.get_or_none(Run.id == int(row.name)) is None:
            raise HistoryError(_('That run was deleted: its notes cannot come back.'))
        restorer(row.project_id, row.name, row.body, code_confirmed)

    def _row(self, version_id: int, action: Action) -> Version:
        row = Version.get_or_none(Version.id == version_id)
        if row is None:
            raise HistoryError(_('That version no longer exists.'))
        access.require(self.actor, action, row.project_id)
        return row


def _versions(project_id: int, kind: str, name: str):
    return Version.select().where((Version.project == project_id) & (Version.kind == kind) &
                                  (Version.name == name)).order_by(Version.created.desc(), Version.id.desc())
