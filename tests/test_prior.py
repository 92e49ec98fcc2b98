"""The prior of a trained run, with RAVE's own train_prior and the gin the studio writes: trained on the CPU as a
job, listed with its checkpoints, resumed from its last checkpoint to more steps."""
from __future__ import annotations

from pathlib import Path

import pytest
from rave_fixtures import register_dataset
from waiting import job_finished

from services.access import local
from services.models.play import PlayError
from services.models.prior import prior_gin
from services.store import Run
from services.training.checkpoints import read_info


def test_the_studio_gin_binds_the_rate_and_the_fidelity() -> None:
    gin = prior_gin(48000, 0.9)
    assert 'VariationalPrior.sr = 48000' in gin and 'VariationalPrior.fidelity = 0.9' in gin
    assert 'get_model_sr' not in gin and 'latent_size' not in gin  # what breaks RAVE's own prior_v1.gin
    with pytest.raises(ValueError, match='fidelity is above 0 and below 1'):
        prior_gin(44100, 1.5)


@pytest.mark.slow
def test_a_prior_trains_lists_its_checkpoints_and_resumes(studio, rave_db: Path, rave_run: Path) -> None:
    dataset = register_dataset(studio, rave_db)
    project = studio.projects.current(None)
    run = Run.create(project=project, dataset=dataset, name='tiny', folder=str(rave_run), status='done')
    play = studio.session(local(), None).play
    with pytest.raises(PlayError, match='letters, digits'):
        play.train_prior(project.id, run.id, 'a prior!')
    # RAVE writes a prior's checkpoints at its validations (each one generates audio: minutes on a CPU)
    job_id = play.train_prior(project.id, run.id, 'tp', max_steps=2, val_every=2, batch=2)
    job = job_finished(studio, job_id, 900)
    assert job.status == 'done', studio.jobs.log_tail(job_id, 4000)
    [prior] = play.priors(project.id, run.id)
    assert prior.name == 'tp' and prior.folder.parent == Path(project.location) / 'priors'
    assert {p.stem for p in prior.checkpoints} >= {'last'} and (prior.folder / 'config.gin').is_file()
    first = max(read_info(p).step for p in prior.checkpoints)
    assert first == 2
    again = play.train_prior(project.id, run.id, '', resume='tp', max_steps=4, val_every=2, batch=2)
    job = job_finished(studio, again, 900)
    assert job.status == 'done', studio.jobs.log_tail(again, 4000)
    [resumed] = play.priors(project.id, run.id)
    assert resumed.folder == prior.folder  # the same prior, gone on: its last checkpoint holds the new steps
    assert max(read_info(p).step for p in resumed.checkpoints) == 4
    with pytest.raises(PlayError, match='no checkpoint yet'):
        play.train_prior(project.id, run.id, '', resume='other')
