"""Headless Chromium against the real `rave-studio`: a CLI run imported, exported for the Explorer from the
wizard, verified in a fresh process, then played through the export itself on its viewer (real tiny RAVE)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from rave_fixtures import synth_audio
from studio_process import StudioProcess, launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_target_export_verified_and_played(tmp_path: Path, rave_run: Path) -> None:
    from playwright.sync_api import expect, sync_playwright
    data_dir = tmp_path / 'data'
    data_dir.mkdir()
    with StudioProcess(data_dir) as served, sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_context(viewport={'width': 1366, 'height': 860}).new_page()
        page.set_default_timeout(30000)
        page.goto(served.url + '/models')  # makes the Default project
        project = data_dir / 'projects' / 'Default'
        shutil.copytree(rave_run, project / 'runs' / rave_run.name)
        synth_audio(project / 'uploads', n_files=1, seconds=3.0)
        page.reload()
        page.get_by_role('button', name='Import').last.click()
        expect(page.get_by_text(re.compile('Imported run tiny'))).to_be_visible()

        page.goto(served.url + '/export?run=1')
        page.get_by_text("This studio's Explorer").click()
        expect(page.get_by_text('Saved as exports/tiny.ts')).to_be_visible()
        page.get_by_role('button', name='Export').last.click()
        started = page.locator('.q-card', has=page.get_by_role('button', name='Open'))
        expect(started.locator('.q-chip__content', has_text=re.compile('^verified$'))).to_be_visible(timeout=900_000)
        started.get_by_role('button', name='Open').click()

        expect(page).to_have_url(re.compile(r'/export/view/1$'))
        expect(page.get_by_text('Verification: every check passed')).to_be_visible()
        expect(page.get_by_text('Ready for the Explorer')).to_be_visible()
        page.get_by_label('Audio').click()
        page.get_by_role('option').first.click()
        page.get_by_role('button', name='Play through it').click()
        expect(page.get_by_text('Through the export')).to_be_visible(timeout=600_000)
        assert page.locator('audio').count() >= 2
        browser.close()
