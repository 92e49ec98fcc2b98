"""A job's host, as the engine sees it: the runner process and its group (alive, signalled, leftovers
killed) and the folder it writes (log tail and whole lines, result, control file)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from services.store import Job


def log_tail(path: Path, max_bytes: int = 20000) -> str:
    """The end of a log as the console shows it: the last state of each \\r-redrawn progress line."""
    if not path.exists():
        return ''
    with open(path, 'rb') as f:
        f.seek(max(0, path.stat().st_size - max_bytes))
        text = f.read().decode('utf-8', 'replace')
    return '\n'.join(line.split('\r')[-1] for line in text.split('\n'))


def read_lines(path: Path, offset: int) -> tuple[str, int]:
    """Whole lines of a log after byte `offset` (negative: that many bytes before the end), and the next
    offset."""
    if not path.exists():
        return '', max(offset, 0)
    size = path.stat().st_size
    offset = max(0, size + offset) if offset < 0 else offset
    if size <= offset:
        return '', offset
    with open(path, 'rb') as f:
        f.seek(offset)
        data = f.read(min(size - offset, 1 << 20))
    end = data.rfind(b'\n') + 1 or len(data)
    text = data[:end].decode('utf-8', 'replace')
    return '\n'.join(line.split('\r')[-1] for line in text.split('\n')), offset + end


def write_control(folder: Path, **changes: object) -> None:
    """Merge `changes` into the job's control.json (read by cooperative workers), atomically."""
    path = folder / 'control.json'
    try:
        control = json.loads(path.read_text())
    except (OSError, ValueError):
        control = {}
    control.update(changes, t=time.time())
    tmp = path.with_suffix('.tmp')
    tmp.write_text(json.dumps(control))
    os.replace(tmp, path)


def spawn(folder: Path, repo_root: Path) -> subprocess.Popen:
    """Start a local job's host (services.workers.runner) in a session of its own, its own output in host.txt;
    raises OSError."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([str(repo_root), env.get('PYTHONPATH', '')]).rstrip(os.pathsep)
    with open(folder / 'host.txt', 'ab') as host_log:
        return subprocess.Popen([sys.executable, '-m', 'services.workers.runner', str(folder)], cwd=str(repo_root),
                                stdin=subprocess.DEVNULL, stdout=host_log, stderr=subprocess.STDOUT,
                                start_new_session=True, env=env)


def alive(job: Job) -> bool:
    if not job.pid:
        return False
    try:
        proc = psutil.Process(job.pid)
        if job.pid_started and abs(proc.create_time() - job.pid_started) > 1.0:
            return False
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False

def signal_group(job: Job, sig: int) -> bool:
    """Signal the job's whole process group (host, RAVE and its workers)."""
    if not alive(job):
        return False
    try:
        os.killpg(job.pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False

def signal_host(job: Job, sig: int) -> None:
    if alive(job):
        try:
            os.kill(job.pid, sig)
        except ProcessLookupError:
            pass

def end_leftovers(job: Job) -> None:
    """Kill what is left of a job's process group after its host died (e.g. a RAVE worker)."""
    if not job.pid:
        return
    for proc in psutil.process_iter():
        try:
            if (os.getpgid(proc.pid) == job.pid and proc.pid != os.getpid()
                    and proc.create_time() >= (job.pid_started or 0) - 1.0):
                proc.kill()
        except (OSError, psutil.Error):
            continue


def job_folder(job: Job) -> Path:
    return Path(job.folder)


def folder_of(root: Path, job_id: int) -> Path:
    """Where the job with `job_id` keeps its files, under the jobs folder `root` (<data folder>/jobs)."""
    return root / f'{job_id:06d}'


def tail(path: Path, max_bytes: int = 4000) -> str:
    try:
        with open(path, 'rb') as f:
            f.seek(max(0, path.stat().st_size - max_bytes))
            return f.read().decode('utf-8', 'replace')
    except OSError:
        return ''


def read_result(job: Job) -> dict | None:
    path = job_folder(job) / 'result.json'
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_progress(job: Job, offset: int) -> tuple[list[dict], int]:
    """The progress lines the runner appended to progress.jsonl after byte `offset`, and the next offset."""
    return appended(job_folder(job) / 'progress.jsonl', offset)


def appended(path: Path, offset: int) -> tuple[list[dict], int]:
    """The whole JSON lines a .jsonl file gained past byte `offset` (a partial last line waits for the next read;
    lines that are not JSON are skipped), and the offset after them. Metrics files are read the same way."""
    if not path.exists() or path.stat().st_size <= offset:
        return [], offset
    with open(path, 'rb') as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b'\n') + 1
    updates = []
    for raw in data[:end].splitlines():
        try:
            updates.append(json.loads(raw))
        except ValueError:
            continue
    return updates, offset + end


def failure(exit_code: int | None, log: str) -> str:
    """What the user reads first about a job that failed without saying why."""
    if exit_code is not None and exit_code < 0:
        return (f'The process was killed ({signal_name(-exit_code)}), e.g. out of memory or from outside; '
                'nothing went wrong inside it.')
    return f'The process ended with exit code {exit_code}. ' + last_error(log)


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f'signal {number}'


def last_error(log: str) -> str:
    """The most telling line of a failed job's log, for the message the user sees first."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if 'Error' in line or 'error:' in line.lower() or 'Exception' in line:
            return line[:300]
    return lines[-1][:300] if lines else ''


def lost(job: Job) -> str:
    """Why a job ended without its host's result, for the message the user sees first."""
    said = last_error(tail(job_folder(job) / 'host.txt'))
    return ('The job process disappeared without a result (killed from outside?). '
            + (f'Its host said: {said}' if said else 'Start it again.'))


def where(job: Job) -> str:
    """Where a local job runs, in words: nowhere to say beyond its device."""
    return ''


def waiting(job: Job) -> bool:
    """A local job's host runs from its launch: it never waits (a cluster's job may, in its queue)."""
    return False
