"""Sweeps: what a sweep is and how it is checked (fast), and a real tiny sweep on CPU — four trials of four
steps, one pruned because it diverged, the studio restarted mid-sweep, the best trial reported."""
from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
from rave_fixtures import register_dataset, tiny_spec
from waiting import wait_for

from services import access
from services.access import Actor, Forbidden, local
from services.events import Bus
from services.store import Job, Run, Sweep, SweepTrial
from services.training.spec import RunSpec
from services.training.sweeps import Budget, Objective, Param, SweepError, SweepSpec, choices_of

GUEST = Actor('guest', admin=False, shared=True)
DIVERGING_LR = 0.9  # two Adam steps at this rate take v2_small's validation from ~30 to ~1 100 (measured)


def sweeps(studio, actor: Actor | None = None):
    return studio.session(actor or local(), Bus()).sweeps


def spec_of(**changes) -> SweepSpec:
    values = {'name': 'lr', 'base': RunSpec(max_steps=4, val_every=2, n_signal=65536, batch=2),
              'params': (Param('lr', 'choice', choices=(1e-6, DIVERGING_LR, 2e-6, 3e-6)),), 'method': 'grid',
              'pruner': 'threshold', 'threshold': 100.0, 'budget': Budget(trials=4)}
    return SweepSpec(**{**values, **changes})


def test_bad_sweeps_are_refused_with_sentences() -> None:
    assert spec_of().errors() == []
    assert 'Give the sweep a name.' in spec_of(name=' ').errors()
    assert any('letters, digits' in e for e in spec_of(name='a b').errors())
    assert 'Choose at least one parameter to vary.' in spec_of(params=()).errors()
    ranged = (Param('lr', 'float', 1e-5, 1e-2, log=True),)
    assert any('A grid needs a list of choices' in e for e in spec_of(params=ranged).errors())
    assert spec_of(params=ranged, method='tpe').errors() == []
    assert any('lowest value must be below' in e for e in spec_of(params=(Param('lr', 'float', 1, 0.1),),
                                                                 method='random').errors())
    assert any('log scale needs' in e for e in spec_of(params=(Param('lr', 'float', 0, 1, log=True),),
                                                       method='random').errors())
    assert any('Batch is a whole number' in e for e in spec_of(params=(Param('batch', 'float', 1, 4),),
                                                               method='random').errors())
    assert any('at least two choices' in e for e in spec_of(params=(Param('lr', 'choice', choices=(1e-3,)),))
               .errors())
    assert any('neither a training choice' in e for e in spec_of(params=(Param('os.system', 'choice',
                                                                               choices=(1, 2)),)).errors())
    assert any('needs a limit' in e for e in spec_of(threshold=None).errors())
    assert any('past the trials\' max steps' in e
               for e in spec_of(objective=Objective(mode='at', step=10)).errors())
    assert any('at least one trial' in e for e in spec_of(budget=Budget(trials=0)).errors())


def test_a_sweep_is_stored_whole_and_its_grid_runs_in_the_listed_order() -> None:
    spec = spec_of(params=(Param('CAPACITY', 'choice', choices=(4, 8)), Param('lr', 'choice', choices=(1e-4, 1e-3))),
                   objective=Objective(mode='at', step=4, direction='minimize'), budget=Budget(3, 1.5, 2))
    assert SweepSpec.from_dict(spec.to_dict()) == spec
    assert spec.grid() == [{'CAPACITY': 4, 'lr': 1e-4}, {'CAPACITY': 4, 'lr': 1e-3},
                           {'CAPACITY': 8, 'lr': 1e-4}, {'CAPACITY': 8, 'lr': 1e-3}]
    assert spec.trials == 3  # the budget is smaller than the grid
    run = spec.trial_spec(2, {'CAPACITY': 8, 'lr': 1e-4})
    assert (run.name, run.lr, dict(run.macros)) == ('lr-t2', 1e-4, {'CAPACITY': 8})
    assert choices_of('RATIOS', '[4, 2, 2, 2], [4, 4, 2]') == ('[4, 2, 2, 2]', '[4, 4, 2]')
    assert choices_of('lr', '1e-4, 0.001') == (1e-4, 0.001)
    assert choices_of('base', 'v2_small, v2') == ('v2_small', 'v2')


def test_objective_is_the_best_value_or_the_value_at_a_step() -> None:
    steps, values = [2, 4, 6], [3.0, 1.0, 2.0]
    assert Objective().of(steps, values) == 1.0
    assert Objective(direction='maximize').of(steps, values) == 3.0
    assert Objective(mode='at', step=5).of(steps, values) == 1.0
    assert Objective().of([2], [float('nan')]) is None


def test_a_sweep_needs_the_right_to_run_and_a_valid_base(studio, monkeypatch: pytest.MonkeyPatch) -> None:
    project = studio.projects.current(None)
    monkeypatch.setattr(access, '_project_roles', lambda actor, project_id: access.Role.READ)
    with pytest.raises(Forbidden):
        sweeps(studio, GUEST).create(project.id, spec_of())
    monkeypatch.undo()
    with pytest.raises(SweepError, match='Choose a dataset'):
        sweeps(studio).create(project.id, spec_of())
    with pytest.raises(SweepError, match='A grid needs'):
        sweeps(studio).create(project.id, spec_of(params=(Param('lr', 'float', 1e-5, 1e-2),)))
    assert not Sweep.select().count() and not Run.select().count()  # nothing half made


@pytest.mark.slow
def test_a_tiny_sweep_prunes_a_diverging_trial_survives_a_restart_and_reports_the_best(
        data_dir: Path, rave_db: Path) -> None:
    from app.studio import Studio
    studio = Studio(data_dir)
    studio.start()
    project = studio.projects.current(None)
    dataset = register_dataset(studio, rave_db)
    base = tiny_spec(dataset, '', max_steps=4, val_every=2)
    made = sweeps(studio).create(project.id, spec_of(base=base))
    assert made.status == 'running' and len(made.trials) == 1  # one at a time
    assert Path(Sweep.get_by_id(made.id).study).parent == Path(project.location) / 'sweeps'

    def trial(number: int) -> SweepTrial | None:
        return SweepTrial.get_or_none((SweepTrial.sweep == made.id) & (SweepTrial.number == number))

    # the diverging trial is pruned at its first validation and stopped there, with a checkpoint
    wait_for(studio, lambda: trial(1) is not None and trial(1).status != 'running', timeout=900,
             what='the second trial to be judged')
    assert trial(0).status == 'complete' and trial(0).value < 100
    assert trial(1).status == 'pruned' and trial(1).step == 2 and trial(1).value > 100
    assert trial(1).params == {'lr': DIVERGING_LR}

    # the studio goes away while the third trial trains, and comes back after it finished
    wait_for(studio, lambda: trial(2) is not None and trial(2).run.status == 'running', timeout=900,
             what='the third trial to start')
    job = Job.get_by_id(trial(2).run.job_id)
    studio.shutdown()
    del studio
    _wait_gone(job.pid, 900)
    studio = Studio(data_dir)
    studio.start()
    assert trial(2).status == 'complete'  # told from its files at start-up

    view = wait_for(studio, lambda: (v := sweeps(studio).sweep(made.id)).status != 'running' and v,
                    timeout=900, what='the sweep to finish')
    assert view.status == 'done', view.message
    assert [t.status for t in view.trials] == ['complete', 'pruned', 'complete', 'complete']
    assert all(Run.get_by_id(t.run_id).status == 'done' for t in view.trials)
    study = studio.sweeps.study(Sweep.get_by_id(made.id))
    assert [t.state.name for t in study.trials] == ['COMPLETE', 'PRUNED', 'COMPLETE', 'COMPLETE']
    best = min((t for t in view.trials if t.status == 'complete'), key=lambda t: t.value)
    assert view.best == best and study.best_trial.number == best.number
    model = sweeps(studio).best(made.id)
    assert model is not None and Path(model.checkpoint).is_file() and model.trial == best
    assert model.export_url == f'/export?run={best.run_id}&checkpoint={quote(str(model.checkpoint))}'
    figures = sweeps(studio).figures(made.id)
    assert figures.numbers == (0, 1, 2, 3) and figures.statuses[1] == 'pruned'
    assert 'Learning rate' in sweeps(studio).importance(made.id)
    assert 'start-up each (measured on 4 finished runs of this project)' in \
        sweeps(studio).estimate(project.id, spec_of(base=base))


def _wait_gone(pid: int | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while pid and psutil.pid_exists(pid) and time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.3)
