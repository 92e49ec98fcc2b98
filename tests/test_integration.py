"""Audio → dataset → training → export → explorer, through the studio's own services, with real RAVE on CPU."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from rave_fixtures import synth_audio, tiny_spec
from waiting import wait_for

from services.store import Dataset, Export, Job, Run

pytestmark = pytest.mark.slow


def test_audio_to_model_you_can_hear(studio) -> None:
    project = studio.projects.current(None)
    audio = Path(project.location) / 'uploads' / 'tones'
    synth_audio(audio, n_files=3, seconds=12.0, seed=7)

    # 4. dataset: RAVE preprocess as a job, registered with its metadata when done
    dataset = studio.datasets.start(project, 'tones', [str(audio)], num_signal=65536, channels=1, sr=44100)
    dataset = wait_for(studio, lambda: (d := Dataset.get_by_id(dataset.id)).status in ('ready', 'failed') and d,
                       300, 'preprocessing')
    assert dataset.status == 'ready', Job.get_by_id(dataset.job_id).message
    assert dataset.n_examples >= 3 and dataset.sr == 44100 and dataset.channels == 1
    assert (Path(dataset.path) / 'metadata.yaml').exists()

    # 5. training: RAVE's own train entry point through the studio worker, metrics per step, checkpoints
    run = studio.training.start(project, tiny_spec(dataset, 'tiny', base='v2_small', max_steps=4, val_every=2,
                                                   n_signal=65536, batch=2, channels=1, devices=('cpu',), workers=0))
    assert 'rave train' in Job.get_by_id(run.job_id).command
    run = wait_for(studio, lambda: (r := Run.get_by_id(run.id)).job.status not in ('queued', 'running') and r,
                   600, 'training')
    assert run.job.status == 'done', run.job.message
    series = studio.training.metrics(run)
    logged = np.asarray(list(series.steps['fullband_spectral_distance']))
    assert series.step == 4 and logged.tolist() == [1, 2, 3, 4]  # every step, not every 50 as Lightning logs
    checkpoints = studio.training.checkpoints(run)
    assert checkpoints and all(Path(c.path).exists() for c in checkpoints)

    # 6. export: TorchScript, non-streaming, to the project's exports folder
    best = next((c for c in checkpoints if c.kind == 'best'), checkpoints[0])
    export = studio.exports.start(project, run, best.path, streaming=False, name='tiny')
    export = wait_for(studio, lambda: (e := Export.get_by_id(export.id)).status in ('done', 'failed') and e,
                      300, 'export')
    assert export.status == 'done', Job.get_by_id(export.job_id).message
    model_path = Path(export.path)
    assert model_path.is_file() and model_path.parent == Path(project.location) / 'exports'

    # 7. explorer: original and reconstruction side by side
    source = min(audio.glob('*.wav'))
    rec = studio.inference.reconstruct(project, export, source)
    wait_for(studio, lambda: Job.get_by_id(rec.job_id).status in ('done', 'failed'), 300, 'reconstruction')
    assert Job.get_by_id(rec.job_id).status == 'done', Job.get_by_id(rec.job_id).message
    result = studio.inference.result(rec.folder)
    original, sr_in = sf.read(rec.folder / 'input.wav')
    rebuilt, sr_out = sf.read(rec.folder / 'output.wav')
    assert sr_in == sr_out == 44100 and len(rebuilt) >= len(original) > 0
    assert np.isfinite(rebuilt).all() and result and 'error' not in result

    # and the exported model encodes and decodes outside the studio too
    model = torch.jit.load(str(model_path)).eval()
    x = torch.from_numpy(original.astype(np.float32)).reshape(1, 1, -1)
    with torch.no_grad():
        z = model.encode(x)
        y = model.decode(z)
    assert z.shape[-1] == -(-x.shape[-1] // 512) and y.shape[-1] >= x.shape[-1]
