"""Training throughput: the studio (JobService + training worker with its callbacks) ÷ plain `rave train`.

    python bench/bench_training.py [--steps 12] [--pairs 2]

Same tiny v2_small run (synthesized audio, n_signal 65536, batch 2, CPU, 0 workers, no validation inside the
measured steps), interleaved plain / studio so machine load hits both alike. Two figures per run:
- steps/s over the whole process (launch → exit, start-up included), the user's view;
- steps/s of training alone: steps 2..N from per-step timestamps (the studio's metrics.jsonl; for plain RAVE
  the same callback is not available, so its training-only rate is its wall rate minus the start-up the two share,
  measured as the time to the first step in the studio's run).
Aim: studio ÷ plain ≥ 0.97.
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
sys.path.insert(0, str(ROOT / 'tests'))

from rave_fixtures import RAVE, TINY_TRAIN, run_cli, synth_audio


def plain(db: Path, out: Path, steps: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_'))}
    start = time.perf_counter()
    with open(out.parent / f'{out.name}.log', 'w') as log:  # a user would log to a file too
        subprocess.run([RAVE, 'train', *TINY_TRAIN, '--db_path', str(db), '--out_path', str(out), '--name', 'plain',
                        '--max_steps', str(steps), '--val_every', '100000'], stdout=log, stderr=subprocess.STDOUT,
                       env=env, check=True)
    return time.perf_counter() - start


def studio_run(studio, dataset, name: str, steps: int) -> tuple[float, float, float]:
    """(wall seconds launch → finished, seconds to the first step, training-only steps/s) of one studio run."""
    from services.store import Job
    project = studio.projects.current(None)
    start, launch = time.perf_counter(), time.time()
    from services.training.spec import RunSpec
    run = studio.training.start(project, RunSpec(dataset=dataset.id, name=name, base='v2_small', max_steps=steps,
                                                 val_every=100000, n_signal=65536, batch=2, channels=1, workers=0))
    while True:
        studio.poll()
        job = Job.get_by_id(run.job_id)
        if job.status in ('done', 'failed', 'cancelled', 'interrupted'):
            break
        time.sleep(0.1)
    wall = time.perf_counter() - start
    assert job.status == 'done', job.message
    lines = [json.loads(x) for x in (Path(job.folder) / 'metrics.jsonl').read_text().splitlines()]
    stamps = {x['step']: x['t'] for x in lines if 'loss' in x}
    first = min(stamps.values()) - launch
    rate = (max(stamps) - min(stamps)) / (stamps[max(stamps)] - stamps[min(stamps)])
    return wall, first, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=12)
    parser.add_argument('--pairs', type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix='bench_training_'))
    synth_audio(work / 'audio', n_files=3, seconds=12.0)
    db = work / 'db'
    run_cli(['preprocess', '--input_path', str(work / 'audio'), '--output_path', str(db), '--num_signal', '65536',
             '--channels', '1', '--sampling_rate', '44100'], work)

    import lmdb

    from app.studio import Studio
    from services.store import Dataset
    studio = Studio(work / 'data')
    env = lmdb.open(str(db), readonly=True, lock=False)
    entries = env.stat()['entries']
    env.close()
    dataset = Dataset.create(project=studio.projects.current(None), name='tones', path=str(db), status='ready',
                             sr=44100, channels=1, n_examples=entries, params={'num_signal': 65536})
    plain_walls, studio_walls, firsts, rates = [], [], [], []
    for i in range(args.pairs):
        order = ('plain', 'studio') if i % 2 == 0 else ('studio', 'plain')
        for which in order:
            if which == 'plain':
                plain_walls.append(plain(db, work / f'plain_{i}', args.steps))
                print(f'pair {i}: plain  {plain_walls[-1]:.1f} s', flush=True)
            else:
                wall, first, rate = studio_run(studio, dataset, f'studio_{i}', args.steps)
                studio_walls.append(wall)
                firsts.append(first)
                rates.append(rate)
                print(f'pair {i}: studio {wall:.1f} s (first step after {first:.1f} s, {rate:.3f} it/s training)',
                      flush=True)
    steps = args.steps
    plain_sps = [steps / w for w in plain_walls]
    studio_sps = [steps / w for w in studio_walls]
    print(f'\n{steps} steps of v2_small, n_signal 65536, batch 2, CPU, {args.pairs} interleaved pairs')
    print(f'whole process: plain {statistics.median(plain_sps):.3f} steps/s, studio '
          f'{statistics.median(studio_sps):.3f} steps/s → ratio of medians '
          f'{statistics.median(studio_sps) / statistics.median(plain_sps):.3f}, per pair '
          f'{", ".join(f"{s / p:.3f}" for s, p in zip(studio_sps, plain_sps))}  (aim ≥ 0.97)')
    start_up = statistics.median(firsts)
    plain_train = [(steps - 1) / max(w - start_up, 1e-6) for w in plain_walls]
    print(f'training only: studio {statistics.median(rates):.3f} it/s (per-step timestamps), plain ≈ '
          f'{statistics.median(plain_train):.3f} it/s (wall minus the shared start-up of {start_up:.1f} s) → '
          f'ratio ≈ {statistics.median(rates) / statistics.median(plain_train):.3f}')


if __name__ == '__main__':
    main()
