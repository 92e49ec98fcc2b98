"""The job host inside a SLURM allocation: today's runner (services/workers/runner.py), started by submitit in
the batch step, with SLURM's signals turned into what the studio understands.

The studio submits `run(JOB_FOLDER)`; the job folder lives on the file system the login node and the compute
nodes share, so log, progress, metrics, checkpoints and result land where the studio reads them as for a local
job, and the worker sees the same control.json (pause, stop-with-checkpoint).

- SIGUSR2 (sbatch --signal=B:USR2@N: the time limit is N s away, or the job is being preempted): ask the
  worker to stop with a checkpoint, exactly as the studio's Stop does; the job then ends 'interrupted' with that
  said, so a run that asked for it is resumed from the checkpoint by the studio's automatic recovery.
- SIGTERM (scancel, a node going down) without the studio's `cancel` in control.json: 'interrupted' too, so
  recovery restarts it; with it (the studio's Cancel): 'cancelled', as locally.
"""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from services.workers.runner import Host, write_json


def run(folder: str) -> int:
    return ClusterHost(Path(folder)).run()


class ClusterHost(Host):
    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.deadline = False

    def run(self) -> int:
        signal.signal(signal.SIGUSR2, self._on_deadline)
        job = os.environ.get('SLURM_JOB_ID', '?')
        self.log.write(f'[studio] SLURM job {job} on {os.uname().nodename}\n'.encode())
        code = super().run()
        self._settle()
        return code

    def _on_deadline(self, *_: object) -> None:
        self.deadline = True
        self.log.write(b'\n[studio] SLURM says the time limit is near (or a preemption): saving a checkpoint\n')
        _control(self.folder, stop=True, pause=False)

    def _settle(self) -> None:
        """Say in the result what SLURM did: a deadline or an outside scancel is 'interrupted'."""
        path = self.folder / 'result.json'
        try:
            result = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        if self.deadline:
            result.update(status='interrupted', message='SLURM\'s time limit came near (or the job was preempted): '
                          'the worker saved a checkpoint and stopped.')
        elif result.get('status') == 'cancelled' and not _read_control(self.folder).get('cancel'):
            result.update(status='interrupted', message='SLURM ended the job from outside the studio (scancel, a '
                          'node failure or the time limit).')
        write_json(path, result)


def _read_control(folder: Path) -> dict:
    try:
        return json.loads((folder / 'control.json').read_text())
    except (OSError, ValueError):
        return {}


def _control(folder: Path, **changes: object) -> None:
    """The change the studio's Stop makes (services/jobs/host.write_control; not imported: it needs the
    studio's database)."""
    control = {**_read_control(folder), **changes, 't': time.time()}
    tmp = folder / 'control.tmp'
    tmp.write_text(json.dumps(control))
    os.replace(tmp, folder / 'control.json')
