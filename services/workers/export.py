"""TorchScript export worker: RAVE's own `rave export`, with stages, its log kept, and a prior that works.

    RAVE_STUDIO_JOB_DIR=JOB python -m services.workers.export <the flags of `rave export`> [--result FILE]

Every flag of `rave export` is RAVE's own (absl): --run (run folder or .ckpt), --streaming, --fidelity,
--channels, --sr, --ema_weights, --prior (a prior run folder or .ckpt from `rave train_prior`), --name,
--output. The worker runs RAVE's `scripts.export.main` in this process, unchanged, and adds:
- the equivalent command, printed first (`[studio] equivalent command: rave export ...`);
- one JSON progress line per stage (services/workers/stages.py): load, prior (with --prior), test methods
  (one line per method nn_tilde tests: encode, decode, forward, prior), script, save, done — read from
  RAVE's and nn_tilde's own log messages, so nothing of RAVE's code is copied;
- the prior: nn_tilde tests every method at batch 1 and 4, but a prior's state has batch 1, so
  `rave export --prior` fails (RAVE_NOTES §8). While nn_tilde registers the `prior` method only,
  `cached_conv.MAX_BATCH_SIZE` is 1, which makes nn_tilde test it at batch 1 (and still warm its caches);
- RAVE's log and warnings stay on stderr (the job log); warnings are also listed in the result;
- the export's provenance inside the .ts, as the extra file `rave_studio.json` (torch, acids-rave, nn_tilde
  and cached_conv versions, the command, the checkpoint and its step): a .ts records no torch version.
Result FILE (default JOB/export.json), written when the worker ends:
    {status: done|failed, message, path, size, command, checkpoint, provenance, streaming, fidelity, prior, vst,
     stages: [{stage, s}], warnings: [...], torch, elapsed_s}
`vst` is RAVE's own stereo probe ("this model seems compatible with the RAVE vst"). Exit code 0 when the
export was written, 1 when it failed (the message says why in words).
"""
from __future__ import annotations

import json
import logging
import re
import shlex
import sys
import time
from pathlib import Path

from services.workers.stages import Stages, job_dir, write_result

STUDIO_FLAGS = ('--result',)
EXTRA_FILE = 'rave_studio.json'  # read back with torch.jit.load(path, _extra_files={EXTRA_FILE: ''})

# RAVE's and nn_tilde's log messages → (stage, fraction, what the user reads)
STAGE_MESSAGES = (
    (re.compile(r'^loading prior from checkpoint'), 'prior', 0.2, 'Loading the prior'),
    (re.compile(r'^Testing method (\w+) with nn~ API'), 'test methods', 0.3, 'Testing {0} at batch 1, as nn~ does'),
    (re.compile(r'^Testing method (\w+) with mc.nn~ API'), 'test methods', 0.3, 'Testing {0} at batch 4 (mc.nn~)'),
    (re.compile(r'^save model'), 'script', 0.6, 'Compiling the model to TorchScript'),
)
METHOD_FRACTION = {'encode': 0.3, 'decode': 0.4, 'forward': 0.5, 'prior': 0.55}


class RaveLog(logging.Handler):
    """Follows RAVE's log: turns its messages into stages and keeps its warnings."""

    def __init__(self, stages: Stages) -> None:
        super().__init__(level=logging.INFO)
        self.stages = stages
        self.warnings: list[str] = []
        self.checkpoint = ''
        self.exported = ''
        self.vst: bool | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # RAVE logs `logging.info("prior config file : ", path)`
            text = str(record.msg)
        if record.levelno >= logging.WARNING and text not in self.warnings:
            self.warnings.append(text.strip())
        if m := re.match(r'model found : (.+)$', text):
            self.checkpoint = str(Path(m.group(1)).resolve())
        elif m := re.search(r'model exported to (.+?)\s*$', text):
            self.exported = m.group(1)
        elif 'compatible with the RAVE vst' in text:
            self.vst = True
        elif 'will not work with the RAVE VST' in text:
            self.vst = False
        for pattern, stage, fraction, message in STAGE_MESSAGES:
            if m := pattern.match(text):
                method = m.group(1) if m.groups() else ''
                self.stages.enter(stage, METHOD_FRACTION.get(method, fraction), message.format(method),
                                  **({'method': method} if method else {}))
                break


def equivalent_command(argv: list[str]) -> str:
    """`rave export ...` with the worker's own flags left out."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in STUDIO_FLAGS:
            skip = True
            continue
        if arg.startswith(tuple(f'{f}=' for f in STUDIO_FLAGS)):
            continue
        kept.append(arg)
    return shlex.join(['rave', 'export', *kept])


def prior_at_batch_one() -> None:
    """Register nn~'s `prior` method with cached_conv.MAX_BATCH_SIZE = 1 (its state has batch 1)."""
    import cached_conv
    import nn_tilde

    register = nn_tilde.Module.register_method

    def register_method(self, method_name, *args, **kwargs):
        if method_name != 'prior':
            return register(self, method_name, *args, **kwargs)
        saved, cached_conv.MAX_BATCH_SIZE = cached_conv.MAX_BATCH_SIZE, 1
        try:
            return register(self, method_name, *args, **kwargs)
        finally:
            cached_conv.MAX_BATCH_SIZE = saved

    nn_tilde.Module.register_method = register_method


def report_saving(stages: Stages, describe) -> None:
    """A `save` stage when the scripted model is written (nn_tilde scripts and saves in one call), and the
    export's provenance stored inside the .ts as an extra file (EXTRA_FILE; hosts ignore it)."""
    import torch

    save = torch.jit.RecursiveScriptModule.save

    def save_and_report(self, *args, **kwargs):
        stages.enter('save', 0.85, 'Writing the .ts file')
        kwargs.setdefault('_extra_files', {EXTRA_FILE: json.dumps(describe())})
        return save(self, *args, **kwargs)

    torch.jit.RecursiveScriptModule.save = save_and_report


def provenance(command: str, checkpoint: str) -> dict:
    """What the .ts itself cannot tell: the versions it was made with, the command and the checkpoint's step."""
    from importlib import metadata

    from services.training.checkpoints import read_info

    info = read_info(checkpoint) if checkpoint else None
    versions = {}
    for package in ('torch', 'acids-rave', 'nn_tilde', 'cached_conv'):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {'made_by': 'RAVE Studio', 'versions': versions, 'command': command, 'checkpoint': checkpoint,
            'step': info.step if info else None}


class BadInput(Exception):
    """Flags RAVE's export would fail on, or silently ignore (a prior folder without config.gin)."""


def check_inputs(run: str, prior: str | None) -> None:
    """Refuse what RAVE would only print about: a run or prior without config.gin or checkpoint."""
    import rave.core

    for what, path in (('run', run), ('prior', prior)):
        if path is None:
            continue
        if not Path(path).exists():
            raise BadInput(f'The {what} {path} does not exist.')
        if rave.core.search_for_config(path) is None:
            raise BadInput(f'No config.gin in or above {path}: pick a RAVE {what} folder or a checkpoint inside one.')
        if not path.endswith('.ckpt') and not any(Path(path).rglob('*.ckpt')):
            raise BadInput(f'The {what} {path} holds no checkpoint (*.ckpt): it has not validated yet.')


def failure_message(error: BaseException, log: RaveLog) -> str:
    """What went wrong, in words, for the errors RAVE's export is known to raise."""
    from absl import flags

    text = str(error)
    flags_ = flags.FLAGS
    if isinstance(error, BadInput):
        return text
    if isinstance(error, SystemExit) and not log.checkpoint:
        return f'{flags_.run} holds no checkpoint (*.ckpt) to export. Pick a run that has validated at least once.'
    if 'Incompatible target sampling rate' in text:
        return f'The sample rate {flags_.sr} Hz is not an integer multiple of the model\'s: pick 1×, 2×, ... its rate.'
    if 'AdaIN requires the original number of channels' in text:
        return 'This model uses AdaIN, which needs the channel count it was trained with: leave channels empty.'
    if 'size mismatch' in text and flags_.prior:
        return ('The prior was trained for another latent size than this export has. Export with the fidelity '
                f'the prior was trained with (its gin sets it). RAVE said: {text.splitlines()[0][:300]}')
    return f'RAVE\'s export failed: {type(error).__name__}: {text.strip()[:500] or "no message"}'


def main() -> None:
    argv = sys.argv[1:]
    command = equivalent_command(argv)
    print(f'[studio] equivalent command: {command}', flush=True)
    stages = Stages()
    stages.enter('load', 0.0, 'Loading torch, RAVE and the checkpoint')
    import scripts.export as rave_export  # RAVE's own entry point; defines the `rave export` flags
    import torch
    from absl import app, flags

    flags.DEFINE_string('result', None, 'studio: where the result JSON goes (default JOB/export.json)')
    log = RaveLog(stages)
    logging.getLogger().addHandler(log)
    logging.captureWarnings(True)
    prior_at_batch_one()
    made: dict = {}  # the provenance, read once when the .ts is saved and reused in the result
    report_saving(stages, lambda: made.setdefault('it', provenance(command, log.checkpoint)))

    def run(rave_argv: list[str]) -> int:
        values = flags.FLAGS
        result_path = Path(values.result) if values.result else job_dir() / 'export.json'
        result = {'command': command, 'streaming': values.streaming, 'fidelity': values.fidelity,
                  'prior': values.prior, 'channels': values.channels, 'sr': values.sr,
                  'ema_weights': values.ema_weights, 'torch': torch.__version__}
        try:
            check_inputs(values.run, values.prior)
            rave_export.main(rave_argv)
        except BaseException as e:  # RAVE exits or raises anything; the result says why
            message = failure_message(e, log)
            stages.enter('failed', 1.0, message)
            print(f'[studio] export failed: {message}', flush=True)
            write_result(result_path, {**result, 'status': 'failed', 'message': message,
                                       'checkpoint': log.checkpoint, 'warnings': log.warnings,
                                       'stages': stages.finish(), 'elapsed_s': stages.elapsed()})
            logging.getLogger(__name__).debug('export failed', exc_info=e)
            return 1
        path = Path(log.exported)
        stages.enter('done', 1.0, f'Exported {path.name}', exported=str(path))
        write_result(result_path, {**result, 'status': 'done', 'message': '', 'path': str(path),
                                   'size': path.stat().st_size, 'checkpoint': log.checkpoint, 'vst': log.vst,
                                   'provenance': made.get('it') or provenance(command, log.checkpoint),
                                   'warnings': log.warnings, 'stages': stages.finish(),
                                   'elapsed_s': stages.elapsed(), 'ended': time.time()})
        return 0

    sys.argv[0] = 'rave export'
    app.run(run)


if __name__ == '__main__':
    main()
