"""What dataset pages see: read-only snapshots built from rows and readers, never live ORM rows or open LMDBs.

Each view is a copy taken when the facade was asked; a page redraws from a fresh one when an event says
something changed.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from services.datasets import lmdb_reader
from services.store import Dataset


def example_seconds(num_signal: int, sr: int) -> float:
    """Length of one stored example: RAVE reads 2·num_signal samples per example (preprocess.py:80-83)."""
    return 2 * num_signal / sr


@dataclass(frozen=True)
class DatasetView:
    """One dataset as a page shows it."""
    id: int
    project_id: int
    name: str
    path: str
    status: str  # building | ready | failed | cancelled
    sources: tuple[str, ...]
    params: Mapping[str, Any]  # how it was made (num_signal, ext, skipped files, the failure message, …)
    sr: int | None
    channels: int | None
    lazy: bool
    n_examples: int | None
    n_seconds: float | None
    size_bytes: int | None
    job_id: int | None
    created: dt.datetime
    tags: tuple[str, ...] = ()
    category: str = ''

    @classmethod
    def of(cls, row: Dataset) -> DatasetView:
        return cls(id=row.id, project_id=row.project_id, name=row.name, path=row.path, status=row.status,
                   sources=tuple(row.sources or ()), params=MappingProxyType(dict(row.params or {})), sr=row.sr,
                   channels=row.channels, lazy=bool(row.lazy), n_examples=row.n_examples, n_seconds=row.n_seconds,
                   size_bytes=row.size_bytes, job_id=row.job_id, created=row.created,
                   tags=tuple(row.tags or ()), category=row.category or '')

    @property
    def ready(self) -> bool:
        return self.status == 'ready'

    @property
    def on_cluster(self) -> bool:
        """It lives on the cluster's file system (registered there, or preprocessed as a SLURM job): only a run
        on the cluster trains on it."""
        return self.params.get('location') == 'cluster'

    @property
    def copies(self) -> tuple[str, ...]:
        """Where whole copies of it lie on the cluster's file system (services/cluster: rsync)."""
        return tuple(self.params.get('copies') or ())

    @property
    def copying(self) -> Mapping[str, int]:
        """Copies under way or cut short: their target folder → the copy job's id."""
        return MappingProxyType(dict(self.params.get('copying') or {}))

    @property
    def building(self) -> bool:
        return self.status == 'building'

    @property
    def message(self) -> str:
        """Why a build failed or was cancelled ('' otherwise)."""
        return str(self.params.get('message') or '') if self.status in ('failed', 'cancelled') else ''


@dataclass(frozen=True)
class SourceFile:
    """One audio file: its size and, once probed, its duration, rate and channels (or why it is unusable)."""
    path: Path
    size: int = 0
    duration: float | None = None
    sr: int | None = None
    channels: int | None = None
    problem: str = ''
    via_link: bool = False  # reached through a linked folder, which RAVE's own search does not follow


@dataclass(frozen=True)
class Survey:
    """What the input folders hold, as RAVE will see them: usable files (probed) and the ones skipped."""
    entries: tuple[SourceFile, ...] = ()
    skipped: tuple[tuple[Path, str], ...] = ()  # (path, why), unusable files and odd entries
    duplicates: int = 0

    @property
    def usable(self) -> list[SourceFile]:
        return [e for e in self.entries if not e.problem]

    @property
    def files(self) -> list[Path]:
        return [e.path for e in self.usable]

    @property
    def durations(self) -> list[float]:
        return [e.duration for e in self.usable if e.duration is not None]

    @property
    def unreadable(self) -> list[Path]:
        return [p for p, _ in self.skipped]

    @property
    def seconds(self) -> float:
        return sum(self.durations)

    @property
    def needs_staging(self) -> bool:
        """RAVE's own search would meet something it hangs on, a file twice, or miss files behind folder links."""
        return bool(self.skipped or self.duplicates or any(e.via_link for e in self.usable))

    def examples(self, num_signal: int, sr: int) -> int:
        """Examples a regular build writes: each holds 2·num_signal samples; a file's remainder is dropped."""
        per_example = example_seconds(num_signal, sr)
        return sum(math.floor(d / per_example) for d in self.durations)


@dataclass(frozen=True)
class Finding:
    """One thing the doctor says before launch: a *blocker* stops it, a *warning* or an *info* explains."""
    severity: str
    text: str
    files: tuple[str, ...] = ()  # the files it is about (shown as a list), if any


@dataclass(frozen=True)
class FolderEntry:
    """A sub-folder or an audio file as the source browser lists it."""
    name: str
    path: Path
    is_dir: bool
    size: int = 0
    audio_inside: int = 0  # folders: audio files directly inside
    duration: float | None = None


@dataclass(frozen=True)
class Uploaded:
    """What one upload left in the project's uploads folder."""
    folder: Path  # the folder a batch named by the user lands in (what becomes an input folder)
    written: tuple[Path, ...] = ()
    skipped: tuple[str, ...] = ()  # names inside an archive, with why


@dataclass(frozen=True)
class IntegrityReport:
    """The integrity check after `checked` of `entries` entries (problems: the first few hundred lines)."""
    entries: int
    checked: int
    problems: tuple[str, ...] = ()
    problem_count: int = 0
    seconds: float = 0.0
    stopped: bool = False
    finished: bool = False
    at: float = 0.0  # when it ran (time.time())

    @property
    def ok(self) -> bool:
        return not self.problem_count and not self.stopped


@dataclass(frozen=True)
class DatabaseInfo:
    """A dataset's LMDB as the inspector opens it."""
    entries: int
    span: int  # one past the highest key: larger than `entries` when keys are missing
    sr: int
    channels: int
    lazy: bool


ExampleRow = lmdb_reader.Summary  # a row of the inspector's list


@dataclass(frozen=True)
class ExampleDetail:
    """One example as the inspector shows it: figures, drawings and its WAV under the data folder."""
    index: int
    seconds: float
    samples: int
    sr: int
    channels: int
    lazy: bool
    source: str
    source_seconds: float
    peak_db: float | None
    rms_db: float | None
    size_bytes: int
    envelope: Mapping[str, list]
    spectrogram: Mapping[str, Any]
    wav: str  # the example as a WAV file, relative to the data folder (served under /media/data/)


@dataclass(frozen=True)
class StatisticsView:
    """The Statistics tab: 'computing' (with the job), 'charts' (with the figures) or 'failed' (with why)."""
    phase: str
    stats: Mapping[str, Any] = field(default_factory=dict)
    job_id: int | None = None
    progress: float | None = None
    detail: str = ''
    job_status: str = ''
    message: str = ''
