"""What every verification check shares: the verdict, the test signal, the silence rule and its message."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

SILENCE_RMS = 1e-4
TEST_SECONDS = 3.0
HOST_BUFFER = 2048


@dataclass
class Check:
    """One verdict: ok True/False, or None when it does not apply or could not run."""
    check: str
    ok: bool | None
    message: str


def silence_message(rms: float, step: int | None) -> str:
    if step is None:
        return (f'Decodes to silence (RMS {rms:.1e}): the model is untrained or broken; RAVE needs hundreds of '
                'thousands of training steps.')
    if step < 100_000:
        return (f'Decodes to silence (RMS {rms:.1e}): the model has trained {step:,} steps; RAVE needs hundreds of '
                'thousands.')
    return (f'Decodes to silence (RMS {rms:.1e}) after {step:,} training steps: check that the dataset is not '
            'silent or very quiet, then the training curves.')


def test_signal(sr: int, channels: int, ratio: int, seconds: float = TEST_SECONDS) -> torch.Tensor:
    """A gliding harmonic tone with an envelope and noise bursts, a multiple of the compression ratio long."""
    n = int(seconds * sr) // ratio * ratio
    t = np.arange(n) / sr
    glide = 220 * (1 + 0.3 * np.sin(2 * np.pi * 0.5 * t))
    phase = 2 * np.pi * np.cumsum(glide) / sr
    tone = sum(np.sin(k * phase) / k for k in range(1, 6)) * (0.5 + 0.5 * np.sin(2 * np.pi * 2 * t) ** 2)
    noise = np.random.default_rng(0).normal(0, 0.05, n) * (np.sin(2 * np.pi * 4 * t) > 0.9)
    mono = (0.3 * tone + noise).astype(np.float32)
    return torch.from_numpy(np.stack([np.roll(mono, 100 * c) for c in range(channels)]))[None]
