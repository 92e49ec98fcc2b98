"""Job host: runs one command, keeps its log, progress and result in the job folder.

It leads the job's process group and session, so the job outlives the studio. It reads the child's
output, appends it to `log.txt`, turns progress lines into JSON lines in `progress.jsonl`, runs the
watchdog for RAVE's known hangs and writes `result.json` when the child ends. It imports nothing heavy.

    python -m services.workers.runner JOB_FOLDER
reads JOB_FOLDER/job.json: {"argv": [...], "cwd": "...", "kind": "...", "stdin": "...", "stall_s": N}
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from services.progress import parser_for

# RAVE's preprocess prints a worker's exception as a tuple and then waits forever (RAVE_NOTES §1).
# The tuple is printed on stdout right after tqdm's bar on stderr, with no line break between them
# (`… 1it [00:00,  6.47it/s](TypeError('cannot unpack …'),)`), so the patterns must not be anchored.
HANG_PATTERNS = [
    (re.compile(r'\((FileNotFoundError)\('), 'ffprobe or ffmpeg is missing: install ffmpeg and try again.'),
    (re.compile(r'\((TypeError)\(.cannot unpack non-iterable NoneType'),
     'A source file could not be decoded by ffmpeg (unreadable or not audio). Remove it or fix it.'),
    (re.compile(r'\((\w+Error)\('), 'RAVE preprocessing failed in a worker and would hang; it was stopped.'),
    (re.compile(r'No valid file found'), 'No audio file with a matching extension was found in the input folders.'),
]


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix('.tmp')
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


class Host:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.spec = json.loads((folder / 'job.json').read_text())
        self.log = open(folder / 'log.txt', 'ab', buffering=0)  # noqa: SIM115 (open for the host's life)
        self.progress = open(folder / 'progress.jsonl', 'a', buffering=1)  # noqa: SIM115
        self.parse = self._parser()
        self.reason = ''
        self.cancelled = False
        self.last_output = time.monotonic()
        self.child: subprocess.Popen | None = None
        self._killing = threading.Lock()
        self.result = folder / 'result.json'  # the job's verdict (a host that settles it further writes elsewhere)

    def _parser(self):
        """The job kind's console parser; one that cannot be imported leaves the job running unparsed."""
        try:
            return parser_for(self.spec.get('kind', ''), self.spec.get('parser', ''))
        except Exception as e:  # noqa: BLE001 — a plugin's parser must not stop its job
            self.log.write(f'[studio] no progress for this job: its parser {self.spec.get("parser")} could not '
                           f'be loaded ({type(e).__name__}: {e}).\n'.encode())
            return lambda _line: None

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        env = dict(os.environ, PYTHONUNBUFFERED='1', RAVE_STUDIO_JOB_DIR=str(self.folder), **self.spec.get('env', {}))
        started = time.time()
        try:
            self.child = subprocess.Popen(
                self.spec['argv'], cwd=self.spec.get('cwd') or None, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except (OSError, ValueError) as e:
            message = f'Could not start {self.spec["argv"][:1]}: {e}. Check the Python interpreter in Settings.'
            self.log.write(f'[studio] {message}\n'.encode())
            write_json(self.result, {'exit_code': None, 'status': 'failed', 'message': message,
                                                     'ended': time.time(), 'wall_s': time.time() - started})
            return 0
        write_json(self.folder / 'child.json', {'pid': self.child.pid, 'started': started})
        if self.cancelled:  # SIGTERM came while the child was being started: _on_term found no child to end
            threading.Thread(target=self._kill_child, daemon=True).start()
        if self.spec.get('stdin'):
            try:
                self.child.stdin.write(self.spec['stdin'].encode())
                self.child.stdin.flush()
            except BrokenPipeError:
                pass
        self.child.stdin.close()
        stall_s = self.spec.get('stall_s')
        if stall_s:
            threading.Thread(target=self._watch_stall, args=(stall_s,), daemon=True).start()
        pump = threading.Thread(target=self._pump, daemon=True)
        pump.start()
        code = self.child.wait()
        # a grandchild that outlives the child may keep the pipe open: give the output a moment, then end
        # whatever is left of the process group so nothing is orphaned and the pump sees end-of-file
        pump.join(timeout=3.0)
        if pump.is_alive() or _group_members():
            _end_group()
            pump.join(timeout=5.0)
        status = 'done' if code == 0 and not self.reason and not self.cancelled else 'failed'
        if self.cancelled:
            status = 'cancelled'
        result = {'exit_code': code, 'status': status, 'message': self.reason,
                  'ended': time.time(), 'wall_s': time.time() - started}
        write_json(self.result, result)
        return 0

    def _pump(self) -> None:
        buffer = b''
        assert self.child and self.child.stdout
        while True:
            chunk = self.child.stdout.read1(65536)
            if not chunk:
                break
            self.log.write(chunk)
            self.last_output = time.monotonic()
            buffer += chunk
            *lines, buffer = re.split(rb'[\r\n]', buffer)
            for raw in lines:
                self._line(raw.decode('utf-8', 'replace'))
        if buffer:
            self._line(buffer.decode('utf-8', 'replace'))

    def _line(self, line: str) -> None:
        if not line.strip():
            return
        event = self.parse(line)
        if event:
            event['t'] = time.time()
            self.progress.write(json.dumps(event) + '\n')
        if self.spec.get('kind') == 'preprocess' and not self.reason:
            for pattern, message in HANG_PATTERNS:
                if match := pattern.search(line):  # quote RAVE's error, not the progress bar before it
                    self._abort(f'{message} ({line[match.start():].strip()[:200]})')
                    break

    def _abort(self, reason: str) -> None:
        self.reason = reason
        self.log.write(f'\n[studio] {reason}\n'.encode())
        self._kill_child()

    def _kill_child(self) -> None:
        if not self.child or not self._killing.acquire(blocking=False):
            return  # already ending it (a second SIGTERM, or the watchdog and a cancel at once)
        try:
            # the child, its workers (RAVE's multiprocessing pool) and anything they started
            _end_group(extra=_descendants(self.child.pid) + [self.child.pid],
                       until=lambda: self.child.poll() is not None)
        finally:
            self._killing.release()

    def _watch_stall(self, stall_s: float) -> None:
        tick = time.monotonic()
        while self.child and self.child.poll() is None:
            time.sleep(1.0)
            now = time.monotonic()
            if now - tick > 3.0:  # the whole group was paused (SIGSTOP): that time is not a stall
                self.last_output += now - tick - 1.0
            tick = now
            if now - self.last_output > stall_s and not self.reason:
                self._abort(f'No output for {stall_s:.0f} s: the job looked stuck and was stopped.')

    def _on_term(self, *_: object) -> None:
        self.cancelled = True
        if not self.reason:
            self.reason = 'Cancelled by the user.'
        threading.Thread(target=self._kill_child, daemon=True).start()


def _descendants(pid: int) -> list[int]:
    try:
        import psutil
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except Exception:  # noqa: BLE001 (psutil absent or the process gone)
        return []


def _group_members() -> list[int]:
    """Every other process of this job's process group (we lead it), including orphaned grandchildren."""
    import psutil
    me, group = os.getpid(), os.getpgrp()
    members = []
    for proc in psutil.process_iter():
        try:
            if proc.pid != me and os.getpgid(proc.pid) == group and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc.pid)
        except (OSError, psutil.Error):
            continue
    return members


def _end_group(extra: list[int] = (), until=None) -> None:
    """SIGTERM the rest of the group, wait up to 5 s, then SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
        pids = set(_group_members()) | set(extra)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if (until is None or until()) and not _group_members():
                return
            time.sleep(0.05)


def main() -> int:
    return Host(Path(sys.argv[1])).run()


if __name__ == '__main__':
    sys.exit(main())
