"""Shared fixtures: a studio on a temporary data folder, and NiceGUI's simulated `user` on it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest_plugins = ['nicegui.testing.user_plugin', 'rave_fixtures', 'prior_fixtures', 'slurm_fixtures']


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a worker per core, at most 4 (each one trains, exports and serves real RAVE models)."""
    return max(1, min(os.cpu_count() or 1, 4))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist (`--dist loadgroup`) a test file runs whole on one worker, so its module fixtures (a served
    studio, a browser) are made once; the files on the one-node SLURM share a worker (the cluster is one per
    session). Before xdist's own hook, which reads these marks."""
    on_slurm = {item.path for item in items if 'slurm' in getattr(item, 'fixturenames', ())}
    for item in items:
        if item.get_closest_marker('xdist_group') is None:
            item.add_marker(pytest.mark.xdist_group('slurm' if item.path in on_slurm else item.path.stem))


def pytest_sessionstart(session: pytest.Session) -> None:
    """The `rave-studio` command the system tests start must run this checkout, not another editable install."""
    import subprocess
    probe = 'import app, os; print(os.path.dirname(os.path.abspath(app.__file__)))'
    out = subprocess.run([sys.executable, '-c', probe],
                         cwd='/', capture_output=True, text=True, check=False,
                         env={k: v for k, v in os.environ.items() if k != 'PYTHONPATH'})
    installed = out.stdout.strip()
    if Path(installed or '/nonexistent').resolve() != (ROOT / 'app').resolve():
        pytest.exit(f'rave-studio in this environment runs {installed or "nothing"}, not {ROOT}: '
                    'run the tests with ./studio.sh test (it installs this checkout).', returncode=4)


@pytest.fixture(autouse=True)
def _close_lmdb_readers():
    """Each test starts with no LMDB held open by the reader cache (lmdb refuses a 2nd open in one process)."""
    yield
    from services.datasets import lmdb_reader
    lmdb_reader.release_all()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / 'data'
    path.mkdir()
    return path


@pytest.fixture
def studio(data_dir: Path):
    """The services without any UI, on a fresh data folder."""
    from app.studio import Studio
    return Studio(data_dir)


@pytest.fixture
async def user(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """A simulated browser user on a studio built for a fresh data folder."""
    from nicegui.testing.user_simulation import user_simulation

    monkeypatch.setenv('RAVE_STUDIO_DATA_DIR', str(data_dir))
    async with user_simulation(main_file=ROOT / 'tests' / 'studio_main.py') as u:
        yield u


@pytest.fixture(scope='module')
def served(tmp_path_factory: pytest.TempPathFactory):
    """A real `rave-studio` process on a fresh data folder, shared by one module's browser tests."""
    from studio_process import StudioProcess
    data_dir = tmp_path_factory.mktemp('served') / 'data'
    data_dir.mkdir()
    studio = StudioProcess(data_dir).start()
    yield studio
    studio.stop()


@pytest.fixture(scope='module')
def browser():
    """Debian's Chromium, signed in to every running local studio (tests/studio_process.py)."""
    from playwright.sync_api import sync_playwright
    from studio_process import launch_chromium
    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()
