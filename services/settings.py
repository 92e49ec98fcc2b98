"""Studio-wide settings, kept in the database's `setting` table with documented defaults."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.store import Setting


@dataclass(frozen=True)
class SettingDoc:
    key: str
    default: Any
    hint: str


DOCS = [
    SettingDoc('browse_roots', [], 'Folders users may browse and pick audio from (the data folder is always allowed).'),
    SettingDoc('default_device', 'cpu', 'Device new trainings use unless told otherwise: "cpu" or "gpu:N".'),
    SettingDoc('python', '', 'Python interpreter that runs RAVE jobs; empty means the studio\'s own.'),
    SettingDoc('parallel_preprocess', 1, 'How many preprocessing jobs may run at the same time.'),
    SettingDoc('max_upload_mb', 512, 'Largest file a browser may upload, in MB.'),
]
DEFAULTS = {d.key: d.default for d in DOCS}


class SettingsService:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def get(self, key: str) -> Any:
        row = Setting.get_or_none(Setting.key == key)
        return row.value if row is not None else DEFAULTS.get(key)

    def set(self, key: str, value: Any) -> None:
        if key not in DEFAULTS:
            raise KeyError(f'Unknown setting {key!r}')
        Setting.insert(key=key, value=value).on_conflict_replace().execute()

    def all(self) -> dict[str, Any]:
        return {d.key: self.get(d.key) for d in DOCS}

    @property
    def python(self) -> str:
        return self.get('python') or sys.executable

    def roots(self) -> list[Path]:
        """Folders the file browser may show; everything else is refused."""
        extra = [Path(p).expanduser().resolve() for p in self.get('browse_roots') or []]
        return [self.data_dir.resolve(), *extra]

    def within_roots(self, path: str | Path) -> bool:
        target = Path(path).expanduser().resolve()
        return any(target == root or root in target.parents for root in self.roots())


def check_python(python: str) -> str:
    """Return '' if `python` can run RAVE jobs, else a message saying what is wrong."""
    exe = shutil.which(python) or python
    if not os.path.isfile(exe):
        return f'{python} does not exist.'
    try:
        out = subprocess.run([exe, '-c', 'import importlib.metadata as m; print(m.version("acids-rave"))'],
                             capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f'{python} could not be run: {e}'
    if out.returncode != 0:
        return f'{python} has no acids-rave installed (pip install acids-rave).'
    return ''
