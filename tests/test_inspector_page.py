"""The dataset inspector through NiceGUI's simulated user, on real datasets made by `rave preprocess`."""
from __future__ import annotations

import io
from pathlib import Path

import lmdb
import numpy as np
import soundfile as sf
from nicegui import app
from nicegui.testing import User

from services.datasets import lmdb_reader
from services.store import Dataset


def register(folder: Path, name: str = 'violin takes') -> Dataset:
    """A ready dataset row for an LMDB folder, as the datasets service leaves one after preprocessing."""
    studio = app.studio
    project = studio.projects.current(None)
    db = lmdb_reader.reader(folder)
    return Dataset.create(project=project, name=name, path=str(folder), status='ready', sr=db.sr,
                          channels=db.channels, lazy=db.lazy, n_examples=len(db), n_seconds=db.n_seconds,
                          params={'num_signal': 65536})


async def test_open_page_through_and_pick_examples(user: User, db_copy: Path) -> None:
    dataset = register(db_copy)
    db = lmdb_reader.reader(db_copy)
    count = len(db)
    assert count > 10
    await user.open(f'/datasets/{dataset.id}/inspect')
    await user.should_see('Inspect violin takes')
    await user.should_see(f'{count} examples · 44.1 kHz mono', marker='summary')
    await user.should_see(f'1–{count} of {count}', marker='range')
    first = db.page(0, 1)[0]
    await user.should_see('Example 1', marker='example-title')
    await user.should_see(f'{first.peak_db:.1f} dBFS', marker='metadata')
    await user.should_see(f'{first.rms_db:.1f} dBFS', marker='metadata')
    await user.should_see('131 072 samples', marker='metadata')

    user.find(marker='page-size').elements.pop().set_value(10)
    await user.should_see(f'1–10 of {count}', marker='range')
    user.find(marker='next').click()
    await user.should_see(f'11–{count} of {count}', marker='range')
    await user.should_see('Example 11', marker='example-title')
    table = user.find(marker='examples-table').elements.pop()
    assert [row['index'] for row in table.rows] == list(range(10, count))
    user.find(marker='prev').click()
    await user.should_see(f'1–10 of {count}', marker='range')

    user.find(marker='examples-table').trigger('pick', 3)
    await user.should_see('Example 4', marker='example-title')
    await user.should_see('key 00000003')
    fourth = db.page(3, 1)[0]
    await user.should_see(f'{fourth.peak_db:.1f} dBFS', marker='metadata')

    user.find(marker='jump').type(str(count)).trigger('keydown.enter')
    await user.should_see(f'Example {count}', marker='example-title')
    await user.should_see(f'11–{count} of {count}', marker='range')


async def test_player_serves_the_example_and_export_downloads_it(user: User, db_copy: Path) -> None:
    dataset = register(db_copy)
    await user.open(f'/datasets/{dataset.id}/inspect')
    await user.should_see('Example 1', marker='example-title')
    player = user.find(marker='player').elements.pop()
    response = await user.http_client.get(player.props['src'])
    assert response.status_code == 200
    played, sr = sf.read(io.BytesIO(response.content), dtype='int16')
    with lmdb_reader.open_env(db_copy).begin() as txn:
        stored = np.frombuffer(lmdb_reader.audio_example().FromString(txn.get(b'00000000'))
                               .buffers['waveform'].data, np.int16)
    assert sr == 44100 and played.shape == stored.shape
    assert np.abs(played.astype(np.int32) - stored).max() <= 1

    user.find(marker='export-wav').click()
    download = await user.download.next(timeout=10)
    assert download.status_code == 200
    exported, sr = sf.read(io.BytesIO(download.content), dtype='int16')
    assert sr == 44100 and np.array_equal(exported, played)


async def test_integrity_check_with_progress_and_problems(user: User, db_copy: Path) -> None:
    count = len(lmdb_reader.reader(db_copy))
    good = register(db_copy)
    await user.open(f'/datasets/{good.id}/inspect')
    await user.should_see('Example 1', marker='example-title')
    user.find(marker='check').click()
    await user.should_see(f'All {count} examples are present and readable', marker='check-status', retries=300)

    lmdb_reader.release(db_copy)
    env = lmdb.open(str(db_copy), map_size=1 << 30)
    with env.begin(write=True) as txn:
        txn.put(lmdb_reader.key(1), b'\x00\x01 not an example')
        txn.delete(lmdb_reader.key(4))
    env.close()
    await user.open(f'/datasets/{good.id}/inspect')
    await user.should_see(f'All {count} examples are present and readable', marker='check-status')  # last report
    user.find(marker='check').click()
    await user.should_see('2 problem(s)', marker='check-status', retries=300)
    await user.should_see('key 00000001: the stored value does not decode', marker='check-results')
    await user.should_see('key 00000004 is missing', marker='check-results')
    table = user.find(marker='examples-table').elements.pop()
    assert [row['peak'] for row in table.rows[1:5:3]] == ['unreadable', 'missing']
    user.find(marker='examples-table').trigger('pick', 1)
    await user.should_see('Example 2 cannot be shown', marker='example-error')
    user.find(marker='examples-table').trigger('pick', 2)
    await user.should_see('Example 3', marker='example-title')


async def test_lazy_dataset_shows_its_source_file(user: User, lazy_db: Path) -> None:
    db = lazy_db
    dataset = register(db, name='field recordings')
    first = lmdb_reader.reader(db).example(0)
    await user.open(f'/datasets/{dataset.id}/inspect')
    await user.should_see('lazy: references to source files', marker='summary')
    await user.should_see(first.source, marker='source', retries=100)
    await user.should_see('12.000 s', marker='metadata')


async def test_unknown_or_unreadable_dataset_says_what_to_do(user: User, tmp_path: Path) -> None:
    await user.open('/datasets/999/inspect')
    await user.should_see('This dataset does not exist in the current project.')
    empty = tmp_path / 'gone'
    empty.mkdir()
    dataset = register_missing(empty)
    await user.open(f'/datasets/{dataset.id}/inspect')
    await user.should_see('cannot be read', marker='inspector-missing')


def register_missing(folder: Path) -> Dataset:
    project = app.studio.projects.current(None)
    return Dataset.create(project=project, name='moved away', path=str(folder), status='ready', sr=44100,
                          channels=1, n_examples=3)


async def test_the_validation_tab_and_the_inspector_share_one_check(user: User, db_copy: Path) -> None:
    count = len(lmdb_reader.reader(db_copy))
    dataset = register(db_copy)
    await user.open(f'/datasets/{dataset.id}')
    user.find(marker='tab-validation').click()
    user.find(marker='validate').click()
    await user.should_see(f'All {count} entries are sound', retries=300)
    await user.open(f'/datasets/{dataset.id}/inspect')  # the report the Validation tab's check kept
    await user.should_see(f'All {count} examples are present and readable', marker='check-status')
    await user.open(f'/datasets/{dataset.id}')
    user.find(marker='tab-validation').click()
    await user.should_see(f'All {count} entries are sound')
