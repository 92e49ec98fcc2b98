"""Datasets: RAVE LMDB folders made by `rave preprocess` from folders of audio, indexed in the database.

The studio never touches the user's source audio: it reads it (probing durations) and RAVE writes a new
LMDB folder under `<project>/datasets/`. A failed or cancelled build leaves no half-written folder behind.
"""
from __future__ import annotations

import shlex
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from services import formatting, progress
from services.datasets import content, folders, lmdb_reader, sources
from services.datasets.doctor import (
    MAX_NUM_SIGNAL,
    MIN_NUM_SIGNAL,
    SAMPLING_RATES,
    content_findings,
    examine,
    material_problems,
    parameter_problems,
    tools_problems,
)
from services.datasets.folders import STAGING, read_lmdb
from services.datasets.views import Finding, Survey, example_seconds
from services.events import DatasetChanged
from services.files import FilePolicy, PathRefused, UploadRefused, upload_target
from services.hookspecs import JobKind
from services.i18n import _
from services.jobs import JobService, JobState
from services.projects import ProjectService, slug
from services.settings import SettingsService
from services.store import Dataset, Job, Project
from services.uploads import UploadSink, unpack_zip

__all__ = ['DEFAULT_MAX_DB_GB', 'MAX_NUM_SIGNAL', 'MIN_NUM_SIGNAL', 'RAVE_EXTENSIONS', 'SAMPLING_RATES',
           'DatasetError', 'DatasetService', 'Survey', 'example_seconds', 'read_lmdb']

RAVE_EXTENSIONS = ['aif', 'aiff', 'wav', 'opus', 'mp3', 'aac', 'flac', 'ogg']  # RAVE's own default list
STALL_S = 300.0  # RAVE prints a progress line per example; five silent minutes means it is stuck
DEFAULT_MAX_DB_GB = 100  # RAVE's --max_db_size default


class DatasetError(ValueError):
    """A dataset action that cannot be done, with a message for the user."""


class FolderRefused(DatasetError):
    """An existing folder outside the browsable ones; `path` is the folder "allow this folder" would add."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class DatasetService:
    def __init__(self, jobs: JobService, settings: SettingsService, projects: ProjectService,
                 files: FilePolicy) -> None:
        self.jobs = jobs
        self.settings = settings
        self.projects = projects
        self.files = files
        self._totals: dict[int, tuple[int, dict]] = {}  # job id -> (expected items, params)

    def job_kinds(self) -> list[JobKind]:
        return [JobKind('preprocess', parse=progress.parse_preprocess, describe=self._describe,
                        on_finish=self._finished)]

    # ---- queries ------------------------------------------------------------------------------
    def list(self, project: Project) -> list[Dataset]:
        return list(Dataset.select().where(Dataset.project == project).order_by(Dataset.created.desc()))

    def get(self, dataset_id: int | str) -> Dataset | None:
        try:
            return Dataset.get_or_none(Dataset.id == int(dataset_id))
        except (TypeError, ValueError):
            return None

    def changed(self, dataset: Dataset, status: str | None = None) -> None:
        """Tell the pages (through the poller's next tick) that a dataset appeared, changed or went."""
        self.jobs.bus.publish(DatasetChanged(dataset.id, status or dataset.status))

    def output_path(self, project: Project, name: str) -> Path:
        """Where the LMDB folder goes: absolute, since RAVE crashes on a bare name."""
        return (Path(project.location) / 'datasets' / slug(name)).resolve()

    # ---- uploads --------------------------------------------------------------------------------
    def uploads(self, project: Project) -> Path:
        """The project's uploads folder: the only place a browser upload is ever written."""
        return Path(project.location).resolve() / 'uploads'

    def upload_target(self, project: Project, folder: str, filename: str, size: int) -> Path:
        """Where an upload of `size` bytes goes (`uploads/<folder>/<name>`, sanitized, never overwriting; a file of
        an uploaded folder keeps its sub-folders); refused with a clear message by the file policy."""
        try:
            self.files.check_upload(filename, size, 'audio')
            return self.files.reserve_upload(self.uploads(project), folder, filename)
        except UploadRefused as e:
            raise DatasetError(str(e)) from None

    def receive(self, project: Project, folder: str, filename: str, size: int) -> UploadSink:
        """Accept an upload (audio, or a .zip of a folder for `unpack_upload`) by name and declared size; the sink
        refuses to grow past the upload limit, and content that is not what the name says."""
        if not filename.lower().endswith('.zip'):
            target = self.upload_target(project, folder, filename, size)
            return UploadSink(target, self.files.upload_limit(), filename, 'audio')
        try:
            self.files.check_upload(filename, size, 'audio-archive')
        except UploadRefused as e:
            raise DatasetError(str(e)) from None
        return UploadSink(self.incoming_archive(project), self.files.upload_limit(), filename, 'audio-archive')

    def upload_folder(self, project: Project, folder: str) -> Path:
        """The folder a batch of uploads named `folder` lands in (what becomes an input folder)."""
        return upload_target(self.uploads(project), folder, 'x').parent

    def incoming_archive(self, project: Project) -> Path:
        """A fresh hidden path under uploads/ for a .zip being received (unpack_upload deletes it)."""
        folder = self.uploads(project)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f'.incoming-{uuid.uuid4().hex}.zip'

    def unpack_upload(self, project: Project, folder: str, archive: Path, shown: str = ''):
        """Unpack an uploaded .zip (named `shown`) of a folder into `uploads/<folder>/` (audio files only, sub-folders
        kept, the size limit applied to what it unpacks to), then delete the archive. Raises DatasetError with what
        to do. Slow: call it off the event loop."""
        try:
            return unpack_zip(archive, self.uploads(project), folder, self.files.upload_limit(), shown or None)
        except UploadRefused as e:
            raise DatasetError(str(e)) from None
        finally:
            archive.unlink(missing_ok=True)

    def check_name(self, project: Project, name: str) -> list[str]:
        """What is wrong with the name: empty, taken in the project, or its folder in use (a dataset's, or full)."""
        name = (name or '').strip()
        if not name:
            return [_('Give the dataset a name.')]
        if Dataset.get_or_none((Dataset.project == project) & (Dataset.name == name)):
            return [_('This project already has a dataset called "{name}". Pick another name.').format(name=name)]
        output = self.output_path(project, name)
        owner = Dataset.get_or_none(Dataset.path == str(output))
        if owner is not None:
            return [_('The folder {folder} is already in use by the dataset "{name}". Pick another name.')
                    .format(folder=output, name=owner.name)]
        if output.exists() and (not output.is_dir() or any(output.iterdir())):
            return [_('The folder {folder} is already in use: it already holds files (another dataset?). '
                      'Pick another name so nothing gets mixed or overwritten.').format(folder=output)]
        return []

    def check_inputs(self, project: Project, inputs: list[str | Path]) -> tuple[list[str], list[Path]]:
        """What is wrong with the input folders, and the ones that may be read (resolved)."""
        inputs = [str(i).strip() for i in inputs if str(i).strip()]
        problems, readable = [] if inputs else [_('Add at least one folder of audio.')], []
        for folder in inputs:
            try:
                path = self.files.confine(folder, also=(self.uploads(project),))
            except PathRefused:
                problems.append(_('{folder} is outside the browsable folders (outside the folders the studio may '
                                  'read). Add it under Settings → Browsable folders, or pick a folder inside one.')
                                .format(folder=folder))
                continue
            if path.is_dir():
                readable.append(path)
            elif path.exists():
                problems.append(_('{folder} is not a folder. Check the path.').format(folder=folder))
            else:
                problems.append(_('The folder {folder} does not exist. Check the path.').format(folder=folder))
        return problems, list(dict.fromkeys(readable))

    def check_params(self, num_signal=131072, channels=1, sr=44100, ext: list[str] | None = None,
                     max_db_size=DEFAULT_MAX_DB_GB) -> list[str]:
        return parameter_problems(num_signal, channels, sr, max_db_size, _clean_ext(_or_default(ext)))

    def problems(self, project: Project, name: str, inputs: list[str | Path], num_signal=131072, channels=1,
                 sr=44100, ext: list[str] | None = None, max_db_size=DEFAULT_MAX_DB_GB, **_ignored) -> list[str]:
        """Everything that refuses a build before any file is read: name, folders and parameters."""
        return (self.check_name(project, name) + self.check_inputs(project, inputs)[0]
                + self.check_params(num_signal, channels, sr, ext, max_db_size))

    def survey(self, inputs: list[str | Path], ext: list[str] | None = None) -> Survey:
        """List the files RAVE would pick up (recursively, `.ext` or `.EXT`) and probe every one of them. Slow:
        call it off the event loop. Confine the inputs first (check_inputs)."""
        ext = _clean_ext(ext or RAVE_EXTENSIONS)
        roots = [Path(i).expanduser().resolve() for i in inputs if Path(i).expanduser().is_dir()]
        found = sources.walk(roots, ext)
        probed = sources.probe_all(found.files)
        return Survey(entries=tuple(probed),
                      skipped=tuple(found.skipped + [(f.path, f.problem) for f in probed if f.problem]),
                      duplicates=found.duplicates)

    def doctor(self, project: Project, name: str, inputs: list[str], num_signal: int = 131072,
               channels: int = 1, sr: int = 44100, ext: list[str] | None = None, lazy: bool = False,
               max_db_size: int = DEFAULT_MAX_DB_GB, dyndb: bool = True, survey: Survey | None = None,
               checks: Callable[..., list] | None = None) -> list[Finding]:
        """Everything worth knowing before launch, worst first: blockers stop it, warnings and infos explain.

        `checks` adds what the installed plugins' dataset checks find in the same survey."""
        input_problems, readable = self.check_inputs(project, inputs)
        params = self.check_params(num_signal, channels, sr, ext, max_db_size)
        blockers = self.check_name(project, name) + input_problems + params + tools_problems()
        findings = [Finding('blocker', text) for text in blockers]
        ext = _clean_ext(_or_default(ext))
        if readable and ext:
            survey = survey or self.survey(readable, ext)
            material = material_problems(survey, ext)
            findings += [Finding('blocker', text) for text in material]
            if not material and not params:
                target = {'num_signal': num_signal, 'channels': channels, 'sr': sr, 'lazy': lazy,
                          'example_s': example_seconds(num_signal, sr)}
                findings += examine(survey, output=self.output_path(project, name or 'dataset'),
                                    max_db_size=max_db_size, dyndb=dyndb, **target)
                findings += content_findings(*content.scan(survey.files))
                findings += checks(survey, **target) if checks else []
        order = ('blocker', 'warning', 'info')
        return sorted(findings, key=lambda f: order.index(f.severity))

    def validate(self, project: Project, name: str, inputs: list[str], **params) -> list[str]:
        """The blockers only: everything that would stop this dataset from building, in a musician's words."""
        return [f.text for f in self.doctor(project, name, inputs, **params) if f.severity == 'blocker']

    # ---- actions -------------------------------------------------------------------------------
    def command(self, inputs: list[str], output: Path, num_signal: int, channels: int, sr: int,
                ext: list[str], lazy: bool, max_db_size: int = DEFAULT_MAX_DB_GB, dyndb: bool = True) -> list[str]:
        """The preprocess flags, shared by the argv the job runs and the command the user sees."""
        args = []
        for folder in inputs:
            args += ['--input_path', str(Path(folder).expanduser().resolve())]
        args += ['--output_path', str(output), '--num_signal', str(num_signal), '--channels', str(channels),
                 '--sampling_rate', str(sr)]
        if sorted(ext) != sorted(RAVE_EXTENSIONS):  # RAVE's default list needs no flags
            for e in ext:
                args += ['--ext', e]
        if max_db_size != DEFAULT_MAX_DB_GB:
            args += ['--max_db_size', str(max_db_size)]
        if not dyndb:
            args.append('--nodyndb')
        if lazy:
            args.append('--lazy')
        return args

    def start(self, project: Project, name: str, inputs: list[str], num_signal: int = 131072,
              channels: int = 1, sr: int = 44100, ext: list[str] | None = None, lazy: bool = False,
              max_db_size: int = DEFAULT_MAX_DB_GB, dyndb: bool = True, survey: Survey | None = None,
              owner: str = '', executor: dict | None = None) -> Dataset:
        """Register the dataset (status 'building') and queue RAVE's preprocess for it (as a SLURM job with a
        cluster `executor`: the dataset then counts as on the cluster).

        Files that cannot be used are skipped: RAVE then reads a staging folder of links to the usable files
        (inside the dataset folder, so a lazy dataset's references stay valid as long as the dataset)."""
        problems = self.problems(project, name, inputs, num_signal, channels, sr, ext, max_db_size)
        if problems:
            raise DatasetError(' '.join(problems))
        name, ext = name.strip(), _clean_ext(_or_default(ext))
        output = self.output_path(project, name)
        readable = self.check_inputs(project, inputs)[1]
        survey = survey or self.survey(readable, ext)
        expected = len(survey.files) if lazy else survey.examples(num_signal, sr)
        skipped = [f'{p} — {why}' for p, why in survey.skipped]
        params = {'num_signal': num_signal, 'channels': channels, 'sampling_rate': sr, 'ext': ext, 'lazy': lazy,
                  'max_db_size': max_db_size, 'dyndb': dyndb,
                  'source_files': len(survey.files), 'source_seconds': round(survey.seconds, 3),
                  'expected_items': expected, 'skipped': skipped[:500], 'skipped_count': len(skipped),
                  'unreadable': [str(p) for p in survey.unreadable[:20]]}
        sources_ = [str(path) for path in readable]
        staged = survey.needs_staging
        rave_inputs = [str(output / STAGING)] if staged else sources_
        params['staged'] = staged
        if executor:
            params['location'] = 'cluster'
        flags = self.command(rave_inputs, output, num_signal, channels, sr, ext, lazy, max_db_size, dyndb)
        dataset = Dataset.create(project=project, name=name, path=str(output), sources=sources_, params=params,
                                 status='building', sr=sr, channels=channels, lazy=lazy)
        output.parent.mkdir(parents=True, exist_ok=True)
        if staged:
            folders.stage(output / STAGING, [Path(s) for s in sources_], survey.usable)
        self.settings.apply_limits(self.jobs)
        # cwd: the jobs folder, which never holds a `scripts/` package that would shadow RAVE's own
        job = self.jobs.submit(
            'preprocess', f'Preprocess {name}', [self.settings.python, '-m', 'scripts.preprocess', *flags],
            command=shlex.join(['rave', 'preprocess', *flags]), project=project, cwd=self.jobs.root,
            stdin='y\n' if lazy else '', stall_s=STALL_S,
            env={'PYTHONWARNINGS': 'ignore::FutureWarning'},  # torch's pynvml notice, noise in the log
            spec={'dataset_id': dataset.id, 'output': str(output)}, slot='preprocess', owner=owner, executor=executor)
        dataset.job = job
        dataset.save()
        self._totals[job.id] = (expected, params)
        self.changed(dataset)
        return dataset

    def queue(self, project: Project | None = None) -> list[Dataset]:
        """Datasets whose preprocessing waits for its turn, in the order they will start."""
        order = {job.id: i for i, job in enumerate(self.jobs.queued('preprocess'))}
        waiting = [d for d in Dataset.select().where(Dataset.status == 'building')
                   if d.job_id in order and (project is None or d.project_id == project.id)]
        return sorted(waiting, key=lambda d: order[d.job_id])

    def move(self, dataset: Dataset, position: int) -> None:
        """Put a waiting dataset at `position` (0 = next) of the preprocessing queue."""
        if dataset.job_id:
            self.jobs.reorder(dataset.job_id, position)

    def cancel(self, dataset: Dataset) -> None:
        if dataset.job_id and dataset.status == 'building':
            self.jobs.cancel(dataset.job_id)

    def delete(self, dataset: Dataset, remove_files: bool = False) -> None:
        """Forget the dataset; with `remove_files`, also delete its LMDB folder (never the source audio)."""
        if dataset.status == 'building' and dataset.job_id:
            self.jobs.cancel(dataset.job_id)
        path = Path(dataset.path)
        self.changed(dataset, 'removed')
        dataset.delete_instance()
        lmdb_reader.release(path)
        if remove_files:
            folders.remove_lmdb(path)

    # ---- job hooks ------------------------------------------------------------------------------
    def _describe(self, state: JobState) -> None:
        """'N examples · 1 min 23 s of audio' and a progress fraction from the total probed before launch."""
        expected, params = self._totals.get(state.id) or self._load_total(state.id)
        items = int(state.last.get('items', 0))
        if params.get('lazy'):
            seconds = float(state.last.get('seconds', 0.0))
            unit = 'file' if items == 1 else 'files'
        else:  # RAVE's own figure is one example short (preprocess.py:259); count from the examples
            seconds = items * example_seconds(params.get('num_signal', 131072), params.get('sampling_rate', 44100))
            unit = 'example' if items == 1 else 'examples'
        state.detail = f'{items} {unit} · {formatting.duration(seconds)} of audio'
        n_files = params.get('source_files') or 0
        if expected and n_files and not params.get('lazy'):  # files end in order, so their share tracks the examples'
            state.detail += f' · about {min(n_files, round(n_files * items / expected))} of {n_files} files'
        if expected:
            state.progress = min(items / expected, 0.99)
            if state.started and items:
                elapsed = max(0.0, time.time() - state.started)
                state.eta_s = elapsed * (expected - items) / items if items < expected else None

    def _load_total(self, job_id: int) -> tuple[int, dict]:
        job = Job.get_or_none(Job.id == job_id)
        dataset = self.get((job.spec or {}).get('dataset_id')) if job else None
        params = dataset.params if dataset else {}
        self._totals[job_id] = (params.get('expected_items', 0), params)
        return self._totals[job_id]

    def _finished(self, job: Job) -> None:
        self._totals.pop(job.id, None)
        spec = job.spec or {}
        dataset = self.get(spec.get('dataset_id'))
        if dataset is None:  # deleted while it was building: nothing of it may stay behind
            if job.status != 'done' and spec.get('output'):
                folders.remove_lmdb(Path(spec['output']))
            return
        if dataset.status != 'building':
            return
        path = Path(dataset.path)
        if job.status == 'done':
            try:
                info = read_lmdb(path)
            except (OSError, ValueError) as e:
                info, job.message = None, f'RAVE finished but the dataset cannot be read: {e}'
            if info and info['examples'] > 0:
                dataset.status = 'ready'
                dataset.n_examples = info['examples']
                dataset.channels, dataset.sr, dataset.lazy = info['channels'], info['sr'], info['lazy']
                dataset.n_seconds = info['seconds'] if info['lazy'] else \
                    info['examples'] * example_seconds(dataset.params.get('num_signal', 131072), info['sr'])
                dataset.size_bytes = info['size_bytes']
                dataset.save()
                self.changed(dataset)
                return
            if info:
                job.message = ('No examples were written: every file is shorter than one example '
                               f'({example_seconds(dataset.params.get("num_signal", 131072), dataset.sr or 44100):.1f}'
                               ' s). '
                               'Lower the example length or add longer recordings.')
        dataset.status = 'cancelled' if job.status == 'cancelled' else 'failed'
        message = job.message or 'Preprocessing stopped.'
        gone = folders.vanished(path / STAGING) if dataset.params.get('staged') else []
        if gone and job.status != 'cancelled':
            message += (' These files disappeared or changed while RAVE was reading them: '
                        + ', '.join(gone[:5]) + '. Put them back (or leave them out) and build again.')
        if dataset.params.get('skipped_count') and job.status != 'cancelled':
            names = [Path(entry.split(' — ')[0]).name for entry in dataset.params.get('skipped', [])[:5]]
            message += f' Skipped as unusable: {", ".join(names)}.'
        dataset.params = {**dataset.params, 'message': message}
        dataset.save()
        self.changed(dataset)
        folders.remove_lmdb(path)


def _clean_ext(ext: list[str]) -> list[str]:
    return list(dict.fromkeys(e.strip().lstrip('.').lower() for e in ext if e and e.strip()))


def _or_default(ext: list[str] | None) -> list[str]:
    """No list given means RAVE's own; an empty list given means none (which the doctor refuses)."""
    return RAVE_EXTENSIONS if ext is None else ext
