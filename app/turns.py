"""Page builds take turns on the event loop.

A page is built and rendered in one stretch of the loop (70–130 ms for the studio's pages). When 25 people
open the studio at once, 25 builds are ready together and run back to back: everything else the studio does —
a click, a live chart's update, a cheap request — waits behind all of them (1.7–2.8 s measured with
bench/bench_clients.py). Taking turns makes each build wait for the one before it and lets what queued up
meanwhile run in between, so nothing waits for more than about one build.

A build that awaits something slow (a file opened in a thread, a cluster that does not answer) must not hold
every other page back: a build waits for its turn at most `patience` seconds, then goes ahead anyway.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Turns:
    def __init__(self, patience: float = 0.5) -> None:
        self.patience = patience
        self._lock: asyncio.Lock | None = None  # made on the loop that serves the pages, at the first build
        self._loop: asyncio.AbstractEventLoop | None = None
        self.waited = 0  # builds that had to wait for a turn (tests and benches read it)
        self.impatient = 0  # builds that went ahead without one
        self._queued = 0  # builds waiting for their turn
        self.building = self.most = self.turns = 0  # builds under way now, the most at once, all so far

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:  # a lock belongs to one loop (tests run several)
            self._lock, self._loop, self._queued = asyncio.Lock(), loop, 0
        lock = self._lock
        held = True
        if not lock.locked() and not self._queued:
            await lock.acquire()  # free: taken at once, without giving the loop away
        else:
            self.waited, self._queued = self.waited + 1, self._queued + 1
            try:
                await asyncio.wait_for(lock.acquire(), self.patience)
            except TimeoutError:
                held, self.impatient = False, self.impatient + 1
            finally:
                self._queued -= 1
        self.building, self.turns = self.building + 1, self.turns + 1
        self.most = max(self.most, self.building)
        try:
            yield
        finally:
            self.building -= 1
            if held:
                lock.release()

    @staticmethod
    async def breathe() -> None:
        """Let what queued up during a stretch of building run before the next stretch."""
        await asyncio.sleep(0)


PAGES = Turns()
