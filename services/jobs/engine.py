"""The job engine: child processes that outlive the UI, queued per slot, watched by one poller.

Each job runs under `services.workers.runner` in its own session and process group. The runner keeps
`log.txt`, `progress.jsonl` and `result.json` in the job folder; this service reads them incrementally.
"""
from __future__ import annotations

import functools
import json
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil

from services.events import Bus, JobLog, JobsChanged
from services.hookspecs import JobKind
from services.jobs import host, queue
from services.jobs.executors import Executor, executor_of, remote
from services.jobs.host import folder_of, job_folder, write_control
from services.jobs.kinds import JobKinds
from services.jobs.queue import slots_of
from services.jobs.state import JobState
from services.store import Job, Project, db, now

ACTIVE = ('queued', 'running', 'paused')
CANCEL_GRACE_S = 15.0
FINISHED = ('done', 'failed', 'interrupted', 'cancelled')
REPO_ROOT = Path(__file__).resolve().parents[2]


def _locked(method):
    """Run a JobService method under its lock (the poller, pages and worker threads all call in)."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.lock:
            return method(self, *args, **kwargs)
    return wrapper


class JobService:
    """Submit, start, watch and steer jobs. Every entry point takes one lock, so a submit from a worker thread
    and the poller's start of queued jobs never launch a job twice."""

    def __init__(self, data_dir: Path, bus: Bus | None = None) -> None:
        self.root = data_dir / 'jobs'
        self.bus = bus or Bus()
        self.lock = threading.RLock()
        self._changed: set[int] = set()  # jobs whose state changed since the last published JobsChanged
        self._log_sizes: dict[int, int] = {}
        self.root.mkdir(parents=True, exist_ok=True)
        self.states: dict[int, JobState] = {}
        self.limits: dict[str, int] = {'cpu': 1, 'preprocess': 1}  # slots named gpu:N hold one job each too
        self.kinds = JobKinds()
        self._offsets: dict[int, int] = {}
        self._children: dict[int, subprocess.Popen] = {}
        self._reaping: list[subprocess.Popen] = []  # hosts that wrote their result but have not exited yet
        self._cancel_deadline: dict[int, float] = {}
        self.executors: dict[str, Executor] = {}  # where a job may run besides this machine, e.g. 'slurm'
        self._handing: set[int] = set()  # remote jobs being submitted (sbatch) on a thread
        self.version = 0  # bumps whenever a state changes, so views can skip redraws

    # ---- public API -------------------------------------------------------------------------
    def kinds_from(self, source: Callable[[], Iterable[JobKind]]) -> None:
        """Register the kinds `source()` returns when a job first needs to know its kind (services/jobs/kinds.py)."""
        self.kinds.kinds_from(source)

    def register(self, kind: JobKind) -> None:
        self.kinds.register(kind)  # its console parser, describer, finish hook, whether its worker pauses itself

    def parser_of(self, kind: str) -> str:  # 'module:function' the runner imports to read the console ('': none)
        return self.kinds.parser_of(kind)

    @property
    def cooperative(self) -> set[str]:  # the kinds whose worker pauses itself between steps (control.json)
        return self.kinds.cooperative

    @_locked
    def submit(self, kind: str, title: str, argv: list[str], *, command: str = '',
               project: Project | None = None, cwd: str | Path = '', stdin: str = '',
               stall_s: float | None = None, env: dict | None = None, spec: dict | None = None,
               slot: str | None = None, start: bool = True, executor: dict | None = None, owner: str = '') -> Job:
        """Queue a job for `owner` (who started it: the facade that starts it names its actor; '' for nobody in
        particular, e.g. the command line); it starts now or at a later poll, when its slot is free.

        With `start=False` it is only queued: whichever studio polls next launches it. A remote `executor`
        ({'kind': 'slurm', ...}) runs it there, holding no slot here."""
        if remote(executor):
            spec, slot = {**(spec or {}), 'executor': executor}, ''
        with db.atomic():  # another studio on this data folder sees the queued job only with its folder
            job = Job.create(kind=kind, title=title, argv=argv, command=command or shlex.join(argv),
                             project=project, cwd=str(cwd), device=slot or '', spec=spec or {},
                             status='queued', owner=owner)
            folder = folder_of(self.root, job.id)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / 'job.json').write_text(json.dumps({
                'argv': argv, 'cwd': str(cwd), 'kind': kind, 'parser': self.parser_of(kind), 'stdin': stdin,
                'stall_s': stall_s, 'env': env or {}, 'owner': job.owner, 'cooperative': kind in self.cooperative}))
            job.folder = str(folder)
            job.save()
        self._track(job)
        self._bump(job.id)
        if start:
            self._start_ready()
        return job

    @_locked
    def cancel(self, job_id: int) -> None:
        """Stop a job now: queued jobs never start, running ones get their process group ended."""
        job = Job.get_by_id(job_id)
        if job.status == 'queued':
            self._finish(job, 'cancelled', None, 'Cancelled before it started.')
            return
        if job.status in ('running', 'paused'):
            executor_of(job, self.executors).signal_group(job, signal.SIGCONT)
            executor_of(job, self.executors).signal_host(job, signal.SIGTERM)
            # the host ends its group and writes result.json; if it cannot, the poller forces it
            self._cancel_deadline[job.id] = time.monotonic() + CANCEL_GRACE_S

    @_locked
    def request_stop(self, job_id: int) -> None:
        """Ask a job to finish gracefully (training writes a resumable checkpoint first)."""
        job = Job.get_by_id(job_id)
        if job.status == 'queued':
            self.cancel(job_id)
            return
        write_control(job_folder(job), stop=True, pause=False)
        if executor_of(job, self.executors).signal_group(job, signal.SIGCONT) and job.status == 'paused':
            self._set_status(job, 'running')  # it has to run to stop gracefully

    @_locked
    def pause(self, job_id: int) -> None:
        """Pause a running job: cooperative kinds wait between steps (their state stays consistent),
        the others are frozen with SIGSTOP."""
        job = Job.get_by_id(job_id)
        if job.status != 'running' or not executor_of(job, self.executors).alive(job):
            return
        if job.kind in self.cooperative:
            write_control(job_folder(job), pause=True)
            self._set_status(job, 'paused')
        elif executor_of(job, self.executors).signal_group(job, signal.SIGSTOP):
            self._set_status(job, 'paused')

    @_locked
    def resume(self, job_id: int) -> None:
        job = Job.get_by_id(job_id)
        if job.status != 'paused':
            return
        if job.kind in self.cooperative and executor_of(job, self.executors).alive(job):
            write_control(job_folder(job), pause=False)
            executor_of(job, self.executors).signal_group(job, signal.SIGCONT)  # frozen by an older studio?
            self._set_status(job, 'running')
        elif executor_of(job, self.executors).signal_group(job, signal.SIGCONT):
            self._set_status(job, 'running')

    def queued(self, slot: str | None = None) -> list[Job]:
        """Queued jobs (those needing `slot`, or any of a comma-separated list, if given) in start order."""
        return queue.queued(slot)

    def queue_position(self, job_id: int) -> tuple[int, int] | None:
        """(0-based place, length) of a queued job in the line of its slot; None when not queued."""
        return queue.position(job_id)

    @_locked
    def reorder(self, job_id: int, position: int) -> None:
        """Move a queued job to `position` (0 = next) among the queued jobs of its slot."""
        if queue.reorder(job_id, position):
            self._bump(job_id)

    def log_tail(self, job_id: int, max_bytes: int = 20000) -> str:
        return host.log_tail(folder_of(self.root, job_id) / 'log.txt', max_bytes)

    def log_size(self, job_id: int) -> int:
        path = folder_of(self.root, job_id) / 'log.txt'
        return path.stat().st_size if path.exists() else 0

    def read_log(self, job_id: int, offset: int) -> tuple[str, int]:
        """Whole lines of the log after byte `offset` (negative: that many bytes before the end)."""
        return host.read_lines(folder_of(self.root, job_id) / 'log.txt', offset)

    def active(self) -> list[JobState]:
        return [s for s in self.states.values() if s.status in ACTIVE]

    @_locked
    def reconcile(self) -> None:
        """On start-up: reattach to live jobs, settle the ones that ended or died meanwhile."""
        for job in Job.select().where(Job.status.in_(ACTIVE)):
            self._track(job)
            if job.status == 'queued':
                continue
            result = host.read_result(job)
            if result is not None:
                self._finish(job, result['status'], result.get('exit_code'), result.get('message', ''))
            elif not executor_of(job, self.executors).alive(job):
                executor_of(job, self.executors).end_leftovers(job)
                self._finish(job, 'interrupted', None,
                             'The job stopped while the studio was not running (machine restart or kill); '
                             'start it again.')
        self.poll()

    @_locked
    def poll(self) -> None:
        """One tick of the global poller: progress, liveness, finished jobs, queue."""
        self._reaping = [child for child in self._reaping if child.poll() is None]
        for job in Job.select().where(Job.status.in_(('running', 'paused'))):
            self._read_progress(job)
            self._where(job)
            if job.id in self._handing:
                continue  # its executor has not said yet whether it took it
            child = self._children.get(job.id)
            if child is not None:
                child.poll()  # reap the host so it does not linger as a zombie
            result = host.read_result(job)
            if result is not None:
                self._finish(job, result['status'], result.get('exit_code'), result.get('message', ''))
            elif not executor_of(job, self.executors).alive(job):
                result = host.read_result(job)  # it may have written its result just before exiting
                if result is not None:
                    self._finish(job, result['status'], result.get('exit_code'), result.get('message', ''))
                elif job.id in self._cancel_deadline:
                    executor_of(job, self.executors).end_leftovers(job)
                    self._finish(job, 'cancelled', None, 'Cancelled by the user.')
                else:
                    executor_of(job, self.executors).end_leftovers(job)
                    self._finish(job, 'interrupted', None, executor_of(job, self.executors).lost(job))
            elif time.monotonic() > self._cancel_deadline.get(job.id, float('inf')):
                executor_of(job, self.executors).signal_group(job, signal.SIGKILL)  # the host did not end in time
                executor_of(job, self.executors).end_leftovers(job)
                self._finish(job, 'cancelled', None, 'Cancelled by the user (forced).')
        self._start_ready()
        self._publish()

    def track(self, job: Job) -> JobState:
        """The state of a job (read from its files the first time it is asked for)."""
        return self._track(job)

    def shutdown_children(self) -> None:
        """Forget Popen handles without touching the jobs: they keep running on their own."""
        self._children.clear()

    # ---- internals ------------------------------------------------------------------------
    def _bump(self, job_id: int) -> None:
        self.version += 1
        self._changed.add(job_id)

    def _publish(self) -> None:
        """One JobsChanged for what changed since the last one, a JobLog per running job whose log grew."""
        if self._changed:
            self.bus.publish(JobsChanged(tuple(sorted(self._changed))))
            self._changed.clear()
        for state in self.states.values():
            if state.status not in ('running', 'paused'):
                self._log_sizes.pop(state.id, None)
                continue
            size = self.log_size(state.id)
            if size != self._log_sizes.get(state.id):
                self._log_sizes[state.id] = size
                self.bus.publish(JobLog(state.id, size))

    def _track(self, job: Job) -> JobState:
        state = self.states.get(job.id)
        if state is None:
            state = JobState(id=job.id, kind=job.kind, title=job.title, status=job.status,
                             command=job.command, message=job.message,
                             project_id=job.project_id, owner=job.owner,
                             started=job.started.timestamp() if job.started else None)
            self.states[job.id] = state
            self._offsets[job.id] = 0
            self._read_progress(job)
        return state

    def _start_ready(self) -> None:
        """Start queued jobs in queue order; a job waits until every slot it needs has room, and the
        slots of a waiting job stay reserved for it, so later jobs never overtake it."""
        running: dict[str, int] = {}
        for job in Job.select().where(Job.status.in_(('running', 'paused'))):
            for slot in slots_of(job.device):
                running[slot] = running.get(slot, 0) + 1
        reserved: set[str] = set()
        for job in self.queued():
            needed = slots_of(job.device)
            if any(slot in reserved or running.get(slot, 0) >= self._limit(slot) for slot in needed):
                reserved.update(needed)
                continue
            self._launch(job)
            for slot in needed:
                running[slot] = running.get(slot, 0) + 1

    def _limit(self, slot: str) -> float:
        if slot in self.limits:
            return self.limits[slot]
        return 1 if slot.startswith('gpu:') else float('inf')

    def _launch(self, job: Job) -> None:
        if remote((job.spec or {}).get('executor')):
            self._submit_remote(job)
            return
        try:
            child = host.spawn(job_folder(job), REPO_ROOT)
        except OSError as e:
            self._finish(job, 'failed', None, f'Could not start the job: {e}')
            return
        self._children[job.id] = child
        job.pid = child.pid
        try:
            job.pid_started = psutil.Process(child.pid).create_time()
        except psutil.Error:  # it already ended (and is a zombie no longer): its result tells why
            job.pid_started = time.time()
        self._running(job)

    def _submit_remote(self, job: Job) -> None:
        """Hand the job to its executor on a thread (sbatch may be slow, or hang): shown queued until it starts."""
        self._handing.add(job.id)
        self._running(job)
        self._where(job)
        threading.Thread(target=self._hand_over, args=(job.id,), name=f'submit-{job.id}', daemon=True).start()

    def _hand_over(self, job_id: int) -> None:
        job = Job.get_by_id(job_id)
        try:
            taken, refusal = executor_of(job, self.executors).launch(job), ''
        except Exception as e:  # noqa: BLE001 — SLURM's refusal is the job's message, not a crash
            taken, refusal = {}, f'Could not submit the job: {e}'.strip()
        with self.lock:  # the poller and the pages see the job before its submission or after it
            self._handing.discard(job_id)
            job = Job.get_by_id(job_id)
            if refusal:
                self._finish(job, 'failed', None, refusal)
                return
            job.spec = {**(job.spec or {}), **taken}
            job.save(only=[Job.spec])
            if job.id in self._cancel_deadline:  # cancelled while it was being submitted
                executor_of(job, self.executors).signal_host(job, signal.SIGTERM)
            self._where(job)

    def _running(self, job: Job) -> None:
        job.started = now()
        job.status = 'running'
        job.save()
        state = self._track(job)
        state.status = 'running'
        state.started = time.time()
        self._bump(job.id)

    def _where(self, job: Job) -> None:
        """Where it runs in words, and 'queued' while its executor holds it unstarted (SLURM's queue)."""
        executor, state = executor_of(job, self.executors), self._track(job)
        status = 'queued' if job.status == 'running' and executor.waiting(job) else job.status
        if (executor.where(job), status) != (state.where, state.status):
            state.where, state.status = executor.where(job), status
            self._bump(job.id)

    def _read_progress(self, job: Job) -> None:
        state = self.states.get(job.id)
        if state is None:
            return
        updates, self._offsets[job.id] = host.read_progress(job, self._offsets.get(job.id, 0))
        if not updates:
            return
        for update in updates:
            state.last.update(update)
        describer = self.kinds.describer_of(job.kind)
        if describer:
            describer(state)
        self._bump(job.id)

    def _set_status(self, job: Job, status: str) -> None:
        job.status = status
        job.save()
        self._track(job).status = status
        self._bump(job.id)

    def _finish(self, job: Job, status: str, exit_code: int | None, message: str) -> None:
        self._read_progress(job)
        if status == 'failed' and not message:
            message = host.failure(exit_code, self.log_tail(job.id))
        job.status, job.exit_code, job.message, job.ended = status, exit_code, message, now()
        job.save()
        child = self._children.pop(job.id, None)
        if child is not None and child.poll() is None:
            self._reaping.append(child)  # it is writing its last bytes; reap it on a later tick
        self._cancel_deadline.pop(job.id, None)
        state = self._track(job)
        state.status, state.message = status, message
        self._where(job)
        if status == 'done':
            state.progress = 1.0
        state.eta_s = None
        self._bump(job.id)
        for handler in self.kinds.finishers_of(job.kind):
            try:
                handler(job)
            except Exception as e:  # noqa: BLE001 — one bad handler must not stop the poller or leave the job half-settled
                job.message = (job.message + f' Registering the result failed: {e!r}').strip()
                job.save()
                state.message = job.message
