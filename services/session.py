"""What one page works with: the acting user and the area facades bound to them.

`Studio.session(actor)` (app/studio.py) builds it per page; the route wrapper hands a page the fields its
builder names as parameters (`def create(datasets: Datasets, project: ProjectView)`), so every page signature
says what it needs and no page can reach a service it did not ask for.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from services.access import Actor
from services.events import Subscriber
from services.files import FilePolicy
from services.jobs import Jobs
from services.system import System


@dataclass(frozen=True)
class Session:
    actor: Actor
    events: Subscriber
    files: FilePolicy
    jobs: Jobs
    system: System
    areas: dict[str, Any]  # the area facades by name: projects, settings, datasets, training, models, …

    def get(self, name: str) -> Any:
        """The facade (or field) called `name`, for the route wrapper's injection."""
        if name in self.areas:
            return self.areas[name]
        if name in {f.name for f in fields(self)} and name != 'areas':
            return getattr(self, name)
        raise KeyError(name)

    def names(self) -> set[str]:
        return {f.name for f in fields(self) if f.name != 'areas'} | set(self.areas)
