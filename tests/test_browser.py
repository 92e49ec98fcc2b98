"""Headless Chromium against the real `rave-studio` command: navigation, reloads, theme, and the dataset step."""
from __future__ import annotations

import re

import pytest
from studio_process import StudioProcess, browser_page

from pages import NAV

pytestmark = pytest.mark.browser
TIMEOUT_MS = 30000




@pytest.fixture
def page(browser, served):
    yield from browser_page(browser, TIMEOUT_MS)


def nav_link(page, label: str):
    return page.locator('.q-drawer').get_by_role('link', name=label, exact=True)


def assert_highlighted(page, current: str) -> None:
    from playwright.sync_api import expect
    for _, label, _ in NAV:
        link = nav_link(page, label)
        if label == current:
            expect(link).to_have_class(re.compile(r'bg-primary/10'))
        else:
            expect(link).not_to_have_class(re.compile(r'bg-primary/10'))


def test_navigation_walks_every_area_and_survives_reload(page, served: StudioProcess):
    from playwright.sync_api import expect
    page.goto(served.url + '/')
    expect(page).to_have_title('Dashboard · RAVE Studio')
    for target, label, _ in [*NAV[1:], NAV[0]]:
        nav_link(page, label).click()
        expect(page).to_have_url(served.url + target)
        expect(page).to_have_title(f'{label} · RAVE Studio')
        assert_highlighted(page, label)
        page.reload()
        expect(page).to_have_url(served.url + target)
        expect(page).to_have_title(f'{label} · RAVE Studio')
        assert_highlighted(page, label)


def test_bookmarked_urls_open_directly_and_back_works(page, served: StudioProcess):
    from playwright.sync_api import expect
    for target, label, _ in NAV:
        page.goto(served.url + target)
        expect(page).to_have_title(f'{label} · RAVE Studio')
        assert_highlighted(page, label)
    page.go_back()
    expect(page).to_have_title(f'{NAV[-2][1]} · RAVE Studio')


def test_dark_theme_is_remembered(page, served: StudioProcess):
    from playwright.sync_api import expect
    page.goto(served.url + '/settings')
    body = page.locator('body')
    dark = 'body--dark' in (body.get_attribute('class') or '')
    page.locator('[data-testid], button').filter(has=page.locator('i', has_text='dark_mode')).first.click()
    expected = re.compile('body--dark') if not dark else re.compile(r'^(?!.*body--dark).*$')
    expect(body).to_have_class(expected)
    page.reload()
    expect(body).to_have_class(expected)
    page.goto(served.url + '/help')
    expect(body).to_have_class(expected)


def test_narrow_window_still_navigates(browser, served: StudioProcess):
    from playwright.sync_api import expect
    context = browser.new_context(viewport={'width': 800, 'height': 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(served.url + '/')
    expect(page).to_have_title('Dashboard · RAVE Studio')
    if not nav_link(page, 'Training').is_visible():
        page.locator('button').filter(has=page.locator('i', has_text='menu')).first.click()
    nav_link(page, 'Training').click()
    expect(page).to_have_url(served.url + '/training')
    width = page.evaluate('document.documentElement.scrollWidth')
    assert width <= 800, f'the page scrolls sideways at 800 px ({width} px wide)'
    context.close()


def step_of(page, inner):
    """The wizard step (QStep) that holds `inner`: its buttons, not those of a step still animating out."""
    return page.locator('.q-stepper__step', has=inner)


def test_new_dataset_from_a_folder_shows_progress_and_becomes_ready(page, served: StudioProcess):
    """The dataset step as a user does it: real RAVE preprocess on audio synthesized into the data folder."""
    from playwright.sync_api import expect
    from rave_fixtures import synth_audio
    audio = served.data_dir / 'incoming' / 'tones'
    synth_audio(audio, n_files=3, seconds=8.0)

    page.goto(served.url + '/datasets')
    page.get_by_role('button', name='New dataset').first.click()
    # the wizard: name → sources → parameters → review → run
    page.get_by_label('Name', exact=True).fill('browser tones')
    step_of(page, page.get_by_label('Name', exact=True)).get_by_role('button', name='Next').click()
    page.get_by_placeholder('Paste a folder path').fill(str(audio))
    page.locator('button:visible').filter(has=page.locator('i', has_text=re.compile(r'^add$'))).first.click()
    expect(page.get_by_text(str(audio.resolve()), exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r'^3 files'))).to_be_visible()
    step_of(page, page.get_by_placeholder('Paste a folder path')).get_by_role('button', name='Next').click()
    expect(page.get_by_label('Sampling rate')).to_be_visible()
    step_of(page, page.get_by_label('Sampling rate')).get_by_role('button', name='Next').click()
    start = page.get_by_role('button', name='Start preprocessing')
    expect(start).to_be_enabled(timeout=60000)  # after the review of every file
    start.click()

    expect(page.get_by_text('Building "browser tones"')).to_be_visible()
    console = page.locator('.q-stepper', has=page.get_by_text('Building "browser tones"'))
    expect(console.locator('.q-linear-progress')).to_be_visible()
    # the live log shows RAVE's own progress line, then the job ends done
    expect(console.get_by_text(re.compile(r'dataset length')).first).to_be_visible(timeout=180000)
    expect(console.locator('.q-chip', has_text='done')).to_be_visible(timeout=180000)

    console.get_by_role('button', name='Open dataset').click()
    expect(page).to_have_url(re.compile(r'/datasets/\d+$'))
    expect(page.locator('.q-chip', has_text='ready')).to_be_visible(timeout=60000)
    expect(page.get_by_text(re.compile(r'rave preprocess'))).to_be_visible()
    page.reload()
    expect(page.locator('.q-chip', has_text='ready')).to_be_visible()
    page.goto(served.url + '/datasets')
    expect(page.get_by_text('browser tones')).to_be_visible()
