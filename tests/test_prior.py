"""The prior of a trained run, with RAVE's own train_prior and the gin the studio writes, as an ordinary run: trained
on the CPU as a job, its metrics read as a run's, stopped with a checkpoint, resumed from it (the steps go on),
listed with its checkpoints and the audio its validations generated; then tested: the model exported with one of
its checkpoints, generation with the prior through the model server."""
from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
from prior_fixtures import TINY_STUDIO_GIN, small_fidelity
from rave_fixtures import register_dataset
from waiting import job_finished, wait_for

from services.access import local
from services.models import prior as prior_module
from services.models.play import GenerateSettings, PlayError
from services.models.prior import export_plan, exported_with, prior_gin
from services.store import Run
from services.training import checkpoints as indexer
from services.training.checkpoints import read_info


def test_the_studio_gin_binds_the_rate_and_the_fidelity() -> None:
    gin = prior_gin(48000, 0.9)
    assert 'VariationalPrior.sr = 48000' in gin and 'VariationalPrior.fidelity = 0.9' in gin
    assert 'get_model_sr' not in gin and 'latent_size' not in gin  # what breaks RAVE's own prior_v1.gin
    with pytest.raises(ValueError, match='fidelity is above 0 and below 1'):
        prior_gin(44100, 1.5)


def test_a_latent_the_network_cannot_group_is_refused_before_rave_builds_it(tmp_path: Path) -> None:
    from services.workers.train_prior import network_refusal
    gin = tmp_path / 'tiny.gin'
    gin.write_text(TINY_STUDIO_GIN.format(sr=44100, fidelity=0.95))  # res_size 64, skp_size 32
    assert network_refusal(gin, 16, 0.95) == '' and network_refusal(gin, 3, 0.95) == ''
    why = network_refusal(gin, 33, 0.95)  # rounded up to 64: the 32 skip channels cannot be grouped by it
    assert 'keeps 33 latent dimensions' in why and 'skp_size is 32, not a multiple of 64' in why
    assert 'Lower the fidelity' in why
    gin.write_text(prior_gin(44100, 0.95))  # the studio's own network (512/256) holds up to 256
    assert network_refusal(gin, 200, 0.95) == '' and 'skp_size is 256' in network_refusal(gin, 300, 0.95)


@pytest.mark.slow
def test_a_prior_trains_stops_with_a_checkpoint_resumes_and_plays_in_an_export(studio, rave_db: Path, rave_run: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prior_module, 'GIN', TINY_STUDIO_GIN)  # the studio's gin, a tiny network
    dataset = register_dataset(studio, rave_db)
    project = studio.projects.current(None)
    run = Run.create(project=project, dataset=dataset, name='tiny', folder=str(rave_run), status='done')
    play = studio.session(local(), None).play
    with pytest.raises(PlayError, match='letters, digits'):
        play.train_prior(project.id, run.id, 'a prior!')
    with pytest.raises(PlayError, match='GPU'):
        play.train_prior(project.id, run.id, 'tp', device='gpu:7')
    # no validation before the stop (each generates audio: ~15 s on a loaded CPU even for the tiny prior); the
    # whole example (65536 samples), as the session's prior fixture explains
    # at a fidelity the tiny run's curve turns into a few dimensions (the fixture's small_fidelity explains)
    fidelity = small_fidelity(prior_module._newest_checkpoint(run))
    job_id = play.train_prior(project.id, run.id, 'tp', max_steps=400, val_every=1000, batch=2, n_signal=65536,
                              fidelity=fidelity)
    wait_for(studio, lambda: play.prior_metrics(play.prior(project.id, run.id, 'tp')).step >= 2, 600,
             'the prior\'s second step')
    play.stop_prior(play.prior(project.id, run.id, 'tp'))
    job = job_finished(studio, job_id, 300)
    assert job.status == 'done', studio.jobs.log_tail(job_id, 4000)
    [prior] = play.priors(project.id, run.id)
    assert prior.name == 'tp' and prior.folder.parent == Path(project.location) / 'priors'
    assert (prior.folder / 'config.gin').is_file()
    [stopped] = prior.steps()  # the stop checkpoint, the only one: RAVE writes its own at validations
    first = stopped.step
    assert stopped.kind == 'stop' and first >= 2 and stopped.path.name == f'stop-step={first}.ckpt'
    series = play.prior_metrics(prior)
    assert series.step == first and list(series.traces['latent_prediction'].steps) == list(range(1, first + 1))
    with pytest.raises(PlayError, match='already'):
        play.train_prior(project.id, run.id, 'tp')
    with pytest.raises(PlayError, match='set the steps above it'):
        play.train_prior(project.id, run.id, '', resume='tp', max_steps=first)

    # one step more, validating every step (RAVE's best.ckpt and last.ckpt, the generated audio)
    again = play.train_prior(project.id, run.id, '', resume='tp', max_steps=first + 1, val_every=1, batch=2)
    job = job_finished(studio, again, 600)
    assert job.status == 'done', studio.jobs.log_tail(again, 4000)
    [resumed] = play.priors(project.id, run.id)
    assert resumed.folder == prior.folder and resumed.jobs == (job_id, again)  # the same prior, gone on
    assert {c.kind for c in resumed.steps()} >= {'last', 'best', 'stop'}
    assert max(read_info(p).step for p in resumed.checkpoints) == first + 1
    series = play.prior_metrics(resumed)  # both trainings, one series: the steps continue from the stop
    assert list(series.traces['latent_prediction'].steps) == list(range(1, first + 2))
    # the stop came between a step and its validation: Lightning runs that one first when it resumes
    assert list(series.traces['val/validation'].steps) == [first, first + 1]
    generation, _ = play.prior_generations(resumed)
    assert generation.step == first + 1 and generation.envelope['max']
    audio, sr = sf.read(generation.path)
    assert sr == 44100 and audio.size and abs(audio).max() > 0
    with pytest.raises(PlayError, match='no checkpoint yet'):
        play.train_prior(project.id, run.id, '', resume='other')

    # testing it: the model exported with its last checkpoint (RAVE + prior in one .ts, an export job), then
    # generation with the prior at a temperature and a seed through the model server
    indexer.index(run)
    last = next(c for c in resumed.steps() if c.kind == 'last')
    name, options = export_plan(resumed, run.name, last)
    models = studio.session(local(), None).models
    assert [Path(p).name for p in models.choices(project.id, run.id, resumed.model).priors] == [prior.folder.name]
    started = models.start_export(project.id, run.id, resumed.model, name=name, options=options)
    export = wait_for(studio, lambda: (e := models.export(started.id)).status != 'running' and e, 600,
                      'the export with the prior')
    assert export.status == 'done' and export.facts.prior, export.message
    assert exported_with(resumed, export.option)
    play.models(project.id)
    settings = GenerateSettings(seed=3, temperature=0.8, duration_s=1.0, spread='prior')
    render = play.generate(project.id, export.path, settings)
    audio, sr = sf.read(render.path)
    assert audio.size and float(abs(audio).max()) > 1e-4
