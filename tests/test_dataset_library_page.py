"""The dataset library and dataset pages as a user meets them: every control, on real RAVE datasets."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import lmdb
import pytest
from nicegui import app
from nicegui.testing import User
from rave_fixtures import synth_audio
from waiting import until

from services.datasets import lmdb_reader
from services.datasets.folders import read_lmdb
from services.store import Dataset


def add_dataset(rave_db: Path, name: str, sources: list[str] | None = None, **extra) -> Dataset:
    """A ready dataset in the user's current project: a copy of the session's RAVE LMDB."""
    project = app.studio.projects.current(None)
    db = Path(project.location) / 'datasets' / name
    shutil.copytree(rave_db, db, ignore=shutil.ignore_patterns('lock.mdb'))
    info = read_lmdb(db)
    return Dataset.create(project=project, name=name, path=str(db.resolve()), sources=sources or [],
                          params={'num_signal': 65536, 'ext': ['wav']}, status='ready', sr=info['sr'],
                          channels=info['channels'], n_examples=info['examples'], size_bytes=info['size_bytes'],
                          n_seconds=info['examples'] * 2 * 65536 / info['sr'], **extra)


def rows_in_order(user: User) -> list[str]:
    """Names of the visible rows, top to bottom (elements are numbered in the order they are drawn)."""
    rows = [e for e in user.find(marker='dataset-table').elements.pop().descendants()
            if any(m.startswith('row-') for m in e._markers)]
    return [next(m[4:] for m in e._markers if m.startswith('row-')) for e in sorted(rows, key=lambda e: e.id)]


async def test_library_searches_filters_and_sorts(user: User) -> None:
    project = app.studio.projects.current(None)
    for i, (name, sr, channels, size, tags) in enumerate([('kicks', 44100, 1, 3000, ['drums']),
                                                        ('snares', 48000, 2, 9000, ['drums', 'live']),
                                                        ('choir', 22050, 1, 1000, ['voice'])]):
        Dataset.create(project=project, name=name, path=f'/nowhere/{name}', status='ready', sr=sr, channels=channels,
                       size_bytes=size, n_examples=10, tags=tags, created=dt.datetime(2026, 1, 1 + i),
                       sources=[f'/audio/{name} takes'])
    await user.open('/datasets')
    await user.should_see(marker='row-kicks')
    assert rows_in_order(user) == ['choir', 'snares', 'kicks']  # newest first
    await user.should_see('3 of 3 datasets')

    user.find(marker='search').type('VOI')
    await user.should_see('1 of 3 datasets')
    await user.should_not_see(marker='row-kicks')
    user.find(marker='search').type('zzz')
    await user.should_see('None of the 3 datasets match.')
    user.find(marker='search').clear()
    await user.should_see('3 of 3 datasets')

    user.find(marker='filter-tags').elements.pop().set_value(['drums'])
    await user.should_see('2 of 3 datasets')
    user.find(marker='filter-channels').elements.pop().set_value(2)
    await user.should_see('1 of 3 datasets')
    await user.should_see(marker='row-snares')
    user.find(marker='filter-tags').elements.pop().set_value([])
    user.find(marker='filter-channels').elements.pop().set_value(None)
    user.find(marker='filter-sr').elements.pop().set_value(22050)
    await user.should_see('1 of 3 datasets')
    await user.should_see(marker='row-choir')
    user.find(marker='filter-sr').elements.pop().set_value(None)

    user.find(marker='sort').elements.pop().set_value('size')
    await user.should_see('3 of 3 datasets')
    await until(lambda: rows_in_order(user) == ['snares', 'kicks', 'choir'], timeout=10)
    user.find(marker='sort-direction').click()
    await until(lambda: rows_in_order(user) == ['choir', 'kicks', 'snares'], timeout=10)
    user.find(marker='sort').elements.pop().set_value('name')
    await until(lambda: rows_in_order(user) == ['choir', 'kicks', 'snares'], timeout=10)

    user.find(marker='row-kicks').click()
    await user.should_see(marker='tab-statistics')
    await user.should_see('kicks')


async def test_import_archive_from_the_library(user: User, rave_db: Path, tmp_path: Path) -> None:
    source = add_dataset(rave_db, 'tones', tags=['synth'])
    archive = app.studio.library.export_archive(source, app.studio.data_dir / 'backup.ravedata.tar')
    await user.open('/datasets')
    user.find(marker='import-archive').click()
    await user.should_see(marker='import-dialog')
    user.find(marker='import-go').click()
    await user.should_see('Upload an archive or give its path first.')
    user.find(marker='import-path').type(str(app.studio.data_dir / 'nothing.tar'))
    user.find(marker='import-go').click()
    await user.should_see('is not a file')
    user.find(marker='import-path').clear().type(str(archive))
    user.find(marker='import-name').type('tones restored')
    user.find(marker='import-go').click()
    await user.should_see(marker='tab-statistics', retries=100)
    restored = Dataset.get(Dataset.name == 'tones restored')
    assert restored.status == 'ready' and restored.tags == ['synth'] and restored.n_examples == source.n_examples
    await user.should_see('tones restored')


async def test_tags_and_category_editor(user: User, rave_db: Path) -> None:
    dataset = add_dataset(rave_db, 'tones')
    await user.open(f'/datasets/{dataset.id}')
    await user.should_see('No tags yet.')
    user.find(marker='tag-input').type('kick drum').trigger('keydown.enter')
    await user.should_see(marker='tag-kick drum')
    user.find(marker='tag-input').type('room').trigger('keydown.enter')
    await user.should_see(marker='tag-room')
    assert Dataset.get_by_id(dataset.id).tags == ['kick drum', 'room']
    user.find(marker='tag-kick drum').elements.pop().set_value(False)  # the chip's remove button
    await user.should_not_see(marker='tag-kick drum')
    assert Dataset.get_by_id(dataset.id).tags == ['room']
    user.find(marker='category').type('drums').trigger('keydown.enter')
    await user.should_see('Category saved.')
    assert Dataset.get_by_id(dataset.id).category == 'drums'
    await user.open('/datasets')
    await user.should_see('drums')


async def test_statistics_tab_computes_once_then_shows_charts(user: User, rave_db: Path) -> None:
    dataset = add_dataset(rave_db, 'tones')
    await user.open(f'/datasets/{dataset.id}')
    user.find(marker='tab-statistics').click()
    await user.should_see(marker='stats-loudness', retries=600)  # the worker job ends; ~5 s on a quiet machine
    await user.should_see('Median loudness')
    await user.should_see(marker='stats-spectrum')
    await user.should_see(marker='stats-centroid')
    await user.should_see(marker='stats-durations')
    await user.should_see(marker='stats-previews')
    stats = app.studio.dataset_stats.cached(dataset)
    await user.should_see(f'from all {stats["examples"]} examples')
    jobs = len([j for j in app.studio.jobs.states.values() if j.kind == 'dataset_stats'])
    await user.open(f'/datasets/{dataset.id}')  # opened again: drawn from the cache, no new job
    await user.should_see(marker='stats-loudness')
    assert len([j for j in app.studio.jobs.states.values() if j.kind == 'dataset_stats']) == jobs
    user.find(marker='stats-recompute').click()
    await user.should_see(marker='stats-computing')
    await user.should_see(marker='stats-loudness', retries=600)


async def test_validation_tab_reports_sound_then_broken_entries(user: User, rave_db: Path) -> None:
    dataset = add_dataset(rave_db, 'tones')
    await user.open(f'/datasets/{dataset.id}')
    user.find(marker='tab-validation').click()
    user.find(marker='validate').click()
    await user.should_see(f'All {dataset.n_examples} entries are sound', retries=300)

    lmdb_reader.release(dataset.path)
    env = lmdb.open(dataset.path, map_size=1 << 30)
    with env.begin(write=True) as txn:
        txn.put(b'00000000', b'\x0a\xff\xff\xff\x0f')
        txn.delete(b'00000002')
    env.close()
    user.find(marker='validate').click()
    await user.should_see('2 problem(s)', retries=300)
    await user.should_see('key 00000002 is missing')
    assert len(user.find(marker='problem').elements) == 2


async def test_export_archive_dialog_writes_a_file_to_download(user: User, rave_db: Path) -> None:
    dataset = add_dataset(rave_db, 'tones')
    await user.open(f'/datasets/{dataset.id}')
    user.find(marker='export-archive').click()
    await user.should_see('Written to', retries=300)
    archives = list(Path(dataset.project.location, 'archives').glob('tones-*.ravedata.tar'))
    assert len(archives) == 1 and app.studio.library.read_manifest(archives[0])['name'] == 'tones'
    await user.should_see(marker='export-download')


async def test_clone_dialog_starts_a_new_preprocessing_at_another_rate(user: User, rave_db: Path) -> None:
    audio = app.studio.data_dir / 'audio'
    synth_audio(audio, n_files=2, seconds=4.0)
    dataset = add_dataset(rave_db, 'tones', sources=[str(audio)])
    await user.open(f'/datasets/{dataset.id}')
    user.find(marker='clone').click()
    await user.should_see(marker='clone-dialog')
    user.find(marker='clone-name').clear().type('tones')
    user.find(marker='clone-go').click()
    await user.should_see('already has a dataset called "tones"', retries=100)
    user.find(marker='clone-name').clear().type('tones 22k')
    user.find(marker='clone-sr').elements.pop().set_value(22050)
    user.find(marker='clone-num-signal').elements.pop().set_value(16384)
    user.find(marker='clone-go').click()
    await user.should_see('Preprocessing "tones 22k" started.', retries=100)
    clone = Dataset.get(Dataset.name == 'tones 22k')
    await until(lambda: Dataset.get_by_id(clone.id).status != 'building', timeout=300)
    clone = Dataset.get_by_id(clone.id)
    assert clone.status == 'ready' and clone.sr == 22050 and clone.params['cloned_from'] == 'tones'


@pytest.mark.parametrize('remove', [False, True])
async def test_delete_dialog_names_what_it_deletes(user: User, rave_db: Path, remove: bool) -> None:
    dataset = add_dataset(rave_db, 'tones')
    await user.open(f'/datasets/{dataset.id}')
    user.find(marker='delete').click()
    await user.should_see(dataset.path)
    await user.should_see('cached statistics')
    if remove:
        user.find(marker='remove-files').click()
    user.find(marker='confirm').click()
    await user.should_see('and its folder.' if remove else 'its folder was kept', retries=50)
    assert Dataset.get_or_none(Dataset.id == dataset.id) is None
    assert Path(dataset.path).exists() is not remove


async def test_an_unknown_dataset_says_so(user: User) -> None:
    await user.open('/datasets/999')
    await user.should_see('This dataset does not exist in the current project.')


async def test_import_dialog_takes_an_upload_within_the_limit_only(user: User, rave_db: Path) -> None:
    from nicegui.elements.upload_files import SmallFileUpload
    source = add_dataset(rave_db, 'tones')
    archive = app.studio.library.export_archive(source, app.studio.data_dir / 'sent.ravedata.tar')
    data = archive.read_bytes()
    app.studio.settings.set('max_upload_mb', 1)
    await user.open('/datasets')
    user.find(marker='import-archive').click()
    upload = user.find(marker='import-upload').elements.pop()
    await upload.handle_uploads([SmallFileUpload('sent.ravedata.tar', 'application/x-tar', data)])
    await user.should_see(f'is {len(data) / 1024 ** 2:.0f} MB, over the upload limit of 1 MB', marker='import-error')
    inbox = Path(source.project.location) / 'archives' / 'incoming'
    assert not inbox.exists() or not list(inbox.iterdir())
    app.studio.settings.set('max_upload_mb', len(data) // 1024 ** 2 + 2)
    await upload.handle_uploads([SmallFileUpload('sent.ravedata.tar', 'application/x-tar', data)])
    path = user.find(marker='import-path').elements.pop()
    await until(lambda: path.value, timeout=30)
    assert Path(path.value).parent == inbox.resolve() and Path(path.value).read_bytes() == data
    user.find(marker='import-name').type('tones uploaded')
    user.find(marker='import-go').click()
    await user.should_see(marker='tab-statistics', retries=100)
    assert Dataset.get(Dataset.name == 'tones uploaded').status == 'ready'
