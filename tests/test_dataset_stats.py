"""Dataset statistics: a real worker job on a real RAVE LMDB, checked against numpy; cached once on disk."""
from __future__ import annotations

import shutil
from pathlib import Path

import lmdb
import numpy as np
import pytest
import soundfile as sf
import yaml
from udls.generated import AudioExample
from waiting import job_finished, poll_until

from services.datasets.folders import read_lmdb
from services.jobs import FINISHED
from services.store import Dataset, Job


@pytest.fixture
def dataset(studio, rave_db, rave_audio, tmp_path) -> Dataset:
    project = studio.projects.create('Stats')
    db = tmp_path / 'db'
    shutil.copytree(rave_db, db, ignore=shutil.ignore_patterns('lock.mdb'))
    info = read_lmdb(db)
    return Dataset.create(project=project, name='tones', path=str(db), sources=[str(rave_audio)],
                          params={'num_signal': 65536, 'ext': ['wav']}, status='ready', sr=info['sr'],
                          channels=info['channels'], n_examples=info['examples'], size_bytes=info['size_bytes'])


def compute(studio, dataset: Dataset, timeout: float = 120.0) -> dict:
    """Ask for the statistics like the page does, and poll until the worker has written them."""
    assert studio.dataset_stats.ensure(dataset) is None
    job = job_finished(studio, studio.dataset_stats.job(dataset), timeout)
    assert job.status == 'done', studio.jobs.log_tail(job.id)
    stats = studio.dataset_stats.cached(dataset)
    assert stats is not None
    return stats


def decoded(db: Path) -> dict[str, np.ndarray]:
    channels = yaml.safe_load((db / 'metadata.yaml').read_text())['channels']
    env = lmdb.open(str(db), readonly=True, lock=False)
    try:
        with env.begin() as txn:
            return {k.decode(): np.frombuffer(AudioExample.FromString(v).buffers['waveform'].data, np.int16)
                    .reshape(channels, -1) / (2 ** 15 - 1) for k, v in txn.cursor()}
    finally:
        env.close()


def test_statistics_match_numpy_on_the_decoded_audio(studio, dataset, rave_audio) -> None:
    stats = compute(studio, dataset)
    audio = decoded(Path(dataset.path))
    assert stats['examples'] == stats['sampled'] == len(audio) == dataset.n_examples
    assert stats['keys'] == sorted(audio)
    rms = [20 * np.log10(np.sqrt(np.mean(audio[k] ** 2))) for k in stats['keys']]
    peak = [20 * np.log10(np.max(np.abs(audio[k]))) for k in stats['keys']]
    np.testing.assert_allclose(stats['rms_db'], rms, atol=0.01)
    np.testing.assert_allclose(stats['peak_db'], peak, atol=0.01)
    durations = sorted(sf.info(str(p)).duration for p in rave_audio.glob('*.wav'))
    np.testing.assert_allclose(sorted(stats['durations']['seconds']), durations, atol=1e-3)
    assert stats['durations']['total_s'] == pytest.approx(sum(durations), abs=0.01)

    # spectral centroid of each example from its averaged power spectrum: the tones sit between 110 Hz and ~5 kHz
    assert len(stats['centroid_hz']) == len(audio)
    assert all(100 < c < 8000 for c in stats['centroid_hz'])
    hz, db = np.array(stats['spectrum']['hz']), np.array(stats['spectrum']['db'])
    assert hz[0] == pytest.approx(20) and hz[-1] == pytest.approx(stats['sr'] / 2) and np.all(np.diff(hz) > 0)
    assert db[(hz > 100) & (hz < 2000)].max() > db[hz > 15000].max() + 20  # energy where the harmonics are
    assert 1 <= len(stats['previews']) <= 6
    first = stats['previews'][0]
    mono = audio[first['key']].mean(axis=0)
    assert min(first['min']) == pytest.approx(mono.min(), abs=1e-3)
    assert max(first['max']) == pytest.approx(mono.max(), abs=1e-3)
    assert first['seconds'] == pytest.approx(mono.size / stats['sr'], abs=1e-3)


def test_cache_is_reused_then_invalidated_when_the_lmdb_changes(studio, dataset) -> None:
    stats = compute(studio, dataset)
    cache = studio.dataset_stats.cache_file(dataset)
    assert cache == Path(dataset.path) / '.studio' / 'stats.json'
    written, jobs = cache.stat().st_mtime_ns, Job.select().count()
    assert studio.dataset_stats.ensure(dataset) == stats  # second ask: read from disk, nothing started
    assert Job.select().count() == jobs and cache.stat().st_mtime_ns == written

    env = lmdb.open(dataset.path, map_size=1 << 30)
    with env.begin(write=True) as txn:
        txn.put(f'{stats["examples"]:08d}'.encode(), txn.get(b'00000000'))
    env.close()
    assert studio.dataset_stats.cached(dataset) is None
    fresh = compute(studio, dataset)
    assert Job.select().count() == jobs + 1
    assert fresh['examples'] == stats['examples'] + 1


def test_a_stats_job_in_flight_is_not_started_twice(studio, dataset) -> None:
    assert studio.dataset_stats.ensure(dataset) is None
    assert studio.dataset_stats.ensure(dataset) is None
    assert Job.select().where(Job.kind == 'dataset_stats').count() == 1
    state = studio.dataset_stats.state(dataset)
    assert state is not None and state.title == 'Statistics of tones'
    poll_until(lambda: state.status in FINISHED, 120, studio=studio)  # leave no worker behind
    assert studio.dataset_stats.cached(dataset) is not None
