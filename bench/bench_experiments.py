"""Experiments speed: the table with 1,000 runs, and the overlay of 100 runs × 10,000 steps.

    python bench/bench_experiments.py [--runs 1000] [--overlay 100] [--steps 10000]
    python bench/bench_experiments.py --screenshots OUT  # a small realistic project, the two pages shot

Measured through the `Experiments` facade, as the page calls it, on a fresh data folder:
- table open (first page, newest first), sort by best validation, filter (status + dataset + a search with a
  parameter value `capacity=64`): each one SQL query (aim ≤ 200 ms each);
- overlay: `compare` (parameters, best/last per metric of 20 runs) and one metric's curves of 100 runs of
  10,000 steps each, smoothed (aim ≤ 1 s): the first open ever (every metrics.jsonl parsed, then cached), with
  the series in memory, and after a restart (the series read back from training/series_cache.py).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / 'tests')]


def populate(studio, runs: int, steps: int = 0, with_metrics: int = 0) -> list[int]:
    """`runs` runs of varied choices and figures; the first `with_metrics` get a training job whose
    metrics.jsonl holds `steps` steps (loss terms every step, a validation every 1,000)."""
    import numpy as np

    from services.store import Dataset, Job, Run, db
    from services.training.spec import RunSpec
    project = studio.projects.current(None)
    datasets = [Dataset.create(project=project, name=n, path=f'/data/{n}', status='ready', channels=1, sr=44100)
                for n in ('drums', 'voice', 'strings', 'field-recordings')]
    rng = np.random.default_rng(0)
    start = dt.datetime(2026, 1, 1)
    ids = []
    with db.atomic():
        for i in range(runs):
            dataset = datasets[i % len(datasets)]
            spec = RunSpec(dataset=dataset.id, name=f'run-{i:04d}', base=('v2_small', 'v2', 'v1')[i % 3],
                           addons=('causal',) if i % 4 == 0 else (), description=f'try {i} on {dataset.name}',
                           macros={'CAPACITY': int(rng.choice([32, 48, 64, 96]))} if i % 2 else {},
                           batch=int(rng.choice([4, 8, 16])), max_steps=steps or 100000)
            job = None
            if i < with_metrics:
                job = Job.create(project=project, kind='train', title=f'Train {spec.name}', argv=[], status='done',
                                 started=start, ended=start + dt.timedelta(seconds=steps / 5))
                folder = studio.jobs.root / f'{job.id:06d}'
                folder.mkdir(parents=True, exist_ok=True)
                _metrics(folder / 'metrics.jsonl', steps, rng, 1 + i / with_metrics)
                Job.update(folder=str(folder)).where(Job.id == job.id).execute()
            run = Run.create(project=project, dataset=dataset, name=spec.name, configs=list(spec.configs),
                             status=('done', 'failed', 'cancelled', 'imported')[int(rng.integers(0, 4))] if i % 7
                             else 'done', step=steps or int(rng.integers(1000, 200000)),
                             params={'spec': spec.to_dict(), 'jobs': [job.id] if job else []}, job=job,
                             best_validation=float(rng.uniform(1, 30)), last_loss=float(rng.uniform(0.5, 5)),
                             seconds=float(rng.uniform(600, 200000)), created=start + dt.timedelta(hours=i),
                             tags=['baseline'] if i % 10 == 0 else ['drums'] if dataset.name == 'drums' else [],
                             notes='**kept**: crisp transients' if i % 25 == 0 else '')
            ids.append(run.id)
    return ids


def _metrics(path: Path, steps: int, rng, scale: float) -> None:
    import numpy as np
    x = np.arange(1, steps + 1)
    spectral = scale * (3 + 20 / np.sqrt(x)) + rng.normal(0, 0.05, steps)
    with open(path, 'w') as out:
        for step, value in zip(x.tolist(), spectral.tolist(), strict=True):
            out.write(json.dumps({'step': step, 't': step / 5, 'multiband_spectral_distance': value,
                                  'fullband_spectral_distance': value * 0.8, 'regularization': 0.1,
                                  'loss': value * 1.8 + 0.1}) + '\n')
            if step % 1000 == 0:
                out.write(json.dumps({'step': step, 'event': 'validation', 'validation': value * 4}) + '\n')


def timed(fn, repeat: int = 5) -> float:
    """Median milliseconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bench(runs: int, overlay: int, steps: int) -> dict:
    from app.studio import Studio
    from services.access import local
    from services.training.experiments import TableQuery
    data = Path(tempfile.mkdtemp(prefix='bench-exp-'))
    studio = Studio(data / 'data')
    ids = populate(studio, runs, steps, with_metrics=overlay)
    experiments = studio.session(local(), None).experiments
    project = studio.projects.current(None).id
    dataset = experiments.choices(project)['dataset'][0][0]
    out = {'runs': runs,
           'table_open_ms': timed(lambda: experiments.table(project)),
           'table_sort_ms': timed(lambda: experiments.table(project, TableQuery(sort='best_validation'))),
           'table_filter_ms': timed(lambda: experiments.table(project, TableQuery(
               status=('done', 'failed'), dataset=(dataset,), search='capacity=64 run'))),
           'table_last_page_ms': timed(lambda: experiments.table(project, TableQuery(page=runs // 50 - 1)))}
    picked = ids[:overlay]

    def open_overlay() -> None:
        experiments.compare(picked[:20])
        experiments.overlay(picked, 'loss', 0.6)
    t0 = time.perf_counter()
    open_overlay()  # first ever: every run's metrics.jsonl parsed (and its series cached)
    out['overlay_first_ms'] = (time.perf_counter() - t0) * 1000
    out['overlay_warm_ms'] = timed(open_overlay, 3)
    experiments = Studio(data / 'data').session(local(), None).experiments  # after a restart
    t0 = time.perf_counter()
    open_overlay()
    out['overlay_after_restart_ms'] = (time.perf_counter() - t0) * 1000
    out['overlay_points_sent'] = sum(len(t.steps) for t in experiments.overlay(picked, 'loss', 0.6))
    out.update(overlay_runs=overlay, overlay_steps=steps)
    return out


def screenshots(out: Path) -> None:
    from playwright.sync_api import sync_playwright
    from studio_process import StudioProcess, launch_chromium

    from app.studio import Studio
    from services.store import Run
    data = Path(tempfile.mkdtemp(prefix='shots-exp-')) / 'data'
    studio = Studio(data)
    ids = populate(studio, 14, 3000, with_metrics=5)
    Run.update(tags=['baseline', 'drums']).where(Run.id == ids[0]).execute()
    Run.update(status='imported').where(Run.id == ids[3]).execute()
    out.mkdir(parents=True, exist_ok=True)
    with StudioProcess(data) as served, sync_playwright() as p:
        browser = launch_chromium(p)
        for width, height in ((1366, 860), (800, 900)):
            page = browser.new_context(viewport={'width': width, 'height': height}).new_page()
            for name, path in (('experiments', '/experiments'),
                               ('compare', '/experiments/compare?runs=' + ','.join(map(str, ids[:5])))):
                page.goto(served.url + path, wait_until='networkidle')
                page.wait_for_timeout(1500)
                file = out / f'{name}_{width}x{height}.png'
                page.screenshot(path=str(file), full_page=name == 'compare')
                print(file, flush=True)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=1000)
    parser.add_argument('--overlay', type=int, default=100)
    parser.add_argument('--steps', type=int, default=10000)
    parser.add_argument('--screenshots', type=Path)
    args = parser.parse_args()
    if args.screenshots:
        screenshots(args.screenshots)
        return
    print(json.dumps(bench(args.runs, args.overlay, args.steps), indent=2))


if __name__ == '__main__':
    main()
