"""Datasets on the cluster's file system: registered there by path, or preprocessed there as a SLURM job (the
one-node SLURM of tests/slurm_fixtures.py); shown in the library with their place and their copies; for runs on
the cluster only — a run on this machine is refused with a sentence."""
from __future__ import annotations

from pathlib import Path

import pytest
from nicegui.testing import User
from rave_fixtures import synth_audio
from slurm_fixtures import fake_slurm  # noqa: F401 (a fixture)
from waiting import build_finished, poll_until, until

from services.access import local
from services.cluster import CloudError
from services.cluster.settings import SLURM, ExecutorSettings
from services.files import PathRefused
from services.store import Dataset, Job
from services.training import RunSpec

ON_SLURM = ExecutorSettings(kind=SLURM, partition='debug', time='10')


def _rave_folder(folder: Path) -> Path:
    """An (empty) RAVE dataset folder: an LMDB and the metadata.yaml `rave preprocess` writes."""
    import lmdb
    folder.mkdir(parents=True)
    lmdb.open(str(folder), map_size=1 << 20).close()
    (folder / 'metadata.yaml').write_text('channels: 1\nlazy: false\nn_seconds: 36.0\nsr: 44100\n')
    return folder


def _refusals(studio, dataset_id: int, executor: ExecutorSettings | None) -> str:
    project = studio.projects.current(None)
    spec = RunSpec(dataset=dataset_id, name='try', base='v2_small', max_steps=10)
    return ' '.join(studio.training.validate(project, spec, None, executor.to_dict() if executor else None))


def test_a_dataset_registered_on_the_cluster_trains_there_only(studio) -> None:
    project = studio.projects.current(None)
    scratch = studio.data_dir / 'scratch'
    folder = _rave_folder(scratch / 'drums')
    cluster = studio.session(local(), None).cluster
    dataset_id = cluster.register_dataset(project.id, str(folder))
    view = studio.session(local(), None).datasets.get(dataset_id)
    assert view.name == 'drums' and view.ready and view.on_cluster and view.sr == 44100 and view.path == str(folder)
    assert 'lives on the cluster\'s file system' in _refusals(studio, dataset_id, None)
    assert 'cluster' not in _refusals(studio, dataset_id, ON_SLURM)
    with pytest.raises(CloudError, match='named drums already'):
        cluster.register_dataset(project.id, str(folder))
    (scratch / 'loose').mkdir()
    with pytest.raises(CloudError, match='not a RAVE dataset'):
        cluster.register_dataset(project.id, str(scratch / 'loose'))
    with pytest.raises(PathRefused):
        cluster.register_dataset(project.id, '/nowhere/allowed')


async def test_the_dataset_wizard_preprocesses_on_the_cluster_when_asked(fake_slurm, user: User) -> None:  # noqa: F811
    """The parameters step's switch (offered where SLURM's clients are): on, the build is a SLURM job with the
    project's SLURM options and the dataset lives on the cluster; the where line says so."""
    from nicegui import app
    studio = app.studio
    project = studio.projects.current(None)
    studio.session(local(), None).cluster.set_project_choice(project.id, ExecutorSettings(kind=SLURM, partition='cpu',
                                                                                        time='30'))
    fake_slurm.answer('sbatch', 'Submitted batch job 4343')
    synth_audio(studio.data_dir / 'takes', n_files=2, seconds=4.0)
    await user.open('/datasets')
    user.find(marker='new').click()
    user.find(marker='name').type('remote-takes')
    user.find(marker='next-name').click()
    user.find(marker='folder-path').type(str(studio.data_dir / 'takes'))
    user.find(marker='add-folder').click()
    await user.should_see('2 files · 8 s of audio', retries=100)
    user.find(marker='next-sources').click()
    switch = user.find(marker='preprocess-on-cluster').elements.pop()
    assert switch.value  # the project trains on the cluster: on by default
    await user.should_see('by a SLURM job, on the cluster\'s file system')
    switch.set_value(False)
    await until(lambda: 'by a SLURM job' not in user.find(marker='where').elements.pop().text,
                message='the where line still says SLURM')
    switch.set_value(True)
    user.find(marker='num_signal').elements.pop().set_value(16384)
    user.find(marker='next-params').click()
    await user.should_see('Worth knowing', retries=200)
    user.find(marker='start').click()
    await user.should_see('Building "remote-takes"', retries=100)
    dataset = Dataset.get(Dataset.name == 'remote-takes')
    assert dataset.params['location'] == 'cluster' and studio.session(local(), None).datasets.get(dataset.id).on_cluster
    job = Job.get_by_id(dataset.job_id)
    assert job.kind == 'preprocess' and job.spec['executor']['kind'] == SLURM
    assert job.spec['executor']['partition'] == 'cpu' and job.spec['executor']['gpus_per_node'] == 0
    poll_until(lambda: Job.get_by_id(job.id).spec.get('slurm_job_id') == '4343', 30, studio=studio,
               message=lambda: Job.get_by_id(job.id).message)  # handed to sbatch, not run on this machine
    assert fake_slurm.calls('sbatch') and not (Path(job.folder) / 'child.json').exists()


async def test_the_library_shows_where_a_dataset_lies_and_its_copies(user: User) -> None:
    from nicegui import app
    studio = app.studio
    project = studio.projects.current(None)
    folder = _rave_folder(studio.data_dir / 'scratch' / 'strings')
    studio.session(local(), None).cluster.register_dataset(project.id, str(folder))
    local_one = Dataset.create(project=project, name='voices', path=str(studio.data_dir / 'voices'), status='ready',
                               params={'copies': ['/scratch/me/voices']})
    failed = Job.create(project=project, kind='rsync', title='Copy voices', argv=[], status='failed',
                        message='rsync ended with code 23')
    local_one.params = {**local_one.params, 'copying': {'/scratch/other/voices': failed.id}}
    local_one.save()
    await user.open('/datasets')
    await user.should_see(f'on the cluster · {folder}')
    await user.should_see('copy on the cluster · /scratch/me/voices')
    await user.should_see('copy to /scratch/other/voices failed: copy again to resume')
    user.find(marker='register-cluster-dataset').click()
    await user.should_see('A dataset on the cluster')


@pytest.mark.slow
def test_a_dataset_preprocessed_as_a_slurm_job_lives_on_the_cluster(slurm, studio) -> None:
    from services.datasets import PreprocessSpec
    project = studio.projects.current(None)
    audio = studio.data_dir / 'scratch' / 'audio'
    synth_audio(audio, n_files=2, seconds=4.0)
    cluster = studio.session(local(), None).cluster
    cluster.save(ON_SLURM, 0.0)
    dataset_id = cluster.preprocess(project.id, PreprocessSpec(name='on-slurm', inputs=(str(audio),),
                                                               num_signal=65536))
    row = build_finished(studio, Dataset.get_by_id(dataset_id), timeout=300)
    job = Job.get_by_id(row.job_id)
    assert row.status == 'ready', studio.jobs.log_tail(job.id)
    assert row.n_examples and row.params['location'] == 'cluster'
    assert job.spec['executor']['kind'] == SLURM and job.spec['slurm_job_id']
    assert f'SLURM job {job.spec["slurm_job_id"]} on' in studio.jobs.log_tail(job.id)  # ran in the allocation
    assert studio.session(local(), None).datasets.get(dataset_id).on_cluster
    assert 'lives on the cluster\'s file system' in _refusals(studio, dataset_id, None)
