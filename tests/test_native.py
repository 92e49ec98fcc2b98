"""`rave-studio --native` under Xvfb: a real window titled RAVE Studio appears and shows the app — opened with the
launch token (the window gets it from the command): only a page the guard let through opens a websocket."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from studio_process import STUDIO, clean_env, free_port

pytestmark = pytest.mark.skipif(not (shutil.which('Xvfb') and shutil.which('xdotool')),
                                reason='needs Xvfb and xdotool')
TIMEOUT = 120.0


@pytest.fixture
def display(tmp_path: Path):
    for number in range(140, 200):
        if not Path(f'/tmp/.X11-unix/X{number}').exists() and not Path(f'/tmp/.X{number}-lock').exists():
            break
    xvfb = subprocess.Popen(['Xvfb', f':{number}', '-screen', '0', '1440x900x24', '-nolisten', 'tcp'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not Path(f'/tmp/.X11-unix/X{number}').exists():
        assert xvfb.poll() is None and time.monotonic() < deadline, 'Xvfb did not start'
        time.sleep(0.1)
    yield f':{number}'
    xvfb.terminate()
    xvfb.wait(timeout=10)


def window_ids(env: dict) -> list[str]:
    out = subprocess.run(['xdotool', 'search', '--name', 'RAVE Studio'], env=env, capture_output=True, text=True,
                         check=False)
    return out.stdout.split()


def test_native_window_appears(display: str, data_dir: Path, tmp_path: Path):
    env = clean_env(DISPLAY=display)
    env.pop('WAYLAND_DISPLAY', None)
    log = open(tmp_path / 'native.log', 'wb')  # noqa: SIM115
    port = free_port()
    studio = subprocess.Popen([STUDIO, '--native', '--port', str(port), '--data-dir', str(data_dir)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not window_ids(env):
            assert studio.poll() is None, f'exited {studio.returncode}: {(tmp_path / "native.log").read_text()[-3000:]}'
            assert time.monotonic() < deadline, f'no window: {(tmp_path / "native.log").read_text()[-3000:]}'
            time.sleep(0.5)
        window = window_ids(env)[0]
        geometry = subprocess.run(['xdotool', 'getwindowgeometry', window], env=env, capture_output=True,
                                  text=True, check=False).stdout
        width, height = (int(v) for v in geometry.split('Geometry:')[1].split()[0].split('x'))
        assert width >= 800 and height >= 500, geometry

        # the window shows the page, not a blank surface: wait until the screen has many distinct colours
        from PIL import ImageGrab
        colours = 0
        while colours < 50:
            assert time.monotonic() < deadline, f'the window stayed blank ({colours} colours)'
            time.sleep(1.0)
            shot = ImageGrab.grab(xdisplay=display)
            colours = len(shot.getcolors(1 << 24) or [])
        shot.save(tmp_path / 'screen.png')
        assert studio.poll() is None
        # the page the window shows holds a websocket open: the guard served it the app, not the "open the URL
        # rave-studio printed" refusal (which opens none); HTTP keep-alive connections close within 5 s
        assert _long_lived_connection(studio.pid, port, deadline), 'the window holds no websocket: no token?'
    finally:
        studio.terminate()
        try:
            studio.wait(timeout=20)
        except subprocess.TimeoutExpired:
            studio.kill()
            studio.wait(timeout=10)
        log.close()


def _long_lived_connection(pid: int, port: int, deadline: float) -> bool:
    """Whether the studio holds one connection on its port for longer than uvicorn's HTTP keep-alive (5 s)."""
    import psutil

    def peers() -> set:
        return {c.raddr for c in psutil.Process(pid).net_connections(kind='inet')
                if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port}
    seen = peers()
    while time.monotonic() < deadline:
        time.sleep(7.0)
        now = peers()
        if seen & now:
            return True
        seen = now
    return False
