from nicegui.testing import User

from pages import NAV


async def test_every_area_opens_in_the_frame(user: User) -> None:
    for path, label, _icon in NAV:
        await user.open(path)
        await user.should_see(label)
        await user.should_see('RAVE Studio')
