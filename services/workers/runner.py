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
        self.log = open(folder / 'log.txt', 'ab', buffering=0)
        self.progress = open(folder / 'progress.jsonl', 'a', buffering=1)
        self.parse = parser_for(self.spec.get('kind', ''))
        self.reason = ''
        self.cancelled = False
        self.last_output = time.monotonic()
        self.child: subprocess.Popen | None = None

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        env = dict(os.environ, PYTHONUNBUFFERED='1', **self.spec.get('env', {}))
        started = time.time()
        self.child = subprocess.Popen(
            self.spec['argv'], cwd=self.spec.get('cwd') or None, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        write_json(self.folder / 'child.json', {'pid': self.child.pid, 'started': started})
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
        self._pump()
        code = self.child.wait()
        status = 'done' if code == 0 and not self.reason and not self.cancelled else 'failed'
        if self.cancelled:
            status = 'cancelled'
        result = {'exit_code': code, 'status': status, 'message': self.reason,
                  'ended': time.time(), 'wall_s': time.time() - started}
        write_json(self.folder / 'result.json', result)
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
                if pattern.search(line):
                    self._abort(f'{message} ({line.strip()[:200]})')
                    break

    def _abort(self, reason: str) -> None:
        self.reason = reason
        self.log.write(f'\n[studio] {reason}\n'.encode())
        self._kill_child()

    def _kill_child(self) -> None:
        if not self.child or self.child.poll() is not None:
            return
        # the child and its own workers (RAVE's multiprocessing pool) share our process group
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 0)):
            for pid in _descendants(self.child.pid) + [self.child.pid]:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and self.child.poll() is None:
                time.sleep(0.05)
            if self.child.poll() is not None:
                break

    def _watch_stall(self, stall_s: float) -> None:
        while self.child and self.child.poll() is None:
            time.sleep(1.0)
            if time.monotonic() - self.last_output > stall_s and not self.reason:
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
    except Exception:
        return []


def main() -> int:
    return Host(Path(sys.argv[1])).run()


if __name__ == '__main__':
    sys.exit(main())
