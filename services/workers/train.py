"""Training worker: RAVE's own `rave train` entry point with the studio's Lightning callbacks added.

    RAVE_STUDIO_JOB_DIR=JOB python -m services.workers.train <the flags of `rave train`>

It imports RAVE's `scripts.train`, wraps `pytorch_lightning.Trainer.__init__` so every trainer RAVE builds
also gets `StudioCallback`, and runs RAVE's `main` through absl exactly as `rave train` does. The callback
- appends one JSON line per training step to JOB/metrics.jsonl: {step, max_steps, epoch, t, loss, <scalars>},
  then one line per validation and a {run_dir, machine} line once Lightning knows the run's version folder;
- watches JOB/control.json: on {"stop": true} it saves `stop-step=<N>.ckpt` in the run's checkpoints folder
  (resumable with `rave train --ckpt`) and ends training cleanly, so the process exits 0; while {"pause": true}
  it waits between two steps (a 'paused' line, then 'resumed'), so model, optimizers and GPU stay consistent;
- reports every checkpoint it writes ({event: checkpoint, path, step}) and keeps every checkpoint it did not
  write itself: Lightning 1.9 deletes the checkpoint a run resumed from (RAVE_NOTES §6) — not here.
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytorch_lightning as pl

from services.training.metrics import LOSS_TERMS, VALIDATION_TERMS
from services.workers import learning_rate

PAUSE_POLL_S = 0.5


class StudioCallback(pl.Callback):
    """Per-step metrics and a graceful stop, for the studio's job engine."""

    def __init__(self, job_dir: Path) -> None:
        self.job_dir = job_dir
        self.metrics = open(job_dir / 'metrics.jsonl', 'a', buffering=1)  # noqa: SIM115 - open for the whole run
        self.control = job_dir / 'control.json'
        self._control_mtime = 0.0
        self._control_state: dict = {}
        self._stopping = False
        self.run_dir = ''

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.run_dir = str(Path(trainer.logger.log_dir).resolve()) if trainer.logger else ''
        self._write({'run_dir': self.run_dir, 'step': trainer.global_step, 'max_steps': trainer.max_steps,
                     'event': 'start', 'machine': _machine(pl_module)})

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs, batch,
                           batch_idx: int) -> None:
        scalars = _scalars(trainer.callback_metrics)
        scalars.update(_scalars(outputs if isinstance(outputs, dict) else {}))
        for key in [k for k in scalars if k.startswith(VALIDATION_TERMS)]:
            del scalars[key]  # reported once, when a validation ends
        losses = [v for k, v in scalars.items() if k.startswith(LOSS_TERMS)]
        if losses:
            scalars['loss'] = sum(losses)
        scalars.update(_learning_rates(trainer))
        self._write({'step': trainer.global_step, 'max_steps': trainer.max_steps,
                     'epoch': trainer.current_epoch, **scalars})
        if self._requested('pause') and not self._requested('stop'):
            self._wait_while_paused(trainer)
        if self._requested('stop') and not self._stopping:
            self._save_and_stop(trainer)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = _scalars(trainer.callback_metrics)
        val = {k: v for k, v in metrics.items() if k.startswith(VALIDATION_TERMS)}
        if val:
            self._write({'step': trainer.global_step, 'event': 'validation', **val})

    def checkpoint_saved(self, trainer: pl.Trainer, path: str) -> None:
        self._write({'step': trainer.global_step, 'event': 'checkpoint', 'path': str(Path(path).resolve())})

    def _requested(self, key: str) -> bool:
        """The latest value of `key` in control.json (re-read only when the file changed)."""
        try:
            mtime = self.control.stat().st_mtime_ns
        except FileNotFoundError:
            return False
        if mtime != self._control_mtime:
            try:
                self._control_state = json.loads(self.control.read_text())
                self._control_mtime = mtime
            except (OSError, ValueError):
                pass  # being replaced right now: read it next time
        return bool(self._control_state.get(key))

    def _wait_while_paused(self, trainer: pl.Trainer) -> None:
        print(f'[studio] paused at step {trainer.global_step}', flush=True)
        self._write({'step': trainer.global_step, 'event': 'paused'})
        started = time.time()
        while self._requested('pause') and not self._requested('stop'):
            time.sleep(PAUSE_POLL_S)
        print(f'[studio] resumed at step {trainer.global_step} after {time.time() - started:.0f} s', flush=True)
        self._write({'step': trainer.global_step, 'event': 'resumed', 'paused_s': time.time() - started})

    def _save_and_stop(self, trainer: pl.Trainer) -> None:
        folder = Path(self.run_dir or trainer.default_root_dir) / 'checkpoints'
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f'stop-step={trainer.global_step}.ckpt'
        self._stopping = True
        trainer.save_checkpoint(str(path))
        print(f'[studio] stop requested: saved {path} at step {trainer.global_step}', flush=True)
        self._write({'step': trainer.global_step, 'event': 'stopped', 'checkpoint': str(path)})
        trainer.should_stop = True

    def _write(self, data: dict) -> None:
        if int(os.environ.get('LOCAL_RANK', '0') or 0) or int(os.environ.get('NODE_RANK', '0') or 0):
            return  # multi-GPU: every rank runs the callback (pauses and stops together); rank 0 reports
        data.setdefault('t', time.time())
        self.metrics.write(json.dumps(data) + '\n')


def _machine(pl_module: pl.LightningModule) -> dict:
    """Where this attempt trains, for the run's details page."""
    import platform
    from importlib import metadata

    import torch
    device = str(pl_module.device)
    if pl_module.device.type == 'cuda':
        device += f' ({torch.cuda.get_device_name(pl_module.device)})'
    try:
        rave = metadata.version('acids-rave')
    except metadata.PackageNotFoundError:
        rave = ''
    return {'host': platform.node(), 'device': device, 'torch': torch.__version__, 'rave': rave}


def _scalars(metrics: dict) -> dict:
    out = {}
    for key, value in metrics.items():
        try:
            number = float(value.item() if hasattr(value, 'item') else value)
        except (TypeError, ValueError, RuntimeError):
            continue  # not a scalar
        out[key] = number  # NaN/inf too: json writes NaN/Infinity and the studio raises an alert on them
    return out


def _learning_rates(trainer: pl.Trainer) -> dict:
    """The current learning rate of RAVE's optimizers: lr_gen (generator) and lr_dis (discriminator)."""
    names = ('lr_gen', 'lr_dis')
    return {names[i] if i < len(names) else f'lr_{i}': float(opt.param_groups[0]['lr'])
            for i, opt in enumerate(trainer.optimizers) if opt.param_groups}


def add_callback(job_dir: Path) -> StudioCallback:
    """Make every Trainer RAVE builds carry the studio's callback too."""
    original = pl.Trainer.__init__
    callback = StudioCallback(job_dir)

    def init(self, *args, **kwargs):
        kwargs['callbacks'] = [*(kwargs.get('callbacks') or []), callback]
        if int(os.environ.get('SLURM_NNODES') or 1) > 1:  # RAVE sets devices (--gpu), not the nodes srun spans
            kwargs.setdefault('num_nodes', int(os.environ['SLURM_NNODES']))
        original(self, *args, **kwargs)

    pl.Trainer.__init__ = init
    return callback


def keep_checkpoints(on_saved: Callable[[pl.Trainer, str], None]) -> None:
    """Let Lightning delete only the checkpoints this process wrote.

    On resume, PL 1.9 restores ModelCheckpoint's `best_model_path` (the checkpoint resumed from, or an
    earlier one) and removes it at the next save; the studio indexes those files, so they must stay."""
    save, remove = pl.Trainer.save_checkpoint, pl.callbacks.ModelCheckpoint._remove_checkpoint
    written: set[str] = set()

    def save_checkpoint(self, filepath, *args, **kwargs):
        save(self, filepath, *args, **kwargs)
        written.add(os.path.abspath(filepath))
        on_saved(self, str(filepath))

    def remove_checkpoint(self, trainer, filepath):
        if os.path.abspath(filepath) in written:
            written.discard(os.path.abspath(filepath))
            remove(self, trainer, filepath)
        else:
            print(f'[studio] kept {filepath} (Lightning would delete a checkpoint of an earlier session)', flush=True)

    pl.Trainer.save_checkpoint = save_checkpoint
    pl.callbacks.ModelCheckpoint._remove_checkpoint = remove_checkpoint


def main() -> None:
    import scripts.train as rave_train  # RAVE's own entry point; defines the `rave train` flags
    from absl import app

    job_dir = Path(os.environ.get('RAVE_STUDIO_JOB_DIR') or os.getcwd())
    job_dir.mkdir(parents=True, exist_ok=True)
    callback = add_callback(job_dir)
    keep_checkpoints(callback.checkpoint_saved)
    learning_rate.install()  # RAVE_STUDIO_LR / RAVE_STUDIO_DIS_LR, set by the studio from the wizard
    sys.argv[0] = 'rave train'
    app.run(rave_train.main)


if __name__ == '__main__':
    main()
