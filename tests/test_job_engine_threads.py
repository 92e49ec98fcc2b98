"""The job engine under threads: submits from worker threads (as a dataset clone does in `run.io_bound`) while
the poller starts queued jobs never launch a job twice, and the slot limit holds. Real child processes."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from services.jobs import FINISHED, JobService
from services.store import Job, open_database

THREADS, PER_THREAD, LIMIT = 4, 5, 2
# each launch of a job appends one line to `launches` in its own working folder, with its start and end time
SCRIPT = 'import os, time; t = time.time(); time.sleep(0.3); ' \
         'open("launches", "a").write(f"{os.getpid()} {t} {time.time()}\\n")'


@pytest.fixture
def engine(data_dir: Path):
    open_database(data_dir / 'studio.db')
    svc = JobService(data_dir)
    svc.limits['cpu'] = LIMIT
    yield svc
    for child in list(svc._children.values()) + svc._reaping:
        child.kill()
        child.wait(timeout=10)


def test_concurrent_submits_while_polling_launch_each_job_once(engine: JobService, tmp_path: Path) -> None:
    folders: list[Path] = []
    errors: list[BaseException] = []
    go = threading.Barrier(THREADS + 1)
    stop = threading.Event()

    def submitter(n: int) -> None:
        try:
            go.wait()
            for i in range(PER_THREAD):
                folder = tmp_path / f'job-{n}-{i}'
                folder.mkdir()
                folders.append(folder)
                # every other job is only queued: the poller thread launches it, racing the next submit
                engine.submit('task', f'job {n}.{i}', [sys.executable, '-c', SCRIPT], cwd=folder, slot='cpu',
                              start=i % 2 == 0)
        except BaseException as e:  # noqa: BLE001 — reported by the main thread
            errors.append(e)

    def poller() -> None:
        go.wait()
        while not stop.is_set():
            try:
                engine.poll()
            except BaseException as e:  # noqa: BLE001 — reported by the main thread
                errors.append(e)
                return
            time.sleep(0.01)

    threads = [threading.Thread(target=submitter, args=(n,)) for n in range(THREADS)]
    polling = threading.Thread(target=poller)
    for thread in (*threads, polling):
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    deadline = time.monotonic() + 180  # 20 short jobs, two at a time, on a busy machine
    while Job.select().where(Job.status.not_in(FINISHED)).count() and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    polling.join(timeout=30)

    assert not errors, errors
    jobs = list(Job.select())
    assert len(jobs) == THREADS * PER_THREAD
    assert all(job.status == 'done' for job in jobs), [(j.title, j.status, j.message) for j in jobs]
    launches = [line.split() for folder in folders for line in (folder / 'launches').read_text().splitlines()]
    assert all(len((folder / 'launches').read_text().splitlines()) == 1 for folder in folders), \
        'a job was launched more than once'
    spans = sorted((float(start), float(end)) for _, start, end in launches)
    for start, _ in spans:  # at most LIMIT jobs of the slot ran at any moment
        assert sum(1 for s, e in spans if s <= start < e) <= LIMIT
