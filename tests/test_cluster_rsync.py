"""A dataset copied to the cluster's file system with rsync, as a job: progress, resume from what a cut copy
left, renamed into place only when whole, and the copy's location kept with the dataset."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from waiting import poll_until

from services.access import local
from services.cluster import CloudError
from services.files import PathRefused
from services.store import Dataset, Job


def _finished(studio, job_id: int) -> Job:
    return poll_until(lambda: (j := Job.get_by_id(job_id)).status in ('done', 'failed') and j, 60, studio=studio,
                      message=lambda: studio.jobs.log_tail(job_id))


def test_a_dataset_is_copied_whole_with_progress_and_resumes(studio) -> None:
    project = studio.projects.current(None)
    source = Path(project.location) / 'datasets' / 'tones'
    source.mkdir(parents=True)
    (source / 'data.mdb').write_bytes(os.urandom(4 * 1024 * 1024))
    (source / 'metadata.yaml').write_text('channels: 1\n')
    dataset = Dataset.create(project=project, name='tones', path=str(source), status='ready')
    cluster_fs = studio.data_dir / 'cluster-scratch'
    cluster_fs.mkdir()
    target = cluster_fs / 'tones'
    # a copy cut midway left part of the big file in tones.partial: the next copy goes on from it
    (cluster_fs / 'tones.partial').mkdir()
    (cluster_fs / 'tones.partial' / 'data.mdb').write_bytes((source / 'data.mdb').read_bytes()[:1024 * 1024])
    cluster = studio.session(local(), None).cluster
    job = _finished(studio, cluster.copy_dataset(dataset.id, str(cluster_fs)))
    assert job.status == 'done', studio.jobs.log_tail(job.id)
    assert studio.jobs.track(job).progress == 1.0
    assert (target / 'data.mdb').read_bytes() == (source / 'data.mdb').read_bytes()
    assert not (cluster_fs / 'tones.partial').exists()
    assert Dataset.get_by_id(dataset.id).params['copies'] == [str(target)]
    with pytest.raises(CloudError, match='exists already'):
        cluster.copy_dataset(dataset.id, str(cluster_fs))
    with pytest.raises(PathRefused, match='outside the folders'):
        cluster.copy_dataset(dataset.id, '/nowhere/allowed')

    # a copy that fails leaves no folder that looks whole
    gone = Dataset.create(project=project, name='gone', path=str(studio.data_dir / 'missing'), status='ready')
    failed = _finished(studio, cluster.copy_dataset(gone.id, str(cluster_fs)))
    assert failed.status == 'failed' and not (cluster_fs / 'missing').exists()
