"""Start the real `rave-studio` command as a subprocess for system tests (reliability, browser, share, native)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

STUDIO = str(Path(sys.executable).with_name('rave-studio'))
PYTHON = sys.executable
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_'))}
    env.update(extra)
    return env


def http_get(url: str, timeout: float = 10.0, cookies: str = '') -> tuple[int, str, str]:
    """(status, final url, body) without following redirects."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={'Cookie': cookies} if cookies else {})
    try:
        with opener.open(request, timeout=timeout) as r:
            return r.status, r.headers.get('location', ''), r.read().decode('utf-8', 'replace')
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get('location', '') or '', e.read().decode('utf-8', 'replace')


class StudioProcess:
    """`rave-studio --no-browser --port P --data-dir D [args]`, its output in D/../studio-N.log."""

    def __init__(self, data_dir: Path, *args: str, env: dict | None = None, port: int | None = None,
                 log_dir: Path | None = None) -> None:
        self.data_dir = data_dir
        self.log_dir = log_dir or data_dir.parent
        self.port = port or free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.args = list(args)
        self.env = env or clean_env()
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.launched_at = 0.0

    def start(self, timeout: float = 90.0) -> StudioProcess:
        n = len(list(self.log_dir.glob('studio-*.log')))
        self.log_path = self.log_dir / f'studio-{n}.log'
        log = open(self.log_path, 'wb')  # noqa: SIM115 (the child keeps it)
        self.launched_at = time.monotonic()
        self.proc = subprocess.Popen(
            [STUDIO, '--no-browser', '--port', str(self.port), '--data-dir', str(self.data_dir), *self.args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env, cwd=str(self.data_dir.parent))
        log.close()
        self.wait_served(timeout)
        return self

    def wait_served(self, timeout: float = 90.0) -> float:
        """Seconds from launch until the first page answered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f'rave-studio exited with {self.proc.returncode}:\n{self.output()}')
            try:
                status, _, _ = http_get(self.url + '/', timeout=5)
                if status < 500:
                    return time.monotonic() - self.launched_at
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f'rave-studio did not serve within {timeout} s:\n{self.output()}')

    def output(self) -> str:
        return self.log_path.read_text(errors='replace')[-5000:] if self.log_path and self.log_path.exists() else ''

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def __enter__(self) -> StudioProcess:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def queue_job(data_dir: Path, kind: str, title: str, argv: list[str]) -> int:
    """Queue a job in the studio database without launching it (the studio's poller launches it)."""
    out = subprocess.run([PYTHON, '-m', 'services.jobs', 'queue', '--data-dir', str(data_dir), '--kind', kind,
                          '--title', title, '--', *argv], cwd=str(ROOT), env=clean_env(), capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip().splitlines()[-1])


CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage']


def launch_chromium(playwright):
    """Debian's Chromium (never `playwright install`)."""
    return playwright.chromium.launch(executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS)


def sample_path(route: str) -> str:
    """A concrete URL for a route pattern: every `{param}` becomes 1."""
    import re
    return re.sub(r'\{[^}]+\}', '1', route)
