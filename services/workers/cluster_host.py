"""The job host inside a SLURM allocation: today's runner (services/workers/runner.py), started by submitit in
the batch step, with SLURM's signals turned into what the studio understands.

The studio submits `run(JOB_FOLDER)`; the job folder lives on the file system the login node and the compute
nodes share, so log, progress, metrics, checkpoints and result land where the studio reads them as for a local
job, and the worker sees the same control.json (pause, stop-with-checkpoint).

- SIGUSR2 (sbatch --signal=B:USR2@N: the time limit is N s away, or the job is being preempted): ask the
  worker to stop with a checkpoint, exactly as the studio's Stop does. When the run asked for it (the executor
  setting "requeue": RAVE_STUDIO_REQUEUE=1 in the batch script), the host then has SLURM requeue this same job
  (`scontrol requeue`) and writes no result — `requeue.json` says from which checkpoint — so the studio keeps
  following one job; when SLURM starts it again, the host resumes the worker from that checkpoint (`--ckpt`)
  and says so in progress.jsonl ({"requeued": N, …}: the run's next attempt). Otherwise the job ends
  'interrupted' with that said, and the run's automatic recovery may resume it as a new job.
- SIGTERM without the studio's `cancel` in control.json — what SLURM sends at a preemption or the time limit
  (then SIGKILL KillWait or GraceTime seconds later), `scancel` from outside, `scancel --signal=TERM`: a training
  (a cooperative job: job.json) is asked to stop with a checkpoint as for SIGUSR2 — RAVE's Lightning, seeing
  SLURM, does not end at SIGTERM, so it gets there — then requeued as above when the run asked for it, else
  'interrupted' (the run's recovery resumes from that checkpoint); a worker that has not stopped STOP_GRACE_S
  later is ended. Another job ends at once, 'interrupted' said in result.json first (what is left may be killed
  any moment). With the studio's `cancel` (its Cancel): 'cancelled'.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from services.workers.runner import Host, write_json

REQUEUE = 'requeue.json'
OUTSIDE = 'SLURM ended the job from outside the studio (scancel, a node failure or the time limit).'
STOP_GRACE_S = 120.0  # a worker asked to checkpoint at SIGTERM is ended if it has not stopped by then
SAVED = re.compile(r'\[studio\] stop requested: saved (.+?) at step (\d+)')  # the training worker's line


def run(folder: str) -> int:
    return ClusterHost(Path(folder)).run()


class ClusterHost(Host):
    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.deadline = False
        self.saved: tuple[str, int] | None = None  # the stop checkpoint the worker said it saved, at which step
        self.requeueing = False  # SLURM's SIGTERM then ends this run of the job, not the job
        self.terminated = False  # SIGTERM from outside the studio reached a training: it is saving a checkpoint
        self.result = folder / 'result.host.json'  # the runner's verdict; _settle writes result.json from it

    def run(self) -> int:
        signal.signal(signal.SIGUSR2, self._on_deadline)
        job = os.environ.get('SLURM_JOB_ID', '?')
        self.log.write(f'[studio] SLURM job {job} on {os.uname().nodename}\n'.encode())
        self._resume_after_requeue()
        self.spec['argv'] = srun_line(os.environ, self.spec['argv'])
        code = super().run()
        self._settle()
        return code

    def _line(self, line: str) -> None:
        super()._line(line)
        if match := SAVED.search(line):
            self.saved = (match.group(1), int(match.group(2)))

    def _on_term(self, *args: object) -> None:
        if self.requeueing or _read(self.folder / 'control.json').get('cancel'):
            super()._on_term(*args)  # the studio's Cancel, or this run of a requeued job ending: end now
            return
        if self.spec.get('cooperative') and self.child is not None and self.child.poll() is None:
            if not self.terminated:  # (SLURM may send it again: one stop, one timer)
                self.terminated = True
                self.log.write(b'\n[studio] SLURM sent SIGTERM (a preemption, the time limit or scancel): saving a '
                               b'checkpoint\n')
                _control(self.folder, stop=True, pause=False)
                timer = threading.Timer(STOP_GRACE_S, self._past_grace)
                timer.daemon = True  # the host exits when the worker did, timer or not
                timer.start()
            return
        write_json(self.folder / 'result.json', {'exit_code': None, 'status': 'interrupted', 'message': OUTSIDE,
                                                 'ended': time.time()})
        super()._on_term(*args)

    def _past_grace(self) -> None:
        if self.child is not None and self.child.poll() is None:
            self.log.write(f'[studio] the worker did not stop within {STOP_GRACE_S:.0f} s: ending it\n'.encode())
            self.reason = OUTSIDE
            self._kill_child()

    def _on_deadline(self, *_: object) -> None:
        self.deadline = True
        self.log.write(b'\n[studio] SLURM says the time limit is near (or a preemption): saving a checkpoint\n')
        _control(self.folder, stop=True, pause=False)

    def _resume_after_requeue(self) -> None:
        """Started again by SLURM after a requeue: the worker goes on from the checkpoint saved before it."""
        requeue = _read(self.folder / REQUEUE)
        if not requeue:
            return
        argv = list(self.spec['argv'])
        if '--ckpt' in argv:
            del argv[argv.index('--ckpt'):argv.index('--ckpt') + 2]
        self.spec['argv'] = [*argv, '--ckpt', requeue['checkpoint']]
        self.log.write(f'[studio] requeued by SLURM ({requeue["count"]}): resuming from {requeue["checkpoint"]} '
                       f'(step {requeue["step"]})\n'.encode())
        self.progress.write(json.dumps({'requeued': requeue['count'], 'checkpoint': requeue['checkpoint'],
                                        'requeue_step': requeue['step'], 't': time.time()}) + '\n')

    def _settle(self) -> None:
        """Say in the result what SLURM did: a deadline or an outside scancel is 'interrupted'; a deadline of a
        run that asked for it, a requeue of this job (then no result: the job goes on)."""
        result = _read(self.result)
        if not result:
            return
        ended = self.deadline or self.terminated
        if ended and self.saved and os.environ.get('RAVE_STUDIO_REQUEUE') == '1' and self._requeue():
            return
        if self.deadline:
            result.update(status='interrupted', message='SLURM\'s time limit came near (or the job was preempted): '
                          'the worker saved a checkpoint and stopped.')
        elif self.terminated:
            saved = f' The worker saved a checkpoint at step {self.saved[1]} first.' if self.saved else ''
            result.update(status='interrupted', message=OUTSIDE + saved)
        elif result.get('status') == 'cancelled' and not _read(self.folder / 'control.json').get('cancel'):
            result.update(status='interrupted', message=OUTSIDE)
        write_json(self.folder / 'result.json', result)

    def _requeue(self) -> bool:
        """Put this same job back in SLURM's queue, to resume from the checkpoint just saved."""
        checkpoint, step = self.saved
        count = int(_read(self.folder / REQUEUE).get('count', 0)) + 1
        write_json(self.folder / REQUEUE, {'checkpoint': checkpoint, 'step': step, 'count': count, 't': time.time()})
        _control(self.folder, stop=False, pause=False)
        job, self.requeueing = os.environ.get('SLURM_JOB_ID', ''), True
        self.log.write(f'[studio] requeueing SLURM job {job}: it resumes from step {step} when SLURM starts it '
                       'again\n'.encode())
        try:
            done = subprocess.run(['scontrol', 'requeue', job], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            done = subprocess.CompletedProcess([], 1, '', str(e))
        if done.returncode == 0:
            return True
        self.requeueing = False
        self.log.write(f'[studio] SLURM did not requeue the job ({done.stderr.strip()[:200]}): it ends '
                       'interrupted\n'.encode())
        (self.folder / REQUEUE).unlink(missing_ok=True)
        return False


def srun_line(env, argv: list[str]) -> list[str]:
    """The worker's command on every task of the allocation (nodes × GPUs per node: one task per GPU, which
    Lightning's SLURM environment reads as its ranks) — `srun` when there is more than one, else as it is."""
    tasks = int(env.get('SLURM_NTASKS') or 1)
    if tasks <= 1:
        return list(argv)
    per_node = (env.get('SLURM_NTASKS_PER_NODE') or '').split('(')[0] or str(tasks)
    return ['srun', '--kill-on-bad-exit=1', f'--ntasks={tasks}', f'--ntasks-per-node={per_node}', *argv]


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _control(folder: Path, **changes: object) -> None:
    """The change the studio's Stop makes (services/jobs/host.write_control; not imported: it needs the
    studio's database)."""
    control = {**_read(folder / 'control.json'), **changes, 't': time.time()}
    tmp = folder / 'control.tmp'
    tmp.write_text(json.dumps(control))
    os.replace(tmp, folder / 'control.json')
