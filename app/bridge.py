"""The event bridge: services publish typed events on a `Bus`; pages subscribe here, per client.

One NiceGUI `Event` per event type. Subscribing inside a page ties the handler to that client, so NiceGUI
drops it when the client leaves (no per-page timers, no leaked callbacks).

An event reaches its subscribers one per turn of the event loop, not all in one stretch: 25 people on a live
run page are 25 chart updates of a few milliseconds each, and run back to back they held every other request
(a click, a cheap GET) for 100–150 ms at each new metric line (bench/bench_clients.py). In turns, what else
waits runs between two subscribers. Each subscriber still sees the events of one kind in the order published.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from nicegui import Event, background_tasks, core
from nicegui import event as nicegui_event

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
            _emit(target, event)
        else:
            loop.call_soon_threadsafe(_emit, target, event)


def _emit(target: Event, event: object) -> None:
    """The first subscriber at once, the others each on a later turn of the loop."""
    callbacks = list(target.callbacks)
    nicegui_event._invoke_and_forget(callbacks[0], event)  # as Event.emit runs each: in its client's context
    if len(callbacks) > 1:
        background_tasks.create(_in_turns(target, callbacks[1:], event), name='event fan-out')


async def _in_turns(target: Event, callbacks: list, event: object) -> None:
    for callback in callbacks:
        await asyncio.sleep(0)
        if any(c is callback for c in target.callbacks):  # its client may have left in between
            nicegui_event._invoke_and_forget(callback, event)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
