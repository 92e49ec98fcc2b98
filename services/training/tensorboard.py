"""TensorBoard for a run or a whole project, as child processes the studio proxies; log folders; validation audio.

Each TensorBoard serves on 127.0.0.1 under `--path_prefix /tensorboard/<id>/<secret>`, a random secret per board
that only the studio knows: app/tensorboard_proxy.py forwards `/tensorboard/<id>/...` there, so a board lives
behind the studio's guard and login, and another user of the machine cannot read it on its port. It loads event
files itself (`--load_fast false`: the fast loader would open a second, unguarded gRPC port).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from services import formatting
from services.training.views import AudioExample, AudioValidation

PREFIX = '/tensorboard'


class TensorBoardError(RuntimeError):
    """TensorBoard could not start, or an action on log folders was refused; the message says why."""


@dataclass
class Board:
    id: str
    title: str
    logdir: str
    port: int
    process: subprocess.Popen
    log: Path
    secret: str = ''  # the hidden part of its local path prefix
    started: float = field(default_factory=time.time)

    @property
    def url(self) -> str:
        return f'{PREFIX}/{self.id}/'

    @property
    def upstream(self) -> str:
        """Where the proxy forwards `url`: the board's own local address, secret prefix included."""
        return f'http://127.0.0.1:{self.port}{PREFIX}/{self.id}/{self.secret}/'

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass(frozen=True)
class LogFolder:
    run: str  # RAVE's run folder name, <name>_<ginhash>
    version: str  # version_N
    path: str
    size: int  # bytes, checkpoints included
    events: int  # number of tfevents files
    modified: float


class TensorBoardService:
    def __init__(self, data_dir: Path, python: str) -> None:
        self.data_dir = data_dir
        self.python = python
        self.boards: dict[str, Board] = {}

    # ---- processes ----------------------------------------------------------------------------
    def start(self, key: str, logdir: str | Path, title: str = '', timeout: float = 90.0) -> Board:
        """Start (or reuse) TensorBoard on `logdir`; waits until it answers. Blocking: call it off the event loop."""
        key = ''.join(c if c.isalnum() or c in '-_' else '-' for c in key)
        board = self.boards.get(key)
        if board and board.alive and board.logdir == str(logdir):
            return board
        if board:
            self.stop(key)
        if not Path(logdir).is_dir():
            raise TensorBoardError(f'{logdir} does not exist: the run has not written any logs yet.')
        port = _free_port()
        folder = self.data_dir / 'tensorboard'
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / f'{key}.log'
        secret = secrets.token_urlsafe(16)
        argv = [self.python, '-m', 'tensorboard.main', '--logdir', str(logdir), '--host', '127.0.0.1',
                '--port', str(port), '--path_prefix', f'{PREFIX}/{key}/{secret}', '--reload_interval', '5',
                '--load_fast', 'false']
        env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_'))}
        with open(log, 'ab') as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True, env=env)
        board = Board(key, title or Path(logdir).name, str(logdir), port, process, log, secret)
        self.boards[key] = board
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not board.alive:
                tail = log.read_text(errors='replace')[-600:].strip()
                self.boards.pop(key, None)
                raise TensorBoardError(f'TensorBoard exited at start: {tail or "no output"}. '
                                       'Check that the tensorboard package is installed in the studio environment.')
            if _answers(port):
                return board
            time.sleep(0.2)
        self.stop(key)
        raise TensorBoardError(f'TensorBoard did not answer within {timeout:.0f} s; the machine may be busy. '
                               'Try again.')

    def stop(self, key: str) -> None:
        board = self.boards.pop(key, None)
        if board is None or not board.alive:
            return
        try:
            os.killpg(board.process.pid, signal.SIGTERM)
            board.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(board.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            board.process.wait(timeout=10)

    def stop_all(self) -> None:
        for key in list(self.boards):
            self.stop(key)

    def target(self, key: str) -> Board | None:
        """A live board, for the proxy."""
        board = self.boards.get(key)
        return board if board and board.alive else None

    def running(self) -> list[Board]:
        return [b for b in self.boards.values() if b.alive]

    # ---- log folders --------------------------------------------------------------------------
    def log_folders(self, runs_root: str | Path) -> list[LogFolder]:
        """Every RAVE `version_N` folder under a project's runs folder, newest first."""
        out = []
        for version in Path(runs_root).glob('*/version_*'):
            if not version.is_dir():
                continue
            files = [p for p in version.rglob('*') if p.is_file()]
            out.append(LogFolder(version.parent.name, version.name, str(version), sum(p.stat().st_size for p in files),
                                 sum('tfevents' in p.name for p in files),
                                 max((p.stat().st_mtime for p in files), default=version.stat().st_mtime)))
        return sorted(out, key=lambda f: f.modified, reverse=True)

    def delete_folder(self, runs_root: str | Path, path: str | Path) -> None:
        """Delete one version_N folder (logs and checkpoints) under `runs_root`; refuses anything else."""
        root, target = Path(runs_root).resolve(), Path(path).resolve()
        if not target.is_relative_to(root) or not target.name.startswith('version_') or target.parent.parent != root:
            raise TensorBoardError(f'{path} is not a run version folder of this project: nothing deleted.')
        for board in list(self.boards.values()):
            if Path(board.logdir).resolve() == target or target.is_relative_to(Path(board.logdir).resolve()):
                self.stop(board.id)
        shutil.rmtree(target)

    # ---- validation audio ---------------------------------------------------------------------
    def validations(self, root: Path, key: str, channels: int, n_signal: int,
                    steps: list[int]) -> list[AudioValidation]:
        """Each validation's audio of every version under a run's `root`, labelled with its global step when
        `steps` (the validation steps) match them one to one. Blocking: a cached worker reads the events."""
        found = []
        for version in sorted(root.glob('version_*'), key=lambda p: int(p.name.split('_')[-1])):
            cache = self.data_dir / 'cache' / 'run_audio' / key / version.name
            index = self.audio_previews(version, channels, n_signal, cache)
            found += [(version.name, v) for v in index['validations']]
        out = []
        for i, (version, entry) in enumerate(found):
            at = steps[i] if len(steps) == len(found) else None
            step = f' · step {formatting.count(at)}' if at is not None else ''
            label = f'#{i + 1}{step}' + (f' ({version})' if version != 'version_0' else '')
            examples = tuple(AudioExample(self._relative(e['input']), self._relative(e['reconstruction']),
                                          e['input_envelope'], e['reconstruction_envelope'], e['seconds'])
                             for e in entry['examples'])
            out.append(AudioValidation(label, version, entry['sr'], examples, at))
        return out

    def _relative(self, path: str) -> str:
        return Path(path).resolve().relative_to(self.data_dir).as_posix()

    def audio_previews(self, version_dir: str | Path, channels: int, n_signal: int, cache: Path) -> dict:
        """The run's `audio_val` as WAV pairs per validation, from a worker; cached until the event files change.

        Blocking (a child process): call it off the event loop.
        """
        events = sorted(Path(version_dir).glob('events.out.tfevents.*'))
        if not events:
            return {'validations': []}
        stamp = [[p.name, p.stat().st_size] for p in events]
        index = cache / 'index.json'
        try:
            known = json.loads(index.read_text())
            if known.get('stamp') == stamp:
                return known
        except (OSError, ValueError):
            pass
        if cache.exists():
            shutil.rmtree(cache)
        env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_'))}
        done = subprocess.run([self.python, '-m', 'services.workers.tb_audio', str(version_dir), str(cache),
                               '--channels', str(channels), '--n_signal', str(n_signal)],
                              check=False, cwd=Path(__file__).resolve().parent.parent, capture_output=True,
                              text=True,
                              timeout=600, env=env)
        if done.returncode != 0:
            raise TensorBoardError(f'Reading the validation audio failed: {done.stderr.strip()[-500:]}')
        result = json.loads(index.read_text())
        result['stamp'] = stamp
        index.write_text(json.dumps(result))
        return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=0.5):
            return True
    except OSError:
        return False
