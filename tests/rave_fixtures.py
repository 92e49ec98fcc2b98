"""Real RAVE on tiny data: synthesised audio, and session-wide dataset / run / export made by the plain CLI.

These give tests of later stages (export, explorer) a real artefact without depending on the studio code
under test; the integration test goes through the studio's own services instead.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

RAVE = str(Path(sys.executable).with_name('rave'))
TINY_TRAIN = ['--config', 'v2_small', '--channels', '1', '--gpu', '-1', '--n_signal', '65536',
              '--batch', '2', '--workers', '0']
TINY = {'base': 'v2_small', 'n_signal': 65536, 'batch': 2, 'channels': 1, 'devices': ('cpu',), 'workers': 0}


def synth_audio(folder: Path, n_files: int = 3, seconds: float = 12.0, sr: int = 44100, channels: int = 1,
                seed: int = 0, subtype: str = 'PCM_16', prefix: str = 'tone') -> list[Path]:
    """Write `n_files` musical-ish test files: gliding harmonic tones with noise bursts and an envelope."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    t = np.arange(int(seconds * sr)) / sr
    for i in range(n_files):
        f0 = 110 * 2 ** (rng.integers(0, 24) / 12)
        glide = f0 * (1 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.05, 0.3) * t))
        phase = 2 * np.pi * np.cumsum(glide) / sr
        tone = sum(np.sin(k * phase) / k for k in range(1, 6))
        env = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.5, 3) * t) ** 2
        noise = rng.normal(0, 0.05, t.size) * (np.sin(2 * np.pi * 4 * t) > 0.9)
        mono = 0.3 * tone * env + noise
        data = np.stack([np.roll(mono, 100 * c) for c in range(channels)], axis=1)
        path = folder / f'{prefix}_{i:02d}.wav'
        sf.write(path, np.clip(data, -1, 1).astype(np.float32), sr, subtype=subtype)
        paths.append(path)
    return paths


def run_cli(args: list[str], cwd: Path, stdin: str = '', timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_'))}
    out = subprocess.run([RAVE, *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                         timeout=timeout, env=env, check=False)
    assert out.returncode == 0, f'rave {args[0]} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}'
    return out


def register_dataset(studio, db_path: Path, name: str = 'tones', **fields):
    """Index a RAVE dataset made by the CLI fixtures in the studio's current project, as the Datasets page would."""
    from services.datasets import lmdb_reader
    from services.store import Dataset
    entries = lmdb_reader.entries(db_path)  # lmdb refuses a second open of a path another test holds open
    values = {'status': 'ready', 'sr': 44100, 'channels': 1, 'n_examples': entries,
              'n_seconds': entries * 2 * 65536 / 44100, 'params': {'num_signal': 65536}, **fields}
    return Dataset.create(project=studio.projects.current(None), name=name, path=str(db_path), **values)


def tiny_spec(dataset, name: str, **changes):
    """The RunSpec of a tiny CPU training (TINY_TRAIN's choices) on a registered dataset."""
    from services.training.spec import RunSpec
    return RunSpec(dataset=dataset.id, name=name, **{**TINY, **changes})


def metric_lines(job) -> list[dict]:
    """The JSON lines a training worker wrote to its job's metrics.jsonl."""
    return [json.loads(line) for line in (Path(job.folder) / 'metrics.jsonl').read_text().splitlines()]


@pytest.fixture
def gin_cache(data_dir: Path, tmp_path_factory) -> None:
    """The catalogue verdicts, computed once per session by the real gin worker and copied into this data folder."""
    if 'path' not in _GIN_CACHE:
        from services.training import configs
        status = configs.ConfigStatus(tmp_path_factory.mktemp('gin-cache'), lambda: sys.executable)
        status.compute()
        _GIN_CACHE['path'] = status.path
    (data_dir / 'cache').mkdir(exist_ok=True)
    shutil.copy(_GIN_CACHE['path'], data_dir / 'cache' / 'gin_catalogue.json')


_GIN_CACHE: dict = {}


@pytest.fixture(scope='session')
def rave_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp('rave')


@pytest.fixture(scope='session')
def rave_audio(rave_workspace: Path) -> Path:
    folder = rave_workspace / 'audio'
    synth_audio(folder, n_files=3, seconds=12.0)
    return folder


@pytest.fixture(scope='session')
def rave_db(rave_workspace: Path, rave_audio: Path) -> Path:
    """A regular RAVE dataset (mono, 44.1 kHz, num_signal 65536) made by `rave preprocess`."""
    db = rave_workspace / 'db'
    run_cli(['preprocess', '--input_path', str(rave_audio), '--output_path', str(db),
             '--num_signal', '65536', '--channels', '1', '--sampling_rate', '44100'], rave_workspace)
    return db


@pytest.fixture
def db_copy(rave_db: Path, tmp_path: Path) -> Path:
    """A copy of the session's dataset that a test may change or delete."""
    copy = tmp_path / 'db'
    shutil.copytree(rave_db, copy)
    return copy


@pytest.fixture(scope='session')
def lazy_db(rave_workspace: Path, rave_audio: Path) -> Path:
    """A lazy RAVE dataset (references to the session's audio files) made by `rave preprocess --lazy`."""
    db = rave_workspace / 'lazy_db'
    run_cli(['preprocess', '--input_path', str(rave_audio), '--output_path', str(db), '--lazy',
             '--channels', '1', '--sampling_rate', '44100'], rave_workspace, stdin='y\n')
    return db


@pytest.fixture(scope='session')
def rave_run(rave_workspace: Path, rave_db: Path) -> Path:
    """A tiny v2_small run (4 steps, validation at 2 and 4) made by `rave train`; returns its run folder."""
    out = rave_workspace / 'runs'
    run_cli(['train', *TINY_TRAIN, '--db_path', str(rave_db), '--out_path', str(out), '--name', 'tiny',
             '--max_steps', '4', '--val_every', '2'], rave_workspace)
    return next(out.glob('tiny_*'))


@pytest.fixture(scope='session')
def rave_export(rave_workspace: Path, rave_run: Path) -> Path:
    """A non-streaming TorchScript export of the tiny run."""
    out = rave_workspace / 'exports'
    out.mkdir(exist_ok=True)
    run_cli(['export', '--run', str(rave_run), '--output', str(out), '--name', 'tiny'], rave_workspace)
    return next(out.glob('tiny*.ts'))


@pytest.fixture(scope='session')
def rave_export_narrow(rave_workspace: Path, rave_run: Path) -> Path:
    """A second export of the tiny run, at fidelity 0.5: fewer latent dimensions kept, so it sounds otherwise
    (a second model to morph with, without training another)."""
    out = rave_workspace / 'exports_narrow'
    out.mkdir(exist_ok=True)
    run_cli(['export', '--run', str(rave_run), '--output', str(out), '--name', 'narrow', '--fidelity', '0.5'],
            rave_workspace)
    return next(out.glob('narrow*.ts'))


def register_export(studio, export: Path, run=None):
    """A CLI-made export copied into the current project's exports/ and indexed as finished; (project, row)."""
    import shutil

    from services.store import Export
    project = studio.projects.current(None)
    target = Path(project.location) / 'exports' / export.name
    shutil.copy(export, target)
    return project, Export.create(project=project, path=str(target), status='done', streaming=False, run=run)
