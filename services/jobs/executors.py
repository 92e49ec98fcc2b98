"""Where a job's host runs: this machine (`services.jobs.host`, the default) or an executor the studio added
to `JobService.executors` (services/cluster: a SLURM batch job). The engine asks both the same things."""
from __future__ import annotations

from typing import Protocol

from services.i18n import Lazy
from services.jobs import host
from services.store import Job

LOCAL = 'local'


class Executor(Protocol):
    """What the engine asks of the place a job runs (`services.jobs.host` is the local one). A remote one also
    has `launch(job) -> dict` (what to keep in job.spec; it may block: the engine calls it on a thread)."""

    def alive(self, job: Job) -> bool: ...
    def signal_group(self, job: Job, sig: int) -> bool: ...
    def signal_host(self, job: Job, sig: int) -> None: ...
    def end_leftovers(self, job: Job) -> None: ...
    def lost(self, job: Job) -> str: ...
    def where(self, job: Job) -> str | Lazy: ...  # a Lazy: worded here, said in the language of the page showing it
    def waiting(self, job: Job) -> bool: ...  # taken but not started yet (e.g. pending in SLURM's queue)


class Unavailable:
    """A job of an executor this studio does not have (e.g. started by a studio set up for a cluster): never
    alive here, so it is settled from its result or as interrupted."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def launch(self, job: Job) -> dict:
        raise RuntimeError(f'this studio cannot submit to "{self.kind}" (not set up here).')

    def alive(self, job: Job) -> bool:
        return False

    def signal_group(self, job: Job, sig: int) -> bool:
        return False

    def signal_host(self, job: Job, sig: int) -> None:
        return None

    def end_leftovers(self, job: Job) -> None:
        return None

    def lost(self, job: Job) -> str:
        return f'This studio cannot reach "{self.kind}" jobs, so it lost track of this one.'

    def where(self, job: Job) -> str:
        return f'on {self.kind} (not reachable from this studio)'

    def waiting(self, job: Job) -> bool:
        return False


def remote(executor: dict | None) -> bool:
    """Whether an executor choice sends the job elsewhere than this machine."""
    return bool(executor) and executor.get('kind', LOCAL) not in ('', LOCAL)


def executor_of(job: Job, executors: dict) -> Executor:
    choice = (job.spec or {}).get('executor')
    if not remote(choice):
        return host
    return executors.get(choice['kind']) or Unavailable(choice['kind'])
