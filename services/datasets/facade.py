"""Datasets: RAVE LMDB folders made from folders of audio, and `Datasets`, the facade dataset pages use.

The engines stay inside: `DatasetService` (preprocessing.py: build, validate, queue, delete), `DatasetLibrary`
(library.py: tags, search, clone, archives, the integrity check), `DatasetStatsService` (statistics.py) and the
LMDB reader. Pages see the frozen snapshots of views.py and act through `Datasets`, which asks
services.access first and the file policy for every path a user names.
"""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services import access, i18n
from services.access import Action, Actor
from services.datasets import lmdb_reader, sources
from services.datasets.doctor import material_problems
from services.datasets.library import DatasetLibrary
from services.datasets.preprocessing import (
    DEFAULT_MAX_DB_GB,
    MAX_NUM_SIGNAL,
    MIN_NUM_SIGNAL,
    RAVE_EXTENSIONS,
    SAMPLING_RATES,
    DatasetError,
    DatasetService,
    FolderRefused,
)
from services.datasets.statistics import DatasetStatsService
from services.datasets.views import (
    DatabaseInfo,
    DatasetView,
    ExampleDetail,
    ExampleRow,
    Finding,
    FolderEntry,
    IntegrityReport,
    StatisticsView,
    Survey,
    Uploaded,
    example_seconds,
)
from services.files import FilePolicy, PathRefused, UploadRefused, is_audio
from services.jobs import ACTIVE
from services.store import Dataset, Job, Project
from services.uploads import UploadSink

__all__ = ['DEFAULT_MAX_DB_GB', 'MAX_NUM_SIGNAL', 'MIN_NUM_SIGNAL', 'RAVE_EXTENSIONS', 'SAMPLING_RATES',
           'DatabaseInfo', 'DatasetError', 'DatasetView', 'Datasets', 'ExampleDetail', 'ExampleRow', 'Finding',
           'FolderEntry', 'FolderRefused', 'IntegrityReport', 'PreprocessSpec', 'StatisticsView', 'Survey',
           'UploadRefused', 'UploadSink', 'Uploaded', 'example_seconds']

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class PreprocessSpec:
    """What a user asks `rave preprocess` for: the wizard fills it in, the doctor, the command and start read it."""
    name: str
    inputs: tuple[str, ...]
    num_signal: int | None = 131072  # None: not a whole number (the doctor says so)
    channels: int = 1
    sr: int = 44100
    ext: tuple[str, ...] | None = None  # None: RAVE's own list
    lazy: bool = False
    max_db_size: int | None = DEFAULT_MAX_DB_GB
    dyndb: bool = True

    def params(self) -> dict:
        """The engine's keyword arguments."""
        values = dataclasses.asdict(self)
        del values['name'], values['inputs']
        values['ext'] = None if self.ext is None else list(self.ext)
        return values


@access.acts
class Datasets:
    """The datasets of the acting user's projects: what they may see, build, change and delete."""

    def __init__(self, engine: DatasetService, library: DatasetLibrary, stats: DatasetStatsService,
                 actor: Actor, checks: Callable[..., list] | None = None) -> None:
        self._engine, self._library, self._stats = engine, library, stats
        self._checks = checks  # every plugin's dataset checks
        self.actor = actor

    @property
    def _files(self) -> FilePolicy:
        return self._engine.files

    # ---- reading ------------------------------------------------------------------------------------
    def list(self, project_id: int) -> list[DatasetView]:
        """The project's datasets, newest first."""
        return [DatasetView.of(d) for d in self._engine.list(self._project(project_id, Action.READ))]

    def get(self, dataset_id: int | str, project_id: int | None = None) -> DatasetView | None:
        """One dataset (None when it does not exist, or is not in `project_id` when given)."""
        row = self._engine.get(dataset_id)
        if row is None or (project_id is not None and row.project_id != project_id):
            return None
        access.require(self.actor, Action.READ, row.project_id)
        return DatasetView.of(row)

    def search(self, project_id: int, text: str = '', tags: list[str] | None = None, sr: int | None = None,
               channels: int | None = None, sort: str = 'created', descending: bool = True) -> list[DatasetView]:
        project = self._project(project_id, Action.READ)
        found = self._library.search(project, text, tags, sr, channels, sort=sort, descending=descending)
        return [DatasetView.of(d) for d in found]

    def all_tags(self, project_id: int) -> list[str]:
        return self._library.all_tags(self._project(project_id, Action.READ))

    def queue(self, project_id: int) -> list[DatasetView]:
        """Datasets waiting for their turn to be preprocessed, in the order they will start."""
        return [DatasetView.of(d) for d in self._engine.queue(self._project(project_id, Action.READ))]

    def parallel_builds(self) -> int:
        """How many datasets are preprocessed at once (Settings → parallel preprocessing)."""
        return int(self._engine.settings.get('parallel_preprocess') or 1)

    def output_path(self, project_id: int, name: str) -> Path:
        return self._engine.output_path(self._project(project_id, Action.READ), name or 'dataset')

    # ---- building -----------------------------------------------------------------------------------
    def check_name(self, project_id: int, name: str) -> list[str]:
        """The name step's rule (the doctor and start use the same one)."""
        return self._engine.check_name(self._project(project_id, Action.READ), name)

    def check_inputs(self, project_id: int, inputs: list[str]) -> list[str]:
        """The input folders' rule: given, inside the browsable folders, existing folders."""
        return self._engine.check_inputs(self._project(project_id, Action.READ), inputs)[0]

    def check_material(self, survey: Survey, ext: list[str] | None) -> list[str]:
        """Whether the surveyed folders hold audio RAVE would pick up."""
        return material_problems(survey, list(ext or RAVE_EXTENSIONS))

    def check_params(self, spec: PreprocessSpec) -> list[str]:
        values = spec.params()
        return self._engine.check_params(values['num_signal'], values['channels'], values['sr'], values['ext'],
                                         values['max_db_size'])

    def input_folder(self, project_id: int, path: str) -> Path:
        """`path` as an input folder (resolved), or DatasetError saying why it cannot be one — FolderRefused
        when it is an existing folder outside the browsable ones (the page offers to allow it)."""
        problems = self.check_inputs(project_id, [path])
        uploads = self.uploads(project_id)
        if problems:
            try:
                self._files.confine(path, also=(uploads,))
            except PathRefused as e:
                if e.path is not None and e.path.is_dir():
                    raise FolderRefused(problems[0], e.path) from None
            raise DatasetError(problems[0])
        return self._files.confine(path, also=(uploads,))

    def survey(self, project_id: int, inputs: list[str], ext: list[str] | None = None) -> Survey:
        """What RAVE would pick up in the readable input folders. Slow: call it off the event loop."""
        readable = self._engine.check_inputs(self._project(project_id, Action.READ), inputs)[1]
        return self._engine.survey(readable, ext or None)

    def doctor(self, project_id: int, spec: PreprocessSpec, survey: Survey | None = None) -> list[Finding]:
        """Everything worth knowing before launch, blockers first. Slow without a survey."""
        project = self._project(project_id, Action.READ)
        return self._engine.doctor(project, spec.name, list(spec.inputs), **spec.params(), survey=survey,
                                   checks=self._checks)

    def command(self, project_id: int, spec: PreprocessSpec) -> str:
        """The equivalent `rave preprocess` command."""
        values = spec.params()
        flags = self._engine.command(list(spec.inputs), self.output_path(project_id, spec.name),
                                     values['num_signal'] or 131072, spec.channels, spec.sr,
                                     values['ext'] or list(RAVE_EXTENSIONS), spec.lazy,
                                     spec.max_db_size or DEFAULT_MAX_DB_GB, spec.dyndb)
        return 'rave preprocess ' + ' '.join(flags)

    def start(self, project_id: int, spec: PreprocessSpec, survey: Survey | None = None) -> DatasetView:
        """Register the dataset and queue its preprocessing; DatasetError names what stops it."""
        project = self._project(project_id, Action.RUN)
        return DatasetView.of(self._engine.start(project, spec.name, list(spec.inputs), **spec.params(),
                                                 survey=survey, owner=self.actor.name))

    def clone(self, dataset_id: int, name: str, sr: int | None = None, channels: int | None = None,
              num_signal: int | None = None, lazy: bool | None = None) -> DatasetView:
        """Preprocess the dataset's sources again into a new dataset. Slow (surveys first): off the event loop."""
        row = self._row(dataset_id, Action.RUN)
        return DatasetView.of(self._library.clone(row, name, sr=sr, channels=channels, num_signal=num_signal,
                                                  lazy=lazy, owner=self.actor.name))

    def move(self, dataset_id: int, position: int) -> None:
        """Put a waiting dataset at `position` (0 = next) of the preprocessing queue."""
        self._engine.move(self._row(dataset_id, Action.RUN), position)

    def cancel(self, dataset_id: int) -> None:
        job = Job.get_or_none(Job.id == getattr(self._engine.get(dataset_id), 'job_id', None))
        self._engine.cancel(self._row(dataset_id, access.control(self.actor, job.owner if job else '')))

    # ---- changing -----------------------------------------------------------------------------------
    def set_tags(self, dataset_id: int, tags: list[str]) -> list[str]:
        return self._library.set_tags(self._row(dataset_id, Action.EDIT), tags)

    def add_tag(self, dataset_id: int, tag: str) -> list[str]:
        row = self._row(dataset_id, Action.EDIT)
        return self._library.set_tags(row, [*(row.tags or []), tag])

    def remove_tag(self, dataset_id: int, tag: str) -> list[str]:
        row = self._row(dataset_id, Action.EDIT)
        return self._library.set_tags(row, [t for t in row.tags or [] if t != tag])

    def set_category(self, dataset_id: int, category: str) -> bool:
        """Store the category; whether it changed."""
        row = self._row(dataset_id, Action.EDIT)
        if ' '.join((category or '').split()) == (row.category or ''):
            return False
        self._library.set_category(row, category)
        return True

    def delete(self, dataset_id: int, remove_files: bool = False) -> None:
        """Forget the dataset; with `remove_files` also its folder (never the source audio)."""
        self._library.delete(self._row(dataset_id, Action.DELETE), remove_files=remove_files)

    # ---- archives -----------------------------------------------------------------------------------
    def export_archive(self, dataset_id: int, progress: Progress | None = None) -> Path:
        """Write the dataset as one .ravedata.tar under the project's archives/. Slow: off the event loop."""
        return self._library.export_archive(self._row(dataset_id, Action.EDIT), None, progress)

    def receive_archive(self, project_id: int, filename: str, size: int | None) -> UploadSink:
        """Accept an uploaded dataset archive by its name and declared size (refused over the upload limit);
        the sink stops writing past the limit."""
        project = self._project(project_id, Action.EDIT)
        try:
            self._files.check_upload(filename, size, 'dataset-archive')
            target = self._files.reserve_upload(self._inbox(project), '', filename)
        except UploadRefused as e:
            raise DatasetError(str(e)) from None
        return UploadSink(target, self._files.upload_limit(), filename, 'dataset-archive')

    def import_archive(self, project_id: int, path: str, name: str = '',
                       progress: Progress | None = None) -> DatasetView:
        """Add the archive at `path` (inside the browsable folders, or just uploaded) as a ready dataset."""
        project = self._project(project_id, Action.EDIT)
        if not (path or '').strip():
            raise DatasetError(i18n._('Upload an archive or give its path first.'))
        try:
            archive = self._files.confine(path, also=(self._inbox(project),), what='file')
        except PathRefused as e:
            raise DatasetError(str(e)) from None
        if not archive.is_file():
            raise DatasetError(i18n._('{path} is not a file. Check the path.').format(path=path))
        return DatasetView.of(self._library.import_archive(project, archive, (name or '').strip() or None, progress))

    # ---- uploads and the source browser -------------------------------------------------------------
    def uploads(self, project_id: int) -> Path:
        """The project's uploads folder (browsable, and where every upload lands)."""
        return self._engine.uploads(self._project(project_id, Action.READ))

    def upload_limit_mb(self) -> int:
        return round(self._files.upload_limit() / 1024 ** 2)

    def receive(self, project_id: int, folder: str, filename: str, size: int | None) -> UploadSink:
        """Accept an uploaded audio file or .zip of a folder into `uploads/<folder>/`, by name and declared size."""
        project = self._project(project_id, Action.EDIT)
        return self._engine.receive(project, folder, filename, size)

    def unpack(self, project_id: int, folder: str, sink: UploadSink) -> Uploaded:
        """Unpack a received .zip into `uploads/<folder>/` and delete it. Slow: off the event loop."""
        project = self._project(project_id, Action.EDIT)
        unpacked = self._engine.unpack_upload(project, folder, sink.path, sink.shown)
        return Uploaded(self._engine.upload_folder(project, folder), tuple(unpacked.written), tuple(unpacked.skipped))

    def upload_folder(self, project_id: int, folder: str) -> Path:
        return self._engine.upload_folder(self._project(project_id, Action.READ), folder)

    def browse_roots(self, project_id: int) -> list[Path]:
        """The folders the source browser starts from: the browsable folders and the project's uploads."""
        uploads = self.uploads(project_id)
        uploads.mkdir(parents=True, exist_ok=True)
        return list(dict.fromkeys([*self._files.roots(), uploads]))

    def browse_places(self, project_id: int) -> dict[Path, str]:
        """`browse_roots` with what each one is, as the source browser names them."""
        names = {self._files.data_dir: i18n._('Data folder'), Path.home().resolve(): i18n._('Home folder'),
                 self.uploads(project_id): i18n._('Uploads of this project')}  # said as the page speaks
        return {root: f'{names[root]} · {root}' if root in names else str(root)
                for root in self.browse_roots(project_id)}

    def listing(self, project_id: int, folder: str | Path, ext: list[str] | None = None) -> list[FolderEntry]:
        """Sub-folders and audio files of `folder` (nothing outside the browsable folders). Slow: off the loop."""
        try:
            path = self._files.confine(folder, also=(self.uploads(project_id),))
        except PathRefused:
            return []
        return sources.listing(path, ext)

    def playable(self, path: str | Path) -> Path | None:
        """The source audio file at `path` if it may be played (inside the browsable folders or a project's
        uploads, an audio file, nothing hidden)."""
        access.require(self.actor, Action.READ)
        uploads = tuple(self._engine.uploads(p) for p in self._engine.projects.all())
        try:
            target = self._files.confine(path, also=uploads, what='file')
        except PathRefused:
            return None
        if not target.is_file() or not is_audio(target) or any(part.startswith('.') for part in target.parts):
            return None
        return target

    def waveform(self, path: str | Path) -> dict:
        """Min/max envelope of a source file ({'min','max','duration'}), computed once and cached. Slow."""
        target = self.playable(path)
        if target is None:
            raise DatasetError(i18n._('{path} cannot be previewed: it is not an audio file inside the browsable '
                                      'folders.').format(path=path))
        return sources.envelope(target, self._files.data_dir / 'cache' / 'waveforms')

    # ---- the integrity check ------------------------------------------------------------------------
    def check(self, dataset_id: int, progress: Progress | None = None,
              stop: threading.Event | None = None) -> IntegrityReport:
        """Read every entry once (keys, decoding, sizes, lazy sources). Slow: off the event loop."""
        return self._library.validate(self._row(dataset_id, Action.READ), progress, stop)

    def last_check(self, dataset_id: int) -> IntegrityReport | None:
        return self._library.last_report(self._row(dataset_id, Action.READ))

    # ---- the inspector ------------------------------------------------------------------------------
    def database(self, dataset_id: int) -> DatabaseInfo:
        """Open the dataset's LMDB; DatasetError when it cannot be read. Slow on a cold disk: off the loop."""
        row = self._row(dataset_id, Action.READ)
        try:
            db = lmdb_reader.reader(row.path)
            return DatabaseInfo(len(db), db.span(), db.sr, db.channels, db.lazy)
        except (OSError, ValueError) as e:
            raise DatasetError(i18n._('The dataset folder cannot be read: {error}. Check that it still exists.')
                               .format(error=e)) from None

    def examples(self, dataset_id: int, start: int, count: int) -> list[ExampleRow]:
        """Rows start … start+count-1 of the inspector's list; damaged ones carry a `problem`. Off the loop."""
        return lmdb_reader.reader(self._row(dataset_id, Action.READ).path).page(start, count)

    def example(self, dataset_id: int, index: int) -> ExampleDetail:
        """One example's figures, drawings and WAV; OSError, ValueError or IndexError when it is damaged."""
        row = self._row(dataset_id, Action.READ)
        cache = self._files.data_dir / 'cache' / 'inspector' / str(row.id)
        view = lmdb_reader.view(row.path, index)
        wav = lmdb_reader.cached_wav(row.path, index, cache)
        fields = {f.name for f in dataclasses.fields(ExampleDetail)} - {'wav'}
        return ExampleDetail(**{k: v for k, v in view.items() if k in fields},
                             wav=wav.relative_to(self._files.data_dir).as_posix())

    # ---- statistics ---------------------------------------------------------------------------------
    def statistics(self, dataset_id: int) -> StatisticsView:
        """The cached statistics, or the job computing them (started once when there are none)."""
        row = self._row(dataset_id, Action.READ)
        self._stats.ensure(row, self.actor.name)
        return self._statistics(row)

    def recompute_statistics(self, dataset_id: int) -> StatisticsView:
        row = self._row(dataset_id, Action.RUN)
        if not self._stats.missing(row):
            self._stats.start(row, self.actor.name)
        return self._statistics(row)

    def _statistics(self, row: Dataset) -> StatisticsView:
        if why := self._stats.missing(row):
            return StatisticsView('failed', message=why)
        job = self._stats.job(row)
        if job is not None and job.status in ACTIVE:
            state = self._stats.jobs.states.get(job.id)
            return StatisticsView('computing', job_id=job.id, progress=state.progress if state else None,
                                  detail=state.detail if state else '', job_status=job.status)
        stats = self._stats.cached(row)
        if stats is not None:
            return StatisticsView('charts', stats=stats, job_id=job.id if job else None)
        if job is None:
            return StatisticsView('computing')
        return StatisticsView('failed', job_id=job.id, message=job.message or i18n._('The statistics job failed.'))

    # ---- helpers ------------------------------------------------------------------------------------
    def _project(self, project_id: int, action: Action) -> Project:
        access.require(self.actor, action, project_id)
        project = self._engine.projects.get(project_id)
        if project is None:
            raise DatasetError(i18n._('This project no longer exists. Pick another one in the header.'))
        return project

    def _row(self, dataset_id: int, action: Action) -> Dataset:
        row = self._engine.get(dataset_id)
        if row is None:
            raise DatasetError(i18n._('This dataset no longer exists (it was deleted).'))
        access.require(self.actor, action, row.project_id)
        return row

    def _inbox(self, project: Project) -> Path:
        return Path(project.location).resolve() / 'archives' / 'incoming'
