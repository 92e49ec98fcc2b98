"""The Datasets page as a user meets it: the empty state teaches, and "New dataset" opens the wizard
(the wizard's own steps are tested in test_dataset_wizard.py)."""
from __future__ import annotations

from nicegui.testing import User


async def test_empty_state_explains_datasets_and_opens_the_wizard(user: User) -> None:
    await user.open('/datasets')
    await user.should_see('No datasets yet')
    await user.should_see('training material for a RAVE model')
    user.find(marker='new').click()
    await user.should_see(marker='wizard')
    await user.should_see('your recordings cut into short examples')
    user.find(marker='close').click()
    await user.should_see('No datasets yet')
