"""Training service with real RAVE on CPU: per-step metrics, checkpoints, graceful stop and resume."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rave_fixtures import metric_lines, register_dataset, tiny_spec
from waiting import run_ended, wait_for

from services.store import Checkpoint, Job
from services.training.runs import TrainingError
from services.training.spec import RunSpec


def check(studio, project, dataset, name: str, base: str, n_signal: int, batch: int,
          channels: int) -> list[str]:
    spec = RunSpec(dataset=dataset.id, name=name, base=base, n_signal=n_signal, batch=batch,
                   channels=channels)
    return studio.training.validate(project, spec)


def test_configs_are_read_without_importing_rave() -> None:
    code = ('import sys; from services.training import runs, configs; cs = {c.name: c.compression for c in '
            'configs.base_configs()}; print(cs["v2_small"], cs["v2"], cs["discrete"]); '
            'print(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "rave", '
            '"pytorch_lightning")))')
    out = subprocess.run([sys.executable, '-c', code], check=False, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ['512 2048 1024', '[]']


@pytest.mark.slow
def test_validation_explains_what_to_change(studio, rave_db: Path) -> None:
    project = studio.projects.current(None)
    dataset = register_dataset(studio, rave_db)
    ok = check(studio, project, dataset, 'fine', 'v2_small', 65536, 2, 1)
    assert ok == []
    assert 'multiple of 512' in ' '.join(check(studio, project, dataset, 'a', 'v2_small', 65000, 2, 1))
    assert 'multiple of 2048' in ' '.join(check(studio, project, dataset, 'a', 'v2', 66048, 2, 1))
    assert 'at least 65536' in ' '.join(check(studio, project, dataset, 'a', 'v2_small', 32768, 2, 1))
    assert 'at most 131072' in ' '.join(check(studio, project, dataset, 'a', 'v2_small', 262144, 2, 1))
    too_big = check(studio, project, dataset, 'a', 'v2_small', 65536, dataset.n_examples + 5, 1)
    assert 'Batch' in ' '.join(too_big)
    assert '1 channel' in ' '.join(check(studio, project, dataset, 'a', 'v2_small', 65536, 2, 2))
    assert 'latent frames' in ' '.join(check(studio, project, dataset, 'a', 'v2', 65536, 2, 1))
    building = register_dataset(studio, rave_db, name='wip', status='building')
    assert 'not ready' in ' '.join(check(studio, project, building, 'a', 'v2_small', 65536, 2, 1))
    with pytest.raises(TrainingError, match='multiple of 512'):
        studio.training.start(project, tiny_spec(dataset, 'bad', n_signal=65000))


@pytest.mark.slow
def test_training_run_reports_every_step_and_registers_checkpoints(studio, rave_db: Path) -> None:
    project = studio.projects.current(None)
    dataset = register_dataset(studio, rave_db)
    run = studio.training.start(project, tiny_spec(dataset, 'tiny', max_steps=6, val_every=3))
    job = Job.get_by_id(run.job_id)
    assert job.command.startswith('rave train --config v2_small --db_path ')
    for flag in ('--channels 1', '--gpu -1', '--max_steps 6', f'--out_path {project.location}/runs'):
        assert flag in job.command

    wait_for(studio, lambda: studio.training.metrics(run).step >= 1, what='first step')
    state = studio.jobs.states[job.id]
    assert state.detail.startswith('step ') and '/ 6' in state.detail
    run = wait_for(studio, run_ended(studio, run.id), what='the run to finish')
    job = Job.get_by_id(run.job_id)
    assert job.status == 'done', job.message

    steps = [line['step'] for line in metric_lines(job) if 'loss' in line]
    assert steps == [1, 2, 3, 4, 5, 6]  # every step, not Lightning's every 50
    series = studio.training.metrics(run)
    assert len(series.values['loss']) == 6
    assert series.steps['val/validation'] and set(series.steps['val/validation']) <= {3, 6}
    assert run.status == 'done' and run.step == 6
    assert Path(run.folder).name.startswith('tiny_') and (Path(run.folder) / 'config.gin').exists()
    kinds = {c.kind for c in studio.training.checkpoints(run)}
    assert {'best', 'epoch'} <= kinds
    assert all(Path(c.path).exists() for c in studio.training.checkpoints(run))
    # a finished run's metrics are read from its file on demand by a fresh service
    from services.training.runs import TrainingService
    fresh = TrainingService(studio.jobs, studio.settings, studio.projects)
    assert fresh.metrics(run).steps['loss'] == [1, 2, 3, 4, 5, 6]


@pytest.mark.slow
def test_graceful_stop_saves_a_checkpoint_that_resumes(studio, rave_db: Path) -> None:
    project = studio.projects.current(None)
    dataset = register_dataset(studio, rave_db)
    run = studio.training.start(project, tiny_spec(dataset, 'stoppable', max_steps=1000, val_every=1000))
    wait_for(studio, lambda: studio.training.metrics(run).step >= 2, what='two steps')
    studio.training.stop(run)
    run = wait_for(studio, run_ended(studio, run.id), timeout=300, what='the graceful stop')
    job = Job.get_by_id(run.job_id)
    assert job.status == 'done' and job.exit_code == 0, job.message
    stopped_at = run.params['stopped_at']
    assert 2 <= stopped_at < 1000 and run.step == stopped_at
    stop = Checkpoint.get((Checkpoint.run == run) & (Checkpoint.kind == 'stop'))
    assert stop.step == stopped_at and Path(stop.path).name == f'stop-step={stopped_at}.ckpt'

    run = studio.training.resume(run, stop.path, max_steps=stopped_at + 2)
    resumed = Job.get_by_id(run.job_id)
    assert resumed.id != job.id and f'--ckpt {stop.path}' in resumed.command.replace("'", '')
    run = wait_for(studio, run_ended(studio, run.id), what='the resumed run')
    assert Job.get_by_id(resumed.id).status == 'done', Job.get_by_id(resumed.id).message
    steps = [line['step'] for line in metric_lines(resumed) if 'loss' in line]
    assert steps == [stopped_at + 1, stopped_at + 2]  # RAVE continued from the saved step
    assert run.step == stopped_at + 2
