"""Monitoring: metric series, smoothing, display downsampling and alerts (no UI), on synthetic and real runs;
then the run dashboard's tabs through NiceGUI's simulated user."""
from __future__ import annotations

import asyncio
import json
import math
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from nicegui import app, ui
from nicegui.testing import User
from rave_fixtures import register_dataset, tiny_spec
from waiting import see, wait_for

from services.events import RunMetrics
from services.store import Job, Run
from services.training import metrics
from services.training.metrics import Series


# ---- series and display ------------------------------------------------------------------------
def test_column_appends_like_a_list_and_views_as_numpy() -> None:
    column = metrics.Column(np.int64, capacity=2)
    for i in range(1000):
        column.append(i * 3)
    column.extend([1, 2])
    assert len(column) == 1002 and column[-1] == 2 and column[0] == 0 and column[10] == 30
    assert column.array.dtype == np.int64 and column.array[:3].tolist() == [0, 3, 6]
    assert column.index(30) == 10 and list(column)[-3:] == [2997, 1, 2]
    assert column == list(column) and not metrics.Column()


def test_ema_matches_tensorboards_debiased_recursion() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=500)
    y[100] = np.nan
    weight = 0.8
    smoothed = metrics.ema(y, weight)
    acc, count, expected = 0.0, 0, []
    for v in y:  # the reference: TensorBoard's scalar smoothing, skipping non-finite points
        if math.isfinite(v):
            acc, count = weight * acc + (1 - weight) * v, count + 1
            expected.append(acc / (1 - weight ** count))
        else:
            expected.append(v)
    assert np.allclose(smoothed, expected, equal_nan=True)
    assert np.array_equal(metrics.ema(y, 0.0), y, equal_nan=True)
    assert np.nanstd(smoothed[1:]) < np.nanstd(y)


def test_live_smoothing_continues_where_it_left_off() -> None:
    rng = np.random.default_rng(4)
    y = rng.normal(size=30_000)
    y[[7, 20_000]] = [np.nan, np.inf]
    column = metrics.Column()
    column.extend(y[:10_000])
    first = column.smoothed(0.9).copy()
    for v in y[10_000:10_050]:  # live points, one tick at a time
        column.append(v)
        column.smoothed(0.9)
    column.extend(y[10_050:])
    assert np.allclose(first, metrics.ema(y[:10_000], 0.9), equal_nan=True)
    # same as smoothing it whole
    assert np.allclose(column.smoothed(0.9), metrics.ema(y, 0.9), equal_nan=True)
    # another weight starts afresh
    assert np.allclose(column.smoothed(0.5), metrics.ema(y, 0.5), equal_nan=True)


def test_downsampling_keeps_every_extreme_and_both_ends() -> None:
    rng = np.random.default_rng(2)
    n = 1_000_003
    x = np.arange(1, n + 1)
    y = rng.normal(size=n)
    spikes = rng.choice(n, 20, replace=False)
    y[spikes] = 50.0 + np.arange(20)  # single-step spikes must survive
    xs, ys = metrics.downsample(x, y, buckets=1000)
    assert len(xs) <= 2 * 1000 + 4 and np.all(np.diff(xs) > 0)
    assert xs[0] == 1 and xs[-1] == n
    assert set(x[spikes]) <= set(xs.tolist())
    assert ys.max() == y.max() and ys.min() == y.min()
    short_x, _ = metrics.downsample(x[:50], y[:50])
    assert short_x.tolist() == x[:50].tolist()  # short series are drawn as they are


def test_display_window_zooms_to_full_detail() -> None:
    x = np.arange(100_000)
    y = np.sin(x / 50.0)
    xs, ys = metrics.display(x, y, 0.0, buckets=1000, lo=5000, hi=5600)
    # every point in view, plus one neighbour each side
    assert xs[0] <= 5000 and xs[-1] >= 5600 and len(xs) == 603
    xs, ys = metrics.display(x, np.where(x == 7, np.nan, y), 0.0, buckets=1000, lo=0, hi=20)
    assert ys[7] is None  # NaN becomes a gap (JSON null), not a crash


def test_smoothed_curves_are_drawn_as_bucket_means() -> None:
    rng = np.random.default_rng(3)
    x = np.arange(100_000)
    y = rng.normal(size=x.size)
    xs, ys = metrics.display(x, y, 0.9, buckets=500)
    assert len(xs) <= 502 and xs[0] == 0 and xs[-1] == 99_999
    smooth = metrics.ema(y, 0.9)
    # bucket of 200 steps, drawn at its middle
    assert abs(ys[1] - smooth[:200].mean()) < 1e-9 and xs[1] == 100


def test_groups_cover_every_scalar_rave_logs() -> None:
    keys = ['loss', 'multiband_spectral_distance', 'fullband_spectral_distance', 'regularization',
            'beta_factor',
            'adversarial', 'feature_matching', 'loss_dis', 'pred_real', 'pred_fake', 'lr_gen', 'lr_dis',
            'val/validation', 'val/fidelity_0.8', 'val/fidelity_0.99', 'mystery', 'epoch']
    groups = metrics.grouped(keys)
    charted = {k for _, members, _, _ in groups for k in members}
    assert set(keys) - {'epoch'} <= charted
    titles = [g[0] for g in groups]
    assert titles[:2] == ['Spectral distance', 'Validation'] and titles[-1] == 'Other metrics'
    assert {g[0]: g[2] for g in groups}['Learning rate'] is True  # log scale by default
    assert [g[0] for g in metrics.grouped([])] == ['Spectral distance', 'Validation']


# ---- alerts ------------------------------------------------------------------------------------
def _series(lines: list[dict]) -> Series:
    series = Series()
    for line in lines:
        series.add(line)
    return series


def _alerts(series: Series, **kw) -> list[metrics.Alert]:
    return metrics.alerts(series.steps, series.values, running=kw.pop('running', True),
                          last_time=series.recent[-1][0] if series.recent else None,
                          current_step=series.step, **kw)


def test_alerts_on_a_synthetic_run() -> None:
    t0 = time.time() - 3600
    lines = [{'step': s, 't': t0 + s, 'loss': 1 / s, 'beta_factor': 0.01} for s in range(1, 301)]
    lines += [{'step': 100 * k, 'event': 'validation', 'validation': 2.0, 'fidelity_0.8': 12 - 5 * k,
               'fidelity_0.99': 40 - 19 * k} for k in (1, 2)]
    series = _series(lines)
    found = {a.kind: a for a in _alerts(series, now=t0 + 300 + 30, stall_s=600, phase_1=1000)}
    # fidelity_0.99 fell to 2: not collapsed yet; fidelity_0.8 (2) is not the top level
    assert set(found) == {'phase'}
    series = _series(lines + [{'step': 300, 'event': 'validation', 'validation': 2.0, 'fidelity_0.8': 1,
                               'fidelity_0.99': 1}])
    found = {a.kind: a for a in _alerts(series, now=t0 + 301, phase_1=1000)}
    assert 'collapse' in found and found['collapse'].step == 300
    assert 'Latent collapse' in found['collapse'].message
    assert found['phase'].message.startswith('Warm-up') and found['phase'].step == 1000
    stalled = {a.kind for a in _alerts(series, now=t0 + 300 + 601, stall_s=600)}
    assert 'stall' in stalled
    assert 'stall' not in {a.kind for a in _alerts(series, now=t0 + 300 + 601, stall_s=600, running=False)}


def test_collapse_threshold_and_no_false_alarms() -> None:
    lines = [{'step': s, 't': time.time(), 'loss': 0.5} for s in range(1, 50)]
    lines.append({'step': 49, 'event': 'validation', 'validation': 1.0, 'fidelity_0.99': 2})
    series = _series(lines)
    assert _alerts(series, phase_1=None) == []  # healthy: nothing at all
    found = _alerts(series, collapse_dims=2)
    assert [a.kind for a in found] == ['collapse']


@pytest.mark.slow
def test_gan_switch_from_the_config_or_from_the_first_adversarial_scalar(tmp_path: Path,
                                                                         rave_run: Path) -> None:
    assert metrics.phase_1_duration(rave_run) == 1_000_000  # v2_small's operative config.gin
    assert metrics.phase_1_duration(rave_run / 'version_0') == 1_000_000
    assert metrics.phase_1_duration(tmp_path) is None
    lines = [{'step': s, 't': s, 'loss': 1.0} for s in range(1, 11)]
    lines += [{'step': s, 't': s, 'loss': 1.0, 'adversarial': 0.5, 'loss_dis': 0.3} for s in range(11, 20)]
    series = _series(lines)
    assert metrics.gan_start(series.steps, 1_000_000) == 11  # measured beats configured
    phase = [a for a in _alerts(series) if a.kind == 'phase']
    assert phase and phase[0].message.startswith('Adversarial training (phase 2) started at step 11')
    assert metrics.gan_start(_series(lines[:10]).steps, 500) == 500


# ---- a real run through the studio's training worker -------------------------------------------
@pytest.fixture(scope='module')
def studio_run(tmp_path_factory: pytest.TempPathFactory, rave_db: Path):
    """A tiny v2_small run through the studio's worker: 3 steps, validation at 2; returns (metrics.jsonl,
    run dir)."""
    from app.studio import Studio
    studio = Studio(tmp_path_factory.mktemp('monitor') / 'data')
    project = studio.projects.current(None)
    run = studio.training.start(project, tiny_spec(register_dataset(studio, rave_db), 'watched', max_steps=3,
                                                   val_every=2))
    run = wait_for(studio, lambda: (r := studio.training.get(run.id)).status in ('done', 'failed') and r,
                   what='the run to finish')
    job = Job.get_by_id(run.job_id)
    assert job.status == 'done', job.message
    return Path(job.folder) / 'metrics.jsonl', Path(run.folder)


@pytest.mark.slow
def test_real_metrics_have_every_step_with_learning_rates(studio_run) -> None:
    path, _ = studio_run
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    steps = [line for line in lines if 'loss' in line]
    assert [line['step'] for line in steps] == [1, 2, 3]
    for line in steps:
        assert 0 < line['lr_gen'] <= 1e-3 and 0 < line['lr_dis'] <= 1e-3  # RAVE's Adam: 1e-3 / 1e-4
        assert {'multiband_spectral_distance', 'fullband_spectral_distance', 'beta_factor'} <= set(line)
    series = _series(lines)
    groups = {title for title, *_ in metrics.grouped(series.steps)}
    assert {'Spectral distance', 'Validation', 'β warm-up', 'Learning rate', 'Latent fidelity'} <= groups
    assert _alerts(series, running=False, phase_1=metrics.phase_1_duration(studio_run[1])) == [
        a for a in _alerts(series, running=False, phase_1=1_000_000) if a.kind == 'phase']


@pytest.mark.slow
def test_nan_in_a_real_metrics_file_raises_the_divergence_alert(studio_run, tmp_path: Path) -> None:
    path, _ = studio_run
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if json.loads(line).get('step') == 2 and 'loss' in line)
    poisoned = json.loads(lines[index])
    poisoned['multiband_spectral_distance'] = float('nan')
    poisoned['loss'] = float('nan')
    lines[index] = json.dumps(poisoned)  # what the worker writes for a NaN: the bare token NaN
    assert 'NaN' in lines[index]
    copy = tmp_path / 'metrics.jsonl'
    copy.write_text('\n'.join(lines) + '\n')
    series = _series([json.loads(line) for line in copy.read_text().splitlines()])
    found = [a for a in _alerts(series, running=False) if a.kind == 'nonfinite']
    assert {a.step for a in found} == {2}
    assert any(a.message.startswith('loss became nan at step 2') for a in found)
    clean = _series([json.loads(line) for line in path.read_text().splitlines()])
    assert not [a for a in _alerts(clean, running=False) if a.kind == 'nonfinite']


# ---- the dashboard (simulated user) ------------------------------------------------------------
def synthetic_run(studio, steps: int = 400, gan_at: int = 200, folder: Path | None = None) -> Run:
    """A finished run whose job folder holds a worker-style metrics.jsonl (and optionally a real run
    folder)."""
    project = studio.projects.current(None)
    job_dir = studio.data_dir / 'jobs' / 'synthetic'
    job_dir.mkdir(parents=True)
    rng = np.random.default_rng(0)
    with open(job_dir / 'metrics.jsonl', 'w') as f:
        f.write(json.dumps({'run_dir': str(folder / 'version_0') if folder else '', 'step': 0,
                            'max_steps': steps, 'event': 'start', 't': time.time()}) + '\n')
        for s in range(1, steps + 1):
            line = {'step': s, 'max_steps': steps, 'epoch': s // 50, 't': time.time(),
                    'multiband_spectral_distance': 3 / np.sqrt(s) + rng.normal(0, .05),
                    'fullband_spectral_distance': 2 / np.sqrt(s), 'beta_factor': min(1.0, s / 100) * 0.01,
                    'lr_gen': 1e-3, 'lr_dis': 1e-4}
            if s >= gan_at:
                line.update(adversarial=2.0, feature_matching=1.0, loss_dis=0.5, pred_real=0.4,
                            pred_fake=-0.4)
            line['loss'] = line['multiband_spectral_distance'] + line['fullband_spectral_distance']
            f.write(json.dumps(line) + '\n')
            if s % 100 == 0:
                f.write(json.dumps({'step': s, 'event': 'validation', 'validation': 5 / np.sqrt(s),
                                    'fidelity_0.99': 8.0, 't': time.time()}) + '\n')
    job = Job.create(project=project, kind='train', title='Train synthetic', argv=[], folder=str(job_dir),
                     status='done')
    return Run.create(project=project, name='synthetic', folder=str(folder or ''), configs=['v2_small'],
                      status='done', step=steps, job=job,
                      params={'jobs': [job.id], 'max_steps': steps, 'val_every': 100, 'n_signal': 65536,
                              'channels': 1, 'device': 'cpu'})


def _plots(user: User, marker: str) -> list[ui.plotly]:
    card = next(iter(user.find(marker=marker).elements))
    return [e for e in card.descendants() if isinstance(e, ui.plotly)]


async def test_metrics_tab_charts_every_group_with_the_gan_line_and_live_points(
        user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    run = synthetic_run(app.studio)
    await user.open(f'/training/runs/{run.id}')
    await user.should_see('400 / 400')
    await user.should_see('Phase 2: adversarial training since step 200')
    for marker in ('chart-spectral-distance', 'chart-validation', 'chart-adversarial', 'chart-discriminator',
                   'chart-learning-rate', 'chart-latent-fidelity', 'chart-β-warm-up'):
        await user.should_see(marker=marker)
    plot = _plots(user, 'chart-spectral-distance')[0]
    figure = plot.figure
    assert figure['layout']['shapes'][0]['x0'] == 200  # the warm-up → GAN switch line
    names = [t.get('name') for t in figure['data'] if t.get('name')]
    assert names == ['loss (sum)', 'multiband', 'fullband']
    raw, smooth = figure['data'][0], figure['data'][1]
    assert len(raw['x']) == len(smooth['x']) == 400 and raw['y'] != smooth['y']  # EMA over the raw curve
    assert _plots(user, 'chart-learning-rate')[0].figure['layout']['yaxis']['type'] == 'log'

    from components import metric_chart
    sent = []
    monkeypatch.setattr(metric_chart.ui, 'run_javascript', lambda code, *a, **k: sent.append(code))
    series = app.studio.training.metrics(run)  # what the global poller does when a line arrives
    series.add({'step': 401, 't': time.time(), 'loss': 0.1, 'multiband_spectral_distance': 0.05,
                'fullband_spectral_distance': 0.05, 'adversarial': 2.0})
    app.studio.bus.publish(RunMetrics(run.id, series.step, series.version))
    for _ in range(100):
        if len(figure['data'][1]['x']) == 401:
            break
        await asyncio.sleep(0.1)
    assert figure['data'][1]['x'][-1] == 401 and len(figure['data'][1]['x']) == 401  # appended, not redrawn
    # every chart that grew in one message, with its words for screen readers (not its whole figure again)
    [message] = [code for code in sent if 'studioCharts.extend' in code]
    batch = json.loads(message.removeprefix('studioCharts.extendAll(').removesuffix(')'))
    assert len(batch) >= 2 and {b[0] for b in batch} >= {plot.id}
    assert all('up to step' in b[3] for b in batch) and '401' in plot.props['aria-label']

    user.find(marker='log-spectral-distance').click()
    assert plot.figure['layout']['yaxis']['type'] == 'log'


async def _until(condition, what: str) -> None:
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(what)


async def test_an_empty_chart_says_what_it_awaits_and_a_lone_point_is_drawn_from_step_zero(user: User) -> None:
    run = synthetic_run(app.studio, steps=60, gan_at=10_000)  # validations every 100 steps: none yet
    await user.open(f'/training/runs/{run.id}')
    await user.should_see(marker='chart-validation')
    plot = _plots(user, 'chart-validation')[0]
    layout = plot.figure['layout']
    assert [a['text'] for a in layout['annotations']] == ['No validation yet']  # not an empty frame of axes
    assert layout['xaxis']['visible'] is False and layout['yaxis']['visible'] is False
    assert 'annotations' not in _plots(user, 'chart-spectral-distance')[0].figure['layout']

    series = app.studio.training.metrics(run)  # what the global poller does when a line arrives
    series.add({'step': 60, 'event': 'validation', 'validation': 2.0, 't': time.time()})
    app.studio.bus.publish(RunMetrics(run.id, series.step, series.version))
    await _until(lambda: plot.figure['layout']['xaxis'].get('visible', True), 'the first validation drawn')
    xaxis = plot.figure['layout']['xaxis']
    assert xaxis['autorange'] is False and xaxis['range'] == [0, 63.0]  # from step 0, not a dot in ±1
    assert 'annotations' not in plot.figure['layout'] and plot.figure['data'][1]['x'] == [60]
    assert '1 points up to step 60' in plot.props['aria-label']  # redrawn whole: its words too

    series.add({'step': 61, 't': time.time(), 'loss': 0.1, 'multiband_spectral_distance': 0.05,
                'fullband_spectral_distance': 0.05})
    series.add({'step': 61, 'event': 'validation', 'validation': 1.5, 't': time.time()})
    app.studio.bus.publish(RunMetrics(run.id, series.step, series.version))
    await _until(lambda: plot.figure['data'][1]['x'] == [60, 61], 'the second validation drawn')
    assert plot.figure['layout']['xaxis']['autorange'] is True  # the curve's own range from then on


async def test_nan_alert_and_smoothing_off_on_the_page(user: User) -> None:
    run = synthetic_run(app.studio, steps=120, gan_at=10_000)
    series = app.studio.training.metrics(run)
    series.add({'step': 121, 't': time.time(), 'loss': float('nan'),
                'multiband_spectral_distance': float('nan')})
    await user.open(f'/training/runs/{run.id}')
    await user.should_see(marker='alert-nonfinite')
    await user.should_see('loss became nan at step 121')
    await user.should_see('Phase: warm-up')  # no config.gin for this run: the switch is not known yet
    plot = _plots(user, 'chart-spectral-distance')[0]
    assert plot.figure['data'][0]['x']  # the faint raw curve behind the smoothed one
    user.find(marker='smoothing').trigger('change', 0)  # what a released slider sends
    assert plot.figure['data'][0]['x'] == [] and len(plot.figure['data'][1]['x']) == 121  # raw only
    assert plot.figure['data'][1]['y'][-1] is None  # the NaN is a gap


@pytest.mark.slow
async def test_audio_tab_plays_validation_pairs(user: User, rave_run: Path) -> None:
    folder = app.studio.data_dir / 'runs' / rave_run.name
    shutil.copytree(rave_run, folder)
    run = synthetic_run(app.studio, steps=4, folder=folder)
    await user.open(f'/training/runs/{run.id}')
    user.find(marker='tab-audio').click()
    await user.should_see(marker='audio-a-input', retries=200)
    await user.should_see(marker='audio-a-reconstruction')
    await user.should_see(marker='audio-b-input')
    players = [e for e in user.find(ui.audio).elements]
    assert len(players) == 4
    assert all(p.props['src'].startswith('/media/data/cache/run_audio/') for p in players)
    response = await user.http_client.get(players[0].props['src'])
    assert response.status_code == 200 and response.content[:4] == b'RIFF'


async def test_system_tab_and_tensorboard_links(user: User) -> None:
    run = synthetic_run(app.studio, steps=10)
    await user.open(f'/training/runs/{run.id}')
    user.find(marker='tab-system').click()
    await user.should_see('CPU (machine)')
    await user.should_see(marker='system-charts')
    await user.should_see('No NVIDIA GPU found' if not app.studio.monitor.now.gpus else 'GPU 0')
    user.find(marker='tab-tensorboard').click()
    await user.should_see('Open TensorBoard for this run')
    await user.open('/training')
    user.find(marker='tensorboard').click()
    await see(user, 'Log folders', timeout=10)  # the dialog reads the project's runs first (slow on a busy box)
    await user.should_see('No run has written logs yet')


def test_no_collapse_verdict_while_beta_rises_and_a_zero_reading_is_one_dimension() -> None:
    """RAVE logs fidelity as argmax(cumulative variance > p): 0 is the first dimension alone. While β still
    rises (its warm-up) or the readings rise, a low reading is information, not a verdict."""
    warm_up = 400
    lines = [{'step': s, 't': time.time(), 'loss': 1.0,
              'beta_factor': float(np.exp(np.log(1e-6) * (1 - s / warm_up) + np.log(0.05) * s / warm_up))}
             for s in range(1, 73)]
    lines.append({'step': 72, 'event': 'validation', 'validation': 4.0, 'fidelity_0.99': 0})
    found = _alerts(_series(lines))
    assert [a.kind for a in found] == ['organising'] and found[0].level == 'info'
    assert found[0].message.startswith('Step 72: the first latent dimension alone holds 99 % of the variance')
    assert 'lower β' not in found[0].message
    settled = lines + [{'step': s, 't': time.time(), 'loss': 1.0, 'beta_factor': 0.05} for s in range(400, 461)]
    settled.append({'step': 460, 'event': 'validation', 'validation': 4.0, 'fidelity_0.99': 0})
    found = _alerts(_series(settled))
    assert [a.kind for a in found] == ['collapse']
    assert 'after the β warm-up, the first latent dimension alone holds 99 %' in found[0].message
    rising = settled[:-1] + [{'step': 460, 'event': 'validation', 'validation': 4.0, 'fidelity_0.99': 1}]
    assert [a.kind for a in _alerts(_series(rising))] == ['organising']  # 0 → 1: the latent spreads out


def test_every_page_asking_for_a_process_in_one_sample_reads_its_real_figures() -> None:
    """25 people on a run page ask for the training process's figures at each sample: they are read once per
    sample, and every asker sees the process's real CPU (a Process's CPU % covers the time since it was last
    asked: the second asker of a sample used to read ~0 %)."""
    import subprocess
    import sys
    import time

    from services.monitor import SystemMonitor
    busy = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
    try:
        monitor = SystemMonitor()
        monitor.sample()
        monitor.process(busy.pid)  # primes the process's CPU counter
        time.sleep(0.5)
        monitor.sample()
        readings = [monitor.process(busy.pid) for _ in range(25)]
        assert readings[0][0] > 20 and readings[0][1] > 1_000_000  # a busy loop: a good share of a core
        assert all(r == readings[0] for r in readings)
        time.sleep(0.3)
        monitor.sample()
        assert monitor.process(busy.pid)[0] > 20  # the next sample reads it again
    finally:
        busy.kill()
        busy.wait()
