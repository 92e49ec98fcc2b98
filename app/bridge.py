"""The event bridge: services publish typed events on a `Bus`; pages subscribe here, per client.

One NiceGUI `Event` per event type. Subscribing inside a page ties the handler to that client, so NiceGUI
drops it when the client leaves (no per-page timers, no leaked callbacks).
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from nicegui import Event, core

from services.events import Bus

E = TypeVar('E')


class Bridge:
    """Implements services.events.Subscriber on NiceGUI events."""

    def __init__(self, bus: Bus) -> None:
        self._events: dict[type, Event] = {}
        bus.listen(self._forward)

    def on(self, kind: type[E], handler: Callable[[E], object]) -> None:
        self._event(kind).subscribe(handler, expect_args=True)

    def subscribers(self, kind: type) -> int:
        """How many handlers follow `kind` (for tests and the load benchmark)."""
        event = self._events.get(kind)
        return len(event.callbacks) if event else 0

    def _event(self, kind: type) -> Event:
        if kind not in self._events:
            self._events[kind] = Event()
        return self._events[kind]

    def _forward(self, event: object) -> None:
        """Emit on the event loop: UI handlers must not run in a thread that polled the services (tests do)."""
        target = self._events.get(type(event))
        if target is None or not target.callbacks:
            return
        loop = core.loop
        if loop is None or _on_loop(loop):
            target.emit(event)
        else:
            loop.call_soon_threadsafe(target.emit, event)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
