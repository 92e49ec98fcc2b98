"""Worker: RAVE's own `rave train_prior`, with one repair that lets a prior resume.

    python -m services.workers.train_prior <the flags of rave train_prior>

RAVE's prior generates audio at the end of each validation from the first validation batch
(`Prior.validation_epoch_end` reads `out[0]`). A prior resumed with `--ckpt` from its last checkpoint, which
RAVE saves mid-epoch, ends that first epoch with a validation Lightning restores as already run: no batch, and
`out[0]` raises IndexError, so the resumed run dies (the resume failure RAVE users report, #122). Here an empty
validation simply makes no audio; everything else is RAVE's script, flags and files as they are.
"""
from __future__ import annotations


def main() -> None:
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


if __name__ == '__main__':
    main()
