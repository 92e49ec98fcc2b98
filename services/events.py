"""Typed events the global poller publishes; pages subscribe to them through the bridge in app/ (which
forwards each to a NiceGUI `Event`, so a client that leaves is unsubscribed). No NiceGUI here.

Publish only what changed, once per tick: a page never polls, it redraws when its event arrives.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar


@dataclass(frozen=True)
class JobsChanged:
    """A job was queued, started, progressed, paused, resumed or ended."""
    job_ids: tuple[int, ...] = ()  # the jobs whose state changed this tick (empty: unknown, redraw all)


@dataclass(frozen=True)
class JobLog:
    """New whole lines were appended to a job's log since the last tick."""
    job_id: int
    size: int  # bytes of log.txt now


@dataclass(frozen=True)
class RunMetrics:
    """A training run has new metric lines (its series' version moved)."""
    run_id: int
    step: int
    version: int


@dataclass(frozen=True)
class RunChanged:
    """A run's status, checkpoints or attempts changed."""
    run_id: int
    status: str


@dataclass(frozen=True)
class SweepChanged:
    """A sweep queued, judged or ended a trial, or was stopped, resumed or finished."""
    sweep_id: int
    status: str


@dataclass(frozen=True)
class SystemSample:
    """The system monitor took a new sample (CPU, RAM, GPUs)."""
    t: float


@dataclass(frozen=True)
class DatasetChanged:
    """A dataset was created, finished building, failed, changed or was removed."""
    dataset_id: int
    status: str


@dataclass(frozen=True)
class ExportChanged:
    """An export was created, verified, failed or removed."""
    export_id: int
    status: str


@dataclass(frozen=True)
class ModelServersChanged:
    """A model server started, stopped or was reaped (the Play pages' status panel redraws)."""
    models: tuple[str, ...] = ()  # the models that run now


@dataclass(frozen=True)
class ProjectsChanged:
    """A project was created, renamed, restored or deleted."""
    project_id: int | None = None


@dataclass(frozen=True)
class CommentsChanged:
    """A comment was posted, edited or deleted on a run, model, dataset or export."""
    kind: str
    target: str
    comment_id: int
    author: str
    mentions: tuple[str, ...] = ()  # who a new comment names with @


@dataclass(frozen=True)
class AccessChanged:
    """Who may do what changed: an account's rank or state, a project's sharing or members, the default visibility
    (here or in another process on the same database); open pages redraw what their user may now do."""
    generation: int


E = TypeVar('E')
Listener = Callable[[object], None]


class Subscriber(Protocol):
    """What pages receive to follow events (implemented by app/bridge.py on NiceGUI's Event)."""

    def on(self, kind: type[E], handler: Callable[[E], object]) -> None:
        """Call `handler(event)` for each event of `kind` while the current page lives."""


@dataclass
class Bus:
    """Where services publish (from any thread: clones and archive imports run in worker threads); the
    bridge listens. Listeners run on the event loop, in publish order."""
    listeners: list[Listener] = field(default_factory=list)
    pending: list[object] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def listen(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def publish(self, event: object) -> None:
        """Queue an event; `flush` (end of the poller tick) delivers each distinct event once."""
        with self.lock:
            if event not in self.pending:
                self.pending.append(event)

    def flush(self) -> None:
        with self.lock:
            events, self.pending = self.pending, []
        for event in events:
            for listener in list(self.listeners):
                listener(event)
