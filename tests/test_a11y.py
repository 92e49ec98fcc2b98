"""Accessibility: the themes (light, dark, high contrast) and the text size, chosen per user in Settings; and,
in a real Chromium, axe-core on every route in each theme (no serious or critical violation) and every route at
200 % text without a horizontal scroll bar at 1366×860."""
from __future__ import annotations

from nicegui import app
from nicegui.testing import User

from app import theme


def lum(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((lum(a), lum(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_high_contrast_colour_reads_at_7_to_1_on_white() -> None:
    for name, colour in theme.CONTRAST_COLORS.items():
        assert contrast(colour, '#FFFFFF') >= 7.0, name


def test_the_stored_choices_name_a_theme_and_a_text_size() -> None:
    stored: dict = {}
    assert theme.appearance(stored) == ('auto', 100)
    for name in ('light', 'dark', 'contrast', 'auto'):
        theme.choose(stored, name)
        assert theme.appearance(stored)[0] == name
    stored['font_scale'] = 175
    assert theme.appearance(stored) == ('auto', 175)
    stored['font_scale'] = 900  # not offered: the normal size
    assert theme.appearance(stored)[1] == 100


def test_text_scaling_reaches_quasars_pixel_sizes() -> None:
    assert theme.font_css(100) == ''
    css = theme.font_css(200)
    assert 'html.studio-scaled { font-size: 200%; }' in css
    assert 'html.studio-scaled .q-btn' in css and 'font-size: 28.0px' in css  # 14 px buttons
    assert 'html.studio-scaled .q-field--dense .q-field__control' in css and 'height: 80.0px' in css


async def test_a_user_picks_high_contrast_and_large_text_in_settings(user: User) -> None:
    await user.open('/settings')
    await user.should_see('Appearance')
    user.find(marker='setting-theme').elements.pop().set_value('contrast')
    assert app.storage.user['contrast'] is True and app.storage.user['dark'] is False
    await user.open('/settings')
    user.find(marker='setting-font_scale').elements.pop().set_value(200)
    assert app.storage.user['font_scale'] == 200
    await user.open('/help')
    assert theme.appearance(app.storage.user) == ('contrast', 200)
    drawer = next(e for e in user.client.elements.values() if e.props.get('mini-width'))
    assert (drawer.props['width'], drawer.props['mini-width']) == ('440', '128')  # the icons-only drawer of 1100 px × 2


async def test_job_progress_is_announced_politely(user: User) -> None:
    await user.open('/')
    region = user.find(marker='job-announcer').elements.pop()
    assert region.props['aria-live'] == 'polite' and 'sr-only' in region.classes
