"""What the models, export and explorer pages see: frozen copies of runs, checkpoints, exports and
reconstructions, built from rows and files (a page never holds a row)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from services.store import Checkpoint, Export, Run


@dataclass(frozen=True)
class FileFacts:
    """Size and modification time of a file, or None for both when it is missing."""
    size: int | None
    modified: dt.datetime | None

    @classmethod
    def of(cls, path: str | Path) -> FileFacts:
        try:
            stat = Path(path).stat()
        except OSError:
            return cls(None, None)
        return cls(stat.st_size, dt.datetime.fromtimestamp(stat.st_mtime))

    @property
    def exists(self) -> bool:
        return self.size is not None


@dataclass(frozen=True)
class CheckpointView:
    """A checkpoint file of a run, with the step it was saved at (read from the checkpoint itself)."""
    id: int
    path: str
    kind: str  # best | last | stop | epoch
    step: int | None
    file: FileFacts

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def version(self) -> str:
        """RAVE's version_N folder the checkpoint lies in ('' when it lies elsewhere)."""
        parent = Path(self.path).parent
        return parent.parent.name if parent.name == 'checkpoints' else ''

    @classmethod
    def of(cls, row: Checkpoint) -> CheckpointView:
        return cls(row.id, row.path, row.kind, row.step, FileFacts.of(row.path))


@dataclass(frozen=True)
class ExportView:
    """An exported model (.ts) and how its export went."""
    id: int
    path: str
    run_id: int | None
    checkpoint: str
    streaming: bool
    status: str  # running | done | failed | cancelled
    created: dt.datetime
    job_id: int | None
    message: str  # why it failed ('' when it did not)
    file: FileFacts

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def stem(self) -> str:
        return Path(self.path).stem

    @property
    def playable(self) -> bool:
        """A finished, non-streaming export whose file is there: what the explorer plays best."""
        return self.status == 'done' and self.file.exists and not self.streaming

    @classmethod
    def of(cls, row: Export, message: str = '') -> ExportView:
        return cls(row.id, row.path, row.run_id, row.checkpoint, bool(row.streaming), row.status, row.created,
                   row.job_id, message, FileFacts.of(row.path))


@dataclass(frozen=True)
class RunCheckpointsView:
    """One run of the project with its checkpoints (newest first) and the exports made from it."""
    id: int
    name: str
    folder: str
    status: str
    configs: tuple[str, ...]
    checkpoints: tuple[CheckpointView, ...]
    exports: tuple[ExportView, ...]

    @property
    def imported(self) -> bool:
        """Made by the RAVE command line and imported, not trained by the studio."""
        return self.status == 'imported'

    @property
    def best(self) -> CheckpointView | None:
        """The checkpoint with the lowest validation loss, else the newest one."""
        best = [c for c in self.checkpoints if c.kind == 'best']
        return best[0] if best else (self.checkpoints[0] if self.checkpoints else None)

    @classmethod
    def of(cls, run: Run, checkpoints: list[Checkpoint], exports: list[ExportView]) -> RunCheckpointsView:
        views = sorted((CheckpointView.of(c) for c in checkpoints),
                       key=lambda c: c.file.modified or dt.datetime.min, reverse=True)
        return cls(run.id, run.name, run.folder, run.status, tuple(run.configs or ()), tuple(views),
                   tuple(exports))


@dataclass(frozen=True)
class Envelope:
    """Min and max of a waveform in equal columns, as the worker computed them (the UI reads no audio)."""
    low: tuple[float, ...]
    high: tuple[float, ...]

    @classmethod
    def of(cls, data: dict) -> Envelope:
        return cls(tuple(data.get('min') or ()), tuple(data.get('max') or ()))


@dataclass(frozen=True)
class ReconstructionResult:
    """What a finished reconstruction wrote (reconstruction.json) and where its two audio files are."""
    folder: Path
    model: str
    input: str
    input_name: str
    sr: int
    channels: int
    duration_s: float
    output_duration_s: float
    truncated: bool
    latent_shape: tuple[int, ...]
    latent_size: int
    full_latent_size: int
    latent_rate_hz: float
    compression_ratio: int
    latent_mean: tuple[float, ...]
    latent_std: tuple[float, ...]
    input_envelope: Envelope
    output_envelope: Envelope
    elapsed_s: float

    @property
    def original(self) -> Path:
        return self.folder / 'input.wav'

    @property
    def reconstruction(self) -> Path:
        return self.folder / 'output.wav'

    @property
    def model_name(self) -> str:
        return Path(self.model).stem

    @classmethod
    def of(cls, folder: str | Path, data: dict) -> ReconstructionResult:
        return cls(Path(folder), data['model'], data['input'], data['input_name'], int(data['sr']),
                   int(data['channels']), float(data['duration_s']), float(data['output_duration_s']),
                   bool(data.get('truncated')), tuple(data['latent_shape']), int(data['latent_size']),
                   int(data['full_latent_size']), float(data['latent_rate_hz']),
                   int(data['compression_ratio']), tuple(data['latent_mean']), tuple(data['latent_std']),
                   Envelope.of(data['input_envelope']), Envelope.of(data['output_envelope']),
                   float(data['elapsed_s']))


@dataclass(frozen=True)
class ReconstructionView:
    """A reconstruction in progress or ended: its job, its state in words, and its result once done."""
    id: str
    job_id: int
    folder: Path
    status: str  # the job's status
    message: str  # the stage while it runs, what went wrong when it failed
    result: ReconstructionResult | None = None

    @property
    def active(self) -> bool:
        return self.status in ('queued', 'running', 'paused')


@dataclass(frozen=True)
class AudioChoice:
    """An audio file the explorer offers, with the label it shows (relative to the project when inside)."""
    path: str
    label: str
