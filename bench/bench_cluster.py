"""Submission → first metric: a tiny run on the one-node SLURM of tests/slurm_fixtures.py vs the same run on
this machine (the ratio is SLURM's start-up overhead plus the batch step's, as the run page sees it).

    python bench/bench_cluster.py [--pairs 2]

Same tiny v2_small run (synthesized audio, n_signal 65536, batch 2, CPU), started through the Training facade,
interleaved local / SLURM so machine load hits both alike; timed from `Training.start` returning to the first
training step in the run's metrics, polled as the studio's poller does (every 0.5 s). Needs the SLURM packages
(studio.sh test installs them).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / 'tests')]

import slurm_fixtures
from rave_fixtures import register_dataset, run_cli, synth_audio, tiny_spec

TICK_S = 0.5


def first_metric(studio, training, project_id: int, spec, executor) -> float:
    started = time.monotonic()
    run = training.start(project_id, spec, executor=executor)
    while training.metrics(run.id).step < 1:
        if time.monotonic() - started > 600:
            raise RuntimeError(f'no step within 10 minutes:\n{studio.jobs.log_tail(run.job_id)}')
        studio.poll()
        time.sleep(TICK_S)
    took = time.monotonic() - started
    training.cancel(run.id)
    while training.run(run.id).active:
        studio.poll()
        time.sleep(TICK_S)
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--pairs', type=int, default=2)
    args = parser.parse_args()
    if slurm_fixtures.missing():
        sys.exit('SLURM is not installed here: ' + ', '.join(slurm_fixtures.missing()))
    work = Path(tempfile.mkdtemp(prefix='bench-cluster-'))
    root = work / 'slurm'
    root.mkdir()
    cluster = slurm_fixtures.Slurm(root, root / 'slurm.conf', socket.gethostname().split('.')[0])
    slurm_fixtures._start(cluster)
    os.environ.update(cluster.env)
    try:
        from app.studio import Studio
        from services import access
        from services.cluster import SLURM, ExecutorSettings
        synth_audio(work / 'audio', n_files=3, seconds=12.0)
        run_cli(['preprocess', '--input_path', str(work / 'audio'), '--output_path', str(work / 'db'),
                 '--num_signal', '65536', '--channels', '1', '--sampling_rate', '44100'], work)
        studio = Studio(work / 'data')
        studio.start()
        dataset = register_dataset(studio, work / 'db')
        project = studio.projects.current(None)
        training = studio.session(access.local(), None).training
        places = {'local': ExecutorSettings(), 'slurm': ExecutorSettings(kind=SLURM, partition='debug', time='20')}
        times: dict[str, list[float]] = {'local': [], 'slurm': []}
        for pair in range(args.pairs):
            for name, executor in places.items():
                spec = tiny_spec(dataset, f'{name}{pair}', max_steps=1000, val_every=1000)
                times[name].append(first_metric(studio, training, project.id, spec, executor))
        local, slurm = statistics.median(times['local']), statistics.median(times['slurm'])
        print(json.dumps({'local_s': times['local'], 'slurm_s': times['slurm'], 'local_median_s': round(local, 2),
                          'slurm_median_s': round(slurm, 2), 'ratio': round(slurm / local, 3),
                          'load': os.getloadavg()[0]}, indent=2))
    finally:
        slurm_fixtures._stop(cluster)


if __name__ == '__main__':
    main()
