"""Worker: RAVE's own `rave train_prior`, with two repairs.

    python -m services.workers.train_prior [--fidelity F] <the flags of rave train_prior>

- The latent size. RAVE's prior turns `fidelity` into a latent size without `rave export`'s floor of one
  dimension: when the first dimension alone holds the fidelity (a short run), it takes log2(0) and fails. With
  `--fidelity`, the size is worked out here as `rave export` does (`max(argmax(fidelity > F), 1)`, read from the
  run's checkpoint) and bound as `VariationalPrior.latent_size`, which the prior uses before `fidelity`.
- Resume. The prior makes audio at the end of each validation from its first batch (`Prior.validation_epoch_end`
  reads `out[0]`). Resumed with `--ckpt` from its last checkpoint, which RAVE saves mid-epoch, the first epoch
  ends with a validation Lightning restores as already run: no batch, IndexError, the run dies (the resume
  failure RAVE users report, #122). Here an empty validation makes no audio.
Everything else is RAVE's script, flags and files as they are.
"""
from __future__ import annotations

import sys


def main() -> None:
    argv = sys.argv[1:]
    fidelity = _pop(argv, '--fidelity')
    if fidelity is not None and '--ckpt' not in argv:
        argv += ['--override', f'VariationalPrior.latent_size={latent_size(argv[argv.index("--model") + 1], fidelity)}']
    sys.argv[1:] = argv

    import rave.prior.model as prior_model
    from absl import app
    from scripts import train_prior

    generate_audio = prior_model.Prior.validation_epoch_end

    def validation_epoch_end(self, out):
        if out:
            return generate_audio(self, out)
        return None
    prior_model.Prior.validation_epoch_end = validation_epoch_end
    app.run(train_prior.main)


def latent_size(model: str, fidelity: float) -> int:
    """The latent size `rave export --fidelity` keeps for the run's checkpoint."""
    import numpy as np
    import rave.core
    import torch
    checkpoint = torch.load(rave.core.search_for_run(model), map_location='cpu')
    return int(max(np.argmax(checkpoint['state_dict']['fidelity'].numpy() > fidelity), 1))


def _pop(argv: list[str], flag: str) -> float | None:
    if flag not in argv:
        return None
    at = argv.index(flag)
    value = float(argv[at + 1])
    del argv[at:at + 2]
    return value


if __name__ == '__main__':
    main()
