"""The SLURM executor of the job engine: a job's host runs as a SLURM batch job submitted with submitit.

Supported topology: the studio runs on a login node of the cluster (or on a machine that is its own one-node
cluster), with `sbatch`/`squeue`/`sacct`/`scancel` on its PATH, and its data folder (where the job folders
live) on a file system the compute nodes share. submitit's SlurmExecutor writes the batch script; the batch
step `exec`s Python straight into `services.workers.cluster_host.run(job folder)` — today's runner — so
`--signal=B:USR2@N` reaches the host alone (it turns it into a checkpoint) and a plain `scancel` ends the host and
the worker as a local cancel would.

The engine asks this object what it asks `services.jobs.host` for a local job: alive? signal it, end it. Nothing
the poller or a page calls waits for SLURM (a controller that does not answer must not freeze the event loop):
the engine submits on a thread of its own (`launch`); states come from one `squeue` call for every watched job
(then `sacct` for those squeue forgot), refreshed by a background thread every REFRESH_S — a job reattached after
a restart counts as alive until that thread heard of it —; and `scancel` goes out from a thread too.
"""
from __future__ import annotations

import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from services.cluster.settings import SIGNAL_S, ExecutorSettings
from services.cluster.states import SlurmState, Words, base_state
from services.i18n import Lazy, lazy
from services.jobs import ACTIVE
from services.jobs.host import job_folder, write_control
from services.store import Job

REFRESH_S = 2.0
ACCOUNTING_LAG_S = 60.0  # a job neither squeue nor sacct knows yet is taken as alive this long after submission
TIMEOUT_S = 10  # squeue, sacct, scancel: a controller that does not answer within it is taken as not answering
SUBMIT_TIMEOUT_S = 60  # sbatch (submitit's call): a busy controller may take a while to accept a job
TIMED_OUT = (124, 137)  # coreutils' `timeout` exit status (137: it had to kill)
SILENT_SBATCH = ('SLURM did not answer sbatch within {seconds} s (its controller is down or overloaded). It may '
                 'still have taken the job: look with squeue before submitting it again.')


class ClusterError(RuntimeError):
    """SLURM refused or could not be reached, with its own words."""


class SlurmExecutor:
    name = 'slurm'

    def __init__(self, repo_root: Path, python: str = sys.executable) -> None:
        self.repo_root, self.python = repo_root, python
        self.states: dict[str, SlurmState] = {}
        self._watched: dict[str, float] = {}  # SLURM job id -> when it was submitted (or first asked about)
        self._asked: set[str] = set()  # job ids a refresh that SLURM answered asked about
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()  # a newly watched job is asked about at once, not after REFRESH_S
        self._calls: queue.SimpleQueue = queue.SimpleQueue()  # scancel argument lists, sent in order
        self._caller: threading.Thread | None = None
        self.answering = True  # whether squeue answered the last time it was asked
        self.silence = ''  # why it did not, e.g. 'squeue did not answer within 10 s'

    # ---- the engine's seam -----------------------------------------------------------------
    def launch(self, job: Job) -> dict:
        """Submit the job's host (blocking: the engine calls it on a thread); returns what job.spec keeps
        ({'slurm_job_id': …}). Raises ClusterError with SLURM's words."""
        from services.workers import cluster_host
        settings = ExecutorSettings.of((job.spec or {}).get('executor'))
        folder = job_folder(job)
        executor = _submitter(folder / 'slurm', 'exec ' + shlex.quote(self.python))
        options = settings.sbatch()
        options['additional_parameters'] = {**options['additional_parameters'], 'signal': f'B:USR2@{SIGNAL_S}'}
        root = shlex.quote(str(self.repo_root))
        setup = [f'export PYTHONPATH={root}${{PYTHONPATH:+:$PYTHONPATH}}', f'cd {root}']
        if settings.requeue:  # the host then has SLURM requeue this job at the time limit (cluster_host)
            setup.append('export RAVE_STUDIO_REQUEUE=1')
        executor.update_parameters(job_name=f'rave-studio-{job.id}', use_srun=False, signal_delay_s=SIGNAL_S,
                                   stderr_to_stdout=True, setup=setup, **options)
        try:
            submitted = executor.submit(cluster_host.run, str(folder))
        except (subprocess.CalledProcessError, OSError, ValueError, RuntimeError) as e:
            if getattr(e.__cause__, 'returncode', None) in TIMED_OUT:  # coreutils' timeout ended a silent sbatch
                raise ClusterError(SILENT_SBATCH.format(seconds=SUBMIT_TIMEOUT_S)) from e
            said = getattr(e, 'output', b'') or getattr(e, 'stderr', b'') or str(e)
            raise ClusterError(said.decode('utf-8', 'replace') if isinstance(said, bytes) else str(said)) from e
        job_id = str(submitted.job_id)
        with self._lock:  # sbatch took it: pending until squeue says more
            self.states.setdefault(job_id, SlurmState(job_id, 'PENDING'))
        self._watch(job_id, time.time())
        return {'slurm_job_id': job_id}

    def alive(self, job: Job) -> bool:
        job_id = slurm_id(job)
        if not job_id:
            return False
        state = self.state(job)
        if state is not None:
            return state.active
        submitted = self._watched.get(job_id, 0.0)
        # SLURM not answering, or not asked yet, is no news of the job: only a cluster that answered and knows
        # nothing of it (past the accounting lag) means the job is gone
        return not self.answering or job_id not in self._asked or time.time() - submitted < ACCOUNTING_LAG_S

    def waiting(self, job: Job) -> bool:
        """Taken but not started: being submitted, or pending (or requeued) in SLURM's queue."""
        state = self.states.get(slurm_id(job)) if slurm_id(job) else None
        return not slurm_id(job) or (state is not None and state.waiting)

    def signal_group(self, job: Job, sig: int) -> bool:
        """Signal every process of the job (`scancel --signal --full`); True if SLURM took it."""
        if not self.alive(job):
            return False
        self._send_later(['--signal', signal.Signals(sig).name.removeprefix('SIG'), '--full', slurm_id(job)])
        return True

    def signal_host(self, job: Job, sig: int) -> None:
        """The studio's Cancel: say it was ours (the host reports 'cancelled', not an outside scancel), then
        end the job."""
        if not self.alive(job):
            return
        if sig == signal.SIGTERM:
            write_control(job_folder(job), cancel=True)
            self._send_later([slurm_id(job)])
        else:
            self._send_later(['--signal', signal.Signals(sig).name.removeprefix('SIG'), '--batch', slurm_id(job)])

    def end_leftovers(self, job: Job) -> None:
        """SLURM ends what is left of a job's processes itself."""

    def lost(self, job: Job) -> str:
        """Why a job ended without its host's result, in SLURM's words."""
        state = self.state(job)
        said = state.words() if state is not None else f'SLURM job {slurm_id(job)} is unknown to squeue and sacct'
        return f'The SLURM job ended without a result ({said}). Start it again.'

    def where(self, job: Job) -> Lazy | str:
        """The job's SLURM state in words, for the run page and the queue; once the studio settled the job,
        only what SLURM said at its end (its host may still be exiting: SLURM says RUNNING a moment longer).
        Worded on the engine's thread, said in the language of the page that shows it (services.i18n.Lazy)."""
        if not slurm_id(job):
            return lazy('SLURM: submitting the job…') if job.status in ACTIVE else ''
        if job.status not in ACTIVE:
            state = self.states.get(slurm_id(job))
            if state is not None and not state.active:
                return lazy('SLURM job {job}: ended ({state})', job=slurm_id(job), state=Words(state))
            return lazy('SLURM job {job}: ended', job=slurm_id(job))
        state = self.state(job)
        if state is not None:  # the last state heard, and that it may be old news
            return state.words() if self.answering else lazy('{where} · {silence}', where=state.words(),
                                                             silence=self._silent())
        if self.answering:
            return lazy('SLURM job {job}: asking SLURM…', job=slurm_id(job))
        return lazy('SLURM job {job}: {state}', job=slurm_id(job), state=self._silent())

    def _silent(self) -> Lazy:
        return lazy('SLURM does not answer ({why})', why=self.silence) if self.silence else \
            lazy('SLURM does not answer')

    # ---- states ----------------------------------------------------------------------------
    def state(self, job: Job) -> SlurmState | None:
        """The last state read for the job (None: not heard of yet); the first question about a job (reattaching
        after a restart) has the background refresh ask SLURM at once."""
        job_id = slurm_id(job)
        if not job_id:
            return None
        if job_id not in self._watched:
            self._watch(job_id, job.started.timestamp() if job.started else time.time())
        return self.states.get(job_id)

    def refresh(self, job_ids: list[str] | None = None) -> None:
        """Read the states of `job_ids` (every watched job when None): squeue, then sacct for the rest."""
        with self._lock:
            ids = list(job_ids if job_ids is not None else self._watched)
        if not ids:
            return
        silence: list[str] = []
        queued = _squeue(ids, silence)
        missing = [i for i in ids if i not in (queued or {})]
        accounted = _sacct(missing, silence) if missing else {}
        self.answering = queued is not None or accounted is not None
        self.silence = '' if self.answering else '; '.join(silence)
        if not self.answering:
            return  # keep the states as they were
        found = {**(queued or {}), **(accounted or {})}
        with self._lock:
            self.states.update(found)
            self._asked.update(ids)
            for job_id, state in found.items():
                if not state.active and time.time() - self._watched.get(job_id, 0) > ACCOUNTING_LAG_S:
                    self._watched.pop(job_id, None)  # final: no need to ask again

    def _watch(self, job_id: str, since: float) -> None:
        with self._lock:
            self._watched.setdefault(job_id, since)
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._refresh_loop, name='slurm-states', daemon=True)
                self._thread.start()

    def _refresh_loop(self) -> None:
        while True:
            with self._lock:
                if not self._watched:
                    self._thread = None
                    return
                self._wake.clear()
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 — SLURM briefly away: keep the last states, ask again next time
                pass
            self._wake.wait(REFRESH_S)

    def _send_later(self, args: list[str]) -> None:
        """scancel from a thread (a page's Cancel must not wait for a controller that does not answer); one
        thread, so the calls reach SLURM in order (SIGCONT before the end)."""
        self._calls.put(args)
        with self._lock:
            if self._caller is None:
                self._caller = threading.Thread(target=self._send_calls, name='slurm-scancel', daemon=True)
                self._caller.start()

    def _send_calls(self) -> None:
        while True:
            _scancel(self._calls.get())


def slurm_id(job: Job) -> str:
    return str((job.spec or {}).get('slurm_job_id') or '')


def _squeue(ids: list[str], silence: list[str] | None = None) -> dict[str, SlurmState] | None:
    """None when squeue did not answer (why, appended to `silence`); squeue forgets a job some minutes after its
    end (then: sacct)."""
    return _states(_call(['squeue', '-h', '-o', '%i|%T|%r|%N', '--states=all', '-j', ','.join(ids)], silence), ids,
                   lambda state: state)


def _sacct(ids: list[str], silence: list[str] | None = None) -> dict[str, SlurmState] | None:
    return _states(_call(['sacct', '-n', '-P', '-X', '-o', 'JobIDRaw,State,Reason,NodeList', '-j', ','.join(ids)],
                         silence), ids, base_state)


def _states(out: str | None, ids: list[str], state_of) -> dict[str, SlurmState] | None:
    """`id|state|reason|nodes` lines of squeue or sacct for the jobs asked about; None when SLURM did not answer."""
    if out is None:
        return None
    states = {}
    for line in out.splitlines():
        parts = line.strip().split('|')
        if len(parts) == 4 and parts[0] in ids:
            states[parts[0]] = SlurmState(parts[0], state_of(parts[1]), parts[2], parts[3])
    return states


def _call(argv: list[str], silence: list[str] | None = None) -> str | None:
    """A SLURM client's output; None when it is missing, hangs past TIMEOUT_S or fails (e.g. slurmctld
    restarting), with why appended to `silence`. squeue asked only about jobs it forgot answers 'Invalid job id':
    that is an answer (none of them queued)."""
    said = silence if silence is not None else []
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        said.append(f'{argv[0]} did not answer within {TIMEOUT_S} s')
        return None
    except OSError as e:
        said.append(f'{argv[0]}: {e.strerror or e}')
        return None
    if done.returncode == 0:
        return done.stdout
    if 'Invalid job id' in done.stderr:
        return ''
    said.append(f'{argv[0]}: ' + (done.stderr.strip().splitlines() or [f'exit code {done.returncode}'])[-1][:160])
    return None


def _scancel(args: list[str]) -> None:
    try:
        subprocess.run(['scancel', *args], capture_output=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return



def _submitter(folder: Path, python: str):
    """submitit's SlurmExecutor, its sbatch bounded by coreutils' `timeout` (submitit waits on sbatch for ever)."""
    import submitit  # only a studio that submits to a cluster needs it loaded

    class Bounded(submitit.SlurmExecutor):
        def _make_submission_command(self, submission_file_path: Path) -> list[str]:
            return ['timeout', '--kill-after=5', str(SUBMIT_TIMEOUT_S),
                    *super()._make_submission_command(submission_file_path)]
    return Bounded(folder=folder, python=python)
