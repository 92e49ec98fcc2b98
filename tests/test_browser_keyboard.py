"""Keyboard and first run in Debian's Chromium against the real `rave-studio` command: the tour on an empty
studio (Esc puts it away for good), `g d`/`g t`/`g m`/`g e`/`g x`, `/` into the page's search, `?` for the sheet,
Esc closing it, shortcuts waiting while one types, and a visible focus ring."""
from __future__ import annotations

import re

import pytest
from studio_process import StudioProcess, browser_page

pytestmark = pytest.mark.browser
playwright = pytest.importorskip('playwright.sync_api')
TIMEOUT_MS = 30000




@pytest.fixture
def page(browser, served: StudioProcess):
    yield from browser_page(browser, TIMEOUT_MS)


def test_the_tour_greets_an_empty_studio_and_esc_puts_it_away(page, served: StudioProcess) -> None:
    from playwright.sync_api import expect
    page.goto(served.url + '/')
    tour = page.get_by_role('dialog', name='Tour of RAVE Studio')
    expect(tour).to_be_visible()
    expect(tour.get_by_text('Welcome to RAVE Studio')).to_be_visible()
    tour.get_by_role('button', name='Next').click()
    expect(tour.get_by_text('1 · A dataset')).to_be_visible()
    page.keyboard.press('Escape')
    expect(tour).to_be_hidden()
    page.reload()
    expect(page.get_by_text('Try the example')).to_be_visible()
    expect(tour).to_be_hidden()  # seen once: not again
    page.goto(served.url + '/help')
    page.get_by_role('button', name='Take the tour').click()
    expect(tour).to_be_visible()
    expect(tour.get_by_text('Welcome to RAVE Studio')).to_be_visible()


def test_g_then_a_letter_goes_to_each_area(page, served: StudioProcess) -> None:
    from playwright.sync_api import expect
    page.goto(served.url + '/help')
    expect(page).to_have_title('Help · RAVE Studio')
    for letter, path, title in (('d', '/datasets', 'Datasets'), ('t', '/training', 'Training'),
                                ('m', '/models', 'Models'), ('e', '/export', 'Export'),
                                ('x', '/explorer', 'Explorer'), ('h', '/', 'Dashboard')):
        page.get_by_role('button', name='Keyboard shortcuts (?)').wait_for()
        page.keyboard.press('g')
        page.keyboard.press(letter)
        expect(page).to_have_url(served.url + path)
        expect(page).to_have_title(f'{title} · RAVE Studio')


def test_slash_focuses_the_search_and_typing_there_is_not_a_shortcut(page, served: StudioProcess) -> None:
    from playwright.sync_api import expect
    page.goto(served.url + '/help')
    search = page.get_by_role('textbox', name='Search the guide and the FAQ')
    expect(search).not_to_be_focused()
    page.locator('body').click(position={'x': 700, 'y': 600})
    page.keyboard.press('/')
    expect(search).to_be_focused()
    page.keyboard.type('g d phase')  # letters typed in a field stay there
    expect(search).to_have_value(re.compile('g d phase'))
    expect(page).to_have_url(served.url + '/help')


def test_question_mark_opens_the_sheet_and_esc_closes_it(page, served: StudioProcess) -> None:
    from playwright.sync_api import expect
    page.goto(served.url + '/settings')
    page.get_by_text('Folders users may browse').first.wait_for()
    page.keyboard.press('?')
    sheet = page.get_by_role('dialog', name='Keyboard shortcuts')
    expect(sheet).to_be_visible()
    expect(sheet.get_by_text('Go to the Explorer')).to_be_visible()
    page.keyboard.press('Escape')
    expect(sheet).to_be_hidden()
    page.get_by_role('button', name='Keyboard shortcuts (?)').click()  # the header's keyboard button opens it too
    expect(sheet).to_be_visible()
    page.keyboard.press('Escape')
    expect(sheet).to_be_hidden()


def test_tab_shows_a_focus_ring(page, served: StudioProcess) -> None:
    page.goto(served.url + '/settings')
    page.get_by_text('Folders users may browse').first.wait_for()
    page.keyboard.press('Tab')
    ring = page.evaluate('(() => { const s = getComputedStyle(document.activeElement);'
                         ' return [s.outlineStyle, s.outlineWidth]; })()')
    assert ring == ['solid', '2px'], ring  # Quasar's buttons say no-outline: the theme's ring outranks it
