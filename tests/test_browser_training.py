"""Browser test in Debian's Chromium: the new-run wizard, step by step, to the live run dashboard of a real
tiny v2_small run (the real `rave-studio` command, real gin checks, real RAVE training on the CPU)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import lmdb
import pytest
from studio_process import PYTHON, ROOT, StudioProcess, clean_env, launch_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser]

playwright = pytest.importorskip('playwright.sync_api')


def register_dataset(data_dir: Path, db: Path) -> None:
    """Index the session's RAVE dataset in a fresh studio database (as the Datasets page would)."""
    env = lmdb.open(str(db), readonly=True, lock=False)
    entries = env.stat()['entries']
    env.close()
    code = ('import sys; from pathlib import Path; from app.studio import Studio; from services.store import Dataset; '
            's = Studio(Path(sys.argv[1])); Dataset.create(project=s.projects.current(None), name="tones", '
            'path=sys.argv[2], status="ready", sr=44100, channels=1, n_examples=int(sys.argv[3]), n_seconds=36.0, '
            'params={"num_signal": 65536})')
    subprocess.run([PYTHON, '-c', code, str(data_dir), str(db), str(entries)], cwd=ROOT, env=clean_env(),
                   check=True, timeout=120)


def test_wizard_to_the_live_run_dashboard(tmp_path: Path, rave_db: Path) -> None:
    data_dir = tmp_path / 'data'
    data_dir.mkdir()
    register_dataset(data_dir, rave_db)
    with StudioProcess(data_dir) as studio, playwright.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={'width': 1366, 'height': 860})
        page.set_default_timeout(60000)
        page.goto(studio.url + '/training')
        page.get_by_role('button', name='New training').first.click()
        page.get_by_text('Quick start').wait_for()
        page.get_by_test_id('next-start').click()
        page.get_by_text('12 examples', exact=False).first.wait_for()
        page.get_by_test_id('next-dataset').click()
        page.get_by_text('gin parses it and builds the model').wait_for(timeout=600000)
        page.get_by_text('512× (86.1 latent frames/s)').wait_for()
        page.get_by_test_id('next-config').click()
        page.get_by_test_id('next-parameters').click()
        page.get_by_text('Give the run a name.').wait_for()
        page.get_by_label('Run name').fill('browserrun')
        for label, value in (('Crop length (n_signal)', '65536'), ('Batch', '2'), ('Max steps', '3'),
                             ('Validate every', '100')):
            field = page.get_by_label(label, exact=True)
            field.fill(value)
            field.blur()
        page.get_by_test_id('next-parameters').click()
        page.get_by_text('Your choices').wait_for(timeout=600000)
        page.get_by_text(re.compile('never reaches the adversarial phase')).wait_for()  # a 3-step test run
        page.get_by_text('--name browserrun').wait_for()
        page.get_by_test_id('next-review').click()
        page.get_by_text('Ready to train browserrun').wait_for()
        page.get_by_test_id('launch').click()

        page.wait_for_url(re.compile(r'/training/runs/\d+$'), timeout=60000)
        page.get_by_text('browserrun').first.wait_for()
        page.get_by_text(re.compile(r'^[1-3] / 3$')).first.wait_for(timeout=600000)  # live step counter
        page.get_by_text(re.compile(r'^done$')).first.wait_for(timeout=600000)
        # the spectral chart holds every step, drawn when the page opened or appended live (studioCharts.extendAll)
        # with its words for screen readers following
        chart = page.locator('[role="figure"][aria-label*="multiband"]')
        page.wait_for_function('(el) => el.data && el.data[1].x.length === 3', arg=chart.element_handle())
        assert 'multiband: 3 points up to step 3' in chart.get_attribute('aria-label')
        browser.close()
