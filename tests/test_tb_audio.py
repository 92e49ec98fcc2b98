"""Validation audio from a real RAVE run's TensorBoard events, decoded to input/reconstruction WAV pairs."""
from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from services.training.tensorboard import TensorBoardService

N_SIGNAL = 65536  # tests/rave_fixtures.TINY_TRAIN


@pytest.mark.slow
def test_audio_val_to_wav_pairs(tmp_path: Path, rave_run: Path) -> None:
    version = rave_run / 'version_0'
    service = TensorBoardService(tmp_path, str(Path(__import__('sys').executable)))
    cache = tmp_path / 'cache' / 'audio'
    index = service.audio_previews(version, channels=1, n_signal=N_SIGNAL, cache=cache)

    scalars = EventAccumulator(str(version), size_guidance={'scalars': 0})
    scalars.Reload()
    assert len(index['validations']) == len(scalars.Scalars('validation')) >= 1  # one clip per validation
    for validation in index['validations']:
        assert validation['sr'] == 44100
        assert 1 <= len(validation['examples']) <= 8
        for example in validation['examples']:
            source, sr = sf.read(example['input'])
            rebuilt, sr2 = sf.read(example['reconstruction'])
            assert sr == sr2 == 44100
            assert len(source) == len(rebuilt) == N_SIGNAL
            assert abs(example['seconds'] - N_SIGNAL / 44100) < 1e-6
            assert source.std() > 0.01  # the synthesized tones, not silence
            assert len(example['input_envelope']['min']) == len(example['input_envelope']['max']) > 100

    first = Path(index['validations'][0]['examples'][0]['input'])
    mtime = first.stat().st_mtime_ns
    assert service.audio_previews(version, 1, N_SIGNAL, cache)['validations'] == index['validations']
    assert first.stat().st_mtime_ns == mtime  # cached: the worker did not run again


def test_run_without_events_has_no_previews(tmp_path: Path) -> None:
    (tmp_path / 'version_0').mkdir()
    service = TensorBoardService(tmp_path, 'python')
    assert service.audio_previews(tmp_path / 'version_0', 1, N_SIGNAL, tmp_path / 'c') == {'validations': []}
