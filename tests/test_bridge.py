"""The event bridge hands an event to its subscribers one per turn of the loop (app/bridge.py)."""
from __future__ import annotations

import asyncio
import time

from nicegui.testing import User

from app.bridge import Bridge
from services.events import Bus, RunMetrics


async def _settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


async def test_other_work_runs_between_two_subscribers(user: User) -> None:
    """25 live pages are 25 updates of a few ms: run back to back they held a cheap request for 100–150 ms."""
    bus, log = Bus(), []
    bridge = Bridge(bus)

    def page(i: int):
        def update(event: RunMetrics) -> None:
            log.append(f'page {i} step {event.step}')
            time.sleep(0.005)  # a chart update
        return update

    for i in range(5):
        bridge.on(RunMetrics, page(i))
    running = True

    async def other_work() -> None:
        while running:
            log.append('tick')
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    bus.publish(RunMetrics(run_id=1, step=10, version=1))
    bus.flush()
    bus.publish(RunMetrics(run_id=1, step=11, version=2))
    bus.flush()
    await _settle()
    running = False
    await other
    pages = [e for e in log if e != 'tick']
    assert sorted(pages) == sorted(f'page {i} step {s}' for i in range(5) for s in (10, 11))
    for i in range(5):  # each page sees the steps in the order published
        assert [e for e in pages if e.startswith(f'page {i} ')] == [f'page {i} step 10', f'page {i} step 11']
    first = log.index('page 0 step 10')
    gaps = [log.index(f'page {i + 1} step 10') - log.index(f'page {i} step 10') for i in range(4)]
    assert first >= 0 and all(gap > 1 for gap in gaps), log  # something else ran between two pages


async def test_a_failing_subscriber_does_not_keep_the_event_from_the_others(user: User) -> None:
    bus, got = Bus(), []
    bridge = Bridge(bus)

    def broken(_event: RunMetrics) -> None:
        raise RuntimeError('this page broke')

    bridge.on(RunMetrics, broken)
    bridge.on(RunMetrics, lambda e: got.append(e.step))

    async def later(e: RunMetrics) -> None:
        await asyncio.sleep(0)
        got.append(-e.step)
    bridge.on(RunMetrics, later)
    bus.publish(RunMetrics(run_id=1, step=3, version=1))
    bus.flush()
    await _settle()
    assert got == [3, -3]


async def test_a_subscriber_gone_before_its_turn_is_not_called(user: User) -> None:
    bus, got = Bus(), []
    bridge = Bridge(bus)
    first = lambda e: got.append(('first', e.step))  # noqa: E731
    gone = lambda e: got.append(('gone', e.step))  # noqa: E731
    bridge.on(RunMetrics, first)
    bridge.on(RunMetrics, gone)
    bus.publish(RunMetrics(run_id=1, step=1, version=1))
    bus.flush()  # the first at once, the second on the next turn
    bridge._event(RunMetrics).unsubscribe(gone)  # its client left in between
    await _settle()
    assert got == [('first', 1)]
