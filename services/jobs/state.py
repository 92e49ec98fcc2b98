"""What the engine knows of a job between two polls, and the shapes of the hooks that read it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from services.i18n import Lazy
from services.store import Job


@dataclass
class JobState:
    """What the UI shows about one job; refreshed by `JobService.poll`."""
    id: int
    kind: str
    title: str
    status: str
    command: str = ''
    progress: float | None = None  # 0..1, None when the total is unknown
    detail: str = ''
    eta_s: float | None = None
    message: str = ''
    last: dict = field(default_factory=dict)  # every progress key seen so far, latest value
    started: float | None = None
    project_id: int | None = None
    owner: str = ''  # who started it
    where: str | Lazy = ''  # where it runs beyond this machine, in words (its SLURM state: said by str() in a page)


FinishHandler = Callable[[Job], None]
Describer = Callable[[JobState], None]
