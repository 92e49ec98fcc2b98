"""Worker: RAVE's own `rave train_prior`, run as the studio runs `rave train`, with two repairs.

    RAVE_STUDIO_JOB_DIR=JOB python -m services.workers.train_prior [--fidelity F] <the flags of rave train_prior>

- As a run: every Trainer RAVE builds gets the training worker's `StudioCallback` (services/workers/train.py):
  JOB/metrics.jsonl per step (`latent_prediction`) and per validation (`validation`), stop on JOB/control.json
  with a resumable `stop-step=N.ckpt`, pause between two steps; Lightning keeps the checkpoints of earlier
  sessions. A stage line on stdout ({"stage": "train", "fraction": step / max_steps}, every 2 s at most) makes
  the job's progress. Each validation's `generation` audio, which RAVE logs to TensorBoard, is also written as
  `<version>/generation/step-<N>.wav` with a JSON beside it (step, seconds, waveform envelope).
- The latent size. RAVE's prior turns `fidelity` into a latent size without `rave export`'s floor of one
  dimension: when the first dimension alone holds the fidelity (a short run), it takes log2(0) and fails. With
  `--fidelity`, the size is worked out here as `rave export` does (`max(argmax(fidelity > F), 1)`, read from the
  run's checkpoint) and bound as `VariationalPrior.latent_size`, which the prior uses before `fidelity`.
- Resume. The prior makes audio at the end of each validation from its first batch (`Prior.validation_epoch_end`
  reads `out[0]`). Resumed with `--ckpt` from a checkpoint saved mid-epoch (`last`, or the stop checkpoint), the
  first epoch ends with a validation Lightning restores as already run: no batch, IndexError, the run dies (the
  resume failure RAVE users report, #122). Here an empty validation makes no audio, and neither does Lightning's
  sanity check before training (an untrained prior's noise, logged as generation 0, ~12 s on a CPU per start).
Everything else is RAVE's script, flags and files as they are.
"""
from __future__ import annotations

import json
import math
import re
import sys
import time
from pathlib import Path

REPORT_S = 2.0


def main() -> None:
    argv = sys.argv[1:]
    fidelity = _pop(argv, '--fidelity')
    if fidelity is not None and '--ckpt' not in argv:
        size = latent_size(argv[argv.index('--model') + 1], fidelity)
        refusal = network_refusal(Path(argv[argv.index('--config') + 1]), size, fidelity)
        if refusal:
            print(json.dumps({'stage': 'failed', 'fraction': 0, 'message': refusal}), flush=True)
            print(refusal, file=sys.stderr, flush=True)
            sys.exit(2)
        argv += ['--override', f'VariationalPrior.latent_size={size}']
    sys.argv[1:] = argv
    sys.argv[0] = 'rave train_prior'

    import pytorch_lightning as pl
    import rave.prior.model as prior_model
    from absl import app
    from scripts import train_prior

    from services.workers import train
    from services.workers.stages import job_dir

    callback = train.add_callback(job_dir())
    train.keep_checkpoints(callback.checkpoint_saved)
    _report_steps(pl)
    generate_audio = prior_model.Prior.validation_epoch_end

    def validation_epoch_end(self, out):
        if not out or self.trainer.sanity_checking:
            return None
        writer = self.logger.experiment
        log_audio = writer.add_audio

        def add_audio(tag, audio, step, sr, *args, **kwargs):
            log_audio(tag, audio, step, sr, *args, **kwargs)
            if tag == 'generation':
                keep_generation(Path(self.logger.log_dir), self.global_step, audio.detach().cpu().numpy(), int(sr))

        writer.add_audio = add_audio
        try:
            return generate_audio(self, out)
        finally:
            del writer.add_audio
    prior_model.Prior.validation_epoch_end = validation_epoch_end
    app.run(train_prior.main)


def keep_generation(version_dir: Path, step: int, audio, sr: int) -> Path:
    """The generated audio as a WAV in the prior's version folder, its facts beside it."""
    import numpy as np
    import soundfile as sf

    from services.audio import envelope

    folder = version_dir / 'generation'
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f'step-{step:08d}.wav'
    mono = np.asarray(audio, dtype=np.float32).reshape(-1)
    sf.write(path, mono, sr, subtype='FLOAT')
    facts = {'step': step, 'sr': sr, 'seconds': mono.size / sr, 'envelope': envelope(mono, 300)}
    path.with_suffix('.json').write_text(json.dumps(facts))
    return path


def _report_steps(pl) -> None:
    """Every trainer also prints a stage line (the job engine's progress, which also wakes the prior's page) at
    most every REPORT_S seconds, and at the last step: the console stays readable on a long run."""
    class Steps(pl.Callback):
        said = 0.0

        def on_train_batch_end(self, trainer, *_args) -> None:
            total = trainer.max_steps if trainer.max_steps and trainer.max_steps > 0 else 0
            if time.monotonic() - self.said < REPORT_S and trainer.global_step != total:
                return
            self.said = time.monotonic()
            print(json.dumps({'stage': 'train', 'fraction': round(trainer.global_step / total, 4) if total else 0,
                              'message': f'step {trainer.global_step} of {total}'}), flush=True)

    original = pl.Trainer.__init__

    def init(self, *args, **kwargs):
        kwargs['callbacks'] = [*(kwargs.get('callbacks') or []), Steps()]
        original(self, *args, **kwargs)
    pl.Trainer.__init__ = init


def latent_size(model: str, fidelity: float) -> int:
    """The latent size `rave export --fidelity` keeps for the run's checkpoint."""
    import numpy as np
    import rave.core
    import torch
    checkpoint = torch.load(rave.core.search_for_run(model), map_location='cpu')
    return int(max(np.argmax(checkpoint['state_dict']['fidelity'].numpy() > fidelity), 1))


def network_refusal(gin: Path, size: int, fidelity: float) -> str:
    """Why the prior's network cannot hold `size` latent dimensions, or ''. RAVE's prior rounds the size up to a
    power of two and groups its first and last convolutions by it: `res_size` and `skp_size` must be multiples of
    it, else torch fails deep inside with "in_channels must be divisible by groups"."""
    text = gin.read_text() if gin.is_file() else ''
    kept = 2 ** math.ceil(math.log2(max(size, 1)))
    for key in ('res_size', 'skp_size'):
        found = re.search(rf'^\s*VariationalPrior\.{key}\s*=\s*(\d+)', text, re.M)
        if found and int(found.group(1)) % kept:
            return (f'At fidelity {fidelity:g} this model keeps {size} latent dimensions (the prior rounds them up to '
                    f'{kept}), more than its network can group: {key} is {found.group(1)}, not a multiple of {kept}. '
                    f'Lower the fidelity, or train the model longer so fewer dimensions hold its variance.')
    return ''


def _pop(argv: list[str], flag: str) -> float | None:
    if flag not in argv:
        return None
    at = argv.index(flag)
    value = float(argv[at + 1])
    del argv[at:at + 2]
    return value


if __name__ == '__main__':
    main()
