"""The SLURM executor of the job engine: a job's host runs as a SLURM batch job submitted with submitit.

Supported topology: the studio runs on a login node of the cluster (or on a machine that is its own one-node
cluster), with `sbatch`/`squeue`/`sacct`/`scancel` on its PATH, and its data folder (where the job folders
live) on a file system the compute nodes share. submitit's SlurmExecutor writes the batch script; the batch
step `exec`s Python straight into `services.workers.cluster_host.run(job folder)` — today's runner — so
`--signal=B:USR2@N` reaches the host alone (it turns it into a checkpoint) and a plain `scancel` ends the host and
the worker as a local cancel would.

The engine asks this object what it asks `services.jobs.host` for a local job: alive? signal it, end it. States
come from one `squeue` call for every watched job (then `sacct` for those squeue forgot), refreshed by a
background thread every REFRESH_S, so the engine's poll on the UI's event loop never waits for SLURM.
"""
from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from services.cluster.settings import SIGNAL_S, ExecutorSettings
from services.cluster.states import SlurmState, base_state
from services.jobs.host import job_folder, write_control
from services.store import Job

REFRESH_S = 2.0
ACCOUNTING_LAG_S = 60.0  # a job neither squeue nor sacct knows yet is taken as alive this long after submission
TIMEOUT_S = 10


class ClusterError(RuntimeError):
    """SLURM refused or could not be reached, with its own words."""


class SlurmExecutor:
    name = 'slurm'

    def __init__(self, repo_root: Path, python: str = sys.executable) -> None:
        self.repo_root, self.python = repo_root, python
        self.states: dict[str, SlurmState] = {}
        self._watched: dict[str, float] = {}  # SLURM job id -> when it was submitted (or first asked about)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.answering = True  # whether squeue answered the last time it was asked

    # ---- the engine's seam -----------------------------------------------------------------
    def launch(self, job: Job) -> None:
        """Submit the job's host; sets job.spec['slurm_job_id']. Raises ClusterError with SLURM's words."""
        import submitit  # only a studio that submits to a cluster needs it loaded

        from services.workers import cluster_host
        settings = ExecutorSettings.of((job.spec or {}).get('executor'))
        folder = job_folder(job)
        executor = submitit.SlurmExecutor(folder=folder / 'slurm', python='exec ' + shlex.quote(self.python))
        options = settings.sbatch()
        options['additional_parameters'] = {**options['additional_parameters'], 'signal': f'B:USR2@{SIGNAL_S}'}
        root = shlex.quote(str(self.repo_root))
        executor.update_parameters(job_name=f'rave-studio-{job.id}', use_srun=False, signal_delay_s=SIGNAL_S,
                                   stderr_to_stdout=True,
                                   setup=[f'export PYTHONPATH={root}${{PYTHONPATH:+:$PYTHONPATH}}', f'cd {root}'],
                                   **options)
        try:
            submitted = executor.submit(cluster_host.run, str(folder))
        except (subprocess.CalledProcessError, OSError, ValueError, RuntimeError) as e:
            said = getattr(e, 'output', b'') or getattr(e, 'stderr', b'') or str(e)
            raise ClusterError(said.decode('utf-8', 'replace') if isinstance(said, bytes) else str(said)) from e
        job.spec = {**(job.spec or {}), 'slurm_job_id': str(submitted.job_id)}
        self._watch(str(submitted.job_id), time.time())

    def alive(self, job: Job) -> bool:
        job_id = slurm_id(job)
        if not job_id:
            return False
        state = self.state(job)
        if state is not None:
            return state.active
        submitted = self._watched.get(job_id, 0.0)
        # SLURM not answering is no news of the job: only a cluster that answers and knows nothing of it
        # (past the accounting lag) means the job is gone
        return not self.answering or time.time() - submitted < ACCOUNTING_LAG_S

    def signal_group(self, job: Job, sig: int) -> bool:
        """Signal every process of the job (`scancel --signal --full`); True if SLURM took it."""
        if not self.alive(job):
            return False
        name = signal.Signals(sig).name.removeprefix('SIG')
        return _scancel(['--signal', name, '--full', slurm_id(job)])

    def signal_host(self, job: Job, sig: int) -> None:
        """The studio's Cancel: say it was ours (the host reports 'cancelled', not an outside scancel), then
        end the job."""
        if not self.alive(job):
            return
        if sig == signal.SIGTERM:
            write_control(job_folder(job), cancel=True)
            _scancel([slurm_id(job)])
        else:
            _scancel(['--signal', signal.Signals(sig).name.removeprefix('SIG'), '--batch', slurm_id(job)])

    def end_leftovers(self, job: Job) -> None:
        """SLURM ends what is left of a job's processes itself."""

    def lost(self, job: Job) -> str:
        """Why a job ended without its host's result, in SLURM's words."""
        state = self.state(job)
        said = state.words() if state is not None else f'SLURM job {slurm_id(job)} is unknown to squeue and sacct'
        return f'The SLURM job ended without a result ({said}). Start it again.'

    def where(self, job: Job) -> str:
        """The job's SLURM state in words, for the run page and the queue; once the studio settled the job,
        only what SLURM said at its end (its host may still be exiting: SLURM says RUNNING a moment longer)."""
        if not slurm_id(job):
            return ''
        if job.status not in ('queued', 'running', 'paused'):
            state = self.states.get(slurm_id(job))
            said = state.words().split(': ', 1)[1] if state is not None and not state.active else ''
            return f'SLURM job {slurm_id(job)}: ended' + (f' ({said})' if said else '')
        state = self.state(job)
        return state.words() if state is not None else f'SLURM job {slurm_id(job)}: submitted'

    # ---- states ----------------------------------------------------------------------------
    def state(self, job: Job) -> SlurmState | None:
        """The last state read for the job; the first question about a job reads it at once (reattaching after
        a restart), later ones are answered from the background refresh."""
        job_id = slurm_id(job)
        if not job_id:
            return None
        if job_id not in self._watched:
            self._watch(job_id, job.started.timestamp() if job.started else time.time())
            self.refresh([job_id])
        return self.states.get(job_id)

    def refresh(self, job_ids: list[str] | None = None) -> None:
        """Read the states of `job_ids` (every watched job when None): squeue, then sacct for the rest."""
        ids = list(job_ids if job_ids is not None else self._watched)
        if not ids:
            return
        queued = _squeue(ids)
        missing = [i for i in ids if i not in (queued or {})]
        accounted = _sacct(missing) if missing else {}
        self.answering = queued is not None or accounted is not None
        if not self.answering:
            return  # keep the states as they were
        found = {**(queued or {}), **(accounted or {})}
        with self._lock:
            self.states.update(found)
            for job_id, state in found.items():
                if not state.active and time.time() - self._watched.get(job_id, 0) > ACCOUNTING_LAG_S:
                    self._watched.pop(job_id, None)  # final: no need to ask again

    def _watch(self, job_id: str, since: float) -> None:
        with self._lock:
            self._watched.setdefault(job_id, since)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._refresh_loop, name='slurm-states', daemon=True)
                self._thread.start()

    def _refresh_loop(self) -> None:
        while self._watched:
            time.sleep(REFRESH_S)
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 — SLURM briefly away: keep the last states, ask again next time
                continue


def slurm_id(job: Job) -> str:
    return str((job.spec or {}).get('slurm_job_id') or '')


def _squeue(ids: list[str]) -> dict[str, SlurmState] | None:
    """None when squeue did not answer; squeue forgets a job some minutes after its end (then: sacct)."""
    return _states(_call(['squeue', '-h', '-o', '%i|%T|%r|%N', '--states=all', '-j', ','.join(ids)]), ids,
                   lambda state: state)


def _sacct(ids: list[str]) -> dict[str, SlurmState] | None:
    return _states(_call(['sacct', '-n', '-P', '-X', '-o', 'JobIDRaw,State,Reason,NodeList', '-j', ','.join(ids)]),
                   ids, base_state)


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


def _call(argv: list[str]) -> str | None:
    """A SLURM client's output; None when it is missing, hangs or fails (e.g. slurmctld restarting). squeue
    asked only about jobs it forgot answers 'Invalid job id': that is an answer (none of them queued)."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode == 0:
        return done.stdout
    return '' if 'Invalid job id' in done.stderr else None


def _scancel(args: list[str]) -> bool:
    try:
        return subprocess.run(['scancel', *args], capture_output=True, timeout=TIMEOUT_S).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
