"""Model server: the latent maths and the wire format on their own, then a real tiny RAVE export served warm.

The slow tests use the CLI-made `rave_export` (a 4-step v2_small run): what it sounds like means nothing, the
mechanics do — same seed, same bytes; controls reach the decoder; a crashed request leaves the server serving.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from rave_fixtures import run_cli
from waiting import poll_until

from services.models.server import Controls, ModelServer, ModelServerError, read_audio
from services.models.server_pool import ModelServers
from services.workers import latent, protocol

# ---- latent maths (numpy only) ----


def test_controls_scale_then_bias_on_the_first_dimensions() -> None:
    z = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = latent.apply_controls(z, np.random.default_rng(0), bias=(1.0,), scale=(2.0, 0.5))
    assert np.array_equal(out[0], z[0] * 2 + 1)
    assert np.array_equal(out[1], z[1] * 0.5)
    assert np.array_equal(out[2], z[2])
    with pytest.raises(ValueError, match='4 values were given for a latent of 3'):
        latent.apply_controls(z, np.random.default_rng(0), bias=(0, 0, 0, 0))


def test_jitter_is_seeded() -> None:
    z = np.zeros((4, 50), np.float32)
    a = latent.apply_controls(z, np.random.default_rng(7), jitter=0.5)
    b = latent.apply_controls(z, np.random.default_rng(7), jitter=0.5)
    c = latent.apply_controls(z, np.random.default_rng(8), jitter=0.5)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert 0.3 < a.std() < 0.7
    only_first = latent.apply_controls(z, np.random.default_rng(7), jitter=(0.5,))
    assert only_first[0].std() > 0 and not only_first[1:].any()


@pytest.mark.parametrize('kind', ['slerp', 'linear'])
def test_interpolation_is_exact_at_both_ends(kind: str) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((8, 5)).astype(np.float32), rng.standard_normal((8, 5)).astype(np.float32)
    ends = latent.interpolate(a, b, np.array([0.0, 0.0, 0.5, 1.0, 1.0]), kind)
    assert np.array_equal(ends[:, :2], a[:, :2]) and np.array_equal(ends[:, 3:], b[:, 3:])


def test_slerp_keeps_the_norm_that_linear_shrinks() -> None:
    a = np.array([[3.0], [0.0]])
    b = np.array([[0.0], [3.0]])
    half = np.array([0.5])
    assert np.linalg.norm(latent.interpolate(a, b, half, 'slerp')) == pytest.approx(3.0, rel=1e-6)
    assert np.linalg.norm(latent.interpolate(a, b, half, 'linear')) == pytest.approx(3 / np.sqrt(2), rel=1e-6)
    opposite = latent.slerp(np.array([[1.0]]), np.array([[2.0]]), np.array([0.5]))  # parallel: no arc to follow
    assert opposite[0, 0] == pytest.approx(1.5)


def test_random_latent_follows_seed_temperature_spread_and_keyframe_rate() -> None:
    def make(seed=3, temperature=1.0, rate=1.0, spread=None):
        spread = np.ones(4) if spread is None else spread
        return latent.random_latent(np.random.default_rng(seed), 430, 86.13, rate, temperature, np.zeros(4), spread)
    z = make()
    assert z.shape == (4, 430) and z.dtype == np.float32
    assert np.array_equal(z, make()) and not np.array_equal(z, make(seed=4))
    assert np.allclose(make(temperature=2.0), 2 * z, atol=1e-6)
    assert not make(spread=np.array([0.0, 1, 1, 1]))[0].any()
    slow, fast = np.abs(np.diff(make(rate=0.5))).mean(), np.abs(np.diff(make(rate=8.0))).mean()
    assert fast > 3 * slow  # more keyframes per second, more movement per frame


def test_pca_map_and_moments() -> None:
    rng = np.random.default_rng(0)
    frames = (rng.standard_normal((2000, 6)) * [5, 2, 1, 0.1, 0.1, 0.1]).astype(np.float32)
    projection = latent.pca(frames, 3)
    coords, explained = projection.coords, projection.explained
    assert coords.shape == (2000, 3) and explained.shape == (3,)
    assert explained[0] > explained[1] > explained[2] and explained.sum() < 1
    assert np.array_equal(coords, latent.pca(frames.copy(), 3).coords)
    back = projection.center + coords @ projection.axes  # the way back from the map: close on the 3 big axes
    assert np.abs(back - frames)[:, :3].max() < 0.5 and np.abs(back - frames).mean() < 0.1
    wide = latent.pca(frames[:, :2], 3)  # a 2-dimensional latent on a 3-D map: the third axis is flat
    assert wide.coords.shape == (2000, 3) and not wide.coords[:, 2].any() and wide.explained[2] == 0
    moments = latent.Moments.of_size(6)
    moments.add(frames[:700].T)
    moments.add(frames[700:].T)
    assert moments.count == 2000
    assert np.allclose(moments.mean(), frames.mean(axis=0), atol=1e-5)
    assert np.allclose(moments.std(), frames.std(axis=0), rtol=1e-4)
    assert latent.even_sample(10, 20).size == 10 and latent.even_sample(10_000, 100).size == 100


# ---- wire format ----


def test_frames_carry_json_and_raw_arrays() -> None:
    a, b = socket.socketpair()
    audio = np.linspace(-1, 1, 1000, dtype=np.float32).reshape(1, -1)
    protocol.send(a, {'op': 'decode', 'seed': 3}, {'audio': audio, 'index': np.arange(5), 'wide': audio.astype(float)})
    header, arrays = protocol.receive(b)
    assert header == {'op': 'decode', 'seed': 3}
    assert np.array_equal(arrays['audio'], audio) and arrays['audio'].dtype == np.float32
    assert arrays['index'].dtype == np.int32 and arrays['wide'].dtype == np.float32
    with pytest.raises(ValueError, match='cannot travel'):
        protocol.send(a, {}, {'text': np.array(['x'])})
    a.sendall(protocol.PREFIX.pack(5, 0) + b'nope!')
    with pytest.raises(protocol.ProtocolError, match='not JSON'):
        protocol.receive(b)
    a.close()
    with pytest.raises(protocol.ProtocolError, match='closed'):
        protocol.receive(b)


# ---- a real tiny export, served ----


@pytest.fixture(scope='module')
def server(rave_export: Path):
    served = ModelServer.start(rave_export, threads=2)
    yield served
    served.close()


@pytest.fixture(scope='module')
def tone(rave_audio: Path) -> tuple[np.ndarray, int]:
    """2 s of the first test file, at its own rate, read through the client's ffmpeg decoder."""
    return read_audio(rave_audio / 'tone_00.wav', max_seconds=2.0)


def audible(audio: np.ndarray) -> bool:
    return bool(np.isfinite(audio).all() and np.sqrt(np.mean(np.square(audio))) > 1e-4)


@pytest.mark.slow
def test_server_reports_the_model_and_its_memory(server: ModelServer) -> None:
    info = server.info
    assert (info.sr, info.n_channels, info.full_latent_size, info.ratio) == (44100, 1, 128, 512)
    assert 1 <= info.latent_size <= 128  # set by the export's fidelity from this run's PCA
    assert info.variational and not info.has_prior and info.frame_rate == pytest.approx(86.13, abs=0.01)
    assert info.threads == 2 and info.pid == server.process.pid
    status = server.status()
    assert status['rss_bytes'] > 100 * 1024 ** 2
    assert server.rss_bytes > 100 * 1024 ** 2


@pytest.mark.slow
def test_encode_is_deterministic_unless_sampled(server: ModelServer, tone) -> None:
    audio, sr = tone
    z = server.encode(audio, sr)
    assert z.shape == (server.info.latent_size, int(np.ceil(2.0 * 44100 / 512)))
    assert np.array_equal(z, server.encode(audio, sr))
    drawn = server.encode(audio, sr, sample=True, seed=1)
    assert np.array_equal(drawn, server.encode(audio, sr, sample=True, seed=1))
    assert not np.array_equal(drawn, server.encode(audio, sr, sample=True, seed=2))
    resampled = server.encode(audio[:, ::2], sr // 2)  # 22.05 kHz in: the server resamples
    assert resampled.shape == z.shape


@pytest.mark.slow
def test_same_seed_same_bytes(server: ModelServer, tone) -> None:
    audio, sr = tone
    z = server.encode(audio, sr)
    first, again, other = server.decode(z, seed=5), server.decode(z, seed=5), server.decode(z, seed=6)
    assert first.audio.tobytes() == again.audio.tobytes()
    assert first.audio.tobytes() != other.audio.tobytes()
    assert first.audio.shape == (1, z.shape[1] * 512) and audible(first.audio)
    assert first.rss_bytes > 0 and first.seed == 5
    settings = {'seed': 11, 'duration_s': 1.5, 'temperature': 0.8, 'keyframe_rate': 2.0,
                'controls': Controls(bias=(0.5,), jitter=0.1)}
    assert server.generate(**settings).audio.tobytes() == server.generate(**settings).audio.tobytes()


@pytest.mark.slow
def test_bias_and_scale_reach_the_decoder(server: ModelServer, tone) -> None:
    audio, sr = tone
    z = server.encode(audio, sr)
    plain = server.reconstruct(audio, sr, seed=2)
    biased = server.reconstruct(audio, sr, seed=2, controls=Controls(bias=(1.5,), scale=(2.0,)))
    assert plain.audio.shape == biased.audio.shape == audio.shape  # padding cropped to the input
    assert np.array_equal(plain.z, z)
    assert np.allclose(biased.z[0], 2 * z[0] + 1.5, atol=1e-6) and np.array_equal(biased.z[1:], z[1:])
    assert biased.audio.tobytes() != plain.audio.tobytes() and audible(biased.audio)
    louder = server.reconstruct(audio * 0.1, sr, seed=2, match_loudness=True)
    assert np.sqrt(np.mean(np.square(louder.audio))) == pytest.approx(np.sqrt(np.mean(np.square(audio * 0.1))),
                                                                      rel=1e-3)


@pytest.mark.slow
def test_bias_on_dimension_0_moves_the_reencoded_dimension_0(rave_export: Path, tone) -> None:
    """Encode the decode again: the direction needs a model that learned (set RAVE_STUDIO_TRAINED_EXPORT)."""
    audio, sr = tone
    server = ModelServer.start(os.environ.get('RAVE_STUDIO_TRAINED_EXPORT') or rave_export, threads=2)
    try:
        z = server.encode(audio, sr)
        again = server.encode(server.decode(z, seed=1).audio, server.info.sr)
        tracking = np.corrcoef(z[0], again[0])[0, 1]
        if not tracking > 0.5:
            pytest.skip(f'{Path(server.info.path).name} has not learned to invert itself (re-encoded dimension 0 '
                        f'correlates {tracking:.2f} with the original): the direction cannot be seen')
        spread = float(z[0].std()) or 1.0
        up = server.encode(server.decode(z, seed=1, controls=Controls(bias=(2 * spread,))).audio, server.info.sr)
        down = server.encode(server.decode(z, seed=1, controls=Controls(bias=(-2 * spread,))).audio, server.info.sr)
        assert up[0].mean() > again[0].mean() > down[0].mean()
    finally:
        server.close()


@pytest.mark.slow
def test_interpolation_endpoints_are_the_inputs(server: ModelServer, tone) -> None:
    audio, sr = tone
    size = server.info.latent_size
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(size).astype(np.float32), rng.standard_normal(size).astype(np.float32)
    morph = server.interpolate(a, b, seed=4, kind='slerp', duration_s=1.0)
    assert morph.z.shape == (size, 87)
    assert np.array_equal(morph.z[:, 0], a) and np.array_equal(morph.z[:, -1], b) and audible(morph.audio)
    held = server.interpolate(a, b, seed=4, mix=0.0, kind='slerp', duration_s=1.0)
    assert held.audio.tobytes() == server.decode(np.repeat(a[:, None], 87, axis=1), seed=4).audio.tobytes()
    first, second = server.encode(audio, sr), server.encode(audio[:, ::-1].copy(), sr)
    sounds = server.interpolate(first, second[:, :100], seed=4)
    assert sounds.z.shape == (size, 100)
    assert np.array_equal(sounds.z[:, 0], first[:, 0]) and np.array_equal(sounds.z[:, -1], second[:, 99])
    halfway = server.interpolate(first, second, mix=0.5)
    assert np.allclose(halfway.z, (first + second) / 2, atol=1e-6)


@pytest.mark.slow
def test_generation_duration_seed_temperature(server: ModelServer) -> None:
    size = server.info.latent_size
    render = server.generate(seed=1, duration_s=2.5)
    assert render.audio.shape == (1, round(2.5 * 44100)) and render.z.shape == (size, 216)
    assert audible(render.audio) and render.seconds == pytest.approx(2.5)
    assert render.audio.tobytes() != server.generate(seed=2, duration_s=2.5).audio.tobytes()
    hotter = server.generate(seed=1, duration_s=2.5, temperature=2.0)
    assert np.allclose(hotter.z, 2 * render.z, atol=1e-5)
    spread = np.ones(size, np.float32)
    spread[0] = 0
    shaped = server.generate(seed=1, duration_s=2.5, mean=np.full(size, 0.25, np.float32), spread=spread)
    assert np.all(shaped.z[0] == np.float32(0.25)) and np.allclose(shaped.z[1:], render.z[1:] + 0.25, atol=1e-6)
    with pytest.raises(ModelServerError, match=f'spread must have {size} values'):
        server.generate(spread=np.ones(size + 2))


@pytest.mark.slow
def test_statistics_and_map_of_files(server: ModelServer, rave_audio: Path) -> None:
    files = [read_audio(path, max_seconds=3.0) for path in sorted(rave_audio.glob('*.wav'))[:2]]
    seen = []
    stats = server.statistics(files, on_progress=lambda done, total, what: seen.append((done, total)))
    frames = sum(int(np.ceil(a.shape[1] / 512)) for a, _ in files)
    assert seen == [(1, 2), (2, 2)] and stats.frames == frames
    assert stats.mean.shape == stats.std.shape == (server.info.latent_size,) and (stats.std > 0).all()
    mapped = server.latent_map(files, ['a.wav', 'b.wav'], dims=3)
    assert mapped.coords.shape == (frames, 3) and mapped.frames.shape == (frames, server.info.latent_size)
    assert np.bincount(mapped.file_index).tolist() == [frames // 2, frames // 2]
    first = mapped.time_s[mapped.file_index == 0]
    assert first[0] == 0 and np.all(np.diff(first) > 0) and first[-1] < 3.0
    assert mapped.names[mapped.file_index[-1]] == 'b.wav' and len(mapped.explained) == 3
    clicked = mapped.to_latent(mapped.coords[:5])  # points of the map back to latents, ready to decode
    assert clicked.shape == (server.info.latent_size, 5) and audible(server.decode(clicked).audio)
    sampled = server.latent_map(files, ['a.wav', 'b.wav'], dims=2, max_frames=100)
    assert sampled.coords.shape == (100, 2) and sampled.frames_total == frames
    with pytest.raises(ModelServerError, match='2 or 3 dimensions'):
        server.latent_map(files, ['a.wav', 'b.wav'], dims=5)


@pytest.mark.slow
def test_a_crashed_request_comes_back_in_words_and_the_server_keeps_serving(server: ModelServer, tone) -> None:
    audio, sr = tone
    with pytest.raises(ModelServerError, match="does not know the request 'explode'"):
        server.request('explode', {})
    with pytest.raises(ModelServerError, match='The model failed on warm: float'):  # the handler itself crashed
        server.request('warm', {}, seconds=[None])
    with pytest.raises(ModelServerError, match='sample rate'):
        server.encode(audio, sr=-1)
    with pytest.raises(ModelServerError, match='dimensions ≤ 128'):
        server.decode(np.zeros((200, 4), np.float32))
    with pytest.raises(ModelServerError, match='has no prior'):
        server.prior()
    with pytest.raises(ModelServerError, match='seed is a whole number'):
        server.decode(np.zeros((1, 4), np.float32), seed=-1)
    assert server.alive and audible(server.reconstruct(audio, sr).audio)


@pytest.mark.slow
def test_a_model_that_fails_to_load_says_why(tmp_path: Path, rave_run: Path, rave_workspace: Path) -> None:
    with pytest.raises(ModelServerError, match='does not exist'):
        ModelServer.start(tmp_path / 'missing.ts')
    garbage = tmp_path / 'garbage.ts'
    garbage.write_bytes(b'not a model at all')
    with pytest.raises(ModelServerError, match='garbage.ts is not a TorchScript export'):
        ModelServer.start(garbage)
    out = tmp_path / 'streaming'
    run_cli(['export', '--run', str(rave_run), '--output', str(out), '--name', 'live', '--streaming'], rave_workspace)
    with pytest.raises(ModelServerError, match='is a streaming export'):
        ModelServer.start(next(out.glob('live*.ts')))


@pytest.mark.slow
def test_a_checkpoint_serves_like_its_export(server: ModelServer, rave_run: Path) -> None:
    """A run's checkpoint, scripted in memory as `rave export` does, decodes byte-identically to the export."""
    newest = max(rave_run.rglob('*.ckpt'), key=lambda p: p.stat().st_mtime)  # the one `rave export` picked
    served = ModelServer.start(newest, threads=2)
    try:
        assert served.info.latent_size == server.info.latent_size and served.info.variational
        z = np.random.default_rng(0).standard_normal((server.info.latent_size, 40)).astype(np.float32)
        assert served.decode(z, seed=9).audio.tobytes() == server.decode(z, seed=9).audio.tobytes()
    finally:
        served.close()


TOY_WITH_PRIOR = '''
import sys, torch
class Toy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.sr, self.n_channels, self.latent_size, self.full_latent_size = 8000, 1, 4, 4
        self.register_buffer('encode_params', torch.tensor([1, 1, 4, 64]))
    @torch.jit.export
    def get_methods(self): return ['encode', 'decode', 'prior']
    @torch.jit.export
    def encode(self, x): return torch.nn.functional.avg_pool1d(x, 64).repeat(1, 4, 1)
    @torch.jit.export
    def decode(self, z):
        if z.shape[-1] == 7:
            raise RuntimeError('seven frames are bad luck')
        return torch.tanh(z[:, :1].repeat_interleave(64, -1) + 0.1 * torch.randn(1, 1, z.shape[-1] * 64))
    @torch.jit.export
    def prior(self, temperature): return torch.randn(1, 4, temperature.shape[-1]) * temperature
torch.jit.script(Toy()).save(sys.argv[1])
'''


@pytest.mark.slow
def test_prior_generation_and_an_error_raised_inside_torchscript(tmp_path: Path) -> None:
    """RAVE's prior route (`prior(temperature[1,1,n])` then decode) on a scripted stand-in with a prior method."""
    script, toy = tmp_path / 'toy_prior.py', tmp_path / 'toy_prior.ts'
    script.write_text(TOY_WITH_PRIOR)  # torch.jit.script reads the class's source from its file
    subprocess.run([sys.executable, str(script), str(toy)], check=True, timeout=300)
    served = ModelServer.start(toy, threads=1)
    try:
        assert served.info.has_prior and not served.info.variational
        render = served.prior(seed=3, duration_s=1.0, temperature=0.5)
        assert render.audio.shape == (1, 8000) and render.z.shape == (4, 125) and audible(render.audio)
        assert 0.3 < render.z.std() < 0.7
        with pytest.raises(ModelServerError, match='The model failed on decode: .*seven frames are bad luck'):
            served.decode(np.zeros((4, 7), np.float32))
        assert audible(served.decode(np.ones((4, 8), np.float32)).audio)
    finally:
        served.close()


@pytest.mark.slow
def test_pool_reuses_makes_room_restarts_and_stops_idle_servers(rave_export: Path, tmp_path: Path) -> None:
    other = tmp_path / 'other.ts'
    shutil.copy(rave_export, other)
    pool = ModelServers(threads=1, idle_s=3600, max_servers=1, log_dir=tmp_path / 'logs')
    try:
        first = pool.open(rave_export)
        assert pool.open(rave_export) is first
        second = pool.open(other)  # only one may run: the idle first one makes room
        assert not first.alive and second.alive
        assert [v.model for v in pool.views()] == [str(other.resolve())] and pool.total_rss_bytes() > 0
        os.kill(second.process.pid, signal.SIGKILL)
        with pytest.raises(ModelServerError, match='stopped'):
            second.generate(duration_s=0.5)
        third = pool.open(other)
        assert third is not second and third.alive and audible(third.generate(duration_s=0.5).audio)
    finally:
        pool.close_all()
    assert not third.alive
    idle = ModelServers(threads=1, idle_s=2.0)
    try:
        with ThreadPoolExecutor(2) as pages:  # two pages open the same model at once: one start, one server
            both = list(pages.map(idle.open, [rave_export, rave_export]))
        reaped = both[0]
        assert both[1] is reaped and len(idle.views()) == 1
        # no page uses it: the reaper thread stops it on its own
        poll_until(lambda: not reaped.alive, 60, message='the idle server was not stopped')
        assert idle.views() == []
    finally:
        idle.close_all()
