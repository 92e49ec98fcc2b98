"""services/lmdb_reader on real datasets made by `rave preprocess`: decode as RAVE does, pages, WAV, integrity."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import lmdb
import numpy as np
import pytest
import soundfile as sf
import yaml
from rave_fixtures import run_cli, synth_audio

from services import audio
from services.datasets import lmdb_reader

RAVE_DECODE = r'''
import json, sys, numpy as np
from rave.dataset import AudioDataset, LazyAudioDataset
db, lazy, channels, n_signal, out = sys.argv[1], sys.argv[2] == '1', int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ds = LazyAudioDataset(db, n_signal, 44100, n_channels=channels) if lazy else AudioDataset(db, n_channels=channels)
np.savez(out, **{str(i): np.asarray(ds[i], np.float32) for i in range(min(len(ds), 3))}, count=len(ds.keys))
'''


def rave_decoded(db: Path, tmp_path: Path, *, lazy: bool = False, channels: int = 1,
                 n_signal: int = 65536) -> dict:
    """The first examples as RAVE's own dataset classes return them (in a child: rave imports torch)."""
    out = tmp_path / f'rave_{db.name}.npz'
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_'))}
    done = subprocess.run([sys.executable, '-c', RAVE_DECODE, str(db), '1' if lazy else '0', str(channels),
                           str(n_signal), str(out)], capture_output=True, text=True, timeout=600, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(np.load(out))


@pytest.fixture(scope='module')
def stereo_db(rave_workspace: Path) -> Path:
    db = rave_workspace / 'stereo_db'
    if not db.exists():
        audio = synth_audio(rave_workspace / 'stereo_audio', n_files=2, seconds=4.0, channels=2, seed=3)
        run_cli(['preprocess', '--input_path', str(audio[0].parent), '--output_path', str(db),
                 '--num_signal', '32768', '--channels', '2', '--sampling_rate', '44100'], rave_workspace)
    return db


def test_regular_examples_decode_as_rave_does(rave_db: Path, tmp_path: Path) -> None:
    db = lmdb_reader.reader(rave_db)
    expected = rave_decoded(rave_db, tmp_path)
    assert len(db) == int(expected['count']) > 3
    assert (db.channels, db.sr, db.lazy) == (1, 44100, False)
    for i in range(3):
        np.testing.assert_array_equal(db.example(i).audio, expected[str(i)])
        assert db.example(i).audio.shape == (1, 2 * 65536)


def test_stereo_uses_channels_from_metadata_not_the_stored_shape(stereo_db: Path, tmp_path: Path) -> None:
    db = lmdb_reader.reader(stereo_db)
    with lmdb_reader.open_env(stereo_db).begin() as txn:
        message = lmdb_reader.audio_example().FromString(txn.get(b'00000000'))
    stored = list(message.buffers['waveform'].shape)
    assert stored[1] != 2 * 32768  # the trap: RAVE stores bytes/channels there
    expected = rave_decoded(stereo_db, tmp_path, channels=2)
    example = db.example(0)
    assert example.audio.shape == (2, 2 * 32768)
    np.testing.assert_array_equal(example.audio, expected['0'])
    assert not np.array_equal(example.audio[0], example.audio[1])  # the synthesized channels differ


def test_lazy_examples_reference_their_source_and_decode_like_rave(lazy_db: Path, rave_audio: Path,
                                                                   tmp_path: Path) -> None:
    db = lmdb_reader.reader(lazy_db)
    assert db.lazy and len(db) == 3
    example = db.example(0)
    assert example.lazy and Path(example.source).parent == rave_audio
    assert example.source_seconds == pytest.approx(12.0, abs=0.05)
    rows = db.page(0, 10)
    assert {Path(r.source).name for r in rows} == {p.name for p in rave_audio.glob('*.wav')}
    assert rows[0].peak_db is None  # not decoded for a page of lazy rows
    audio, sr = db.audio(0)
    assert sr == 44100 and audio.shape[0] == 1 and audio.shape[1] == pytest.approx(12 * 44100, abs=64)
    expected = rave_decoded(lazy_db, tmp_path, lazy=True)
    first_chunk = expected['0']  # RAVE's first training crop of file 0
    np.testing.assert_allclose(audio[:, : first_chunk.shape[1]], first_chunk, atol=1e-6)


def test_pages_are_direct_key_lookups(rave_db: Path) -> None:
    db = lmdb_reader.reader(rave_db)
    count = len(db)
    first, second = db.page(0, 4), db.page(4, 4)
    assert [r.index for r in first] == [0, 1, 2, 3] and [r.index for r in second] == [4, 5, 6, 7]
    last = db.page(count - 2, 10)
    assert [r.index for r in last] == [count - 2, count - 1]
    assert db.page(count, 10) == []
    for row in first:
        audio = db.example(row.index).audio
        assert row.peak_db == pytest.approx(20 * np.log10(np.abs(audio).max()))
        assert row.rms_db == pytest.approx(20 * np.log10(np.sqrt(np.mean(audio.astype(np.float64) ** 2))), abs=1e-4)
        assert row.seconds == pytest.approx(2 * 65536 / 44100)
    with pytest.raises(IndexError):
        db.example(count)


def test_wav_export_round_trip(rave_db: Path, tmp_path: Path) -> None:
    db = lmdb_reader.reader(rave_db)
    path = db.export_wav(2, tmp_path / 'out' / 'example.wav')
    data, sr = sf.read(path, dtype='int16', always_2d=True)
    info = sf.info(path)
    assert sr == 44100 and info.subtype == 'PCM_16' and data.shape == (2 * 65536, 1)
    with lmdb_reader.open_env(rave_db).begin() as txn:
        raw = lmdb_reader.audio_example().FromString(txn.get(b'00000002')).buffers['waveform'].data
    stored = np.frombuffer(raw, np.int16)
    assert np.abs(data[:, 0].astype(np.int32) - stored).max() <= 1  # 1/32767 → 1/32768 rescaling only


def test_second_open_in_the_same_process_goes_through_the_cache(rave_db: Path) -> None:
    first = lmdb_reader.reader(rave_db)
    count = len(first)
    assert lmdb_reader.reader(str(rave_db) + '/') is first
    with pytest.raises(lmdb.Error):  # the trap the cache avoids
        lmdb.open(str(rave_db), readonly=True, lock=False)
    lmdb_reader.release(rave_db)
    again = lmdb_reader.reader(rave_db)
    assert again is not first and len(again) == count


def test_rebuilt_folder_is_reopened(tmp_path: Path, rave_db: Path) -> None:
    copy, shorter = tmp_path / 'copy', tmp_path / 'shorter'
    shutil.copytree(rave_db, copy)
    shutil.copytree(rave_db, shorter)
    before = len(lmdb_reader.reader(copy))
    _edit(shorter, lambda txn: txn.delete(lmdb_reader.key(before - 1)))
    shutil.copy(shorter / 'data.mdb', copy / 'data.new')  # as when a folder is deleted and rebuilt
    (copy / 'data.new').replace(copy / 'data.mdb')
    assert len(lmdb_reader.reader(copy)) == before - 1


def test_read_lmdb_shares_the_cache_and_leaves_nothing_open(tmp_path: Path, rave_db: Path) -> None:
    """services.datasets.read_lmdb counts through the cached env while the inspector holds it open, opens
    nothing that stays open otherwise, and a removed (then rebuilt) dataset folder drops its cached env."""
    from services.datasets.folders import read_lmdb, remove_lmdb
    copy = tmp_path / 'copy'
    shutil.copytree(rave_db, copy)
    count = len(lmdb_reader.reader(copy))  # the inspector has it open
    assert read_lmdb(copy)['examples'] == count  # no "already open in this process"
    lmdb_reader.release(copy)
    assert read_lmdb(copy)['examples'] == count
    lmdb.open(str(copy), readonly=True, lock=False).close()  # read_lmdb left nothing open
    lmdb_reader.reader(copy)
    remove_lmdb(copy)  # what a cancelled build or a delete with its files does
    assert not copy.exists() and str(copy.resolve()) not in lmdb_reader._READERS
    shutil.copytree(rave_db, copy)  # rebuilt at the same path
    assert read_lmdb(copy)['examples'] == len(lmdb_reader.reader(copy)) == count


def test_integrity_check_passes_on_a_good_database(rave_db: Path, lazy_db: Path) -> None:
    for db_path in (rave_db, lazy_db):
        steps = [(p.done, p.total, p.finished) for p in lmdb_reader.reader(db_path).check(every=2)]
        total = len(lmdb_reader.reader(db_path))
        assert steps[-1] == (total, total, True)
        assert [d for d, _, _ in steps[:-1]] == list(range(2, total + 1, 2))  # live progress on the way
        final = list(lmdb_reader.reader(db_path).check())[-1]
        assert final.problems == [] and final.problem_count == 0


def test_integrity_check_finds_a_corrupt_value_a_missing_key_and_a_short_one(rave_db: Path,
                                                                            tmp_path: Path) -> None:
    copy = tmp_path / 'broken'
    shutil.copytree(rave_db, copy)
    count = len(lmdb_reader.reader(rave_db))

    def damage(txn) -> None:
        txn.put(lmdb_reader.key(1), b'\xff\x00 definitely not a protobuf')
        txn.delete(lmdb_reader.key(3))
        message = lmdb_reader.audio_example().FromString(txn.get(lmdb_reader.key(5)))
        message.buffers['waveform'].data = message.buffers['waveform'].data[:1000]
        txn.put(lmdb_reader.key(5), message.SerializeToString())
        txn.delete(lmdb_reader.key(count - 1))

    _edit(copy, damage)
    final = list(lmdb_reader.reader(copy).check(expected=count))[-1]
    text = '\n'.join(final.problems)
    assert final.finished and final.done == count - 2
    assert 'key 00000001: the stored value does not decode' in text
    assert 'key 00000003 is missing' in text
    assert 'key 00000005: 500 samples per channel' in text
    assert f'key {count - 1:08d} is missing' in text
    assert final.problem_count == 4
    with pytest.raises(ValueError):
        lmdb_reader.reader(copy).example(1)
    damaged = lmdb_reader.reader(copy)
    assert (len(damaged), damaged.span()) == (count - 2, count - 1)  # the lost last key cannot be seen here
    rows = damaged.page(0, 6)
    assert [r.problem for r in rows] == ['', 'the stored value does not decode (not an AudioExample)', '',
                                         'missing', '', '']
    assert rows[5].seconds == pytest.approx(500 / 44100)  # decodes; only the check knows it is short


def test_integrity_check_reports_a_lazy_source_that_is_gone(lazy_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / 'lazy_copy'
    shutil.copytree(lazy_db, copy)
    gone = tmp_path / 'gone.wav'

    def repoint(txn) -> None:
        message = lmdb_reader.audio_example().FromString(txn.get(lmdb_reader.key(0)))
        message.metadata['path'] = str(gone)
        txn.put(lmdb_reader.key(0), message.SerializeToString())

    _edit(copy, repoint)
    final = list(lmdb_reader.reader(copy).check())[-1]
    assert final.problems == [f'key 00000000: source file is gone: {gone}']
    with pytest.raises(FileNotFoundError):
        lmdb_reader.reader(copy).audio(0)


def test_view_is_computed_once_and_cached(rave_db: Path) -> None:
    first = lmdb_reader.view(rave_db, 0)
    assert lmdb_reader.view(rave_db, 0) is first
    spec = first['spectrogram']
    assert spec['db'].shape == (256, len(spec['times'])) and len(spec['times']) <= 320
    assert len(first['envelope']['max']) == 800
    assert yaml.safe_load((rave_db / 'metadata.yaml').read_text())['sr'] == first['sr']
    json.dumps({k: v for k, v in first.items() if k != 'spectrogram'})  # safe to send to a page


def test_spectrogram_finds_a_sine_at_its_frequency() -> None:
    sr = 44100
    tone = (0.5 * np.sin(2 * np.pi * 1000 * np.arange(sr) / sr)).astype(np.float32)[None]
    spec = audio.spectrogram(tone, sr)
    peak_bin = int(np.argmax(spec['db'][:, spec['db'].shape[1] // 2]))
    assert abs(spec['freqs'][peak_bin] - 1000) < sr / 512
    assert spec['db'].max() == pytest.approx(20 * np.log10(0.5), abs=1.5)


def _edit(path: Path, change) -> None:
    """Change a copy with a writable env (released from the cache first, as any writer must)."""
    lmdb_reader.release(path)
    env = lmdb.open(str(path), map_size=1 << 30)
    with env.begin(write=True) as txn:
        change(txn)
    env.close()


def test_cached_wav_is_written_once_and_the_cache_stays_bounded(rave_db: Path, tmp_path: Path) -> None:
    first = lmdb_reader.cached_wav(rave_db, 0, tmp_path, keep=2)
    mtime = first.stat().st_mtime_ns
    assert lmdb_reader.cached_wav(rave_db, 0, tmp_path, keep=2) == first and first.stat().st_mtime_ns == mtime
    for index in (1, 2, 3):
        newest = lmdb_reader.cached_wav(rave_db, index, tmp_path, keep=2)
    assert sorted(p.name for p in newest.parent.glob('*.wav')) == ['00000002.wav', '00000003.wav']
    lmdb_reader.cached_wav(rave_db, 4, tmp_path, keep=10, keep_bytes=1)
    assert [p.name for p in newest.parent.glob('*.wav')] == ['00000004.wav']  # the one asked for always stays
