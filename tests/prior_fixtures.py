"""A tiny prior for the tiny run, trained a few steps by RAVE's own `rave train_prior` (session-wide).

RAVE's shipped prior config does not parse (RAVE_NOTES §1), so the studio writes its own gin: a
`VariationalPrior` with the model's sample rate and the latent size `rave export --fidelity` picks. Not the
`fidelity` binding of §8: when the first latent dimension alone already explains more than the fidelity
(as on a tiny model), prior/model.py:33-35 takes log2(0) and fails with "math domain error", where
scripts/export.py:120-122 keeps at least one dimension; `latent_size` set to the export's size matches it
always. The network is made tiny (2 layers, 64/32 channels): its receptive field then needs only 16384
samples, so the prior's validation (which generates audio step by step) stays short.

The fidelity is read off the run's curve (`small_fidelity`), not fixed: a 4-step model's curve is whatever its
few steps made. On one run the first dimension holds 95 % of the variance; on another 0.95 needs 64 dimensions,
more than the tiny network's 32 channels can group ("in_channels must be divisible by groups") and than a
65536-sample example's 32 latent frames leave to the prior's diagonal shift.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from rave_fixtures import run_cli

SMALL = 4  # the most latent dimensions the tests' priors keep
PRIOR_GIN = """from __gin__ import dynamic_registration
import rave.prior

rave.prior.VariationalPrior:
    resolution = 32
    res_size = 64
    skp_size = 32
    kernel_size = 3
    cycle_size = 2
    n_layers = 2
    sr = {sr}
    latent_size = {latent_size}
"""


def small_fidelity(checkpoint: Path) -> float:
    """A fidelity at which `checkpoint` keeps at most SMALL latent dimensions, as `rave export --fidelity` counts
    them: just below the curve at dimension SMALL, the first value above it is at index SMALL - 1 or before."""
    import torch
    curve = torch.load(checkpoint, map_location='cpu', weights_only=False)['state_dict']['fidelity']
    return min(max(float(curve[SMALL - 1]) - 1e-6, 0.01), 0.99)


def newest_checkpoint(run: Path) -> Path:
    """The run's own newest checkpoint, named to train_prior: RAVE's search_for_run takes the newest .ckpt of the
    whole folder tree, which another test's files below the shared run folder must not decide."""
    return max(run.glob('version_*/checkpoints/*.ckpt'), key=lambda p: p.stat().st_mtime)


@pytest.fixture(scope='session')
def rave_prior_fidelity(rave_run: Path) -> float:
    """The fidelity the session's prior is trained at: an export with it has the prior's latent size."""
    return small_fidelity(newest_checkpoint(rave_run))


@pytest.fixture(scope='session')
def rave_prior(rave_workspace: Path, rave_run: Path, rave_db: Path, rave_prior_fidelity: float) -> Path:
    """The prior's run folder (config.gin, version_0/checkpoints/best.ckpt and last.ckpt)."""
    import torch

    from services.workers.export_onnx import latent_size_for

    newest = str(newest_checkpoint(rave_run))
    curve = torch.load(newest, map_location='cpu', weights_only=False)['state_dict']['fidelity']
    size = latent_size_for(curve, rave_prior_fidelity)
    assert size <= SMALL, (size, curve[:8])
    gin = rave_workspace / 'prior.gin'
    gin.write_text(PRIOR_GIN.format(sr=44100, latent_size=size))
    out = rave_workspace / 'priors'
    # 11 training examples in batches of 2: 5 steps are one epoch, validated once at its end. The whole example
    # (65536 samples, 32 latent frames), not the receptive field's 16384 (8 frames): the prior's diagonal shift
    # drops latent_size - 1 frames, which leaves none when the curve of a 4-step model asks for 16 dimensions
    run_cli(['train_prior', '--model', newest, '--config', str(gin), '--db_path', str(rave_db),
             '--out_path', str(out), '--name', 'prior', '--gpu', '-1', '--batch', '2', '--workers', '0',
             '--n_signal', '65536',
             '--max_steps', '5', '--val_every', '5'], rave_workspace)
    folder = next(out.glob('prior_*'))
    assert list(folder.rglob('*.ckpt')), f'rave train_prior wrote no checkpoint in {folder}'
    return folder



# The studio's own gin (services.models.prior.GIN, bound with the rate and the fidelity) with the fixture's tiny
# network: a test sets it in place of GIN so a prior trained through the studio takes seconds, not minutes
TINY_STUDIO_GIN = """# the studio's prior gin, tiny for tests
VariationalPrior.resolution = 32
VariationalPrior.res_size = 64
VariationalPrior.skp_size = 32
VariationalPrior.kernel_size = 3
VariationalPrior.cycle_size = 2
VariationalPrior.n_layers = 2
VariationalPrior.sr = {sr}
VariationalPrior.fidelity = {fidelity}
"""
