"""Poll-until helpers shared by the tests: wait for a real job, or for the page, to reach a state —
never a fixed sleep. Timeouts are generous (a loaded 2-core machine); on success they return at once."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from services.jobs import FINISHED
from services.store import Dataset, Job, Run


def poll_until(condition: Callable[[], Any], timeout: float, *, studio=None, interval: float = 0.2,
               message: str | Callable[[], str] = 'condition not met in time') -> Any:
    """Call `condition()` until it returns something truthy, and return that. With `studio`, poll it first
    each round, as the UI's single poller would (jobs are noticed, hooks run). At the deadline, fail with
    `message` (or what the callable returns: e.g. the job's log tail)."""
    deadline = time.monotonic() + timeout
    while True:
        if studio is not None:
            studio.poll()
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(interval)


def build_finished(studio, dataset: Dataset, timeout: float = 180.0) -> Dataset:
    """Poll the studio like the UI does until the dataset's build has ended; its fresh row."""
    def ended() -> Dataset | None:
        fresh = Dataset.get_by_id(dataset.id)
        return fresh if fresh.status != 'building' else None
    return poll_until(ended, timeout, studio=studio, message=lambda: (
        f'dataset still building after {timeout} s:\n{studio.jobs.log_tail(dataset.job_id)}'))


def job_finished(studio, job: Job | int, timeout: float = 180.0) -> Job:
    """Poll the studio until the job (a row or its id) has ended (done, failed, cancelled or interrupted);
    its fresh row."""
    job_id = job if isinstance(job, int) else job.id

    def ended() -> Job | None:
        fresh = Job.get_by_id(job_id)
        return fresh if fresh.status in FINISHED else None
    return poll_until(ended, timeout, studio=studio, message=lambda: (
        f'job still {Job.get_by_id(job_id).status} after {timeout} s:\n{studio.jobs.log_tail(job_id)}'))


def wait_for(studio, condition: Callable[[], Any], timeout: float = 600, what: str = 'condition') -> Any:
    """poll_until for the real-RAVE tests: on failure the message names `what` and shows every job's log tail."""
    def report() -> str:
        logs = '\n'.join(f'--- job {j.id} {j.kind} {j.status}: {j.message}\n{studio.jobs.log_tail(j.id, 3000)}'
                         for j in Job.select())
        return f'timed out after {timeout} s waiting for {what}\n{logs}'
    return poll_until(condition, timeout, studio=studio, interval=0.3, message=report)


async def until(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05,
                message: str = 'the page never reached the expected state') -> Any:
    """For user-fixture tests (event handlers run as tasks): wait, without blocking the loop, until
    `condition()` is truthy; return it."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, message
        await asyncio.sleep(interval)
    return result


def run_ended(studio, run_id: int) -> Callable[[], Run | None]:
    """A wait_for condition: the run's fresh row once its current job has ended."""
    def check() -> Run | None:
        run = Run.get_by_id(run_id)
        return run if Job.get_by_id(run.job_id).status in FINISHED else None
    return check


async def see(user, text: str, timeout: float = 300) -> None:
    """should_see with a deadline fit for a gin check or a real run on a loaded machine."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await user.should_see(text, retries=1)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def texts(user, marker: str) -> str:
    """Every text under the elements marked `marker`, joined (what a person reads there)."""
    out = []
    for element in user.find(marker=marker).elements:
        for e in [element, *element.descendants()]:
            out.append(str(getattr(e, 'text', '') or getattr(e, 'content', '') or ''))
    return ' '.join(out)
