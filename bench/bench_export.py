"""Export cost: the studio's TorchScript export worker ÷ plain `rave export`, and what verification adds per target.

    python bench/bench_export.py [--reps 3] [--run RUN_FOLDER]

Same checkpoint of a tiny v2_small run (made here by the plain CLI unless --run is given), both as the job engine
would start them: whole processes, launch → exit, output to a log file. The reps are interleaved (and the
order alternates each rep) so machine load hits both alike; the ratio is of the medians. Aim: ≤ 1.03. The
CPU time (user + system) of each process is reported too: on a shared machine it moves far less than wall time.
Then each target is exported once by its worker and verified once in a fresh process; the verification's
wall time is reported beside the export's. The load average is printed at the start and the end: on a
shared machine the figures mean little without it.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tests'))

from rave_fixtures import RAVE, TINY_TRAIN, run_cli, synth_audio

ENV = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_'))}


CPU: dict[str, list[float]] = {'plain': [], 'studio': []}  # user + system seconds of each export process


def timed(argv: list[str], log: Path, env: dict | None = None, cpu: list[float] | None = None) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(log, 'w') as out:
        code = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env or ENV, check=False).returncode
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f'{" ".join(argv[:4])} failed ({code}); see {log}')
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return elapsed


def worker(name: str, args: list[str], job: Path, cpu: list[float] | None = None) -> float:
    job.mkdir(parents=True, exist_ok=True)
    return timed([sys.executable, '-m', f'services.workers.{name}', *args], job / 'log.txt',
                 {**ENV, 'RAVE_STUDIO_JOB_DIR': str(job)}, cpu)


def tiny_run(work: Path) -> Path:
    synth_audio(work / 'audio', n_files=3, seconds=12.0)
    db = work / 'db'
    run_cli(['preprocess', '--input_path', str(work / 'audio'), '--output_path', str(db), '--num_signal', '65536',
             '--channels', '1', '--sampling_rate', '44100'], work)
    run_cli(['train', *TINY_TRAIN, '--db_path', str(db), '--out_path', str(work / 'runs'), '--name', 'bench',
             '--max_steps', '4', '--val_every', '2'], work)
    return next((work / 'runs').glob('bench_*'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--run', help='an existing run folder (default: a tiny run trained here)')
    args = parser.parse_args()
    load_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix='bench_export_'))
    run = Path(args.run) if args.run else tiny_run(work)
    out = work / 'exports'
    plain, studio = [], []
    for rep in range(args.reps):
        pair = [('plain', lambda r=rep: timed([RAVE, 'export', '--run', str(run), '--output', str(out),
                                               '--name', f'plain{r}'], work / f'plain{r}.log', cpu=CPU['plain'])),
                ('studio', lambda r=rep: worker('export', ['--run', str(run), '--output', str(out),
                                                           '--name', f'studio{r}'], work / f'job-studio{r}',
                                                    CPU['studio']))]
        for label, measure in pair if rep % 2 == 0 else pair[::-1]:
            (plain if label == 'plain' else studio).append(measure())
        print(f'rep {rep + 1}: plain {plain[-1]:.1f} s, studio {studio[-1]:.1f} s', flush=True)
    ratio = statistics.median(studio) / statistics.median(plain)

    offline = out / 'studio0.ts'
    targets = {}
    seconds = worker('export', ['--run', str(run), '--output', str(out), '--name', 'live', '--streaming'],
                     work / 'job-streaming')
    targets['ts streaming'] = (seconds, out / 'live_streaming.ts', ['--offline', str(offline)])
    targets['ts'] = (statistics.median(studio), offline, [])
    seconds = worker('export_onnx', ['--run', str(run), '--output', str(out), '--name', 'graphs'], work / 'job-onnx')
    targets['onnx'] = (seconds, out / 'graphs.onnx.json', [])
    seconds = worker('export_neutone', ['--model', str(out / 'live_streaming.ts'), '--output', str(out / 'neutone'),
                                        '--name', 'live'], work / 'job-neutone')
    targets['neutone'] = (seconds, out / 'neutone' / 'live' / 'model.nm', [])
    verification = {}
    for target, (export_s, path, extra) in targets.items():
        job = work / f'job-verify-{target.replace(" ", "-")}'
        verify_s = worker('verify_export', ['--export', str(path), *extra], job)
        verdict = json.loads((work / f'job-verify-{target.replace(" ", "-")}' / 'verification.json').read_text())
        verification[target] = {'export_s': round(export_s, 1), 'verify_s': round(verify_s, 1),
                                'added': round(verify_s / export_s, 2), 'status': verdict['status']}
    report = {
        'plain_s': [round(s, 1) for s in plain], 'studio_s': [round(s, 1) for s in studio],
        'median_plain_s': round(statistics.median(plain), 2), 'median_studio_s': round(statistics.median(studio), 2),
        'studio_over_plain': round(ratio, 3), 'aim': 1.03,
        'cpu_plain_s': [round(s, 1) for s in CPU['plain']], 'cpu_studio_s': [round(s, 1) for s in CPU['studio']],
        'cpu_studio_over_plain': round(statistics.median(CPU['studio']) / statistics.median(CPU['plain']), 3),
        'verification': verification,
        'load_average': {'start': [round(x, 2) for x in load_start], 'end': [round(x, 2) for x in os.getloadavg()]},
        'cores': os.cpu_count(), 'work': str(work),
    }
    print(json.dumps(report, indent=1))


if __name__ == '__main__':
    main()
