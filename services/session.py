"""What one page works with: the acting user and the area facades bound to them.

`Studio.session(actor, events)` (app/studio.py) builds one per page; the route wrapper hands a page the fields
its builder names as parameters (`def create(datasets: Datasets, project: ProjectView)`), so every page
signature says what it needs and no page reaches a service it did not ask for.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

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


@dataclass(frozen=True)
class Session:
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

    @classmethod
    def names(cls) -> set[str]:
        """The names a page builder may ask for."""
        return {f.name for f in fields(cls)}
