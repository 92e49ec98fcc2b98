"""The friction a new user met on their first run, each fix shown in Debian's Chromium against the real
`rave-studio` command, driven by visible labels: one studio (a home folder with audio, the session's tiny CLI
dataset, run and export, a run in its β warm-up) and one browser for the whole module; nothing trains here.

1. the home folder is browsable locally, and a refused folder is allowed in place (the wizard keeps its state)
2. Enter in "Paste a folder path" adds the folder
3. the dashboard's New dataset / New training / Export a model open their wizards
4. the next step where the user stands: a ready dataset's "Train a model on it", a run checkpoint's "Export",
   an export's "Open in the Explorer" and the dashboard's recent exports, each preselecting what it came from
5. no latent-collapse verdict during the β warm-up: the alert knows the phase
6. the review step says that a run shorter than phase 1 never reaches the adversarial phase
7. the Explorer's uploaders (Transfer, an export's page) show no raw "0.0B / 0.00%" counter
8. the dataset doctor reads the content: silence, DC offset, hard clipping and NaN floats, each explained
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from rave_fixtures import _GIN_CACHE, synth_audio
from studio_process import PYTHON, ROOT, StudioProcess, browser_page, clean_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # nothing trains here, but the session's tiny run does
playwright = pytest.importorskip('playwright.sync_api')
TIMEOUT_MS = 60000
SR = 44100
WARM_UP = 400  # β warm-up (BetaWarmupCallback.warmup_len) of the run caught at step 72, as the user's was

SETUP = '''
import json, shutil, sys, time, datetime
from pathlib import Path
import numpy as np
from app.studio import Studio
from services.datasets import lmdb_reader
from services.store import Dataset, Export, Job, Run
data_dir, db, run_folder, export = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
warm_up = int(sys.argv[5])
studio = Studio(data_dir)
project = studio.projects.current(None)
Dataset.create(project=project, name="tones", path=db, status="ready", sr=44100, channels=1,
               n_examples=lmdb_reader.entries(db), n_seconds=36.0, params={"num_signal": 65536})
runs = Path(project.location) / "runs"
shutil.copytree(run_folder, runs / run_folder.name)
run = studio.exports.import_run(project, runs / run_folder.name)
for name, created in (("older", datetime.datetime(2026, 1, 5)), ("newer", datetime.datetime.now())):
    target = Path(project.location) / "exports" / f"{name}.ts"
    shutil.copy(export, target)
    Export.create(project=project, path=str(target), status="done", streaming=False, run=run, name=name,
                  created=created)
# a run caught at step 72 of its 400-step β warm-up: RAVE's log-linear β ramp, fidelity readings of 0
job_dir = data_dir / "jobs" / "warming"
job_dir.mkdir(parents=True)
with open(job_dir / "metrics.jsonl", "w") as f:
    f.write(json.dumps({"run_dir": "", "step": 0, "max_steps": 100000, "event": "start", "t": time.time()}) + "\\n")
    for s in range(1, 73):
        beta = float(np.exp(np.log(1e-6) * (1 - s / warm_up) + np.log(0.05) * s / warm_up))
        f.write(json.dumps({"step": s, "max_steps": 100000, "t": time.time(), "loss": 3 / np.sqrt(s),
                            "multiband_spectral_distance": 2 / np.sqrt(s), "fullband_spectral_distance": 1 / np.sqrt(s),
                            "beta_factor": beta}) + "\\n")
        if s in (36, 72):
            f.write(json.dumps({"step": s, "event": "validation", "validation": 4.0, "fidelity_0.8": 0,
                                "fidelity_0.9": 0, "fidelity_0.95": 0, "fidelity_0.99": 0, "t": time.time()}) + "\\n")
job = Job.create(project=project, kind="train", title="Train warming", argv=[], folder=str(job_dir), status="done")
Run.create(project=project, name="warming", folder="", configs=["v2_small"], status="done", step=72, job=job,
           params={"jobs": [job.id], "max_steps": 100000, "val_every": 36, "n_signal": 65536, "channels": 1,
                   "device": "cpu"})
'''


def _write(path: Path, data: np.ndarray, subtype: str = 'PCM_16') -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data.astype(np.float32), SR, subtype=subtype)


def _problems(folder: Path) -> None:
    """A file for each problem the doctor must find in the content (headers are all fine)."""
    t = np.arange(3 * SR) / SR
    tone = 0.3 * np.sin(2 * np.pi * 220 * t)
    nan = tone.copy()
    nan[SR:SR + 50] = np.nan
    _write(folder / 'silent.wav', np.zeros(t.size))
    _write(folder / 'offset.wav', tone + 0.2)
    _write(folder / 'clipped.wav', np.clip(10 * tone, -1, 1))
    _write(folder / 'damaged.wav', nan, 'FLOAT')


@pytest.fixture(scope='module')
def gin_verdicts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalogue's gin verdicts, once per session (rave_fixtures' cache), so the studio need not make them."""
    if 'path' not in _GIN_CACHE:
        from services.training import configs
        status = configs.ConfigStatus(tmp_path_factory.mktemp('gin-cache'), lambda: sys.executable)
        status.compute()
        _GIN_CACHE['path'] = status.path
    return _GIN_CACHE['path']


@pytest.fixture(scope='module')
def world(tmp_path_factory: pytest.TempPathFactory, rave_db: Path, rave_run: Path, rave_export: Path,
          gin_verdicts: Path):
    """One served studio for the module: its data folder, the user's home and a folder outside both."""
    root = tmp_path_factory.mktemp('friction')
    data_dir, home = root / 'data', root / 'home'
    data_dir.mkdir()
    synth_audio(home / 'piano', n_files=2, seconds=2.0)
    synth_audio(root / 'elsewhere' / 'violin', n_files=1, seconds=2.0, seed=3)
    synth_audio(data_dir / 'takes', n_files=1, seconds=2.0, seed=4)
    _problems(data_dir / 'problems')
    db = root / 'tones-db'  # its own copy: the studio writes its caches beside a dataset, the session's stays clean
    shutil.copytree(rave_db, db, ignore=shutil.ignore_patterns('lock.mdb', '.studio'))
    subprocess.run([PYTHON, '-c', SETUP, str(data_dir), str(db), str(rave_run), str(rave_export),
                    str(WARM_UP)], cwd=ROOT, env=clean_env(HOME=str(home)), check=True, timeout=300)
    (data_dir / 'cache').mkdir(exist_ok=True)
    shutil.copy(gin_verdicts, data_dir / 'cache' / 'gin_catalogue.json')
    studio = StudioProcess(data_dir, env=clean_env(HOME=str(home))).start()
    yield {'studio': studio, 'data': data_dir, 'home': home, 'elsewhere': root / 'elsewhere' / 'violin'}
    studio.stop()


@pytest.fixture
def page(browser, world):
    yield from browser_page(browser, TIMEOUT_MS)


def _paste_and_enter(page, folder: Path):
    """Paste a folder path into the wizard's input folders and press Enter, as the user does; the input."""
    paste = page.get_by_role('textbox', name='Paste a folder path')
    paste.fill(str(folder))
    paste.press('Enter')
    return paste


def _url(world, path: str) -> str:
    return world['studio'].url + path


def _to_input_folders(page, world, name: str) -> None:
    page.goto(_url(world, '/datasets?new'))
    page.get_by_label('Name', exact=True).fill(name)
    page.get_by_role('button', name='Next').locator('visible=true').first.click()
    page.get_by_text('Input folders').wait_for()


# ---- 1 · 2: folders ---------------------------------------------------------------------------------------------
def test_the_home_folder_is_browsable_and_a_refused_folder_is_allowed_in_place(page, world) -> None:
    from playwright.sync_api import expect
    _to_input_folders(page, world, 'chorales')
    home = world['home'].resolve()
    page.get_by_label('Browsable folder').click()
    page.get_by_role('option', name=f'Home folder · {home}').click()
    page.get_by_text('piano', exact=True).click()
    page.get_by_role('button', name='Add this folder').click()
    expect(page.get_by_text('2 files · 4 s of audio')).to_be_visible()
    paste = page.get_by_role('textbox', name='Paste a folder path')
    paste.fill(str(world['elsewhere']))
    page.get_by_role('button', name='Add the pasted folder').click()
    expect(page.get_by_text(re.compile('is outside the browsable folders'))).to_be_visible()
    page.get_by_role('button', name='Allow this folder').click()
    expect(page.get_by_text('3 files · 6 s of audio')).to_be_visible()  # both: nothing of the wizard was lost
    page.get_by_role('button', name='Next').locator('visible=true').first.click()
    expect(page.get_by_label('Example length (num_signal)')).to_be_visible()
    for _ in range(2):
        page.get_by_role('button', name='Back').locator('visible=true').first.click()
    expect(page.get_by_label('Name', exact=True)).to_have_value('chorales')


def test_enter_in_paste_a_folder_path_adds_it(page, world) -> None:
    from playwright.sync_api import expect
    _to_input_folders(page, world, 'takes')
    paste = _paste_and_enter(page, world['data'] / 'takes')
    expect(page.get_by_text('1 file · 2 s of audio')).to_be_visible()
    expect(paste).to_have_value('')


# ---- 3: the dashboard's Start card -------------------------------------------------------------------------------
@pytest.mark.parametrize(('start', 'url', 'shown'), [
    ('New dataset', r'/datasets\?new$', 'Give the dataset a name'),
    ('New training', r'/training/new$', 'Quick start'),
    ('Export a model', r'/export$', '2 · Which checkpoint?')])
def test_the_dashboard_opens_the_wizard_it_names(page, world, start: str, url: str, shown: str) -> None:
    from playwright.sync_api import expect
    page.goto(_url(world, '/'))
    page.get_by_role('link', name=re.compile(f'^{start}')).click()
    expect(page).to_have_url(re.compile(url))
    if start == 'New dataset':
        expect(page.get_by_label('Name', exact=True)).to_be_visible()
        expect(page.get_by_label('Name', exact=True)).to_be_focused()  # one click, and the user types the name
    else:
        expect(page.get_by_text(shown).first).to_be_visible()


# ---- 8: the doctor reads the content ----------------------------------------------------------------------------
def test_the_doctor_scans_the_content_and_says_what_each_finding_means(page, world) -> None:
    from playwright.sync_api import expect
    _to_input_folders(page, world, 'problems')
    _paste_and_enter(page, world['data'] / 'problems')
    expect(page.get_by_text('4 files · 12 s of audio')).to_be_visible()
    page.get_by_role('button', name='Next').locator('visible=true').first.click()
    length = page.get_by_label('Example length (num_signal)')
    length.fill('16384')
    length.blur()
    page.get_by_role('button', name='Next').locator('visible=true').first.click()
    for finding in ('NaN or infinite values', 'the model learns bursts of noise', 'is silent',
                    'off centre (a DC offset)', 'thumps', 'hard-clipped (flat tops at full scale)'):
        expect(page.get_by_text(re.compile(re.escape(finding))).first).to_be_visible(timeout=120_000)
    expect(page.get_by_role('button', name='Start preprocessing')).to_be_enabled()  # warnings: the user decides


# ---- 5: the alert knows the phase --------------------------------------------------------------------------------
def test_no_collapse_verdict_during_the_beta_warm_up(page, world) -> None:
    from playwright.sync_api import expect
    page.goto(_url(world, '/training'))
    page.get_by_text('warming', exact=True).first.click()
    expect(page).to_have_url(re.compile(r'/training/runs/\d+$'))
    note = page.get_by_text(re.compile('Step 72: the first latent dimension alone holds 99 % of the variance'))
    expect(note).to_be_visible()
    expect(note).to_contain_text('still raising β')
    expect(page.get_by_text(re.compile('Latent collapse'))).to_have_count(0)
    expect(page.get_by_text(re.compile('lower β'))).to_have_count(0)  # nothing to change for a newcomer


def test_a_french_page_draws_chart_numbers_the_french_way(browser, world) -> None:
    """Plotly itself writes the ticks (and hovers) with the layout's separators: 0,5 on a French page."""
    from playwright.sync_api import expect
    context = browser.new_context(viewport={'width': 1366, 'height': 860}, locale='fr-FR')
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(_url(world, '/training'))
    page.get_by_text('warming', exact=True).first.click()
    ticks = page.locator('.js-plotly-plot .ytick text')
    expect(ticks.first).to_be_visible()
    page.wait_for_timeout(500)  # every chart drawn
    labels = ticks.evaluate_all('els => els.map(e => e.textContent)')  # SVG text: no innerText
    assert any(re.fullmatch(r'\d+,\d+', t) for t in labels), labels
    assert not any(re.fullmatch(r'\d+\.\d+', t) for t in labels), labels
    context.close()


# ---- 4: the next step where the user stands ----------------------------------------------------------------------
def test_a_ready_dataset_offers_train_a_model_on_it(page, world) -> None:
    from playwright.sync_api import expect
    page.goto(_url(world, '/datasets'))
    page.get_by_text('tones', exact=True).first.click()
    page.get_by_role('button', name='Train a model on it').click()
    expect(page).to_have_url(re.compile(r'/training/new\?dataset=\d+$'))
    page.get_by_role('button', name='Next').locator('visible=true').first.click()
    expect(page.get_by_role('radio', name=re.compile('^tones'))).to_be_checked()


def test_a_run_checkpoint_offers_export(page, world) -> None:
    from playwright.sync_api import expect
    page.goto(_url(world, '/training'))
    page.get_by_text(re.compile('^tiny')).first.click()
    page.get_by_role('tab', name='Checkpoints').click()
    exports = page.get_by_role('button', name='Export this checkpoint')
    expect(exports.first).to_be_visible()
    last = exports.count() - 1  # the newest row: not the wizard's own default (the best one)
    card = page.locator('.q-card').filter(has=exports.first).last
    kind = card.locator('.font-medium').nth(last).inner_text()
    exports.nth(last).click()
    expect(page).to_have_url(re.compile(r'/export\?run=\d+&checkpoint='))
    expect(page.get_by_label('Checkpoint', exact=True)).to_have_value(re.compile(f'^{kind} · '))


def test_an_export_opens_in_the_explorer_with_it_chosen(page, world) -> None:
    from playwright.sync_api import expect
    page.goto(_url(world, '/export/library'))
    row = page.locator('.row').filter(has=page.get_by_role('link', name='older', exact=True)) \
        .filter(has=page.get_by_role('button', name='Open in the Explorer')).last
    row.get_by_role('button', name='Open in the Explorer').click()
    expect(page).to_have_url(re.compile(r'/explorer\?export=\d+$'))
    expect(page.get_by_role('combobox', name='Model')).to_have_value('older · export')  # not the newest


def test_the_dashboard_recent_exports_open_the_explorer_with_it_chosen(page, world) -> None:
    from playwright.sync_api import expect
    page.goto(_url(world, '/'))
    recent = page.locator('.q-card').filter(has_text='Recent exports').last
    recent.get_by_role('link', name=re.compile('^older')).click()
    expect(page).to_have_url(re.compile(r'/explorer\?export=\d+$'))
    expect(page.get_by_role('combobox', name='Model')).to_have_value('older · export')


# ---- 7: no raw byte counter on the Explorer's uploaders ------------------------------------------------------------
@pytest.mark.parametrize('where', ['/transfer', '/export/view/1'])
def test_the_uploaders_show_no_raw_byte_counter(page, world, where: str) -> None:
    from playwright.sync_api import expect
    page.goto(_url(world, where))
    expect(page.get_by_text('Upload audio', exact=True).first).to_be_visible()
    expect(page.get_by_text(re.compile(r'\d(\.\d+)?\s?B / \d+(\.\d+)?%')).locator('visible=true')).to_have_count(0)


# ---- 6: a run that never reaches phase 2 ---------------------------------------------------------------------------
def test_the_review_says_a_short_run_never_reaches_the_adversarial_phase(page, world) -> None:
    from playwright.sync_api import expect
    page.goto(_url(world, '/training/new?dataset=1'))
    page.get_by_test_id('next-start').click()
    page.get_by_test_id('next-dataset').click()
    page.get_by_text('gin parses it and builds the model').wait_for(timeout=300_000)
    page.get_by_test_id('next-config').click()
    page.get_by_label('Run name').fill('short')
    steps = page.get_by_label('Max steps', exact=True)
    steps.fill('400')
    steps.blur()
    page.get_by_test_id('next-parameters').click()
    page.get_by_text('Your choices').wait_for(timeout=300_000)
    warning = page.get_by_text(re.compile('never reaches the adversarial phase'))
    expect(warning).to_be_visible()
    expect(warning).to_contain_text('stops at step 400, before phase 2 (adversarial training) starts at step '
                                    '1 000 000')
    expect(warning).to_contain_text('set Max steps above 1 000 000')
