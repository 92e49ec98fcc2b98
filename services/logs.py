"""The studio's own log: Python `logging` into a rotating file in the data folder (`logs/studio.log`).

Services and the app log through `logging.getLogger(__name__)`; their packages log at the level chosen in
Settings (`log_level`), the libraries at WARNING. Job logs stay where they are (each job's `log.txt`): this file
says what the studio itself did and what went wrong in it.
"""
from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LEVELS = ('DEBUG', 'INFO', 'WARNING', 'ERROR')
PACKAGES = ('app', 'pages', 'components', 'services', 'rave_studio')  # the studio's own loggers
FILE = 'studio.log'
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 3
FORMAT = '%(asctime)s %(levelname)-7s %(name)s: %(message)s'


class StudioLogHandler(logging.handlers.RotatingFileHandler):
    """The one file handler on the root logger (a class of its own, so configuring again replaces it)."""


def folder(data_dir: Path) -> Path:
    return data_dir / 'logs'


def configure(data_dir: Path, level: str = 'INFO') -> Path:
    """Send the studio's log records to `<data>/logs/studio.log` (rotated at 2 MB, 3 kept); the file."""
    path = folder(data_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, StudioLogHandler)]:
        root.removeHandler(old)
        old.close()
    handler = StudioLogHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding='utf-8', delay=True)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    set_level(level)
    return path


def set_level(level: str) -> None:
    """The level of the studio's own loggers (an unknown name counts as INFO)."""
    chosen = getattr(logging, str(level).upper(), logging.INFO) if str(level).upper() in LEVELS else logging.INFO
    for name in PACKAGES:
        logging.getLogger(name).setLevel(chosen)


def tail(data_dir: Path, lines: int = 400) -> str:
    """The last `lines` lines of the studio log ('' before anything was logged)."""
    path = folder(data_dir) / FILE
    if not path.exists():
        return ''
    with path.open('rb') as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - 256 * 1024))
        text = f.read().decode('utf-8', 'replace')
    return '\n'.join(text.splitlines()[-lines:])
