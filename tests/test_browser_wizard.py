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
        page.get_by_label('Name', exact=True).fill('tones')
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


def test_upload_a_folder_with_the_folder_button(tmp_path: Path) -> None:
    """"Upload a folder" picks a whole folder (a webkitdirectory input): every audio file arrives with its path
    inside the folder, lands under <project>/uploads/<name>/… and the batch becomes an input folder."""
    data_dir = tmp_path / 'data'
    data_dir.mkdir()
    session = tmp_path / 'elsewhere' / 'session'
    synth_audio(session / 'drums', n_files=2, seconds=2.0)
    synth_audio(session / 'drums' / 'toms', n_files=1, seconds=2.0, seed=5)
    (session / 'notes.txt').write_text('not audio: left out in the browser')
    with StudioProcess(data_dir) as studio, playwright.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={'width': 1366, 'height': 860})
        page.set_default_timeout(30000)
        page.goto(studio.url + '/datasets')
        page.get_by_role('button', name='New dataset').first.click()
        page.get_by_label('Name', exact=True).fill('picked')
        page.get_by_test_id('next-name').click()
        page.get_by_label('Upload into').fill('from my laptop')
        page.get_by_test_id('folder-input').set_input_files(str(session))
        page.get_by_text(re.compile(r'Uploaded 3 audio files into from my laptop')).wait_for(timeout=60000)
        page.get_by_text(re.compile(r'3 files · 6 s of audio')).wait_for(timeout=60000)
        browser.close()
    landed = sorted(p.relative_to(next(data_dir.rglob('uploads'))).as_posix()
                    for p in data_dir.rglob('uploads/**/*.wav'))
    assert landed == sorted(['from my laptop/session/drums/tone_00.wav', 'from my laptop/session/drums/tone_01.wav',
                             'from my laptop/session/drums/toms/tone_00.wav'])
    assert not list(data_dir.rglob('notes.txt'))


def test_cancel_a_preprocessing_from_the_page(tmp_path: Path) -> None:
    """Cancel while RAVE runs: the dataset is marked cancelled, its folder is gone, the list says so."""
    data_dir = tmp_path / 'data'
    data_dir.mkdir()
    synth_audio(data_dir / 'long takes', n_files=12, seconds=20.0)  # 4 min of audio: RAVE needs a while
    with StudioProcess(data_dir) as studio, playwright.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={'width': 1366, 'height': 860})
        page.set_default_timeout(30000)
        page.goto(studio.url + '/datasets')
        page.get_by_role('button', name='New dataset').first.click()
        page.get_by_label('Name', exact=True).fill('to cancel')
        page.get_by_test_id('next-name').click()
        page.get_by_text('long takes', exact=True).click()
        page.get_by_role('button', name='Add this folder').click()
        page.get_by_text(re.compile(r'12 files · 4 min')).wait_for(timeout=180000)
        page.get_by_test_id('next-sources').click()
        page.get_by_test_id('next-params').click()
        page.get_by_role('button', name='Start preprocessing').click(timeout=60000)
        page.get_by_text('Building "to cancel"').wait_for()
        cancel = page.get_by_role('button', name='Cancel', exact=True)
        cancel.click()
        cancel.wait_for(state='detached', timeout=60000)
        page.get_by_role('button', name='Done', exact=True).click()
        page.get_by_text('to cancel', exact=True).wait_for()
        page.get_by_text('cancelled', exact=True).first.wait_for(timeout=180000)
        browser.close()
    assert not [p for p in data_dir.rglob('datasets/*') if p.name.startswith('to')]  # no half-written folder
