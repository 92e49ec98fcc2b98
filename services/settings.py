"""Studio-wide settings, kept in the database's `setting` table with documented defaults.

`SettingsService` is the engine; `Settings` is what the settings page uses: changing anything needs
`Action.SETTINGS` (an admin on a shared studio), and every value is checked here before it is kept.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services import access, logs
from services.access import Action, Actor
from services.i18n import N_, Lazy, lazy
from services.jobs import JobService
from services.store import Setting

if TYPE_CHECKING:
    from services.models.server_pool import ModelServers


@dataclass(frozen=True)
class SettingDoc:
    key: str
    default: Any
    hint: str  # an English msgid: the page shows it through _()


DOCS = [
    SettingDoc('browse_roots', [],
               N_('Folders users may browse and pick audio from (the data folder is always allowed).')),
    SettingDoc('browse_home', True,
               N_('On a studio that serves only this machine, your home folder may be browsed too (never on a '
                  'shared one).')),
    SettingDoc('default_device', 'cpu', N_('Device new trainings use unless told otherwise: "cpu" or "gpu:N".')),
    SettingDoc('python', '', N_('Python interpreter that runs RAVE jobs; empty means the studio\'s own.')),
    SettingDoc('parallel_preprocess', 1, N_('How many preprocessing jobs may run at the same time.')),
    SettingDoc('max_upload_mb', 512, N_('Largest file a browser may upload, in MB.')),
    SettingDoc('model_server_idle_min', 10,
               N_('Minutes a model may stay loaded for the Play pages with nobody using it, before its memory is '
                  'freed.')),
    SettingDoc('model_servers_max', 2, N_('How many models the Play pages may hold loaded at once.')),
    SettingDoc('model_server_memory_gb', 3.0,
               N_('Memory all loaded models together may hold, in GB; the least recently used idle one goes '
                  'first.')),
    SettingDoc('default_visibility', 'edit',
               N_('Who may use a new project of a shared studio besides its owner and members: "private", "read" '
                  '(the lab can read) or "edit" (the lab can edit).')),
    SettingDoc('log_level', 'INFO',
               N_('How much the studio writes to its own log (logs/studio.log in the data folder): DEBUG, INFO, '
                  'WARNING or ERROR. Job logs are kept whatever this says.')),
    SettingDoc('executor', {'kind': 'local'},
               N_('Where new trainings run unless a project or the wizard says otherwise: this machine, or the '
                  'SLURM cluster whose login node this machine is, with these sbatch options.')),
    SettingDoc('cloud_url', '',
               N_('An S3-compatible store (s3://bucket/folder) run folders and exports may be pushed to and pulled '
                  'from; credentials come from the usual AWS chain, never from the studio.')),
    SettingDoc('cloud_endpoint', '',
               N_('The store\'s server when it is not AWS (MinIO, Ceph…), e.g. https://s3.lab.org.')),
    SettingDoc('gpu_hour_price', 0.0,
               N_('What one GPU-hour costs (in your currency), for the cost of runs and the estimate before '
                  'launch.')),
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

    def apply_limits(self, jobs: JobService, servers: ModelServers | None = None) -> None:
        """Give the job engine the parallelism, and the model servers the limits, the settings allow (at start-up
        and whenever they change)."""
        jobs.limits['preprocess'] = max(1, int(self.get('parallel_preprocess') or 1))
        logs.set_level(self.get('log_level'))
        if servers is not None:
            servers.configure(self.python, 60.0 * float(self.get('model_server_idle_min') or 1),
                              int(self.get('model_servers_max') or 1),
                              int(float(self.get('model_server_memory_gb') or 1) * 1024 ** 3))

    def roots(self) -> list[Path]:
        """Folders the file browser may show; everything else is refused."""
        extra = [Path(p).expanduser().resolve() for p in self.get('browse_roots') or []]
        return [self.data_dir.resolve(), *extra]

    def within_roots(self, path: str | Path) -> bool:
        target = Path(path).expanduser().resolve()
        return any(target == root or root in target.parents for root in self.roots())


class SettingsError(ValueError):
    """A setting that is not saved, with a sentence saying what to change."""

    def __init__(self, message: str | Lazy, key: str = '') -> None:
        super().__init__(message)  # a Lazy message is said in the language of the page that shows it
        self.key = key  # the setting at fault, so the page can show the sentence beside it


@dataclass(frozen=True)
class SettingsView:
    """Every setting with its value (the fields are the keys of DOCS)."""
    browse_roots: tuple[str, ...]
    browse_home: bool
    default_device: str
    python: str
    parallel_preprocess: int
    max_upload_mb: int
    model_server_idle_min: int = 10
    model_servers_max: int = 2
    model_server_memory_gb: float = 3.0
    default_visibility: str = 'edit'
    log_level: str = 'INFO'
    executor: dict | None = None  # kept by the Cluster facade's own card (None here: left as it is)
    cloud_url: str | None = None
    cloud_endpoint: str | None = None
    gpu_hour_price: float | None = None


@access.acts
class Settings:
    """The studio settings as the acting user may see and change them."""

    def __init__(self, engine: SettingsService, jobs: JobService, actor: Actor,
                 servers: ModelServers | None = None) -> None:
        self._engine = engine
        self._jobs = jobs
        self._servers = servers
        self.actor = actor

    @property
    def data_dir(self) -> Path:
        return self._engine.data_dir

    @property
    def may_change(self) -> bool:
        return access.allowed(self.actor, Action.SETTINGS)

    def values(self) -> SettingsView:
        values = self._engine.all()
        return SettingsView(tuple(values['browse_roots'] or ()), bool(values['browse_home']),
                            values['default_device'], values['python'] or '',
                            int(values['parallel_preprocess'] or 1), int(values['max_upload_mb'] or 1),
                            int(values['model_server_idle_min'] or 1), int(values['model_servers_max'] or 1),
                            float(values['model_server_memory_gb'] or 1), values['default_visibility'] or 'edit',
                            str(values['log_level'] or 'INFO'), dict(values['executor'] or {}),
                            values['cloud_url'] or '', values['cloud_endpoint'] or '',
                            float(values['gpu_hour_price'] or 0))

    @staticmethod
    def folder(text: str) -> str:
        """A folder to add to the browsable ones, resolved; SettingsError unless it exists."""
        folder = Path((text or '').strip()).expanduser()
        if not (text or '').strip() or not folder.is_dir():
            raise SettingsError(lazy('{folder} is not an existing folder. Check the path and try again.',
                                     folder=(text or '').strip() or lazy('That')), 'browse_roots')
        return str(folder.resolve())

    def allow_folder(self, path: str | Path) -> str:
        """Add one folder to the browsable ones at once (the "allow this folder" offered where a path was
        refused); the folder as kept."""
        access.require(self.actor, Action.SETTINGS)
        folder = self.folder(str(path))
        roots = list(self._engine.get('browse_roots') or [])
        if folder not in roots:
            self._engine.set('browse_roots', [*roots, folder])
        return folder

    def save(self, values: SettingsView) -> SettingsView:
        """Check and keep every setting, then apply the job limits; slow (it runs the chosen Python): call it
        off the event loop."""
        access.require(self.actor, Action.SETTINGS)
        python = values.python.strip()
        problem = check_python(python) if python else ''
        if problem:
            raise SettingsError(lazy('{problem} Leave the field empty to use the studio\'s own Python.',
                                     problem=problem), 'python')
        missing = [r for r in values.browse_roots if not Path(r).is_dir()]
        if missing:
            raise SettingsError(lazy('{folders} no longer exists. Remove it first.', folders=', '.join(missing)),
                                'browse_roots')
        kept = dataclasses.replace(values, python=python,
                                   browse_roots=tuple(dict.fromkeys(values.browse_roots)),
                                   parallel_preprocess=max(1, int(values.parallel_preprocess or 1)),
                                   max_upload_mb=max(1, int(values.max_upload_mb or 1)),
                                   model_server_idle_min=max(1, int(values.model_server_idle_min or 1)),
                                   model_servers_max=max(1, int(values.model_servers_max or 1)),
                                   model_server_memory_gb=max(0.5, float(values.model_server_memory_gb or 1)))
        old, before, after = self._engine.all(), {}, {}
        for key, value in dataclasses.asdict(kept).items():
            if value is not None:
                value = list(value) if isinstance(value, tuple) else value
                if old.get(key) != value:
                    before[key], after[key] = old.get(key), value
                self._engine.set(key, value)
        access.changed(before=before, after=after)
        self._engine.apply_limits(self._jobs, self._servers)
        return kept


def check_python(python: str) -> str | Lazy:
    """Return '' if `python` can run RAVE jobs, else a message saying what is wrong."""
    exe = shutil.which(python) or python
    if not os.path.isfile(exe):
        return lazy('{python} does not exist.', python=python)
    try:
        out = subprocess.run([exe, '-c', 'import importlib.metadata as m; print(m.version("acids-rave"))'],
                             capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return lazy('{python} could not be run: {error}', python=python, error=e)
    if out.returncode != 0:
        return lazy('{python} has no acids-rave installed (pip install acids-rave).', python=python)
    return ''
