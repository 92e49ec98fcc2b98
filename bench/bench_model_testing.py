"""Model testing speed: a batch test through the studio ÷ raw TorchScript on the same files (aim ≥ 0.9).

    python bench/bench_model_testing.py [--files 8] [--seconds 10] [--reps 3] [--export model.ts]

Without --export it makes the tiny v2_small run and its export with the plain `rave` CLI (as the tests do).
Both sides are a fresh process per batch, so each pays its torch import and model load once:
- studio: `ModelTests.start` on a folder of the files → the model-test job (encode, decode, write the WAVs,
  auraloss/pyloudnorm metrics, envelopes) until it is done, polled as the UI's poller does;
- raw: `python -c` loading the same .ts with torch.jit and running encode → decode on each file (soundfile in,
  nothing out), with the OpenMP setting the worker runs the model with (`THREADS_ENV`): the same model work, so
  the figure measures what the studio adds, not how OpenMP copes with a busy machine.
Throughput is seconds of audio per wall-clock second; the figure is studio ÷ raw.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / 'tests')]

RAW = '''
import sys, soundfile as sf, torch
model = torch.jit.load(sys.argv[1], map_location="cpu").eval()
with torch.no_grad():
    for path in sys.argv[2:]:
        x, sr = sf.read(path, dtype="float32", always_2d=True)
        model.decode(model.encode(torch.from_numpy(x.T.copy())[None]))
'''


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument('--files', type=int, default=8)
    args.add_argument('--seconds', type=float, default=10.0)
    args.add_argument('--export', type=Path)
    args.add_argument('--reps', type=int, default=3)
    opts = args.parse_args()
    from rave_fixtures import TINY_TRAIN, run_cli, synth_audio
    from waiting import job_finished

    from app.studio import Studio
    from services.access import local
    from services.store import Export
    from services.workers.model_test import THREADS_ENV
    work = Path(tempfile.mkdtemp(prefix='bench-model-testing-'))
    try:
        export = opts.export
        if export is None:
            synth_audio(work / 'train', n_files=3, seconds=12.0)
            run_cli(['preprocess', '--input_path', str(work / 'train'), '--output_path', str(work / 'db'),
                     '--num_signal', '65536', '--channels', '1', '--sampling_rate', '44100'], work)
            run_cli(['train', *TINY_TRAIN, '--db_path', str(work / 'db'), '--out_path', str(work / 'runs'),
                     '--name', 'tiny', '--max_steps', '4', '--val_every', '2'], work)
            run_cli(['export', '--run', str(next((work / 'runs').glob('tiny_*'))), '--output', str(work),
                     '--name', 'tiny'], work)
            export = next(work.glob('tiny*.ts'))
        studio = Studio(work / 'data')
        project = studio.projects.current(None)
        files = synth_audio(Path(project.location) / 'uploads' / 'bench', n_files=opts.files, seconds=opts.seconds)
        model = Path(project.location) / 'exports' / export.name
        model.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(export, model)
        Export.create(project=project, path=str(model), status='done', name='tiny')
        audio_s = opts.files * opts.seconds

        tests = studio.session(local(), None).model_tests

        def raw() -> float:
            started = time.monotonic()
            subprocess.run([sys.executable, '-c', RAW, str(model), *map(str, files)], check=True, timeout=1800,
                           capture_output=True, env={**THREADS_ENV, **os.environ})
            return time.monotonic() - started

        def ours() -> float:
            started = time.monotonic()
            view = tests.start(project.id, str(model), folder=str(files[0].parent))
            job = job_finished(studio, view.job_id, timeout=1800)
            spent = time.monotonic() - started
            done = tests.test(view.id, view.job_id, view.folder)
            assert job.status == 'done' and done.done, done.error
            model_part.append(done.model_seconds)
            return spent

        print(f'load average at the start: {os.getloadavg()}')
        raw_times, studio_times, model_part = [], [], []
        for rep in range(opts.reps):  # interleaved, the order alternating: load hits both alike
            for side in ((raw, ours) if rep % 2 == 0 else (ours, raw)):
                (raw_times if side is raw else studio_times).append(side())
            print(f'rep {rep + 1}: raw {raw_times[-1]:.1f} s, studio {studio_times[-1]:.1f} s')
        raw_s, studio_s = statistics.median(raw_times), statistics.median(studio_times)
        ratio = (audio_s / studio_s) / (audio_s / raw_s)
        print(f'{opts.files} files × {opts.seconds:g} s (medians of {opts.reps}): raw TorchScript {raw_s:.1f} s '
              f'({audio_s / raw_s:.1f}× real time), studio batch test {studio_s:.1f} s ({audio_s / studio_s:.1f}× '
              f'real time, model part {statistics.median(model_part):.1f} s)')
        print(f'throughput studio ÷ raw: {ratio:.2f} (aim ≥ 0.9); load average at the end: {os.getloadavg()}')
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
