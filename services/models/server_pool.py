"""The model servers of one studio: a `ModelServer` per open model, started on demand, stopped when idle or crowded.

`open(model)` returns the model's warm server, starting it if none runs (and first stopping the least recently
used idle one when `max_servers` run already); after a start, idle servers are stopped until all of them together
hold at most `max_rss_bytes`. A reaper thread stops servers no page used for `idle_s`; a server that died is
forgotten and the next `open` starts a fresh one.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from services.models.server import ModelServer, ModelServerError


@dataclass(frozen=True)
class ServerView:
    """One running model server as a status panel shows it."""
    model: str
    pid: int
    rss_bytes: int
    idle_s: float
    busy: bool


class ModelServers:
    """The running model servers of one studio: started on demand, stopped when idle or when room is needed."""

    def __init__(self, python: str = sys.executable, threads: int | None = None, log_dir: Path | None = None,
                 idle_s: float = 600.0, max_servers: int = 2, max_rss_bytes: int = 3 * 1024 ** 3,
                 start_timeout_s: float = 300.0) -> None:
        self.python, self.log_dir = python, log_dir
        self.threads = threads or max(1, min(4, os.cpu_count() or 1))
        self.idle_s, self.max_servers, self.max_rss_bytes = idle_s, max_servers, max_rss_bytes
        self.start_timeout_s = start_timeout_s
        self._servers: dict[str, ModelServer] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    def open(self, model: str | Path) -> ModelServer:
        """The warm server of `model`, started (after making room) if none is running."""
        key = str(Path(model).expanduser().resolve())
        with self._lock:
            server = self._servers.get(key)
            if server and server.alive:
                server.last_used = time.monotonic()
                return server
            if server:
                self._drop(key)
            while len(self._servers) >= self.max_servers:
                if not self._evict_one(keep=key):
                    raise ModelServerError(f'{len(self._servers)} models are busy already (the most at once is '
                                           f'{self.max_servers}); wait for one to finish or close one.')
            server = ModelServer.start(key, self.python, self.threads, self._log_path(key), self.start_timeout_s)
            self._servers[key] = server
            while self.total_rss_bytes() > self.max_rss_bytes and self._evict_one(keep=key):
                pass
            self._start_reaper()
            return server

    def views(self) -> list[ServerView]:
        now = time.monotonic()
        with self._lock:
            return [ServerView(k, s.process.pid, s.rss_bytes, now - s.last_used, s.busy)
                    for k, s in self._servers.items()]

    def total_rss_bytes(self) -> int:
        with self._lock:
            return sum(s.rss_bytes for s in self._servers.values())

    def sweep(self) -> list[str]:
        """Stop the servers idle longer than `idle_s` and forget dead ones; returns the models closed."""
        now = time.monotonic()
        with self._lock:
            closed = [k for k, s in self._servers.items()
                      if not s.alive or (not s.busy and now - s.last_used > self.idle_s)]
            for key in closed:
                self._drop(key)
        return closed

    def close(self, model: str | Path) -> None:
        with self._lock:
            self._drop(str(Path(model).expanduser().resolve()))

    def close_all(self) -> None:
        self._stop.set()
        with self._lock:
            for key in list(self._servers):
                self._drop(key)

    def _evict_one(self, keep: str) -> bool:
        """Stop the least recently used idle server other than `keep`; False when there is none."""
        idle = [(s.last_used, k) for k, s in self._servers.items() if k != keep and not s.busy]
        if not idle:
            return False
        self._drop(min(idle)[1])
        return True

    def _drop(self, key: str) -> None:
        server = self._servers.pop(key, None)
        if server:
            server.close()

    def _log_path(self, key: str) -> Path | None:
        if self.log_dir is None:
            return None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self.log_dir / f'model-server-{Path(key).stem}.log'

    def _start_reaper(self) -> None:
        if self._reaper is None or not self._reaper.is_alive():
            self._stop.clear()
            self._reaper = threading.Thread(target=self._reap, name='model-server-reaper', daemon=True)
            self._reaper.start()

    def _reap(self) -> None:
        while not self._stop.wait(max(1.0, min(30.0, self.idle_s / 4))):
            self.sweep()
