"""Run-dashboard speed with 1,000,000 logged points, in Debian's Chromium through Playwright.

    python bench/bench_charts.py [--steps 100000] [--port 8781] [--clicks 40]

A real studio server (app.main.build + ui.run, in a child process) watches a live 'train' job whose worker
writes a worker-style metrics.jsonl: a history of STEPS steps × 12 scalars (≥1 M points with validations),
then one new step every 0.5 s. Measured:
- open → full curves: navigation start until every chart of the Metrics tab has drawn its traces (aim ≤ 0.8 s),
  with a breakdown recorded in the page (HTML, Plotly loaded, first chart, charts on screen, all charts);
- live refresh tick: server time of the dashboard's 1 s tick (timed inside the server) + browser time of all the
  page does with that tick's points (queueing, and the extendTraces redraw when one is due) (aim ≤ 10 ms); then the
  same with the first chart zoomed on its last steps, where every tick has to redraw it (the worst case);
- click → DOM latency p95 while two CPU burners load the machine: a log-scale checkbox (switched in the browser →
  relayout) and a tab switch (aim ≤ 100 ms).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM = '/usr/bin/chromium'
PYTHON = sys.executable


# ---- the live job's worker ------------------------------------------------------------------------
def write_metrics(steps: int, interval: float) -> None:
    """History first (fast), then a new step every `interval` s, like a training worker."""
    import numpy as np
    out = open(Path(os.environ['RAVE_STUDIO_JOB_DIR']) / 'metrics.jsonl', 'a', buffering=1 << 20)  # noqa: SIM115
    rng = np.random.default_rng(0)
    gan = steps * 4 // 10
    t = time.time() - steps * 0.3

    def line(s: int) -> str:
        d = {'step': s, 'max_steps': steps * 2, 'epoch': s // 500, 't': t + s * 0.3,
             'multiband_spectral_distance': 3 / (1 + s / 5000) + abs(rng.normal(0, .05)),
             'fullband_spectral_distance': 2 / (1 + s / 5000) + abs(rng.normal(0, .03)),
             'regularization': 0.5 + rng.normal(0, .01), 'beta_factor': min(1.0, s / 20000) * 0.05,
             'lr_gen': 1e-3 * (1 - 0.5 * s / steps), 'lr_dis': 1e-4}
        if s >= gan:
            d.update(adversarial=2 + rng.normal(0, .1), feature_matching=1 + rng.normal(0, .05),
                     loss_dis=0.5 + rng.normal(0, .05), pred_real=0.4, pred_fake=-0.4)
        d['loss'] = d['multiband_spectral_distance'] + d['fullband_spectral_distance'] + d['regularization']
        text = json.dumps(d) + '\n'
        if s % 1000 == 0:
            text += json.dumps({'step': s, 'event': 'validation', 'validation': 4 / (1 + s / 5000), 't': t + s * .3,
                                **({'fidelity_0.8': 8.0, 'fidelity_0.9': 14.0, 'fidelity_0.95': 20.0,
                                    'fidelity_0.99': 30.0} if s < gan else {})}) + '\n'
        return text

    out.write(json.dumps({'run_dir': '', 'step': 0, 'max_steps': steps * 2, 'event': 'start'}) + '\n')
    out.writelines(line(s) for s in range(1, steps + 1))
    out.flush()
    s = steps
    while True:
        s += 1
        t = time.time() - s * 0.3
        out.write(line(s))
        out.flush()
        time.sleep(interval)


# ---- the studio server, with the dashboard tick timed -----------------------------------------------
def serve(data_dir: Path, port: int, timings: Path) -> None:
    from nicegui import ui

    from app.main import build
    from pages.training import run_monitor

    tick = run_monitor._Monitor.tick

    def timed(self) -> None:
        start = time.perf_counter()
        before = self.version
        tick(self)
        if self.version != before:  # a tick that sent new points
            with open(timings, 'a') as f:
                f.write(f'{(time.perf_counter() - start) * 1000:.3f}\n')

    run_monitor._Monitor.tick = timed
    build(data_dir)
    ui.run(port=port, reload=False, show=False, storage_secret='bench', uvicorn_logging_level='warning')


# ---- the measurement --------------------------------------------------------------------------------
def prepare(data_dir: Path, steps: int) -> tuple[int, int]:
    from app.studio import Studio
    from services.store import Run
    studio = Studio(data_dir)
    project = studio.projects.current(None)
    run = Run.create(project=project, name='million', configs=['v2'], status='running',
                     params={'jobs': [], 'max_steps': steps * 2, 'val_every': 1000, 'n_signal': 131072,
                             'channels': 1, 'device': 'cpu'})
    job = studio.jobs.submit('train', 'Train million (synthetic)', [PYTHON, str(Path(__file__).resolve()), '--write',
                                                                    '--steps', str(steps)],
                             project=project, cwd=ROOT, spec={'run': run.id}, slot='cpu')
    run.job = job
    run.params = {**run.params, 'jobs': [job.id]}
    run.save()
    path = Path(job.folder) / 'metrics.jsonl'
    while not path.exists() or path.stat().st_size < steps * 300:
        time.sleep(0.5)
    with open(path) as f:
        lines = sum(1 for _ in f)
    print(f'metrics.jsonl: {lines:,} lines, {path.stat().st_size / 1e6:.0f} MB', flush=True)
    return run.id, job.id


def count_points(data_dir: Path, job_id: int) -> int:
    from services.store import Job
    path = Path(Job.get_by_id(job_id).folder) / 'metrics.jsonl'
    n = 0
    with open(path) as f:
        for raw in f:
            d = json.loads(raw)
            n += sum(1 for k, v in d.items() if isinstance(v, (int, float)) and k not in
                     ('step', 'max_steps', 'epoch', 't'))
    return n


PLOTS_DRAWN = """(n) => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  if (plots.length < n) return false;
  return plots.every(p => p._fullData && p._fullData.length && p.querySelector('.scatterlayer .trace path'));
}"""

# Marks of one page open, recorded in the page from its first script (a breakdown of "open → full curves").
MARKS = """
window.__marks = {};
(() => {
  const mark = (k) => { if (!(k in window.__marks)) window.__marks[k] = performance.now(); };
  const check = () => {
    const plots = [...document.querySelectorAll('.js-plotly-plot')];
    if (plots.length) mark('plot_divs');
    const drawn = plots.filter(p => p.querySelector('.scatterlayer .trace path'));
    if (drawn.length) mark('first_chart');
    const seen = drawn.filter(p => { const r = p.getBoundingClientRect(); return r.top < innerHeight; });
    const inView = plots.filter(p => { const r = p.getBoundingClientRect(); return r.top < innerHeight; });
    if (inView.length && seen.length === inView.length) mark('charts_in_view');
    if (plots.length >= 8 && drawn.length === plots.length) mark('all_charts');
    plots.forEach(p => {  // Plotly draws and redraws (first draws included once caught, resizes, relayouts)
      if (!p.on || p.__counted) return;
      p.__counted = true;
      p.on('plotly_afterplot', () => {
        window.__marks.afterplot_events = (window.__marks.afterplot_events || 0) + 1;
        window.__marks.last_afterplot = performance.now();
      });
    });
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true});
  document.addEventListener('DOMContentLoaded', () => mark('dom_content_loaded'));
  let busy = 0;
  try {
    new PerformanceObserver((l) => l.getEntries().forEach(e => {
      busy += e.duration; window.__marks.long_tasks_ms = busy;
    }))
      .observe({type: 'longtask', buffered: true});
  } catch (e) {}
})();
"""
BREAKDOWN = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const plotly = performance.getEntriesByType('resource').find(r => r.name.includes('plotly'));
  return {...window.__marks, html_response_start: nav.responseStart, html_response_end: nav.responseEnd,
          html_kb: nav.decodedBodySize / 1024, plotly_js_end: plotly ? plotly.responseEnd : null};
}"""

ZOOM_TAIL = """() => {
  const el = document.querySelectorAll('.js-plotly-plot')[0];
  const x = el.data[1].x;
  const last = x[x.length - 1];
  // the last step drawn may lag the run by up to a pixel (~200 steps): the window reaches well past it
  getElement(el).Plotly.relayout(el, {'xaxis.range': [last - 100, last + 400]});
}"""

HOOK_EXTEND = """() => {
  window.__extend = [];
  const plot = document.querySelector('.js-plotly-plot');
  const comp = getElement(plot.id.slice(1));
  const P = comp.Plotly;
  if (P.__hooked) return true;
  const orig = P.extendTraces;
  P.extendTraces = function (...args) {
    const t = performance.now();
    const result = orig.apply(this, args);
    Promise.resolve(result).then(() => window.__extend.push([t, performance.now() - t]));
    return result;
  };
  P.__hooked = true;
  window.__tick = [];  // everything the page does with a tick's points (queueing, and a redraw when one is due)
  const charts = window.studioCharts;
  if (charts && !charts.__hooked) {
    const extend = charts.extend;
    charts.extend = function (...args) {
      const t = performance.now();
      const result = extend.apply(this, args);
      window.__tick.push([t, performance.now() - t]);
      return result;
    };
    charts.__hooked = true;
  }
  return true;
}"""


def measure(port: int, run_id: int, clicks: int, timings: Path) -> dict:
    from playwright.sync_api import sync_playwright
    url = f'http://127.0.0.1:{port}/training/runs/{run_id}'
    out: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-gpu',
                                                                     '--disable-background-networking'])
        page = browser.new_page(viewport={'width': 1366, 'height': 860})
        page.goto(url)  # warm-up: the server reads the history once, the browser caches scripts
        page.wait_for_function(PLOTS_DRAWN, arg=8, timeout=600_000)
        n_plots = page.evaluate("document.querySelectorAll('.js-plotly-plot').length")
        frame = []
        for _ in range(3):  # the same frame around an almost empty page, for comparison
            page.goto(f'http://127.0.0.1:{port}/help')
            page.wait_for_function('() => document.querySelector(".nicegui-content") && '
                                   'document.querySelector(".nicegui-content").textContent.length > 200',
                                   polling='raf', timeout=120_000)
            frame.append(page.evaluate('performance.now()') / 1000)
        out['frame_s'] = frame
        opens, marks = [], []
        page.add_init_script(MARKS)
        for _ in range(5):
            page.goto(url)
            page.wait_for_function(PLOTS_DRAWN, arg=n_plots, timeout=120_000, polling='raf')
            opens.append(page.evaluate('performance.now()') / 1000)
            page.wait_for_timeout(800)  # draws that follow (charts drawn later, a resize 100 ms later)
            marks.append(page.evaluate(BREAKDOWN))
        out['open_s'] = opens
        out['marks'] = marks
        out['charts'] = n_plots
        out['points_on_screen'] = page.evaluate(
            "[...document.querySelectorAll('.js-plotly-plot')].reduce((a, p) => a + p.data.reduce((b, t) => "
            "b + (t.x ? t.x.length : 0), 0), 0)")

        timings.write_text('')
        page.evaluate(HOOK_EXTEND)
        time.sleep(20)  # ~20 live ticks
        server = [float(v) for v in timings.read_text().split()]
        out['tick_server_ms'] = server
        out['redraw_ms'] = _per_tick(page.evaluate('window.__extend'))  # extendTraces calls (replots) per tick
        out['tick_client_ms'] = _per_tick(page.evaluate('window.__tick'))  # all browser work per tick
        # the worst case: the first chart zoomed on a 500-step window around its end, where every tick's steps move
        # the line by a pixel or more, so every tick redraws that chart
        page.evaluate(ZOOM_TAIL)
        time.sleep(3)  # the zoomed view arrives from the server
        page.evaluate('window.__tick = []; window.__extend = []')
        timings.write_text('')
        time.sleep(10)
        out['zoomed_server_ms'] = [float(v) for v in timings.read_text().split()]
        out['zoomed_client_ms'] = _per_tick(page.evaluate('window.__tick'))
        out['zoomed_redraw_ms'] = _per_tick(page.evaluate('window.__extend'))
        page.evaluate("() => { const el = document.querySelectorAll('.js-plotly-plot')[0]; "
                      "getElement(el).Plotly.relayout(el, {'xaxis.autorange': true}); }")
        time.sleep(2)

        burners = [subprocess.Popen([PYTHON, '-c', 'while True: pass']) for _ in range(2)]
        try:
            time.sleep(1)
            out['click_log_ms'] = _clicks(page, clicks)
            out['click_tab_ms'] = _tab_clicks(page, clicks)
        finally:
            for b in burners:
                b.kill()
                b.wait()
        browser.close()
    return out


def _per_tick(calls: list[list[float]]) -> list[float]:
    """Durations of calls that start within 300 ms of each other, summed (one tick's calls)."""
    ticks: list[list[float]] = []
    for start, duration in calls:
        if ticks and start - ticks[-1][0] < 300:
            ticks[-1][1] += duration
        else:
            ticks.append([start, duration])
    return [d for _, d in ticks]


def _clicks(page, n: int) -> list[float]:
    """Log-scale checkbox: click → the chart relaid out on the new scale (measured inside the page)."""
    page.locator('.q-checkbox').first.scroll_into_view_if_needed()
    result = []
    for _ in range(n):
        result.append(page.evaluate("""() => new Promise(resolve => {
            const box = document.querySelector('.q-checkbox');
            const chart = document.querySelectorAll('.js-plotly-plot')[0];
            const want = chart._fullLayout.yaxis.type === 'log' ? 'linear' : 'log';
            const t0 = performance.now();
            box.click();
            const check = () => chart._fullLayout.yaxis.type === want && chart.querySelector('.ytick')
                ? resolve(performance.now() - t0) : requestAnimationFrame(check);
            check();
        })"""))
        time.sleep(0.2)
    return result


def _tab_clicks(page, n: int) -> list[float]:
    """Metrics ↔ System tab: click → the other panel is in the DOM (measured inside the page)."""
    result = []
    for i in range(n):
        label = 'System' if i % 2 == 0 else 'Metrics'
        probe = "sys-cpu" if label == 'System' else 'run-summary'
        ms = page.evaluate("""([label, probe]) => new Promise(resolve => {
            const tab = [...document.querySelectorAll('.q-tab')].find(t => t.textContent.includes(label));
            const t0 = performance.now();
            const done = () => label === 'System'
                ? [...document.querySelectorAll('.q-tab-panel')].some(p => p.textContent.includes('CPU (machine)'))
                : !!document.querySelector('.q-tab-panel .js-plotly-plot');
            tab.click();
            const check = () => done() ? resolve(performance.now() - t0) : requestAnimationFrame(check);
            check();
        })""", [label, probe])
        result.append(ms)
        time.sleep(0.2)
    return result


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=100_000, help='history steps (× ~10 scalars ≈ 1 M points)')
    parser.add_argument('--port', type=int, default=8781)
    parser.add_argument('--clicks', type=int, default=40)
    parser.add_argument('--write', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--serve', nargs=2, metavar=('DATA_DIR', 'TIMINGS'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        write_metrics(args.steps, 0.5)
        return
    if args.serve:
        serve(Path(args.serve[0]), args.port, Path(args.serve[1]))
        return

    data_dir = Path(tempfile.mkdtemp(prefix='bench_charts_')) / 'data'
    run_id, job_id = prepare(data_dir, args.steps)
    points = count_points(data_dir, job_id)
    print(f'logged points: {points:,}', flush=True)
    timings = data_dir.parent / 'ticks.txt'
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_'))}
    server = subprocess.Popen([PYTHON, str(Path(__file__).resolve()), '--port', str(args.port), '--serve',
                               str(data_dir), str(timings)], cwd=ROOT, env=env)
    try:
        import httpx
        for _ in range(600):
            try:
                httpx.get(f'http://127.0.0.1:{args.port}/', timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        result = measure(args.port, run_id, args.clicks, timings)
    finally:
        server.terminate()
        server.wait(timeout=30)
        from app.studio import Studio
        Studio(data_dir).jobs.cancel(job_id)
    opens, server_ms, client_ms = result['open_s'], result['tick_server_ms'], result['tick_client_ms']
    print(f"charts: {result['charts']}, points drawn: {result['points_on_screen']:,} (of {points:,} logged)")
    print(f'open → full curves: median {statistics.median(opens):.3f} s, best {min(opens):.3f} s '
          f'(runs: {", ".join(f"{v:.3f}" for v in opens)})  aim ≤ 0.8 s')
    keys = sorted({k for m in result['marks'] for k, v in m.items() if v is not None}, key=lambda k: statistics.median(
        [m[k] for m in result['marks'] if m.get(k) is not None]))
    print('  breakdown (median ms after navigation start, html_kb in KiB): ' + ', '.join(
        f"{k} {statistics.median([m[k] for m in result['marks'] if m.get(k) is not None]):.0f}" for k in keys))
    print(f"for comparison, the Help page in the same frame: median {statistics.median(result['frame_s']):.3f} s")
    if server_ms and client_ms:
        print(f'live tick: server median {statistics.median(server_ms):.2f} ms (n={len(server_ms)}), '
              f'browser median {statistics.median(client_ms):.2f} ms, p95 {p95(client_ms):.2f} ms '
              f'(n={len(client_ms)}); total {statistics.median(server_ms) + statistics.median(client_ms):.2f} ms'
              '  aim ≤ 10 ms')
    redraws = result['redraw_ms']
    print(f"  ticks that redrew a chart (extendTraces): {len(redraws)} of {len(client_ms)}" +
          (f", their replot time median {statistics.median(redraws):.2f} ms, max {max(redraws):.2f} ms"
           if redraws else ''))
    zoomed, zoomed_server = result['zoomed_client_ms'], result['zoomed_server_ms']
    if zoomed and zoomed_server:
        print(f"live tick with the first chart zoomed on 500 steps at its end (it redraws on "
              f"{len(result['zoomed_redraw_ms'])} of {len(zoomed)} ticks): server median "
              f"{statistics.median(zoomed_server):.2f} ms, browser median {statistics.median(zoomed):.2f} ms, "
              f"p95 {p95(zoomed):.2f} ms; total {statistics.median(zoomed_server) + statistics.median(zoomed):.2f} ms")
    print(f"click → DOM under 2 CPU burners: log-scale p95 {p95(result['click_log_ms']):.1f} ms, "
          f"median {statistics.median(result['click_log_ms']):.1f} ms; tab switch p95 "
          f"{p95(result['click_tab_ms']):.1f} ms  aim ≤ 100 ms")


if __name__ in {'__main__', '__mp_main__'}:
    main()
