"""The first-run tour: it opens by itself on the dashboard of an empty studio until this user has seen it, can
be skipped, walks its stops, and Help replays it."""
from __future__ import annotations

from pathlib import Path

from nicegui import app
from nicegui.testing import User
from rave_fixtures import register_dataset
from waiting import until

from components.tour import STOPS, should_open


def tour_open(user: User) -> bool:
    """Whether the tour's dialog is open (the simulated user sees a closed dialog's text too). A page builds the
    tour only when it opens it."""
    try:
        card = next(iter(user.find(marker='tour').elements))
    except AssertionError:  # not on the page: never opened here
        return False
    return card.parent_slot.parent.value


def test_it_opens_only_for_a_newcomer_on_an_empty_studio() -> None:
    assert should_open(False, lambda: True)
    assert not should_open(True, lambda: True)
    assert not should_open(False, lambda: False)


async def test_an_empty_studio_opens_the_tour_which_walks_its_stops(user: User) -> None:
    await user.open('/')
    await user.should_see('Welcome to RAVE Studio')
    assert tour_open(user)
    for stop in STOPS[1:]:
        user.find(marker='tour-next').click()
        await user.should_see(stop.title)
    await user.should_see(marker='tour-example')
    await user.should_see(marker='tour-own')
    user.find(marker='tour-own').click()  # the last stop leads to the dataset wizard
    await user.should_see(marker='wizard')
    assert not tour_open(user)
    assert app.storage.user['tour'] == 'seen'


async def test_skipped_once_it_stays_away_and_help_replays_it(user: User) -> None:
    await user.open('/')
    assert tour_open(user)
    user.find(marker='tour-skip').click()
    assert not tour_open(user)
    await user.open('/')
    await user.should_see(marker='start')
    assert not tour_open(user)
    await user.open('/help')
    user.find(marker='take-tour').click()
    await until(lambda: tour_open(user))
    user.find(marker='tour-next').click()
    await user.should_see(STOPS[1].title)


async def test_a_studio_with_a_dataset_does_not_open_it(user: User, rave_db: Path) -> None:
    register_dataset(app.studio, rave_db)
    await user.open('/')
    await user.should_see(marker='start')
    assert not tour_open(user)
