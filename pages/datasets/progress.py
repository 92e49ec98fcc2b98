"""Progress of work this client started in a worker thread (archive export and import, the integrity check):
the thread reports through a callback that updates the page on the event loop, so no timer polls for it."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from nicegui import ui

EVERY_S = 0.1  # at most ten updates a second reach the browser


def reporter(bar: ui.linear_progress, line: ui.label | None = None) -> Callable[[float, str], None]:
    """A `progress(fraction, what)` callback for a worker thread; call it on the event loop (inside a handler)."""
    loop = asyncio.get_running_loop()
    last = [0.0]

    def show(fraction: float, what: str) -> None:
        if not bar.is_deleted:
            bar.set_value(fraction)
        if line is not None and not line.is_deleted:
            line.set_text(what)

    def report(fraction: float, what: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - last[0] < EVERY_S:
            return
        last[0] = now
        loop.call_soon_threadsafe(show, fraction, what)

    return report
