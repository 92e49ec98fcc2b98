"""The first-model journey by visible labels only, in Debian's Chromium against the real `rave-studio`: an empty
studio → a dataset from a folder of audio → a training started, counting the clicks and the seconds the user
spends on the pages (the time RAVE itself works — preprocessing, the gin check — is counted apart)."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from rave_fixtures import synth_audio
from studio_process import StudioProcess, clean_env, launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]
playwright = pytest.importorskip('playwright.sync_api')
MAX_CLICKS = 12  # the UI time (aim ≤ 2 min) is printed, not asserted: a loaded machine is not a slow UI


class Journey:
    """The page with a click counter and a stopwatch that leaves out the waits for RAVE."""

    def __init__(self, page) -> None:
        self.page, self.clicks, self.waiting = page, 0, 0.0
        self.started = time.monotonic()

    def click(self, name: str) -> None:
        self._button(name).click()
        self.clicks += 1

    def _button(self, name: str):
        return self.page.locator(f'button:visible:has-text("{name}"), a:visible:has-text("{name}")').first

    def type(self, label: str, text: str, enter: bool = False) -> None:
        field = self.page.get_by_role('textbox', name=label).locator('visible=true').first
        field.fill(text)
        if enter:
            field.press('Enter')

    def wait_for_rave(self, text: str | re.Pattern, timeout_s: float, button: bool = False) -> None:
        started = time.monotonic()
        (self._button(text) if button else self.page.get_by_text(text).first).wait_for(timeout=timeout_s * 1000)
        self.waiting += time.monotonic() - started

    @property
    def ui_seconds(self) -> float:
        return time.monotonic() - self.started - self.waiting


def test_first_model_in_twelve_clicks(tmp_path: Path) -> None:
    data_dir = tmp_path / 'data'
    data_dir.mkdir()
    home = tmp_path / 'home'  # a local studio browses the user's home folder: the audio lives there
    audio = synth_audio(home / 'piano', n_files=3, seconds=12.0)[0].parent
    with StudioProcess(data_dir, env=clean_env(HOME=str(home))) as studio, playwright.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={'width': 1366, 'height': 860})
        page.set_default_timeout(60000)
        page.goto(studio.url + '/')
        journey = Journey(page)
        page.get_by_text('Welcome to RAVE Studio').wait_for()
        page.keyboard.press('Escape')  # the tour, put away
        journey.click('New dataset')
        journey.type('Name', 'piano')
        journey.click('Next')
        journey.type('Paste a folder path', str(audio), enter=True)
        page.get_by_text('3 files · 36 s of audio').wait_for()
        journey.click('Next')
        journey.click('Next')
        journey.wait_for_rave(re.compile('Worth knowing|What will happen'), 120)  # the doctor
        journey.click('Start preprocessing')
        # (the page's hint says 'once it is ready' from the start: wait for the button the build turns on)
        journey.wait_for_rave('Train a model on it', 300, button=True)
        journey.click('Train a model on it')
        page.wait_for_url(re.compile(r'/training/new'))
        journey.click('Next')  # start: no template
        journey.click('Next')  # the dataset, chosen already
        journey.wait_for_rave('gin parses it and builds the model', 240)
        journey.click('Next')  # the config
        journey.type('Run name', 'piano_first')
        journey.click('Next')  # the parameters
        journey.wait_for_rave('Your choices', 240)
        journey.click('Next')  # the review
        journey.click('Start training')
        page.wait_for_url(re.compile(r'/training/runs/\d+'))
        print(f'first-model journey: {journey.clicks} clicks, {journey.ui_seconds:.0f} s of UI time '
              f'(+{journey.waiting:.0f} s waiting for RAVE)')
        # the run outlives the studio by design: cancel it, or it trains on through the rest of the suite
        # (the header redraws as the job starts: a click that lands on the outgoing header is lost, and a
        # user clicks again; the open question itself survives the redraw — test_training_page covers it)
        for _ in range(3):
            page.get_by_role('button', name='Cancel', exact=True).click()
            try:
                page.get_by_role('button', name='Cancel run').click(timeout=15000)
                break
            except playwright.TimeoutError:
                continue
        page.get_by_text('cancelled').first.wait_for()
        browser.close()
        assert journey.clicks <= MAX_CLICKS, journey.clicks
