"""The studio's overhead per sweep trial against the trial's wall time, on real RAVE (v2_small on CPU).

    python bench/bench_sweeps.py [--trials 3] [--steps 100] [--val-every 25] [--db PATH]

A studio on a fresh data folder runs a sweep of TRIALS trials of STEPS steps (random learning rates, median
pruning off so every trial trains to its end), polled every 0.5 s as the UI's timer does. Measured per trial:
- the controller's own time: every call into the sweep engine (ask + start, each report/prune check, tell),
  timed inside the process;
- the gap the studio leaves between two trials: the previous trial's job end (its result.json written) until
  this trial's job was submitted and spawned (the poll interval, the tell, the ask, the spawn) — what a sweep
  adds to the sum of its trainings;
- the trial's wall time: its submission until its result.json (RAVE's process start-up included).
Aim: (controller time + gap) ≤ 2 % of a trial's wall time at 100 steps. Without --db it synthesises audio and
runs `rave preprocess` first (about half a minute).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / 'tests')]

POLL_S = 0.5  # app/main.py's timer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--trials', type=int, default=3)
    parser.add_argument('--steps', type=int, default=100)
    parser.add_argument('--val-every', type=int, default=25)
    parser.add_argument('--db', type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix='bench-sweeps-'))
    print(json.dumps(measure(work, args.db or dataset(work), args.trials, args.steps, args.val_every), indent=2))


def dataset(work: Path) -> Path:
    from rave_fixtures import run_cli, synth_audio
    synth_audio(work / 'audio', n_files=3, seconds=12.0)
    run_cli(['preprocess', '--input_path', str(work / 'audio'), '--output_path', str(work / 'db'),
             '--num_signal', '65536', '--channels', '1', '--sampling_rate', '44100'], work)
    return work / 'db'


def measure(work: Path, db: Path, trials: int, steps: int, val_every: int) -> dict:
    from rave_fixtures import register_dataset, tiny_spec

    from app.studio import Studio
    from services.access import local
    from services.store import Job, SweepTrial
    from services.training.sweeps import Budget, Param, SweepSpec
    from services.training.sweeps import controller as engine

    spent = _time_engine(engine.SweepService)
    studio = Studio(work / 'data')
    studio.start()
    submitted: dict[str, float] = {}  # run name -> when its job was submitted (and spawned, the device free)
    start = studio.training.start

    def timed_start(*args, **kwargs):
        run = start(*args, **kwargs)
        submitted[run.name] = time.time()
        return run
    studio.training.start = timed_start
    project = studio.projects.current(None)
    data = register_dataset(studio, db)
    spec = SweepSpec('bench', tiny_spec(data, '', max_steps=steps, val_every=val_every),
                     (Param('lr', 'float', 1e-5, 1e-2, log=True),), method='random', budget=Budget(trials=trials))
    sweeps = studio.session(local(), None).sweeps
    started = time.perf_counter()
    made = sweeps.create(project.id, spec)
    while sweeps.sweep(made.id).status == 'running':
        studio.poll()
        time.sleep(POLL_S)
    total = time.perf_counter() - started
    runs = [t.run for t in SweepTrial.select().where(SweepTrial.sweep == made.id).order_by(SweepTrial.number)]
    ended = [(Path(Job.get_by_id(r.job_id).folder) / 'result.json').stat().st_mtime for r in runs]
    began = [submitted[r.name] for r in runs]
    walls = [e - b for b, e in zip(began, ended)]
    gaps = [b - e for e, b in zip(ended, began[1:])]
    controller = sum(spent.values()) / trials
    overhead = controller + (statistics.mean(gaps) if gaps else 0.0)
    studio.shutdown()
    return {'trials': trials, 'steps': steps, 'sweep_s': round(total, 1),
            'trial_wall_s': [round(w, 1) for w in walls], 'gap_between_trials_s': [round(g, 2) for g in gaps],
            'controller_s_per_trial': round(controller, 4),
            'controller_s_by_call': {k: round(v, 4) for k, v in spent.items()},
            'overhead_percent_of_trial': round(100 * overhead / statistics.mean(walls), 2),
            'aim_percent': 2.0}


def _time_engine(cls) -> dict[str, float]:
    """Wrap the engine's entry points to add up the time spent in them (the studio's own per-trial work)."""
    spent: dict[str, float] = {}
    depth = [0]  # on_event calls fill: count the outermost call only
    for name in ('create', 'on_event', 'fill'):
        original = getattr(cls, name)

        def timed(self, *args, _original=original, _name=name, **kwargs):
            depth[0] += 1
            t0 = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                depth[0] -= 1
                if not depth[0]:
                    spent[_name] = spent.get(_name, 0.0) + time.perf_counter() - t0
        setattr(cls, name, timed)
    return spent


if __name__ == '__main__':
    main()
