"""Browser test in Debian's Chromium on the real `rave-studio` command with a real tiny model: on the Explorer,
a click on a map dot is heard, a dragged slider plays new audio, and a path drawn on the map plays."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from studio_process import PYTHON, ROOT, StudioProcess, clean_env, launch_chromium

playwright = pytest.importorskip('playwright.sync_api')
pytestmark = [pytest.mark.slow, pytest.mark.browser]

SETUP = '''
import shutil, sys
from pathlib import Path
from app.studio import Studio
from services.datasets import lmdb_reader
from services.store import Dataset, Export, Run
studio = Studio(Path(sys.argv[1]))
project = studio.projects.current(None)
dataset = Dataset.create(project=project, name="tones", path=sys.argv[2], status="ready", sr=44100, channels=1,
                         n_examples=lmdb_reader.entries(sys.argv[2]), n_seconds=36.0, params={"num_signal": 65536})
run = Run.create(project=project, dataset=dataset, name="tiny", folder=sys.argv[3], status="done")
target = Path(project.location) / "exports" / Path(sys.argv[4]).name
shutil.copy(sys.argv[4], target)
Export.create(project=project, path=str(target), status="done", streaming=False, run=run)
'''
LONG = 300_000  # ms: a model server starts in seconds, more on a loaded machine


def test_explorer_click_a_dot_drag_a_slider_play_a_path(tmp_path: Path, rave_db: Path, rave_run: Path,
                                                        rave_export: Path) -> None:
    data_dir = tmp_path / 'data'
    data_dir.mkdir()
    subprocess.run([PYTHON, '-c', SETUP, str(data_dir), str(rave_db), str(rave_run), str(rave_export)], cwd=ROOT,
                   env=clean_env(), check=True, timeout=300)
    with StudioProcess(data_dir) as studio, playwright.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={'width': 1366, 'height': 860})
        page.set_default_timeout(LONG)
        page.goto(studio.url + '/explorer')
        page.get_by_text('latent dims of').first.wait_for()
        page.get_by_role('button', name='Map it').click()
        dots = page.locator('[data-testid=latent-map] .scatterlayer .trace').first.locator('.point')
        dots.nth(100).wait_for()
        assert dots.count() > 500

        _click_dot(page, dots.nth(100))  # "Listen" is the default: the moment plays, and its decode
        heard = _new_audio(page, 'moment-original', '')
        assert heard.startswith('/media/project/')

        before = _src(page, 'live')
        _drag(page, page.get_by_test_id('bias-0'), 0.85)
        _new_audio(page, 'live', before)  # a dragged slider: the input decoded again, and it plays

        page.get_by_role('button', name='Draw path').click()
        for i in (40, 300, 600):
            _click_dot(page, dots.nth(i))
        page.get_by_text('3 points drawn').wait_for()
        page.get_by_role('button', name='Play path').click()
        _new_audio(page, 'morph-output', '')
        browser.close()


def _src(page, marker: str) -> str:
    return page.get_by_test_id(f'{marker}-player').evaluate('a => a.getAttribute("src") || ""')


def _new_audio(page, marker: str, before: str) -> str:
    """Wait until the player plays a file other than `before` (it is not paused and its time moves)."""
    player = page.get_by_test_id(f'{marker}-player')
    page.wait_for_function('([a, before]) => a.getAttribute("src") && a.getAttribute("src") !== before',
                           arg=[player.element_handle(), before], timeout=LONG)
    page.wait_for_function('a => !a.paused && a.currentTime > 0', arg=player.element_handle(), timeout=30_000)
    return _src(page, marker)


def _click_dot(page, dot) -> None:
    """Plotly hears clicks on its plot area where a dot is drawn (the dots themselves take no pointer)."""
    page.get_by_test_id('latent-map').scroll_into_view_if_needed()
    box = dot.bounding_box()
    page.mouse.click(box['x'] + box['width'] / 2, box['y'] + box['height'] / 2)


def _drag(page, slider, to: float) -> None:
    slider.scroll_into_view_if_needed()  # the mouse acts where the page is shown
    box = slider.bounding_box()
    y = box['y'] + box['height'] / 2
    page.mouse.move(box['x'] + box['width'] / 2, y)
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(box['x'] + box['width'] * (0.5 + (to - 0.5) * step / 5), y)
        page.wait_for_timeout(80)
    page.mouse.up()
