"""Training pages through NiceGUI's simulated user; `register` and `until` are shared with the control tests."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from nicegui import app
from nicegui.testing import User
from rave_fixtures import register_dataset

from services.store import Dataset


def register(db_path: Path) -> Dataset:
    return register_dataset(app.studio, db_path)


async def until(condition, timeout: float = 600, what: str = 'condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        await asyncio.sleep(0.3)
    raise AssertionError(f'timed out waiting for {what}')


async def test_empty_state_teaches_and_leads_to_the_wizard(user: User) -> None:
    await user.open('/training')
    await user.should_see('No training runs yet')
    user.find(marker='new').click()
    await user.should_see('Quick start')  # the new-run wizard (tests/test_wizard.py covers it)
    await user.should_see('No ready dataset in this project')
    await user.should_see('Build one')
