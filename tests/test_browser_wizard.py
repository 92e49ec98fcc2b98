"""Browser test of the new-dataset wizard in Debian's Chromium: from an empty project to a browsable dataset."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from rave_fixtures import synth_audio
from studio_process import StudioProcess, launch_chromium

playwright = pytest.importorskip('playwright.sync_api')


def test_wizard_from_empty_project_to_a_ready_dataset(tmp_path: Path) -> None:
    data_dir = tmp_path / 'data'
    data_dir.mkdir()
    synth_audio(data_dir / 'recordings', n_files=2, seconds=4.0)
    (data_dir / 'recordings' / 'broken.wav').write_bytes(b'not audio')
    with StudioProcess(data_dir) as studio, playwright.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={'width': 1366, 'height': 860})
        page.set_default_timeout(30000)
        page.goto(studio.url + '/datasets')
        page.get_by_text('No datasets yet').wait_for()
        page.get_by_role('button', name='New dataset').first.click()
        page.get_by_test_id('next-name').click()
        page.get_by_text('Give the dataset a name.').wait_for()
        page.get_by_label('Name').fill('tones')
        page.get_by_test_id('next-name').click()
        page.get_by_text('recordings', exact=True).click()
        page.get_by_role('button', name='Add this folder').click()
        page.get_by_text(re.compile(r'2 files · 8 s of audio · 1 unusable')).wait_for()
        page.get_by_test_id('next-sources').click()
        num_signal = page.get_by_label('Example length (num_signal)')
        num_signal.fill('16384')
        num_signal.blur()
        page.get_by_text(re.compile(r'0\.74 s of audio · about 10 examples')).wait_for()
        page.get_by_test_id('next-params').click()
        page.get_by_text('will be skipped').wait_for(timeout=60000)
        page.get_by_role('button', name='Start preprocessing').click()
        page.get_by_text('Building "tones"').wait_for()
        page.get_by_role('button', name='Open dataset').click(timeout=5000)
        page.wait_for_url(re.compile(r'/datasets/\d+'))
        page.get_by_text('ready').first.wait_for(timeout=120000)
        browser.close()
