"""Spine figures: launch → first page served, idle RSS of the UI process, and the wall-time ratio of a
studio-run preprocessing job (JobService + runner) against the same `rave preprocess` run directly.

    python bench/bench_spine.py [--runs 5] [--reps 3] [--seconds 150]

Aims (issue 2): launch ≤ 1.5 s, idle RSS ≤ 250 MB, ratio ≤ 1.03.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / 'tests')]

from rave_fixtures import synth_audio
from studio_process import PYTHON, StudioProcess, clean_env, http_get

RAVE = str(Path(PYTHON).with_name('rave'))


def launch_and_rss(work: Path, runs: int) -> tuple[list[float], list[float]]:
    launches, rss = [], []
    for i in range(runs):
        data_dir = work / f'launch{i}'
        data_dir.mkdir()
        studio = StudioProcess(data_dir)
        try:
            launches.append(studio.start(timeout=120).wait_served())
            for path in ('/', '/datasets', '/training'):
                http_get(studio.url + path)
            time.sleep(3.0)  # idle: the poller ticks, nothing is open
            proc = psutil.Process(studio.proc.pid)
            rss.append(sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20)
        finally:
            studio.stop()
    return launches, rss


def preprocess_flags(audio: Path, out: Path) -> list[str]:
    return ['--input_path', str(audio), '--output_path', str(out), '--num_signal', '131072',
            '--channels', '1', '--sampling_rate', '44100']


def direct(audio: Path, out: Path) -> float:
    with open(out.parent / f'{out.name}.log', 'wb') as log:  # like `rave preprocess … > log 2>&1`
        t = time.monotonic()
        subprocess.run([RAVE, 'preprocess', *preprocess_flags(audio, out)], check=True, env=clean_env(),
                       cwd=out.parent, stdout=log, stderr=subprocess.STDOUT)
        return time.monotonic() - t


def via_studio(jobs, audio: Path, out: Path) -> float:
    """What the datasets service submits: RAVE's preprocess entry point under the job runner."""
    from services.store import Job
    t = time.monotonic()
    job = jobs.submit('preprocess', 'bench', [PYTHON, '-m', 'scripts.preprocess', *preprocess_flags(audio, out)],
                      cwd=jobs.root, stall_s=300, slot='preprocess')
    while Job.get_by_id(job.id).status in ('queued', 'running'):
        time.sleep(0.05)
        jobs.poll()
    elapsed = time.monotonic() - t
    row = Job.get_by_id(job.id)
    assert row.status == 'done', row.message
    return elapsed


def ratio(work: Path, reps: int, seconds: float) -> tuple[list[float], list[float]]:
    from services.jobs import JobService
    from services.store import open_database
    audio = work / 'audio'
    n_files = max(1, round(seconds / 30))
    synth_audio(audio, n_files=n_files, seconds=seconds / n_files)
    data_dir = work / 'jobdata'
    open_database(data_dir / 'studio.db')
    jobs = JobService(data_dir)
    direct_s, studio_s = [], []
    for i in range(reps):  # interleaved, alternating which goes first
        order = [('direct', direct), ('studio', None)] if i % 2 == 0 else [('studio', None), ('direct', direct)]
        for name, _ in order:
            out = work / f'db_{name}_{i}'
            if name == 'direct':
                direct_s.append(direct(audio, out))
            else:
                studio_s.append(via_studio(jobs, audio, out))
            shutil.rmtree(out, ignore_errors=True)
    return direct_s, studio_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=5, help='studio launches to time')
    parser.add_argument('--reps', type=int, default=5, help='interleaved preprocess repetitions')
    parser.add_argument('--seconds', type=float, default=150.0, help='seconds of synthesized audio')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='rave-bench-') as tmp:
        work = Path(tmp)
        launches, rss = launch_and_rss(work, args.runs)
        print(f'launch -> first page served: median {statistics.median(launches):.2f} s '
              f'(runs: {", ".join(f"{x:.2f}" for x in launches)})   aim <= 1.5 s', flush=True)
        print(f'idle RSS of the UI process:  median {statistics.median(rss):.0f} MB '
              f'(runs: {", ".join(f"{x:.0f}" for x in rss)})   aim <= 250 MB', flush=True)
        d, s = ratio(work, args.reps, args.seconds)
        ratios = [b / a for a, b in zip(d, s)]
        print(f'preprocess {args.seconds:.0f} s of audio: direct median {statistics.median(d):.2f} s, '
              f'studio job median {statistics.median(s):.2f} s', flush=True)
        print(f'studio / direct wall-time ratio: median {statistics.median(ratios):.3f} '
              f'(reps: {", ".join(f"{x:.3f}" for x in ratios)})   aim <= 1.03', flush=True)
        # on a shared machine single pairs are noisy; the fastest of each is the least disturbed
        print(f'  ratio of medians {statistics.median(s) / statistics.median(d):.3f}, '
              f'ratio of fastest runs {min(s) / min(d):.3f}', flush=True)
    print(f'machine: {psutil.cpu_count()} CPUs, load average {psutil.getloadavg()[0]:.1f}')


if __name__ == '__main__':
    main()
