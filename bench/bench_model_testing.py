"""Model testing speed: a batch test through the studio ÷ raw TorchScript on the same files (aim ≥ 0.9).

    python bench/bench_model_testing.py [--files 8] [--seconds 10] [--export model.ts]

Without --export it makes the tiny v2_small run and its export with the plain `rave` CLI (as the tests do).
Both sides are a fresh process per batch, so each pays its torch import and model load once:
- studio: `ModelTests.start` on a folder of the files → the model-test job (encode, decode, write the WAVs,
  auraloss/pyloudnorm metrics, envelopes) until it is done, polled as the UI's poller does;
- raw: `python -c` loading the same .ts with torch.jit and running encode → decode on each file (soundfile in,
  nothing out).
Throughput is seconds of audio per wall-clock second; the figure is studio ÷ raw.
"""
from __future__ import annotations

import argparse
import shutil
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
    opts = args.parse_args()
    from rave_fixtures import TINY_TRAIN, run_cli, synth_audio
    from waiting import job_finished

    from app.studio import Studio
    from services.access import local
    from services.store import Export
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

        started = time.monotonic()
        subprocess.run([sys.executable, '-c', RAW, str(model), *map(str, files)], check=True, timeout=1800,
                       capture_output=True)
        raw_s = time.monotonic() - started

        tests = studio.session(local(), None).model_tests
        started = time.monotonic()
        view = tests.start(project.id, str(model), folder=str(files[0].parent))
        job = job_finished(studio, view.job_id, timeout=1800)
        studio_s = time.monotonic() - started
        done = tests.test(view.id, view.job_id, view.folder)
        assert job.status == 'done' and done.done, done.error
        ratio = (audio_s / studio_s) / (audio_s / raw_s)
        print(f'{opts.files} files × {opts.seconds:g} s: raw TorchScript {raw_s:.1f} s ({audio_s / raw_s:.1f}× real '
              f'time), studio batch test {studio_s:.1f} s ({audio_s / studio_s:.1f}× real time, model part '
              f'{done.model_seconds:.1f} s)')
        print(f'throughput studio ÷ raw: {ratio:.2f} (aim ≥ 0.9)')
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
