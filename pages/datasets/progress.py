"""Progress of work this client started in a worker thread (archive export and import, the integrity check):
the thread reports through a callback that updates the page on the event loop, so no timer polls for it. What the
thread says (a `services.i18n.Lazy`) is put into words in the language of the page that started the work."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from nicegui import ui

from services import i18n

EVERY_S = 0.1  # at most ten updates a second reach the browser


def reporter(bar: ui.linear_progress, line: ui.label | None = None) -> Callable[[float, object], None]:
    """A `progress(fraction, what)` callback for a worker thread; call it on the event loop (inside a handler)."""
    loop, language = asyncio.get_running_loop(), i18n.current()
    last = [0.0]

    def show(fraction: float, what: object) -> None:
        if not bar.is_deleted:
            bar.set_value(fraction)
        if line is not None and not line.is_deleted:
            with i18n.speaking(language):
                line.set_text(str(what))

    def report(fraction: float, what: object) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - last[0] < EVERY_S:
            return
        last[0] = now
        loop.call_soon_threadsafe(show, fraction, what)

    return report
