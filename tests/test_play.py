"""Play, below the pages: the facade over real tiny RAVE models served warm — generation reproducible to the
byte, batches and presets, statistics and the latent map of a small dataset, controls, interpolation, paths,
automations, timbre transfer and morphing between two models, saved renders made again.

One studio (and so one model server per model) serves the whole module: starting a server costs seconds.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
from rave_fixtures import register_dataset, register_export, synth_audio
from waiting import job_finished

from services import access
from services.access import Actor, Forbidden, Role, local
from services.events import ModelServersChanged
from services.models.play import Controls, GenerateSettings, Keyframe, PlayError
from services.models.play.live import LatestOnly
from services.store import Run
from services.workers import latent


@pytest.fixture(scope='module')
def played(tmp_path_factory: pytest.TempPathFactory, rave_export: Path, rave_db: Path, rave_run: Path):
    """A studio whose project holds the tiny dataset, a run trained on it and that run's export."""
    from app.studio import Studio
    studio = Studio(tmp_path_factory.mktemp('play') / 'data')
    dataset = register_dataset(studio, rave_db)
    project = studio.projects.current(None)
    run = Run.create(project=project, dataset=dataset, name='tiny', folder=str(rave_run), status='done')
    _, export = register_export(studio, rave_export, run=run)
    play = studio.session(local(), None).play
    yield studio, play, project.id, export.path, dataset.id
    studio.shutdown()


def audible(audio: np.ndarray) -> bool:
    return bool(np.isfinite(audio).all() and np.sqrt(np.mean(np.square(audio))) > 1e-4)


def samples(render) -> np.ndarray:
    audio, _ = soundfile.read(str(render.path), dtype='float32', always_2d=True)
    return audio.T


@pytest.mark.slow
def test_the_project_models_are_its_exports_then_its_checkpoints(played) -> None:
    _, play, project_id, export, dataset_id = played
    models = play.models(project_id)
    assert models[0].path == export and models[0].kind == 'export' and models[0].dataset_id == dataset_id
    checkpoints = [m for m in models[1:] if m.kind == 'checkpoint']
    assert checkpoints and all(m.path.endswith('.ckpt') and 'tiny · ' in m.label for m in checkpoints)
    info = play.info(project_id, export)
    assert info.sr == 44100 and info.threads >= 1
    assert [v.model for v in play.servers()] == [str(Path(export).resolve())]
    with pytest.raises(PlayError, match='not an export or checkpoint of this project'):
        play.info(project_id, '/etc/passwd')


@pytest.mark.slow
def test_same_seed_and_settings_give_a_byte_identical_wav(played, tmp_path: Path) -> None:
    _, play, project_id, export, _ = played
    settings = GenerateSettings(seed=7, temperature=0.8, duration_s=1.5, keyframe_rate=2.0, bias=(0.5,), jitter=0.1)
    first, again = play.generate(project_id, export, settings), play.generate(project_id, export, settings)
    other = play.generate(project_id, export, dataclasses.replace(settings, seed=8))
    assert first.path != again.path and first.path.read_bytes() == again.path.read_bytes()
    assert other.path.read_bytes() != first.path.read_bytes()
    assert audible(samples(first)) and first.seconds == pytest.approx(1.5, abs=0.01)
    assert first.recipe['settings']['threads'] == first.threads == play.info(project_id, export).threads
    saved = play.save(project_id, first, 'drone one')
    assert saved.path.name == 'drone one.wav' and saved.path.read_bytes() == first.path.read_bytes()
    beside = json.loads(saved.path.with_suffix('.json').read_text())
    assert beside['settings']['seed'] == 7 and beside['settings']['threads'] == first.threads
    remade = play.regenerate(project_id, play.saved(project_id)[0])  # made again later from the file beside it
    assert remade.path.read_bytes() == saved.path.read_bytes()
    flac = play.save(project_id, first, 'drone one', fmt='flac')
    assert flac.path.name == 'drone one (2).flac' and soundfile.info(str(flac.path)).format == 'FLAC'
    assert play.save(project_id, first, 'drone one').path.name == 'drone one (3).wav'  # nothing is overwritten
    with pytest.raises(PlayError, match='Give the file a name'):
        play.save(project_id, first, '  ')
    with pytest.raises(PlayError, match='seed is a whole number'):
        play.generate(project_id, export, dataclasses.replace(settings, seed=-1))


@pytest.mark.slow
def test_batch_lists_its_seeds_and_a_preset_keeps_seed_and_threads(played) -> None:
    _, play, project_id, export, _ = played
    settings = GenerateSettings(seed=20, duration_s=0.5)
    batch = play.batch(project_id, export, settings, 3)
    assert [r.seed for r in batch] == [20, 21, 22] and len({r.path.read_bytes() for r in batch}) == 3
    heard = batch[1].recipe['settings']
    preset = play.save_preset(project_id, 'soft pads', export, GenerateSettings.of(heard), 'pad, Soft')
    assert preset.kind == 'preset' and preset.tags == ('pad', 'soft') and preset.data['seed'] == 21
    assert preset.data['threads'] == batch[1].threads
    again = play.generate(project_id, export, GenerateSettings.of(play.favourites(project_id, 'preset')[0].data))
    assert again.path.read_bytes() == batch[1].path.read_bytes()
    assert play.favourite_tags(project_id) == ['pad', 'soft']


@pytest.mark.slow
def test_statistics_spread_generation_and_are_cached(played) -> None:
    studio, play, project_id, export, dataset_id = played
    stats = play.statistics(project_id, export, dataset_id)
    size = play.info(project_id, export).latent_size
    assert len(stats.mean) == len(stats.std) == size and stats.frames > 1000 and min(stats.std) > 0
    cached = list((Path(studio.projects.current(None).location) / 'play' / 'cache').glob('stats-*.npz'))
    assert len(cached) == 1 and play.statistics(project_id, export, dataset_id) == stats
    spread = play.generate(project_id, export, GenerateSettings(seed=3, duration_s=1.0, spread='dataset'), stats)
    unit = play.generate(project_id, export, GenerateSettings(seed=3, duration_s=1.0))
    z_spread, z_unit = spread.z, unit.z
    assert np.allclose(z_spread, np.array(stats.mean)[:, None] + np.array(stats.std)[:, None] * z_unit, atol=1e-4)
    with pytest.raises(PlayError, match='Measure the dataset'):
        play.generate(project_id, export, GenerateSettings(spread='dataset'))


@pytest.mark.slow
def test_a_latent_map_of_the_dataset_and_a_moment_of_it(played) -> None:
    _, play, project_id, export, dataset_id = played
    view = play.latent_map(project_id, export, dataset_id, dims=2)
    assert view.method == 'pca' and view.coords.shape[1] == 2 and view.points > 1000
    assert len(view.examples) == len(view.latent_map.names) >= 2
    assert view.describe(0).startswith('example ') and view.describe(0).endswith(' s')
    original, decoded = play.moment(project_id, export, view, 100)
    assert original.seconds == pytest.approx(2.0, abs=0.01) and decoded.seconds == pytest.approx(original.seconds)
    assert audible(samples(original)) and audible(samples(decoded))
    z = play.place_latent(view, view.coords[:3])
    assert z.shape == (play.info(project_id, export).latent_size, 3)
    assert play.latent_map(project_id, export, dataset_id, dims=3).coords.shape[1] == 3


@pytest.mark.slow
def test_bias_and_scale_move_the_decoded_latent(played) -> None:
    _, play, project_id, export, _ = played
    content = play.content_file(project_id, min(_audio_dir(played).glob('take_*.wav')))
    source = play.encode(project_id, export, content)
    plain = play.decode(project_id, export, source.z, seed=1)
    biased = play.decode(project_id, export, source.z, seed=1, controls=Controls(bias=(1.0,), scale=(1.5,)))
    assert np.allclose(biased.z[0], 1.5 * source.z[0] + 1.0, atol=1e-5) and np.array_equal(biased.z[1:], source.z[1:])
    assert biased.z[0].mean() > plain.z[0].mean()
    assert biased.path.read_bytes() != plain.path.read_bytes() and audible(samples(biased))
    jittered = play.decode(project_id, export, source.z, seed=1, controls=Controls(jitter=0.5))
    assert 0.3 < float(np.std(jittered.z - source.z)) < 0.7


@pytest.mark.slow
def test_interpolation_paths_and_automation(played) -> None:
    _, play, project_id, export, dataset_id = played
    size = play.info(project_id, export).latent_size
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(size).astype(np.float32), rng.standard_normal(size).astype(np.float32)
    morph = play.interpolate(project_id, export, a, b, kind='slerp', duration_s=1.0)
    assert np.array_equal(morph.z[:, 0], a) and np.array_equal(morph.z[:, -1], b) and audible(samples(morph))
    half = play.interpolate(project_id, export, a, b, mix=0.5, kind='linear', duration_s=0.5)
    assert np.allclose(half.z, ((a + b) / 2)[:, None], atol=1e-6)
    view = play.latent_map(project_id, export, dataset_id)
    corners = np.array([view.coords.min(axis=0), view.coords.max(axis=0)])
    walked = play.path(project_id, export, view, corners, duration_s=1.0)
    assert walked.z.shape[1] == 87 and audible(samples(walked))
    assert np.allclose(walked.z[:, 0], play.place_latent(view, corners[:1])[:, 0], atol=1e-5)
    with pytest.raises(PlayError, match='at least two points'):
        play.path(project_id, export, view, corners[:1], duration_s=1.0)
    z = np.zeros((size, 86), np.float32)
    keys = [Keyframe(0.0, bias=(0.0,)), Keyframe(1.0, bias=(2.0,))]
    played_back = play.automation(project_id, export, z, keys, speed=1.0)
    assert played_back.z[0, 0] == 0 and played_back.z[0, -1] == pytest.approx(2.0, abs=0.03)
    faster = play.automation(project_id, export, z, keys, speed=2.0)  # twice as fast: the ramp ends halfway
    assert faster.z[0, 43] == pytest.approx(2.0, abs=0.05) and faster.z[0, 20] == pytest.approx(0.93, abs=0.05)


@pytest.mark.slow
def test_timbre_transfer_and_morphing_between_two_models(played, rave_export_narrow: Path) -> None:
    studio, play, project_id, export, _ = played
    _, narrow = register_export(studio, rave_export_narrow)
    play.models(project_id)
    uploads = Path(studio.projects.current(None).location) / 'uploads'  # inside the project: the file policy
    foreign = synth_audio(uploads, n_files=1, seconds=2.0, sr=22050, channels=2, seed=5, prefix='stereo')[0]
    content = play.content_file(project_id, foreign)
    assert content.sr == 22050 and content.audio.shape[0] == 2
    out = play.transfer(project_id, export, content, match_loudness=True)
    heard = samples(out)
    assert out.sr == 44100 and heard.shape == (1, 2 * 44100) and audible(heard)  # resampled, mono, cropped
    loud = np.sqrt(np.mean(np.square(samples(content.original).mean(axis=0))))
    assert np.sqrt(np.mean(np.square(heard))) == pytest.approx(loud, rel=0.35)
    other = play.transfer(project_id, narrow.path, content)
    assert other.path.read_bytes() != out.path.read_bytes() and audible(samples(other))
    ends = [play.morph(project_id, (export, narrow.path), content, mix) for mix in (0.0, 0.5, 1.0)]
    plain = [play.transfer(project_id, m, content) for m in (export, narrow.path)]
    assert np.allclose(samples(ends[0]), samples(plain[0]), atol=1e-6)
    assert np.allclose(samples(ends[2]), samples(plain[1]), atol=1e-6)
    assert np.allclose(samples(ends[1]), (samples(plain[0]) + samples(plain[1])) / 2, atol=1e-5)
    sizes = {play.info(project_id, m).latent_size for m in (export, narrow.path)}
    if len(sizes) == 1:
        assert audible(samples(play.morph(project_id, (export, narrow.path), content, 0.5, mode='latent')))
    else:
        with pytest.raises(PlayError, match='latents differ in size'):
            play.morph(project_id, (export, narrow.path), content, 0.5, mode='latent')


@pytest.mark.slow
def test_favourites_are_kept_per_project_with_names_and_tags(played, monkeypatch: pytest.MonkeyPatch) -> None:
    studio, play, project_id, export, _ = played
    point = play.add_favourite(project_id, 'point', 'bright spot', {'z': [0.1, 0.2]}, 'bright, Keep', export)
    path = play.add_favourite(project_id, 'path', 'sweep', {'places': [[0, 0], [1, 1]], 'duration_s': 4.0})
    assert [f.name for f in play.favourites(project_id, 'point')] == ['bright spot']
    assert {f.id for f in play.favourites(project_id, tag='bright')} == {point.id}
    play.retag_favourite(project_id, path.id, 'slow sweep', ['slow'])
    assert play.favourites(project_id, 'path')[0].name == 'slow sweep'
    with pytest.raises(PlayError, match='NaN'):
        play.add_favourite(project_id, 'point', 'bad', {'z': [float('nan')]})
    with pytest.raises(PlayError, match='Give the latent point a name'):
        play.add_favourite(project_id, 'point', ' ', {'z': [0.0]})
    play.delete_favourite(project_id, point.id)
    assert [f.name for f in play.favourites(project_id) if f.kind != 'preset'] == ['slow sweep']  # presets: above
    reader = studio.session(Actor('rita', shared=True), None).play
    with monkeypatch.context() as patch:
        patch.setattr(access, '_project_roles', lambda actor, project_id: Role.READ)
        assert reader.favourites(project_id)  # a reader sees them but keeps nothing
        with pytest.raises(Forbidden):
            reader.add_favourite(project_id, 'point', 'mine', {'z': [0.0]})
        patch.setattr(access, '_project_roles', lambda actor, project_id: Role.NONE)
        with pytest.raises(Forbidden):
            reader.favourites(project_id)
        with pytest.raises(Forbidden):
            reader.generate(project_id, export, GenerateSettings())


async def test_live_preview_keeps_at_most_one_render_waiting() -> None:
    import asyncio
    started, shown = [], []

    async def render(value: int) -> int:
        started.append(value)
        await asyncio.sleep(0.05)
        return value
    live = LatestOnly(render, shown.append, lambda e: None)
    live.request(0)
    await asyncio.sleep(0.01)
    for value in range(1, 10):  # a slider dragged on: nine more values while the first renders
        live.request(value)
    await live.idle()
    assert started == [0, 9] and shown == [0, 9] and live.dropped == 8


def test_path_and_nearest_latent_maths() -> None:
    line = latent.along_path(np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]), 5)
    assert np.allclose(line, [[0, 0], [0.5, 0], [1, 0], [1, 0.5], [1, 1]])
    coords = np.array([[0.0, 0.0], [1.0, 0.0]])
    frames = np.array([[1.0, 0.0], [0.0, 1.0]])
    z = latent.nearest_latent(coords, frames, np.array([[0.0, 0.0], [0.5, 0.0]]), k=2)
    assert np.allclose(z[:, 0], [1, 0]) and np.allclose(z[:, 1], [0.5, 0.5])


def _audio_dir(played) -> Path:
    studio = played[0]
    folder = Path(studio.projects.current(None).location) / 'uploads'
    if not any(folder.glob('take_*.wav')):
        synth_audio(folder, n_files=1, seconds=2.0, prefix='take')
    return folder


@pytest.mark.slow
def test_the_umap_job_lays_out_a_sample_of_the_map(played) -> None:
    studio, play, project_id, export, dataset_id = played
    view = play.latent_map(project_id, export, dataset_id)
    assert play.umap(project_id, view) is None and play.umap_status(view) == ''
    job_id = play.start_umap(project_id, view)
    assert play.start_umap(project_id, view) == job_id  # one job per map, however often it is asked
    assert job_finished(studio, job_id, 900).status == 'done', studio.jobs.log_tail(job_id)
    umap = play.umap(project_id, view)
    assert umap.method == 'umap' and umap.coords.shape == (min(view.points, 2000), 2)
    assert np.isfinite(umap.coords).all() and umap.describe(0).startswith('example ')
    z = play.place_latent(umap, umap.coords[:2])  # a place on a UMAP map: the latent of the dot there
    assert np.allclose(z[:, 0], umap.latent_at(0), atol=1e-5)


def test_settings_set_the_model_server_limits_and_the_pool_says_when_it_changes(studio) -> None:
    settings = studio.session(local(), None).settings
    saved = settings.save(dataclasses.replace(settings.values(), model_server_idle_min=5, model_servers_max=3,
                                              model_server_memory_gb=1.5))
    assert (saved.model_server_idle_min, saved.model_servers_max, saved.model_server_memory_gb) == (5, 3, 1.5)
    pool = studio.servers
    assert (pool.idle_s, pool.max_servers, pool.max_rss_bytes) == (300.0, 3, int(1.5 * 1024 ** 3))
    heard = []
    studio.bus.listen(heard.append)

    class Stopped:  # a server as the pool holds it, without a child process
        def close(self) -> None:
            pass
    pool._servers['/models/a.ts'] = Stopped()
    pool.close('/models/a.ts')
    studio.bus.flush()
    assert [e for e in heard if isinstance(e, ModelServersChanged)] == [ModelServersChanged(())]
