"""What training pages see: read-only snapshots of runs, checkpoints, attempts, metrics and configs.

Each is a frozen copy built from a row (`RunView.of(row)`), so a page never holds a live ORM row and a view
never changes under it; metric arrays are read-only views of the live columns, cut at the moment of the
snapshot.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from services import formatting, lazy
from services.i18n import _
from services.training.metrics import Column, Series, ema
from services.training.spec import RunSpec

np = lazy.module('numpy')

ACTIVE = ('running', 'paused', 'queued')


@dataclass(frozen=True)
class RunView:
    """One run as a page shows it."""
    id: int
    project_id: int
    name: str
    status: str
    step: int
    spec: RunSpec
    configs: tuple[str, ...]
    created: dt.datetime
    folder: str = ''
    job_id: int | None = None
    dataset_id: int | None = None
    dataset_name: str = ''
    dataset_sr: int | None = None
    dataset_channels: int | None = None
    stopped_at: int | None = None  # where a graceful stop saved its checkpoint
    folder_gone: bool = False  # RAVE's folder was known and is not there any more (moved or deleted outside)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def max_steps(self) -> int:
        return self.spec.max_steps

    @classmethod
    def of(cls, row, spec: RunSpec, series: Series | None = None) -> RunView:
        dataset = row.dataset
        return cls(row.id, row.project_id, row.name, row.status,
                   max(row.step, series.step if series else 0), spec,
                   tuple(row.configs or ()), row.created, row.folder or '', row.job_id,
                   row.dataset_id, dataset.name if dataset else '', dataset.sr if dataset else None,
                   dataset.channels if dataset else None, (row.params or {}).get('stopped_at'),
                   bool(row.folder) and not Path(row.folder).is_dir())


@dataclass(frozen=True)
class CheckpointView:
    """A checkpoint file of a run: the step it was saved at, its kind, the validation at that step, its
    size."""
    id: int
    path: str
    kind: str  # best | epoch | stop | last
    step: int | None
    validation: float | None
    size: int  # bytes; 0 once the file is gone
    created: dt.datetime
    where: str  # version_N/checkpoints/name.ckpt, as RAVE lays it out

    @property
    def exists(self) -> bool:
        return self.size > 0

    @classmethod
    def of(cls, row, folder: str, validation: float | None) -> CheckpointView:
        path = Path(row.path)
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        try:
            where = str(path.relative_to(Path(folder))) if folder else path.name
        except ValueError:
            where = f'{path.parent.parent.name}/{path.name}'
        return cls(row.id, row.path, row.kind, row.step, validation, size, row.created, where)


@dataclass(frozen=True)
class AttemptView:
    """One process of a run: the first start, a resume or an automatic recovery."""
    number: int
    reason: str  # start | resume | recovery
    status: str
    start_step: int
    end_step: int | None
    checkpoint: str
    message: str
    created: dt.datetime

    @classmethod
    def of(cls, row) -> AttemptView:
        return cls(row.number, row.reason, row.status, row.start_step, row.end_step, row.checkpoint or '',
                   row.message or '', row.created)


@dataclass(frozen=True)
class QueuedRun:
    """A training waiting for its device."""
    job_id: int
    run_id: int | None
    name: str
    device: str
    place: int  # 0-based, in the device's line
    length: int
    reason: str  # start | resume | recovery
    configs: tuple[str, ...] = ()
    max_steps: int | None = None


@dataclass(frozen=True)
class Trace:
    """One scalar's points: steps and values as read-only arrays (and its smoothed curve, computed once)."""
    steps: np.ndarray
    values: np.ndarray
    _column: Column | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.values)

    def smoothed(self, weight: float) -> np.ndarray:
        """TensorBoard's debiased EMA of the values (the live column keeps it between calls)."""
        if self._column is None:
            return ema(self.values, weight)
        return _frozen(self._column.smoothed(weight)[:len(self.values)])


@dataclass(frozen=True)
class MetricsView:
    """A run's metrics at one moment: the figures of the summary and every scalar's trace."""
    step: int = 0
    epoch: int = 0
    max_steps: int = 0
    rate: float | None = None  # steps per second over the recent window
    paused: bool = False  # the worker waits between two steps
    last_time: float | None = None  # when the newest step was logged
    version: int = 0  # moves with every new line
    traces: Mapping[str, Trace] = field(default_factory=dict)

    @classmethod
    def of(cls, series: Series) -> MetricsView:
        traces = {key: Trace(_frozen(series.steps[key].array), _frozen(values.array), values)
                  for key, values in series.values.items() if key in series.steps}
        return cls(series.step, series.epoch, series.max_steps, series.rate, series.paused,
                   series.recent[-1][0] if series.recent else None, series.version, MappingProxyType(traces))

    @property
    def steps(self) -> dict[str, np.ndarray]:
        """Each scalar's steps, as metrics.alerts and metrics.gan_start read them."""
        return {key: trace.steps for key, trace in self.traces.items()}

    @property
    def values(self) -> dict[str, np.ndarray]:
        return {key: trace.values for key, trace in self.traces.items()}

    def latest(self, key: str) -> float | None:
        trace = self.traces.get(key)
        return float(trace.values[-1]) if trace is not None and len(trace) else None

    def value_at(self, key: str, step: int | None) -> float | None:
        """The value logged at `step` (the last one there), or None."""
        trace = self.traces.get(key)
        if trace is None or step is None:
            return None
        hits = np.flatnonzero(trace.steps == step)
        return float(trace.values[hits[-1]]) if hits.size else None


@dataclass(frozen=True)
class ConfigEntry:
    """One of the project's own gin configs (a base or an add-on)."""
    name: str
    role: str  # base | addon
    path: str
    description: str = ''
    derived_from: str = ''
    compression: int | None = None
    macros: Mapping | None = None
    created: str = ''
    modified: str = ''

    @classmethod
    def of(cls, entry: dict) -> ConfigEntry:
        return cls(entry['name'], entry.get('role') or 'base', entry['path'], entry.get('description') or '',
                   entry.get('derived_from') or '', entry.get('compression'), entry.get('macros'),
                   entry.get('created') or '', entry.get('modified') or '')


@dataclass(frozen=True)
class TemplateView:
    """A named set of run choices kept in the project (every choice but the run's name)."""
    name: str
    description: str
    spec: RunSpec
    created: str = ''


@dataclass(frozen=True)
class AudioExample:
    input: str  # data-folder-relative paths of the WAV files (the media route serves them)
    reconstruction: str
    input_envelope: Mapping
    reconstruction_envelope: Mapping
    seconds: float


@dataclass(frozen=True)
class AudioValidation:
    """RAVE's validation audio of one validation: input/reconstruction pairs."""
    label: str
    version: str
    sr: int
    examples: tuple[AudioExample, ...]
    step: int | None = None  # the global step of this validation, when known


@dataclass(frozen=True)
class BoardView:
    """A TensorBoard the studio runs (and proxies)."""
    id: str
    title: str
    url: str
    alive: bool

    @classmethod
    def of(cls, board) -> BoardView:
        return cls(board.id, board.title, board.url, board.alive)


def _frozen(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True)
class ExperimentRow:
    """One run as a line of the experiments table."""
    id: int
    project_id: int
    project: str
    name: str
    status: str
    dataset: str
    configs: tuple[str, ...]
    steps: int
    best_validation: float | None
    last_loss: float | None
    seconds: float | None
    created: dt.datetime
    tags: tuple[str, ...]
    notes: str
    description: str
    archived: bool
    devices: tuple[str, ...] = ('cpu',)  # as the spec names them: 'cpu', 'gpu:0', ...

    @property
    def imported(self) -> bool:
        return self.status == 'imported'

    @property
    def device_time(self) -> DeviceTime | None:
        return DeviceTime.of(self.seconds, self.devices)

    @classmethod
    def of(cls, row) -> ExperimentRow:
        """From a row of the table's query (which joins the dataset's and the project's names)."""
        spec = (row.params or {}).get('spec') or {}
        return cls(row.id, row.project_id, getattr(row, 'project_name', ''), row.name, row.status,
                   getattr(row, 'dataset_name', None) or '', tuple(row.configs or ()), row.step,
                   row.best_validation, row.last_loss, row.seconds, row.created, tuple(row.tags or ()),
                   row.notes or '', spec.get('description') or '', bool(row.archived),
                   tuple(spec.get('devices') or ('cpu',)))


@dataclass(frozen=True)
class ExperimentPage:
    """One page of the experiments table and how many runs match in all."""
    rows: tuple[ExperimentRow, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class DeviceTime:
    """Training time × devices: GPU-hours for a run on GPUs, CPU-hours (labelled so) for one on the CPU."""
    hours: float
    kind: str  # GPU | CPU

    @property
    def label(self) -> str:
        hours = formatting.number(float(f'{self.hours:.3g}')) if self.hours < 100 else \
            formatting.count(round(self.hours))
        return (_('{hours} GPU-h') if self.kind == 'GPU' else _('{hours} CPU-h')).format(hours=hours)

    @classmethod
    def of(cls, seconds: float | None, devices: tuple[str, ...]) -> DeviceTime | None:
        if not seconds:
            return None
        gpus = sum(1 for d in devices if not d.startswith('cpu'))
        return cls(seconds / 3600 * max(gpus, 1), 'GPU' if gpus else 'CPU')


@dataclass(frozen=True)
class Machine:
    """Where a run trained, as its worker recorded it at start (runs older than the record, or made by the
    plain CLI, have none: `recorded` is False)."""
    host: str = ''
    device: str = ''  # e.g. 'cpu' or 'cuda:0 (NVIDIA H200)'
    torch: str = ''
    rave: str = ''
    recorded: bool = False


@dataclass(frozen=True)
class RunDetails:
    """What a run is and how it came to be: its spec, operative config, command, dataset and machine."""
    run_id: int
    name: str
    spec: RunSpec
    config_gin: str  # RAVE's operative config.gin, '' until RAVE wrote it
    config_path: str
    command: str  # the equivalent `rave train …`
    dataset_id: int | None
    dataset_name: str
    machine: Machine
    seconds: float | None
    device_time: DeviceTime | None
    imported: bool
    best_checkpoint: str = ''  # the checkpoint "continue from its best" resumes from
