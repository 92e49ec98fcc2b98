"""A run's details (spec, operative config, command, machine, device time) and its deletion with safeguards."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from waiting import until

from services import access
from services.access import Actor, Forbidden, Role, local
from services.models.library import LastCheckpoint, LibraryError
from services.store import Checkpoint, Dataset, Export, Job, Run, RunAttempt
from services.training.spec import RunSpec
from services.training.views import DeviceTime


def make_run(studio, *, name: str = 'drums', devices=('cpu',), seconds: float | None = 7200.0,
             checkpoints: int = 2) -> Run:
    project = studio.projects.current(None)
    dataset, _ = Dataset.get_or_create(project=project, name='kicks',
                                       defaults={'path': '/tmp/kicks', 'status': 'ready', 'channels': 1})
    folder = studio.projects.folder(project, 'runs') / f'{name}_abc123'
    (folder / 'version_0' / 'checkpoints').mkdir(parents=True)
    (folder / 'config.gin').write_text('model.RAVE.latent_size = 16\nCAPACITY = 32\n')
    spec = RunSpec(dataset=dataset.id, name=name, description='tight kicks', devices=devices, max_steps=4)
    job_dir = studio.data_dir / 'jobs' / name
    job_dir.mkdir(parents=True)
    (job_dir / 'metrics.jsonl').write_text(json.dumps({'run_dir': str(folder / 'version_0'), 'step': 0,
                                                       'event': 'start', 'machine': {
                                                           'host': 'box', 'device': 'cpu', 'torch': '2.1.2',
                                                           'rave': '2.3.1'}}) + '\n')
    job = Job.create(project=project, kind='train', title=name, argv=[], folder=str(job_dir), status='done')
    run = Run.create(project=project, dataset=dataset, name=name, folder=str(folder), configs=list(spec.configs),
                     params={'spec': spec.to_dict()}, status='done', step=4, seconds=seconds, job=job)
    RunAttempt.create(run=run, number=1, job=job, status='done')
    for step in range(checkpoints):
        path = folder / 'version_0' / 'checkpoints' / f'epoch-epoch={step}.ckpt'
        path.write_bytes(b'x' * 1000)
        Checkpoint.create(run=run, path=str(path), step=step * 2, kind='best' if step == 0 else 'epoch')
    return run


def test_details_show_spec_config_command_and_machine(studio) -> None:
    run = make_run(studio)
    details = studio.session(local(), None).experiments.details(run.id)
    assert details.spec.description == 'tight kicks' and details.dataset_name == 'kicks'
    assert 'CAPACITY = 32' in details.config_gin
    assert details.command.startswith('rave train') and '--name drums' in details.command
    assert (details.machine.host, details.machine.torch, details.machine.recorded) == ('box', '2.1.2', True)
    assert details.device_time == DeviceTime(2.0, 'CPU') and details.device_time.label == '2 CPU-h'
    assert details.best_checkpoint.endswith('epoch=0.ckpt')


def test_machine_not_recorded_says_so(studio) -> None:
    run = make_run(studio)
    (Path(run.job.folder) / 'metrics.jsonl').write_text('{"step": 1, "loss": 1.0}\n')
    machine = studio.session(local(), None).experiments.details(run.id).machine
    assert not machine.recorded and machine.device == 'cpu'


def test_gpu_hours_are_device_time_times_devices(studio) -> None:
    make_run(studio, name='one', devices=('gpu:0', 'gpu:1'), seconds=3600.0)
    make_run(studio, name='two', seconds=1800.0)
    experiments = studio.session(local(), None).experiments
    project = studio.projects.current(None)
    rows = {r.name: r for r in experiments.table(project.id).rows}
    assert rows['one'].device_time == DeviceTime(2.0, 'GPU') and rows['two'].device_time == DeviceTime(0.5, 'CPU')
    assert experiments.device_time(project.id) == (DeviceTime(2.0, 'GPU'), DeviceTime(0.5, 'CPU'))


def test_delete_names_what_goes_and_asks_for_the_name(studio) -> None:
    run = make_run(studio)
    Export.create(project=run.project, run=run, path=str(studio.data_dir / 'drums.ts'), status='done')
    models = studio.session(local(), None).models
    plan = models.deletion(run.id)
    assert (plan.checkpoints, plan.exports, plan.attempts, plan.folder_bytes > 2000) == (2, 1, 1, True)
    assert plan.rows() == 'the run, 2 checkpoint row(s), 1 attempt(s) and 1 export row(s)'
    with pytest.raises(LibraryError, match='Type the run'):
        models.delete_run(run.id, confirm='drum')
    models.delete_run(run.id, confirm='drums')  # without files: the folder stays
    assert Run.get_or_none(Run.id == run.id) is None and not Checkpoint.select().count() and not Export.select().count()
    assert (studio.projects.folder(run.project, 'runs') / 'drums_abc123' / 'config.gin').exists()


def test_delete_with_files_removes_the_run_folder(studio) -> None:
    run = make_run(studio)
    folder = run.folder
    studio.session(local(), None).models.delete_run(run.id, confirm='drums', files=True)
    assert not Path(folder).exists()


def test_delete_refuses_a_training_run_and_a_reader(studio) -> None:
    run = make_run(studio)
    Run.update(status='running').where(Run.id == run.id).execute()
    with pytest.raises(LibraryError, match='stop it'):
        studio.session(local(), None).models.delete_run(run.id, confirm='drums')
    Run.update(status='done').where(Run.id == run.id).execute()
    access.set_project_roles(lambda actor, project_id: Role.READ)  # a reader may not delete
    try:
        with pytest.raises(Forbidden):
            studio.session(Actor('guest', shared=True, user_id=99), None).models.delete_run(run.id, confirm='drums')
    finally:
        access.set_project_roles(lambda actor, project_id: Role.EDIT)
    assert Run.get_or_none(Run.id == run.id) is not None


def test_the_last_checkpoint_never_goes_silently(studio) -> None:
    run = make_run(studio)
    models = studio.session(local(), None).models
    first, second = [c.path for c in Checkpoint.select().order_by(Checkpoint.step)]
    models.delete_checkpoint(run.id, first)
    assert not Path(first).exists()
    with pytest.raises(LastCheckpoint, match='last checkpoint'):
        models.delete_checkpoint(run.id, second)
    assert Path(second).exists()
    models.delete_checkpoint(run.id, second, last_confirmed=True)
    assert not Checkpoint.select().count()


async def test_details_tab_and_delete_dialog(user) -> None:
    from nicegui import app
    run = make_run(app.studio)
    await user.open(f'/training/runs/{run.id}')
    user.find(marker='tab-details').click()
    await user.should_see(marker='details-spec')
    await user.should_see('2 CPU-h')
    await user.should_see('box')
    await user.should_see(marker='details-dataset')
    user.find(marker='delete-run').click()
    await user.should_see(marker='delete-run-dialog')
    await user.should_see('the run, 2 checkpoint row(s), 1 attempt(s) and 0 export row(s)')
    user.find(marker='delete-confirm').type('drums')
    user.find(marker='delete-yes').click()
    await until(lambda: Run.get_or_none(Run.id == run.id) is None)
    assert Path(run.folder).exists()
