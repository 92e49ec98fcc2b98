"""What one page works with: the acting user and the area facades bound to them.

`Studio.session(actor, events)` (app/studio.py) builds one per page; the route wrapper hands a page the fields
its builder names as parameters (`def create(datasets: Datasets, project: ProjectView)`), so every page
signature says what it needs and no page reaches a service it did not ask for.

A facade is made on first use: a page that names `projects` and `jobs` makes those two, and the area
packages a page never asks for are not even imported (the studio starts without them: issue 7's launch).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.access import Actor
    from services.cluster import Cluster
    from services.datasets import Datasets
    from services.diagnostics import Diagnostics
    from services.events import Subscriber
    from services.example import Example
    from services.files import FilePolicy
    from services.jobs import Jobs
    from services.lab import Accounts, AuditLog, ProjectSharing
    from services.lab.comments import Comments
    from services.lab.history import History
    from services.lab.team import Team
    from services.models import Models
    from services.models.play import Play
    from services.models.testing import ModelTests
    from services.plugins import Plugins
    from services.projects import Projects
    from services.settings import Settings
    from services.system import System
    from services.training import Training
    from services.training.experiments import Experiments
    from services.training.sweeps import Sweeps

# every name a page may ask for → the class it gets ('module:Class')
FACADES = {
    'files': 'services.files:FilePolicy',
    'jobs': 'services.jobs:Jobs',
    'system': 'services.system:System',
    'plugins': 'services.plugins:Plugins',
    'datasets': 'services.datasets:Datasets',
    'models': 'services.models:Models',
    'play': 'services.models.play:Play',
    'projects': 'services.projects:Projects',
    'settings': 'services.settings:Settings',
    'example': 'services.example:Example',
    'training': 'services.training:Training',
    'experiments': 'services.training.experiments:Experiments',
    'accounts': 'services.lab:Accounts',
    'sharing': 'services.lab:ProjectSharing',
    'audit': 'services.lab:AuditLog',
    'comments': 'services.lab.comments:Comments',
    'history': 'services.lab.history:History',
    'team': 'services.lab.team:Team',
    'sweeps': 'services.training.sweeps:Sweeps',
    'diagnostics': 'services.diagnostics:Diagnostics',
    'cluster': 'services.cluster:Cluster',
    'model_tests': 'services.models.testing:ModelTests',
}


class Session:
    """The acting user, the page's event subscriber and its facades, each made on first use by its maker, which
    is given the facade's class (FACADES)."""

    actor: Actor
    events: Subscriber
    files: FilePolicy
    jobs: Jobs
    system: System
    plugins: Plugins
    datasets: Datasets
    models: Models
    play: Play
    projects: Projects
    settings: Settings
    example: Example
    training: Training
    experiments: Experiments
    accounts: Accounts
    sharing: ProjectSharing
    audit: AuditLog
    comments: Comments
    history: History
    team: Team
    sweeps: Sweeps
    diagnostics: Diagnostics
    cluster: Cluster
    model_tests: ModelTests

    def __init__(self, actor: Actor, events: Subscriber | None, makers: Mapping[str, Callable[[type], Any]]) -> None:
        missing = set(FACADES) - set(makers)
        if missing:
            raise TypeError(f'a Session needs a maker for {sorted(missing)}')
        self.actor, self.events, self._makers = actor, events, makers

    def __getattr__(self, name: str) -> Any:  # only for a facade not made yet
        makers = self.__dict__.get('_makers', {})
        if name not in makers:
            raise AttributeError(name)
        module, attribute = FACADES[name].split(':')
        facade = makers[name](getattr(importlib.import_module(module), attribute))  # the maker gets the class
        self.__dict__[name] = facade
        return facade

    @classmethod
    def names(cls) -> set[str]:
        """The names a page builder may ask for."""
        return {'actor', 'events', *FACADES}

    @staticmethod
    def types() -> dict[str, type]:
        """Each facade's class (imported: for tests and tools, not the pages' hot path)."""
        found = {}
        for name, where in FACADES.items():
            module, attribute = where.split(':')
            found[name] = getattr(importlib.import_module(module), attribute)
        return found
