"""The model library: cards (search, filter, sort, favourite, rating, thumbnail), the model page with its
checkpoint browser, statistics and architecture tree, and the model-stats worker on a real tiny RAVE run."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from nicegui import app
from nicegui.testing import User
from waiting import until

from services.access import local
from services.models import stats
from services.models.library import LibraryError
from services.models.library_cards import LibraryQuery
from services.store import Checkpoint, Dataset, Run

STATS = {'sr': 44100, 'channels': 1, 'parameters': 14_570_888, 'compression': 2048,
         'modules': [['pqmf', 16656], ['encoder', 3_945_904], ['decoder', 3_816_608], ['discriminator', 6_791_720]],
         'receptive_field': [10604, 10044], 'latent_size': 128,
         'fidelity_dims': {'0.8': 4, '0.9': 8, '0.95': 12, '0.99': 30},
         'tree': {'name': 'model', 'type': 'RAVE', 'parameters': 14_570_888, 'shape': None, 'children': [
             {'name': 'encoder', 'type': 'VariationalEncoder', 'parameters': 3_945_904, 'shape': [1, 256, 21],
              'children': [{'name': 'net', 'type': 'CachedSequential', 'parameters': 3_945_904,
                            'shape': [1, 256, 21], 'folded': 9}]},
             {'name': 'decoder', 'type': 'GeneratorV2', 'parameters': 3_816_608, 'shape': [1, 16, 2688]}]}}


def make_models(studio, root: Path) -> list[Run]:
    project = studio.projects.current(None)
    kicks = Dataset.create(project=project, name='kicks', path='/tmp/kicks', status='ready', channels=1)
    out = []
    for i, (name, configs, best) in enumerate((('bright', ['v2'], 2.5), ('dark', ['v2_small', 'causal'], 1.5),
                                               ('odd', ['v1'], None))):
        folder = root / f'{name}_0123'
        (folder / 'version_0' / 'checkpoints').mkdir(parents=True)
        (folder / 'config.gin').write_text('CAPACITY = 32\n')
        run = Run.create(project=project, dataset=kicks, name=name, folder=str(folder), configs=configs,
                         status='done', step=1000 * (i + 1), best_validation=best, last_loss=1.0, seconds=60.0 * i,
                         created=dt.datetime(2026, 6, 1 + i), tags=['drums'] if i < 2 else [])
        for kind in ('best', 'epoch'):
            path = folder / 'version_0' / 'checkpoints' / f'{kind}.ckpt'
            path.write_bytes(b'x' * 1000 * (i + 1))
            Checkpoint.create(run=run, path=str(path), step=1000 * (i + 1), kind=kind)
        out.append(run)
    return out


def test_cards_search_filter_sort_and_marks(studio, tmp_path: Path) -> None:
    runs = make_models(studio, tmp_path)
    models = studio.session(local(), None).models
    project = studio.projects.current(None)
    assert [c.name for c in models.library(project.id)] == ['odd', 'dark', 'bright']  # newest first
    card = models.library(project.id)[1]
    assert (card.dataset, card.checkpoints, card.checkpoint_bytes, card.tags) == ('kicks', 2, 4000, ('drums',))
    assert [c.name for c in models.library(project.id, LibraryQuery(search='drums dark'))] == ['dark']
    assert [c.name for c in models.library(project.id, LibraryQuery(config='causal'))] == ['dark']
    by_best = models.library(project.id, LibraryQuery(sort='best_validation', descending=False))
    assert [c.name for c in by_best] == ['dark', 'bright', 'odd']  # a run without validation last
    models.mark(runs[0].id, favourite=True, rating=4)
    models.mark(runs[2].id, rating=2)
    assert [c.name for c in models.library(project.id, LibraryQuery(favourites=True))] == ['bright']
    assert [c.name for c in models.library(project.id, LibraryQuery(min_rating=3))] == ['bright']
    with pytest.raises(LibraryError, match='1 to 5'):
        models.mark(runs[0].id, rating=6)
    models.mark(runs[0].id, rating=0)
    assert Run.get_by_id(runs[0].id).rating is None and Run.get_by_id(runs[0].id).favourite


def test_thumbnail_is_a_png_of_a_cached_reconstruction(studio) -> None:
    models = studio.session(local(), None).models
    wav = studio.data_dir / 'cache' / 'run_audio' / 'run_1' / 'version_0' / 'rec.wav'
    wav.parent.mkdir(parents=True)
    t = np.arange(44100) / 44100
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 44100)
    png = models.thumbnail(str(wav.relative_to(studio.data_dir)))
    assert png is not None and (studio.data_dir / png).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert models.thumbnail(png) is None  # not audio
    outside = studio.data_dir / 'elsewhere.wav'
    shutil.copy(wav, outside)
    assert models.thumbnail('elsewhere.wav') is None  # only the reconstructions the studio cached


def test_stats_are_read_back_only_for_the_same_checkpoint_file(tmp_path: Path) -> None:
    checkpoint = tmp_path / 'best.ckpt'
    checkpoint.write_bytes(b'x')
    stats.cache_path(checkpoint).write_text(json.dumps({**STATS, 'checkpoint': str(checkpoint),
                                                        'stamp': checkpoint.stat().st_mtime}))
    found = stats.cached(checkpoint)
    assert found.module('encoder') == 3_945_904 and found.latent_rate == pytest.approx(44100 / 2048)
    assert found.receptive_field_ms[0] == pytest.approx(240.45, abs=0.01)
    assert found.tree.children[0].children[0].folded == 9
    time.sleep(0.01)
    checkpoint.write_bytes(b'xy')  # a new file under the same name
    assert stats.cached(checkpoint) is None


def _cache_stats(run: Run) -> None:
    for c in Checkpoint.select().where(Checkpoint.run == run):
        stats.cache_path(c.path).write_text(json.dumps({**STATS, 'checkpoint': c.path,
                                                        'stamp': Path(c.path).stat().st_mtime}))


async def test_library_page_filters_and_marks(user: User, tmp_path: Path) -> None:
    runs = make_models(app.studio, tmp_path)
    await user.open('/models')
    await user.should_see(marker='open-bright')
    await user.should_see('2 · 3.9 KB')  # dark's two checkpoints
    user.find(marker='favourite-dark').click()
    await until(lambda: Run.get_by_id(runs[1].id).favourite)
    user.find(marker='library-favourites').click()
    await user.should_not_see(marker='open-bright')
    await user.should_see(marker='open-dark')
    user.find(marker='library-favourites').click()
    user.find(marker='library-search').type('nothing-like-it')
    await user.should_see('No model matches these filters.')


async def test_model_page_shows_stats_tree_and_browses_checkpoints(user: User, tmp_path: Path) -> None:
    run = make_models(app.studio, tmp_path)[0]
    _cache_stats(run)
    await user.open(f'/models/{run.id}')
    await user.should_see(marker='model-config')
    await user.should_see('3.95 M')  # the encoder's parameters
    await user.should_see('240 ms ← → 228 ms')
    await user.should_see('80%: 4 · 90%: 8 · 95%: 12 · 99%: 30 dims')
    await user.should_see(marker='architecture-tree')
    tree = next(iter(user.find(marker='architecture-tree').elements))
    nodes = json.dumps(tree.props['nodes'], ensure_ascii=False)
    assert 'encoder · VariationalEncoder · 3.95 M params · 1×256×21' in nodes
    await user.should_see(marker='checkpoint-browser')
    assert len(user.find(marker='checkpoint-delete').elements) == 2
    await user.open('/models/999')
    await user.should_see('No such model in this project')


async def test_deleting_the_last_checkpoint_asks_twice(user: User, tmp_path: Path) -> None:
    run = make_models(app.studio, tmp_path)[0]
    _cache_stats(run)
    epoch = Checkpoint.get((Checkpoint.run == run) & (Checkpoint.kind == 'epoch'))
    Path(epoch.path).unlink()  # the indexer finds every .ckpt on disk: only one is left
    epoch.delete_instance()
    await user.open(f'/models/{run.id}')
    await user.should_see(marker='checkpoint-browser')
    user.find(marker='checkpoint-delete').click()
    await user.should_see(marker='delete-checkpoint-dialog')
    user.find(marker='delete-checkpoint-yes').click()
    await user.should_see('is the last checkpoint of bright')
    user.find(marker='delete-last-no').click()
    await until(lambda: Checkpoint.select().where(Checkpoint.run == run).count() == 1)
    assert Path(Checkpoint.get(Checkpoint.run == run).path).exists()


@pytest.mark.slow
def test_stats_worker_measures_the_tiny_run(studio, rave_run: Path) -> None:
    """The worker on a real `rave train` checkpoint: parameters per module, receptive field, compression,
    latent size, fidelity, the module tree; its answer is kept next to the checkpoint."""
    project = studio.projects.current(None)
    target = Path(project.location) / 'runs' / rave_run.name
    shutil.copytree(rave_run, target)
    run = studio.exports.import_run(project, target)
    models = studio.session(local(), None).models
    best = next(c.path for c in Checkpoint.select().where(Checkpoint.run == run) if c.path.endswith('best.ckpt'))
    assert models.model_stats(run.id, best) is None
    found = models.measure(run.id, best)
    assert all(found.module(m) > 100_000 for m in ('encoder', 'decoder', 'discriminator'))
    assert found.parameters >= sum(p for _, p in found.modules)
    assert found.latent_size == 128 and found.compression in (512, 1024, 2048) and found.sr == 44100
    assert min(found.receptive_field) > 0 and [share for share, _ in found.fidelity_dims] == [0.8, 0.9, 0.95, 0.99]
    assert {c.name for c in found.tree.children} >= {'encoder', 'decoder', 'discriminator'}
    assert any(c.shape for c in found.tree.children if c.name == 'encoder')
    assert models.model_stats(run.id, best) == found  # kept next to the checkpoint
    assert stats.cache_path(best).exists()
