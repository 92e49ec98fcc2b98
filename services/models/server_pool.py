"""The model servers of one studio: a `ModelServer` per open model, started on demand, stopped when idle or crowded.

`open(model)` returns the model's warm server, starting it if none runs (and first stopping the least recently
used idle one when `max_servers` run already); after a start, idle servers are stopped until all of them together
hold at most `max_rss_bytes`. A reaper thread stops servers no page used for `idle_s`; a server that died is
forgotten and the next `open` starts a fresh one. `on_change(models)` hears of every start and stop (the studio
publishes ModelServersChanged from it).
"""
from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.i18n import lazy
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
                 start_timeout_s: float = 300.0, on_change: Callable[[tuple[str, ...]], None] | None = None) -> None:
        self.python, self.log_dir = python, log_dir
        self.on_change = on_change
        self.threads = threads or max(1, min(4, os.cpu_count() or 1))
        self.idle_s, self.max_servers, self.max_rss_bytes = idle_s, max_servers, max_rss_bytes
        self.start_timeout_s = start_timeout_s
        self._servers: dict[str, ModelServer] = {}
        self._starting: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    def open(self, model: str | Path) -> ModelServer:
        """The warm server of `model`, started (after making room) if none is running.

        Starting takes seconds (torch, the model, its scripting for a checkpoint) and happens outside the pool's
        lock: other models stay usable meanwhile, and a second caller for the same model waits for that start.
        """
        key = str(Path(model).expanduser().resolve())
        while True:
            with self._lock:
                server = self._servers.get(key)
                if server and server.alive:
                    server.last_used = time.monotonic()
                    return server
                pending = self._starting.get(key)
                if pending is None:
                    stale = [self._servers.pop(key)] if server else []
                    stale += self._make_room(key)
                    started = self._starting[key] = threading.Event()
                    break
            pending.wait()
        _close(stale)
        try:
            server = ModelServer.start(key, self.python, self.threads, self._log_path(key), self.start_timeout_s)
        finally:
            with self._lock:
                del self._starting[key]
            started.set()
        with self._lock:
            self._servers[key] = server
            crowded = self._over_memory(keep=key)
        _close(crowded)
        self._start_reaper()
        self._changed()
        return server

    def configure(self, python: str, idle_s: float, max_servers: int, max_rss_bytes: int) -> None:
        """New limits (from Settings); they hold from the next start or sweep, a running server is not stopped."""
        self.python, self.idle_s = python, float(idle_s)
        self.max_servers, self.max_rss_bytes = max(1, int(max_servers)), int(max_rss_bytes)

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
            keys = [k for k, s in self._servers.items()
                    if not s.alive or (not s.busy and now - s.last_used > self.idle_s)]
            gone = [self._servers.pop(k) for k in keys]
        _close(gone)
        if keys:
            self._changed()
        return keys

    def close(self, model: str | Path) -> None:
        with self._lock:
            gone = self._servers.pop(str(Path(model).expanduser().resolve()), None)
        _close([gone] if gone else [])
        if gone:
            self._changed()

    def close_all(self) -> None:
        self._stop.set()
        with self._lock:
            gone = list(self._servers.values())
            self._servers.clear()
        _close(gone)
        if gone:
            self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            with self._lock:
                models = tuple(self._servers)
            self.on_change(models)

    def _make_room(self, key: str) -> list[ModelServer]:
        """Take out least recently used idle servers until one more may start; raises when all are busy."""
        taken = []
        while len(self._servers) + len(self._starting) >= self.max_servers:
            server = self._least_recent(keep=key)
            if server is None:
                raise ModelServerError(lazy('{max_servers} models are playing already (the most at once); wait '
                                            'for one to finish or close one.', max_servers=self.max_servers))
            taken.append(server)
        return taken

    def _over_memory(self, keep: str) -> list[ModelServer]:
        """Take out least recently used idle servers while all of them together hold more than `max_rss_bytes`."""
        taken = []
        while sum(s.rss_bytes for s in self._servers.values()) > self.max_rss_bytes:
            server = self._least_recent(keep=keep)
            if server is None:
                break
            taken.append(server)
        return taken

    def _least_recent(self, keep: str) -> ModelServer | None:
        idle = [(s.last_used, k) for k, s in self._servers.items() if k != keep and not s.busy]
        return self._servers.pop(min(idle)[1]) if idle else None

    def _log_path(self, key: str) -> Path | None:
        if self.log_dir is None:
            return None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self.log_dir / f'model-server-{Path(key).stem}.log'

    def _start_reaper(self) -> None:
        with self._lock:
            if self._reaper is None or not self._reaper.is_alive() or self._stop.is_set():
                self._stop = threading.Event()  # its own: a reaper that close_all stopped may still be winding down
                self._reaper = threading.Thread(target=self._reap, args=(self._stop,), name='model-server-reaper',
                                                daemon=True)
                self._reaper.start()

    def _reap(self, stop: threading.Event) -> None:
        while not stop.wait(max(1.0, min(30.0, self.idle_s / 4))):
            self.sweep()


def _close(servers: list[ModelServer]) -> None:
    for server in servers:
        server.close()
