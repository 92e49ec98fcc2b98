"""Training pages through NiceGUI's simulated user."""
from __future__ import annotations

from nicegui.testing import User


async def test_empty_state_teaches_and_leads_to_the_wizard(user: User) -> None:
    await user.open('/training')
    await user.should_see('No training runs yet')
    user.find(marker='new').click()
    await user.should_see('Quick start')  # the new-run wizard (tests/test_wizard.py covers it)
    await user.should_see('No ready dataset in this project')
    await user.should_see('Build one')
