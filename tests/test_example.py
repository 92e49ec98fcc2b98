"""The "try it" example: a project from audio the studio synthesises, moved on stage by stage (dataset → a short
v2_small run → an export) until the Explorer can play it — on a CPU, in minutes, with no download."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import soundfile as sf
from nicegui import app
from nicegui.testing import User
from waiting import wait_for

from services.access import Actor, Forbidden, local
from services.example import EXAMPLE_MARKER, NUM_SIGNAL, SECONDS, SR, TRAINING, synthesise
from services.store import Dataset, Export, Run
from services.training.runs import spec_of


def test_synthesised_takes_are_real_audio_the_doctor_accepts(studio, data_dir: Path, tmp_path: Path) -> None:
    paths = synthesise(data_dir / 'takes')
    assert [round(sf.info(p).duration) for p in paths] == [round(s) for s in SECONDS]
    assert {sf.info(p).samplerate for p in paths} == {SR}
    assert synthesise(tmp_path / 'again')[0].read_bytes() == paths[0].read_bytes()  # the same every time
    from services.datasets import PreprocessSpec
    project = studio.projects.current(None)
    datasets = studio.session(local(), None).datasets
    findings = datasets.doctor(project.id, PreprocessSpec('takes', (str(data_dir / 'takes'),),
                                                          num_signal=NUM_SIGNAL))
    assert not [f for f in findings if f.severity == 'blocker']
    assert not any(words in f.text for f in findings for words in ('silent', 'clipped', 'DC offset', 'NaN'))
    examples = sum(int(s // (2 * NUM_SIGNAL / SR)) for s in SECONDS)
    assert examples >= 11  # v2_small's latent analysis needs val·n_signal/512 ≥ 128 with one validation example


def test_starting_the_example_makes_a_project_and_queues_its_dataset(studio) -> None:
    example = studio.session(local(), None).example
    project_id = example.start()
    view = example.view(project_id)
    assert view.stage == 'dataset' and view.number == 1 and view.dataset_id is not None
    project = studio.projects.get(project_id)
    assert (Path(project.location) / EXAMPLE_MARKER).is_file()
    assert Dataset.get_by_id(view.dataset_id).status == 'building'
    assert example.start() != project_id  # a second example is a second project
    studio.jobs.shutdown_children()
    for dataset in Dataset.select():
        studio.datasets.cancel(dataset)


def test_a_reader_may_not_start_an_example(studio) -> None:
    from services import access
    from services.access import Role
    access.set_project_roles(lambda actor, project_id: Role.READ)
    try:
        with pytest.raises(Forbidden):
            studio.session(Actor('guest', shared=True), None).example.start()
    finally:
        access.set_project_roles(lambda actor, project_id: Role.EDIT)


@pytest.mark.slow
def test_the_example_reaches_a_playable_model_on_the_cpu(studio) -> None:
    started = time.monotonic()
    example = studio.session(local(), None).example
    project_id = example.start()
    stages = {}

    def reached(stage: str):
        def check():
            view = example.view(project_id)
            assert view.stage != 'failed', view.message
            if view.stage == stage:
                stages.setdefault(stage, round(time.monotonic() - started))
                return view
        return check

    wait_for(studio, reached('training'), 300, 'the example dataset')
    wait_for(studio, reached('export'), 1500, 'the example run')
    view = wait_for(studio, reached('ready'), 600, 'the example export')
    run = Run.get_by_id(view.run_id)
    assert run.step >= TRAINING.max_steps and spec_of(run).devices == ('cpu',)
    export = Export.get_by_id(view.export_id)
    assert Path(export.path).is_file() and not export.streaming
    print(f'example stages reached after (s): {stages}')
    models = studio.session(local(), None).models
    rec = models.reconstruct(project_id, export.id, str(next(Path(Dataset.get_by_id(view.dataset_id).sources[0])
                                                             .glob('*.wav'))))
    done = wait_for(studio, lambda: (r := models.reconstruction(rec)) and not r.active and r, 300, 'the explorer')
    assert done.result is not None, done.message  # the Explorer plays it


async def test_the_dashboard_follows_the_example(user: User) -> None:
    await user.open('/')
    user.find(marker='start-example').click()
    await user.should_see(marker='example', retries=100)
    await user.should_see('Step 1 of 3')
    assert [p.name for p in app.studio.projects.all() if app.studio.example.is_example(p)] == ['Try RAVE']
    app.studio.jobs.shutdown_children()
    for dataset in Dataset.select():
        app.studio.datasets.cancel(dataset)
