"""Dataset library: tags, search/filter/sort, clone with real RAVE, archives and the LMDB validation checker."""
from __future__ import annotations

import datetime as dt
import shutil
import tarfile
import time
from pathlib import Path

import lmdb
import pytest
import yaml
from rave_fixtures import synth_audio
from waiting import build_finished

from services.datasets import lmdb_reader
from services.datasets.folders import read_lmdb
from services.datasets.preprocessing import DatasetError
from services.store import Dataset, Job

NUM_SIGNAL = 16384


@pytest.fixture
def project(studio):
    return studio.projects.create('Library')


def register(project, db: Path, name: str, **extra) -> Dataset:
    """Index an existing RAVE LMDB folder as a ready dataset, as the studio does after preprocessing."""
    info = read_lmdb(db)
    return Dataset.create(project=project, name=name, path=str(db), sources=extra.pop('sources', []),
                          params={'num_signal': 65536, **extra.pop('params', {})}, status='ready',
                          sr=info['sr'], channels=info['channels'], lazy=info['lazy'], n_examples=info['examples'],
                          n_seconds=info['examples'] * 2 * 65536 / info['sr'], size_bytes=info['size_bytes'], **extra)


def copy_db(rave_db: Path, dest: Path) -> Path:
    shutil.copytree(rave_db, dest, ignore=shutil.ignore_patterns('lock.mdb'))
    return dest


def entries(db: Path) -> dict[bytes, bytes]:
    env = lmdb.open(str(db), readonly=True, lock=False)
    try:
        with env.begin() as txn:
            return {bytes(k): bytes(v) for k, v in txn.cursor()}
    finally:
        env.close()


def test_tags_are_cleaned_and_listed(studio, project, tmp_path) -> None:
    a = Dataset.create(project=project, name='drums', path=str(tmp_path / 'a'), status='ready')
    b = Dataset.create(project=project, name='voice', path=str(tmp_path / 'b'), status='ready')
    tags = studio.library.set_tags(a, ['  Kick ', 'kick', 'room   mics', '', 'x' * 50])
    assert tags == ['Kick', 'room mics', 'x' * 32]
    studio.library.set_tags(b, ['speech', 'Room mics'])
    studio.library.set_category(b, '  voice  ')
    assert Dataset.get_by_id(a.id).tags == ['Kick', 'room mics', 'x' * 32]
    assert Dataset.get_by_id(b.id).category == 'voice'
    assert studio.library.all_tags(project) == ['Kick', 'room mics', 'speech', 'x' * 32]


def test_search_filter_and_sort(studio, project, tmp_path) -> None:
    rows = [('kicks', 44100, 1, 3_000, 10, 60.0, ['drums']), ('snares', 48000, 2, 9_000, 30, 20.0, ['drums', 'live']),
            ('choir', 22050, 1, 1_000, 50, 300.0, ['voice']), ('lazy pads', 44100, 2, 500, 5, 900.0, [])]
    for i, (name, sr, ch, size, n, seconds, tags) in enumerate(rows):
        Dataset.create(project=project, name=name, path=str(tmp_path / name), status='ready', sr=sr, channels=ch,
                       created=dt.datetime(2026, 1, 1 + i),
                       size_bytes=size, n_examples=n, n_seconds=seconds, tags=tags, lazy=name.startswith('lazy'),
                       sources=[f'/audio/{name}-takes'])
    lib = studio.library
    def names(found):
        return [d.name for d in found]

    assert names(lib.search(project, sort='name', descending=False)) == ['choir', 'kicks', 'lazy pads', 'snares']
    assert names(lib.search(project, tags=['drums'], sort='size')) == ['snares', 'kicks']
    assert names(lib.search(project, tags=['DRUMS', 'live'])) == ['snares']
    assert names(lib.search(project, sr=44100, sort='duration', descending=False)) == ['kicks', 'lazy pads']
    assert names(lib.search(project, channels=2, sort='examples')) == ['snares', 'lazy pads']
    assert names(lib.search(project, lazy=True)) == ['lazy pads']
    assert names(lib.search(project, text='VOICE')) == ['choir']  # a tag matches
    assert names(lib.search(project, text='snares-takes')) == ['snares']  # a source folder matches
    assert names(lib.search(project, text='pads lazy')) == ['lazy pads']  # every word, any order
    assert lib.search(project, text='nothing like this') == []
    assert names(lib.search(project, sort='sr')) == ['snares', 'kicks', 'lazy pads', 'choir']  # ties by name
    assert names(lib.search(project)) == ['lazy pads', 'choir', 'snares', 'kicks']  # default: newest first


def test_clone_at_another_sample_rate_runs_rave_on_the_original_sources(studio, project, data_dir) -> None:
    synth_audio(data_dir / 'audio', n_files=2, seconds=4.0)
    original = studio.datasets.start(project, 'tones', [str(data_dir / 'audio')], num_signal=NUM_SIGNAL, ext=['wav'])
    original = build_finished(studio, original)
    assert original.status == 'ready', original.params.get('message')
    studio.library.set_tags(original, ['synth'])

    with pytest.raises(DatasetError, match='already has a dataset'):
        studio.library.clone(original, 'tones', sr=22050)
    clone = studio.library.clone(original, 'tones 22k', sr=22050)
    assert clone.status == 'building' and clone.sources == original.sources
    assert '--sampling_rate 22050' in Job.get_by_id(clone.job_id).command
    clone = build_finished(studio, clone)
    assert clone.status == 'ready', clone.params.get('message')
    meta = yaml.safe_load((Path(clone.path) / 'metadata.yaml').read_text())
    assert meta['sr'] == 22050 and clone.sr == 22050
    assert clone.tags == ['synth'] and clone.params['cloned_from'] == 'tones'
    # half the rate: each example lasts twice as long, so about half as many fit
    assert 0 < clone.n_examples < original.n_examples


def test_archive_round_trip_into_another_project(studio, project, rave_db, tmp_path) -> None:
    db = copy_db(rave_db, Path(project.location) / 'datasets' / 'tiny')
    dataset = register(project, db, 'tiny', sources=['/somewhere/audio'], tags=['tones'], category='synth')
    default = studio.library.export_archive(dataset)
    assert default.parent == Path(project.location) / 'archives' and default.name.endswith('.ravedata.tar')
    seen: list[float] = []
    archive = studio.library.export_archive(dataset, tmp_path / 'tiny.ravedata.tar',
                                            progress=lambda f, what: seen.append(f))
    assert archive.exists() and not archive.with_name(archive.name + '.part').exists()
    assert seen and seen[-1] == pytest.approx(1.0)
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ['tiny/data.mdb', 'tiny/metadata.yaml', 'tiny/studio.json']

    other = studio.projects.create('Elsewhere')
    imported = studio.library.import_archive(other, archive)
    assert imported.project_id == other.id and imported.status == 'ready' and imported.name == 'tiny'
    assert Path(imported.path).parent == Path(other.location).resolve() / 'datasets'
    assert imported.tags == ['tones'] and imported.category == 'synth' and imported.sources == ['/somewhere/audio']
    assert (imported.n_examples, imported.sr, imported.channels) == (dataset.n_examples, dataset.sr, dataset.channels)
    assert entries(Path(imported.path)) == entries(db)
    assert studio.library.validate(imported).ok
    again = studio.library.import_archive(other, archive)  # a second import never overwrites the first
    assert again.name == 'tiny (2)' and Path(again.path) != Path(imported.path)
    assert not list(Path(other.location, 'datasets').glob('.*importing'))


def test_archive_import_refuses_foreign_tar_files(studio, project, tmp_path) -> None:
    evil = tmp_path / 'evil.tar'
    (tmp_path / 'x.txt').write_text('hi')
    with tarfile.open(evil, 'w') as tar:
        tar.add(tmp_path / 'x.txt', arcname='../../x.txt')
    with pytest.raises(DatasetError, match='not a RAVE Studio dataset archive'):
        studio.library.import_archive(project, evil)
    (tmp_path / 'junk.tar').write_bytes(b'not a tar at all')
    with pytest.raises(DatasetError, match='cannot be read'):
        studio.library.import_archive(project, tmp_path / 'junk.tar')
    assert Dataset.select().count() == 0


def test_validation_finds_a_corrupt_entry_and_a_missing_key(studio, project, rave_db, tmp_path) -> None:
    db = copy_db(rave_db, tmp_path / 'copy')
    dataset = register(project, db, 'copy')
    assert dataset.n_examples >= 4
    clean = studio.library.validate(dataset)
    assert clean.ok and clean.checked == clean.entries == dataset.n_examples and list(clean.problems) == []

    lmdb_reader.release(db)  # one process may hold one environment per path: the checker's goes first
    env = lmdb.open(str(db), map_size=1 << 30)
    with env.begin(write=True) as txn:
        txn.put(b'00000001', txn.get(b'00000001')[:1000])  # cut short: the protobuf no longer parses
        txn.delete(b'00000002')
    env.close()
    progress: list[float] = []
    report = studio.library.validate(dataset, progress=lambda f, what: progress.append(f))
    assert not report.ok and report.problem_count == 2
    assert any(p.startswith('key 00000001:') and 'does not decode' in p for p in report.problems)
    assert 'key 00000002 is missing' in report.problems
    assert report.checked == dataset.n_examples - 1 and progress[-1] == 1.0


def test_validation_reports_a_dataset_folder_that_is_gone(studio, project, tmp_path) -> None:
    dataset = Dataset.create(project=project, name='gone', path=str(tmp_path / 'nothing'), status='ready')
    report = studio.library.validate(dataset)
    assert not report.ok and 'data.mdb is missing' in report.problems[0]


def test_delete_removes_the_studio_cache_with_the_folder(studio, project, rave_db) -> None:
    db = copy_db(rave_db, Path(project.location) / 'datasets' / 'doomed')
    dataset = register(project, db, 'doomed')
    assert studio.library.validate(dataset).ok  # holds the shared env open, as the pages do
    (db / '.studio').mkdir()
    (db / '.studio' / 'stats.json').write_text('{}')
    studio.library.delete(Dataset.get_by_id(dataset.id), remove_files=True)
    assert not db.exists() and Dataset.get_or_none(Dataset.id == dataset.id) is None
    kept = register(project, copy_db(rave_db, Path(project.location) / 'datasets' / 'kept'), 'kept')
    studio.library.delete(kept)
    assert Path(kept.path, 'data.mdb').exists()


def test_validation_copes_with_100k_entries_and_reports_progress(studio, project, tmp_path) -> None:
    from udls.generated import AudioExample

    db = tmp_path / 'big'
    example = AudioExample()
    example.buffers['waveform'].data = bytes(512)  # 256 int16 samples
    value = example.SerializeToString()
    env = lmdb.open(str(db), map_size=1 << 30)
    with env.begin(write=True) as txn:
        for i in range(100_000):
            if i != 54_321:
                txn.put(f'{i:08d}'.encode(), value)
    env.close()
    (db / 'metadata.yaml').write_text(yaml.safe_dump({'channels': 1, 'sr': 44100, 'lazy': False, 'n_seconds': 0}))
    dataset = Dataset.create(project=project, name='big', path=str(db), status='ready', channels=1,
                             n_examples=100_000)
    started, calls = time.monotonic(), []
    report = studio.library.validate(dataset, progress=lambda f, what: calls.append(f))
    assert report.checked == 99_999 and list(report.problems) == ['key 00054321 is missing']
    assert len(calls) >= 100 and calls == sorted(calls) and calls[-1] == 1.0
    assert time.monotonic() - started < 60
