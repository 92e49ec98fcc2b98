from nicegui.testing import User

from pages import NAV


async def test_every_area_opens_in_the_frame(user: User) -> None:
    for path, label, _icon in NAV:
        await user.open(path)
        await user.should_see(label)
        await user.should_see('RAVE Studio')



async def test_every_page_build_takes_its_turn(user: User) -> None:
    from app import turns
    before = turns.PAGES.turns
    await user.open('/')
    await user.open('/training')
    assert turns.PAGES.turns == before + 2


async def test_builds_take_turns_and_the_loop_serves_others_in_between() -> None:
    """Eight builds ready at once (as when eight people open a page together): one at a time, each breathing
    between its frame and its content, and other work runs between them."""
    import asyncio
    import time

    from app.turns import Turns
    pages, log = Turns(), []

    async def build(i: int) -> None:
        async with pages.turn():
            log.append(f'start {i}')
            time.sleep(0.01)  # the frame, drawn in one stretch
            await pages.breathe()
            time.sleep(0.01)  # the page's content
            log.append(f'end {i}')

    async def other_work() -> None:
        while len([e for e in log if e.startswith('end')]) < 8:
            log.append('tick')
            await asyncio.sleep(0)

    await asyncio.gather(other_work(), *(build(i) for i in range(8)))
    assert pages.most == 1 and pages.waited == 7
    builds = [e for e in log if e != 'tick']
    assert builds == [f'{w} {i}' for i in range(8) for w in ('start', 'end')]  # never two at once
    between = [log.index(f'start {i + 1}') - log.index(f'end {i}') for i in range(7)]
    assert all(gap > pages.gap for gap in between), log  # `gap` ticks between two builds


async def test_what_follows_a_build_runs_before_the_next_build_starts() -> None:
    """NiceGUI renders a page's HTML right after its build, outside the turn; a request that came in meanwhile
    takes a few turns of the loop to answer. Both come before the next build."""
    import asyncio

    from app.turns import Turns
    pages, log = Turns(gap=3), []

    async def page(i: int) -> None:
        async with pages.turn():
            log.append(f'build {i}')
        log.append(f'render {i}')  # in the same stretch of the loop, as NiceGUI's build_response

    async def request() -> None:  # three steps, a turn of the loop each
        for step in range(3):
            await asyncio.sleep(0)
            log.append(f'request {step}')

    await asyncio.gather(page(0), request(), page(1))
    assert log.index('render 0') < log.index('request 2') < log.index('build 1'), log


async def test_a_build_that_waits_on_something_slow_holds_the_others_back_only_briefly() -> None:
    import asyncio
    import time

    from app.turns import Turns
    pages = Turns(patience=0.2)
    started = time.monotonic()

    async def stuck() -> None:
        async with pages.turn():
            await asyncio.sleep(3)  # a file system or a cluster that does not answer

    async def ordinary() -> float:
        await asyncio.sleep(0.01)
        async with pages.turn():
            return time.monotonic() - started

    slow = asyncio.create_task(stuck())
    waited = await ordinary()
    slow.cancel()
    assert waited < 1.0 and pages.impatient == 1


async def test_a_long_line_of_ordinary_builds_still_goes_one_at_a_time() -> None:
    """Twelve builds of 20 ms queued together wait longer than the patience in all (240 ms ≫ 50 ms), but none
    overstays its own turn: they go one at a time, no pile-up (a patience counted from each one's arrival let
    the queue go at once)."""
    import asyncio
    import time

    from app.turns import Turns
    pages = Turns(patience=0.05)

    async def build() -> None:
        async with pages.turn():
            time.sleep(0.02)
            await pages.breathe()

    await asyncio.gather(*(build() for _ in range(12)))
    assert pages.most == 1 and pages.impatient == 0 and pages.turns == 12


async def test_a_build_cancelled_while_waiting_leaves_the_line_moving() -> None:
    import asyncio

    from app.turns import Turns
    pages, done = Turns(patience=5), []

    async def build(i: int) -> None:
        async with pages.turn():
            await asyncio.sleep(0.01)
            done.append(i)

    first, second, third = (asyncio.create_task(build(i)) for i in range(3))
    await asyncio.sleep(0)
    second.cancel()  # its tab closed while it waited
    await asyncio.wait_for(asyncio.gather(first, third), 2)
    assert done == [0, 2] and second.cancelled()
