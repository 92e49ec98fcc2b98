"""Live preview for one page: at most one render runs and at most one waits, the newest (a slider dragged for a
second asks for dozens; the ones in between are never rendered)."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Ask = TypeVar('Ask')
Got = TypeVar('Got')


class LatestOnly(Generic[Ask, Got]):
    """`request(ask)` from event handlers; `render(ask)` runs one at a time, each result goes to `show`, each
    failure (an exception with a sentence) to `fail`."""

    def __init__(self, render: Callable[[Ask], Awaitable[Got]], show: Callable[[Got], object],
                 fail: Callable[[Exception], object]) -> None:
        self._render, self._show, self._fail = render, show, fail
        self._pending: tuple[Ask] | None = None
        self._task: asyncio.Task | None = None
        self.rendered = 0
        self.dropped = 0  # requests replaced by a newer one before they started

    def request(self, ask: Ask) -> None:
        if self._pending is not None:
            self.dropped += 1
        self._pending = (ask,)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    async def idle(self) -> None:
        """Wait until nothing runs or waits (tests, and a record that must see the last render)."""
        while self.busy:
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        while self._pending is not None:
            (ask,), self._pending = self._pending, None
            try:
                got = await self._render(ask)
            except (ValueError, RuntimeError) as e:  # the play errors: sentences for the user
                self._fail(e)
                continue
            self.rendered += 1
            self._show(got)
