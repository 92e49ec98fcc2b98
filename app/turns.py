"""Page builds take turns on the event loop.

A page is built and rendered in one stretch of the loop (70–160 ms for the studio's pages). When 25 people
open the studio at once, 25 builds are ready together and run back to back: everything else the studio does —
a click, a live chart's update, a cheap request — waits behind all of them (1.7–2.8 s measured with
bench/bench_clients.py). Taking turns makes each build wait for the one before it and lets what queued up
meanwhile run in between, so nothing waits for more than about one build.

A turn is handed on a few turns of the loop after its build is done (`gap`): the page's HTML is rendered
right after the build (by NiceGUI, outside the turn), and a request that arrived meanwhile needs several turns
of the loop to be answered (its middlewares, its response) — with one turn between two builds, a cheap GET
waited behind one build for each of its steps (2.5 s with 25 people joining).

A build that awaits something slow (a file opened in a thread, a cluster that does not answer) must not hold
every other page back: once the build holding the turn has had it for `patience` seconds, the next one in line
goes ahead (and holds the turn in its place). Only a build that overstays hands on early: a long queue of
ordinary builds still goes one at a time (a patience counted from each waiter's arrival let the whole queue
of 25 go at once after 0.5 s, and the stall came back).

Waiting in line counts towards NiceGUI's `response_timeout` (3 s by default, then the tab gets an error page):
25 builds in line on a busy machine take longer than that, so the studio's pages get RESPONSE_TIMEOUT_S.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator


class Turns:
    def __init__(self, patience: float = 0.5, gap: int = 4) -> None:
        self.patience = patience
        self.gap = gap  # turns of the loop between the end of one build and the start of the next
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop that serves the pages (tests run several)
        self._holder: object | None = None  # the build whose turn it is
        self._line: collections.deque[asyncio.Future] = collections.deque()  # builds waiting, first come first
        self.waited = 0  # builds that had to wait for a turn (tests and benches read it)
        self.impatient = 0  # builds that overstayed their turn (the next one went ahead beside them)
        self.building = self.most = self.turns = 0  # builds under way now, the most at once, all so far

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._holder, self._line = loop, None, collections.deque()
        if self._holder is None and not self._line:
            me: object = object()  # free: taken at once, without giving the loop away
            self._holder = me
        else:
            self.waited += 1
            ticket = loop.create_future()
            self._line.append(ticket)
            try:
                me = await ticket
            except asyncio.CancelledError:
                if ticket.done() and not ticket.cancelled() and self._holder is ticket.result():
                    self._pass_on()  # handed the turn just as it was cancelled: the next one has it
                raise
        overstayed = loop.call_later(self.patience, self._overstayed, me)
        self.building, self.turns = self.building + 1, self.turns + 1
        self.most = max(self.most, self.building)
        try:
            yield
        finally:
            self.building -= 1
            overstayed.cancel()
            self._hand_on(me, self.gap)

    def _hand_on(self, build: object, after: int) -> None:
        """Pass the turn on `after` turns of the loop from now, unless it has gone on already."""
        if self._holder is not build:
            return
        if after > 0:
            assert self._loop is not None
            self._loop.call_soon(self._hand_on, build, after - 1)
        else:
            self._pass_on()

    def _overstayed(self, build: object) -> None:
        if self._holder is build:
            self.impatient += 1
            self._pass_on()

    def _pass_on(self) -> None:
        """The turn goes to the first build still waiting (none: it is free)."""
        self._holder = None
        while self._line:
            ticket = self._line.popleft()
            if not ticket.done():
                self._holder = object()
                ticket.set_result(self._holder)
                return

    @staticmethod
    async def breathe() -> None:
        """Let what queued up during a stretch of building run before the next stretch."""
        await asyncio.sleep(0)


PAGES = Turns()
RESPONSE_TIMEOUT_S = 20.0  # a page's wait for its turn plus its build (NiceGUI's response_timeout)
