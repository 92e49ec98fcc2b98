"""The run dashboard's charts in Debian's Chromium (the real `rave-studio` command): a live run whose
worker-style job writes a metrics history and then a step every 0.3 s. Charts draw, zoom loads every step
in view from the server, double-click resets, live points reach a chart whose view they change, the log
checkbox switches the axis."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from studio_process import PYTHON, ROOT, StudioProcess, clean_env, launch_chromium

pytestmark = pytest.mark.browser

playwright = pytest.importorskip('playwright.sync_api')

WRITER = '''
import json, os, sys, time
from pathlib import Path
out = open(Path(os.environ["RAVE_STUDIO_JOB_DIR"]) / "metrics.jsonl", "a", buffering=1)
steps = int(sys.argv[1])
def line(s):
    d = {"step": s, "max_steps": 10 * steps, "epoch": s // 100, "t": time.time(), "beta_factor": 0.01,
         "multiband_spectral_distance": 3 / (1 + s / 500) + (s % 7) * 0.01,
         "fullband_spectral_distance": 2 / (1 + s / 500),
         "regularization": 0.5 + (s % 5) * 0.001, "lr_gen": 1e-3, "lr_dis": 1e-4}
    d["loss"] = d["multiband_spectral_distance"] + d["fullband_spectral_distance"] + d["regularization"]
    text = json.dumps(d) + "\\n"
    if s % 100 == 0:
        validation = {"step": s, "event": "validation", "validation": 4 / (1 + s / 500), "t": time.time()}
        text += json.dumps(validation) + "\\n"
    return text
out.write(json.dumps({"run_dir": "", "step": 0, "max_steps": 10 * steps, "event": "start"}) + "\\n")
out.writelines(line(s) for s in range(1, steps + 1))
out.flush()
for s in range(steps + 1, steps + 400):
    time.sleep(0.3)
    out.write(line(s))
    out.flush()
'''

SETUP = '''
import sys
from pathlib import Path
from app.studio import Studio
from services.store import Run
studio = Studio(Path(sys.argv[1]))
project = studio.projects.current(None)
run = Run.create(project=project, name="live", configs=["v2_small"], status="running",
                 params={"jobs": [], "max_steps": 20000, "val_every": 100, "n_signal": 65536, "channels": 1,
                         "device": "cpu"})
job = studio.jobs.submit("train", "Train live (synthetic)", [sys.executable, "-c", sys.argv[2], "2000"],
                         project=project, spec={"run": run.id}, slot="cpu")
run.job = job
run.params = {**run.params, "jobs": [job.id]}
run.save()
print(run.id, job.id)
'''

FIRST = "document.querySelectorAll('.js-plotly-plot')[0]"


def test_charts_draw_zoom_reset_take_live_points_and_switch_to_log(tmp_path: Path) -> None:
    data_dir = tmp_path / 'data'
    data_dir.mkdir()
    done = subprocess.run([PYTHON, '-c', SETUP, str(data_dir), WRITER], cwd=ROOT, env=clean_env(), check=True,
                          timeout=120, capture_output=True, text=True)
    run_id, job_id = done.stdout.split()[-2:]
    try:
        with StudioProcess(data_dir) as studio, playwright.sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={'width': 1366, 'height': 860})
            page.set_default_timeout(60000)
            errors: list[str] = []
            page.on('pageerror', lambda e: errors.append(str(e)))
            page.goto(f'{studio.url}/training/runs/{run_id}')
            page.wait_for_function("""() => {
                const plots = [...document.querySelectorAll('.js-plotly-plot')];
                return plots.length >= 4
                    && plots.every(p => p._fullLayout && p.querySelector('.scatterlayer .trace path'))
                    && plots[0].data[1].x.length && plots[0].data[1].x[plots[0].data[1].x.length - 1] >= 2000;
            }""")
            smooth = page.evaluate(f'{FIRST}.data[1].x.length')
            # 2000 steps arrive downsampled (bucket means under the faint raw min/max)
            assert 0 < smooth < 1000
            assert page.evaluate(f'{FIRST}.data[0].x.length') < 1000

            page.evaluate(f"getElement({FIRST}).Plotly.relayout({FIRST}, {{'xaxis.range': [500, 600]}})")
            # every step
            page.wait_for_function(f"{FIRST}.data[1].x.filter(x => x >= 500 && x <= 600).length === 101")

            page.evaluate(f"getElement({FIRST}).Plotly.relayout({FIRST}, {{'xaxis.autorange': true}})")
            page.wait_for_function(f"{FIRST}.data[1].x.length < 1000 && {FIRST}.data[1].x[0] < 10")

            last = page.evaluate(f'{FIRST}.data[1].x[{FIRST}.data[1].x.length - 1]')
            page.evaluate(f"getElement({FIRST}).Plotly.relayout({FIRST}, "
                          f"{{'xaxis.range': [{last} - 20, {last} + 300]}})")
            page.wait_for_function(f"{FIRST}.data[1].x[{FIRST}.data[1].x.length - 1] >= {last} + 5",
                                   # live steps, each over a pixel wide in this view, are drawn
                                   timeout=90000)

            page.locator('.q-checkbox').first.click()
            page.wait_for_function(f"{FIRST}._fullLayout.yaxis.type === 'log'")
            assert not errors, errors
            browser.close()
    finally:
        cancel = ('import sys; from pathlib import Path; from app.studio import Studio; '
                  'Studio(Path(sys.argv[1])).jobs.cancel(int(sys.argv[2]))')
        subprocess.run([PYTHON, '-c', cancel, str(data_dir), job_id], cwd=ROOT, env=clean_env(), timeout=120,
                       check=False)
