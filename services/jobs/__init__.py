"""Jobs: child processes that outlive the UI (the engine is `engine.py`) and `Jobs`, the facade pages use.

Pages see `JobView` snapshots and act through `Jobs`, which checks the acting user first.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from services import access
from services.access import Action, Actor
from services.jobs.engine import ACTIVE, CANCEL_GRACE_S, FINISHED, REPO_ROOT, JobService
from services.jobs.host import job_folder, write_control
from services.jobs.queue import slots_of
from services.jobs.state import JobState
from services.store import Job

__all__ = ['ACTIVE', 'CANCEL_GRACE_S', 'FINISHED', 'REPO_ROOT', 'JobService', 'JobState', 'JobView', 'Jobs',
           'job_folder', 'slots_of', 'write_control']


@dataclass(frozen=True)
class JobView:
    """One job as a page shows it (a copy: it never changes under the page)."""
    id: int
    kind: str
    title: str
    status: str
    command: str = ''
    progress: float | None = None
    detail: str = ''
    eta_s: float | None = None
    message: str = ''
    started: float | None = None
    project_id: int | None = None
    owner: str = ''  # who started it
    cooperative: bool = False  # pauses between steps (training) instead of being frozen
    where: str = ''  # where it runs beyond this machine, in words (e.g. 'SLURM job 12: running on node3')

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@access.acts
class Jobs:
    """The job engine as the acting user may see and steer it."""

    def __init__(self, engine: JobService, actor: Actor) -> None:
        self._engine = engine
        self.actor = actor

    def active(self) -> list[JobView]:
        """Running, paused and queued jobs, in the engine's order."""
        return [self._view(s) for s in self._engine.active()]

    def get(self, job_id: int) -> JobView | None:
        state = self._engine.states.get(job_id)
        if state is None:
            job = Job.get_or_none(Job.id == job_id)
            state = self._engine.track(job) if job is not None else None
        return self._view(state) if state is not None else None

    def pause(self, job_id: int) -> None:
        self._require(job_id)
        self._engine.pause(job_id)

    def resume(self, job_id: int) -> None:
        self._require(job_id)
        self._engine.resume(job_id)

    def cancel(self, job_id: int) -> None:
        self._require(job_id)
        self._engine.cancel(job_id)

    def request_stop(self, job_id: int) -> None:
        self._require(job_id)
        self._engine.request_stop(job_id)

    def log_tail(self, job_id: int, max_bytes: int = 20000) -> str:
        self._require(job_id, Action.READ)
        return self._engine.log_tail(job_id, max_bytes)

    def read_log(self, job_id: int, offset: int) -> tuple[str, int]:
        """Whole new lines after byte `offset` (negative: that many bytes before the end), and the new
        offset."""
        self._require(job_id, Action.READ)
        return self._engine.read_log(job_id, offset)

    def log_size(self, job_id: int) -> int:
        return self._engine.log_size(job_id)

    def may_control(self, job: JobView) -> bool:
        """Whether the user may pause, stop or cancel `job`: their own, or any in a project they manage."""
        return access.allowed(self.actor, access.control(self.actor, job.owner), job.project_id)

    def _require(self, job_id: int, action: Action = Action.RUN) -> None:
        state = self._engine.states.get(job_id)
        if action is Action.RUN and state is not None:
            action = access.control(self.actor, state.owner)
        access.require(self.actor, action, state.project_id if state else None)

    def _view(self, state: JobState) -> JobView:
        values = {f.name: getattr(state, f.name) for f in dataclasses.fields(JobView)
                  if hasattr(state, f.name)}
        values['where'] = str(values.get('where') or '')  # worded on the engine's thread, said in the page's language
        return JobView(**values, cooperative=state.kind in self._engine.cooperative)
