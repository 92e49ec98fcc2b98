"""Training worker: RAVE's own `rave train` entry point with the studio's Lightning callbacks added.

    RAVE_STUDIO_JOB_DIR=JOB python -m services.workers.train <the flags of `rave train`>

It imports RAVE's `scripts.train`, wraps `pytorch_lightning.Trainer.__init__` so every trainer RAVE builds
also gets `StudioCallback`, and runs RAVE's `main` through absl exactly as `rave train` does. The callback
- appends one JSON line per training step to JOB/metrics.jsonl: {step, max_steps, epoch, t, loss, <scalars>},
  then one line per validation and a {run_dir} line once Lightning knows the run's version folder;
- watches JOB/control.json: on {"stop": true} it saves `stop-step=<N>.ckpt` in the run's checkpoints folder
  (resumable with `rave train --ckpt`) and ends training cleanly, so the process exits 0.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import pytorch_lightning as pl

# the generator's loss terms RAVE logs (rave/model.py training_step); their sum is shown as "loss"
LOSS_TERMS = ('multiband_', 'fullband_', 'regularization', 'feature_matching', 'adversarial')
VALIDATION_TERMS = ('validation', 'fidelity')


class StudioCallback(pl.Callback):
    """Per-step metrics and a graceful stop, for the studio's job engine."""

    def __init__(self, job_dir: Path) -> None:
        self.job_dir = job_dir
        self.metrics = open(job_dir / 'metrics.jsonl', 'a', buffering=1)  # noqa: SIM115 - open for the whole run
        self.control = job_dir / 'control.json'
        self._control_mtime = 0.0
        self.run_dir = ''

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.run_dir = str(Path(trainer.logger.log_dir).resolve()) if trainer.logger else ''
        self._write({'run_dir': self.run_dir, 'step': trainer.global_step, 'max_steps': trainer.max_steps,
                     'event': 'start'})

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs, batch,
                           batch_idx: int) -> None:
        scalars = _scalars(trainer.callback_metrics)
        scalars.update(_scalars(outputs if isinstance(outputs, dict) else {}))
        for key in [k for k in scalars if k.startswith(VALIDATION_TERMS)]:
            del scalars[key]  # reported once, when a validation ends
        losses = [v for k, v in scalars.items() if k.startswith(LOSS_TERMS)]
        if losses:
            scalars['loss'] = sum(losses)
        self._write({'step': trainer.global_step, 'max_steps': trainer.max_steps,
                     'epoch': trainer.current_epoch, **scalars})
        if self._stop_requested():
            self._save_and_stop(trainer)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = _scalars(trainer.callback_metrics)
        val = {k: v for k, v in metrics.items() if k.startswith(VALIDATION_TERMS)}
        if val:
            self._write({'step': trainer.global_step, 'event': 'validation', **val})

    def _stop_requested(self) -> bool:
        try:
            mtime = self.control.stat().st_mtime
        except FileNotFoundError:
            return False
        if mtime == self._control_mtime:
            return False
        self._control_mtime = mtime
        try:
            return bool(json.loads(self.control.read_text()).get('stop'))
        except (OSError, ValueError):
            return False

    def _save_and_stop(self, trainer: pl.Trainer) -> None:
        folder = Path(self.run_dir or trainer.default_root_dir) / 'checkpoints'
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f'stop-step={trainer.global_step}.ckpt'
        trainer.save_checkpoint(str(path))
        print(f'[studio] stop requested: saved {path} at step {trainer.global_step}', flush=True)
        self._write({'step': trainer.global_step, 'event': 'stopped', 'checkpoint': str(path)})
        trainer.should_stop = True

    def _write(self, data: dict) -> None:
        data.setdefault('t', time.time())
        self.metrics.write(json.dumps(data) + '\n')


def _scalars(metrics: dict) -> dict:
    out = {}
    for key, value in metrics.items():
        try:
            number = float(value.item() if hasattr(value, 'item') else value)
        except (TypeError, ValueError, RuntimeError):
            continue  # not a scalar
        if math.isfinite(number):
            out[key] = number
    return out


def add_callback(job_dir: Path) -> None:
    """Make every Trainer RAVE builds carry the studio's callback too."""
    original = pl.Trainer.__init__

    def init(self, *args, **kwargs):
        kwargs['callbacks'] = [*(kwargs.get('callbacks') or []), StudioCallback(job_dir)]
        original(self, *args, **kwargs)

    pl.Trainer.__init__ = init


def main() -> None:
    import scripts.train as rave_train  # RAVE's own entry point; defines the `rave train` flags
    from absl import app

    job_dir = Path(os.environ.get('RAVE_STUDIO_JOB_DIR') or os.getcwd())
    job_dir.mkdir(parents=True, exist_ok=True)
    add_callback(job_dir)
    sys.argv[0] = 'rave train'
    app.run(rave_train.main)


if __name__ == '__main__':
    main()
