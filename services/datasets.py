"""Datasets: RAVE LMDB folders made by `rave preprocess` from folders of audio, indexed in the database.

The studio never touches the user's source audio: it reads it (probing durations) and RAVE writes a new
LMDB folder under `<project>/datasets/`. A failed or cancelled build leaves no half-written folder behind.
"""
from __future__ import annotations

import math
import os
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.jobs import JobService, JobState
from services.projects import ProjectService, slug
from services.settings import SettingsService
from services.store import Dataset, Job, Project

RAVE_EXTENSIONS = ['aif', 'aiff', 'wav', 'opus', 'mp3', 'aac', 'flac', 'ogg']  # RAVE's own default list
SAMPLING_RATES = [16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000]
MIN_NUM_SIGNAL = 16384
MAX_NUM_SIGNAL = 1 << 22
STALL_S = 300.0  # RAVE prints a progress line per example; five silent minutes means it is stuck
PROBE_LIMIT = 2000  # files whose duration is probed before launch; beyond that the total is extrapolated


class DatasetError(ValueError):
    """A dataset action that cannot be done, with a message for the user."""


@dataclass
class Survey:
    """What the input folders hold, as RAVE will see them."""
    files: list[Path] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)  # seconds, for the files probed
    unreadable: list[Path] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        probed = len(self.durations) + len(self.unreadable)
        if not probed:
            return 0.0
        return sum(self.durations) * max(len(self.files), probed) / probed

    def examples(self, num_signal: int, sr: int) -> int:
        """Examples a regular build writes: each holds 2·num_signal samples; a file's remainder is dropped."""
        per_example = 2 * num_signal / sr
        probed = len(self.durations) + len(self.unreadable)
        count = sum(math.floor(d / per_example) for d in self.durations)
        return round(count * len(self.files) / probed) if probed else 0


def example_seconds(num_signal: int, sr: int) -> float:
    """Length of one stored example: RAVE reads 2·num_signal samples per example (preprocess.py:80-83)."""
    return 2 * num_signal / sr


class DatasetService:
    def __init__(self, jobs: JobService, settings: SettingsService, projects: ProjectService) -> None:
        self.jobs = jobs
        self.settings = settings
        self.projects = projects
        self._totals: dict[int, tuple[int, dict]] = {}  # job id -> (expected items, params)
        jobs.describe_with('preprocess', self._describe)
        jobs.on_finish('preprocess', self._finished)

    # ---- queries ------------------------------------------------------------------------------
    def list(self, project: Project) -> list[Dataset]:
        return list(Dataset.select().where(Dataset.project == project).order_by(Dataset.created.desc()))

    def get(self, dataset_id: int | str) -> Dataset | None:
        try:
            return Dataset.get_or_none(Dataset.id == int(dataset_id))
        except (TypeError, ValueError):
            return None

    def output_path(self, project: Project, name: str) -> Path:
        """Where the LMDB folder goes: absolute, since RAVE crashes on a bare name."""
        return (Path(project.location) / 'datasets' / slug(name)).resolve()

    def survey(self, inputs: list[str | Path], ext: list[str] | None = None) -> Survey:
        """List the files RAVE would pick up (recursively, `.ext` or `.EXT`) and probe their durations. Slow:
        call it off the event loop."""
        ext = [e.strip().lstrip('.').lower() for e in (ext or RAVE_EXTENSIONS) if e.strip()]
        suffixes = {f'.{e}' for e in ext} | {f'.{e.upper()}' for e in ext}
        result = Survey()
        for folder in inputs:
            root = Path(folder).expanduser()
            if not root.is_dir():
                continue
            for dirpath, _dirs, names in os.walk(root, followlinks=True):
                result.files += sorted(Path(dirpath) / n for n in names if Path(n).suffix in suffixes)
        for path in result.files[:PROBE_LIMIT]:
            duration = _duration(path)
            if duration is None:
                result.unreadable.append(path)
            else:
                result.durations.append(duration)
        return result

    def validate(self, project: Project, name: str, inputs: list[str], num_signal: int = 131072,
                 channels: int = 1, sr: int = 44100, ext: list[str] | None = None, lazy: bool = False,
                 survey: Survey | None = None) -> list[str]:
        """Everything that would stop this dataset from building, in words a musician understands."""
        problems = []
        name = (name or '').strip()
        if not name:
            problems.append('Give the dataset a name.')
        elif Dataset.get_or_none((Dataset.project == project) & (Dataset.name == name)):
            problems.append(f'This project already has a dataset called "{name}". Pick another name.')
        else:
            out = self.output_path(project, name)
            if (out.exists() and any(out.iterdir())) or Dataset.get_or_none(Dataset.path == str(out)):
                problems.append(f'The folder {out} is already in use. Pick another name.')
        inputs = [str(i).strip() for i in inputs if str(i).strip()]
        if not inputs:
            problems.append('Add at least one folder of audio.')
        readable_inputs = []
        for folder in inputs:
            path = Path(folder).expanduser()
            if not self.settings.within_roots(path):
                problems.append(f'{folder} is outside the folders the studio may read. '
                                'Add it under Settings → Browsable folders, or pick a folder inside one.')
            elif not path.is_dir():
                problems.append(f'The folder {folder} does not exist. Check the path.')
            else:
                readable_inputs.append(path)
        ext = [e.strip().lstrip('.').lower() for e in (RAVE_EXTENSIONS if ext is None else ext) if e.strip()]
        if not ext:
            problems.append('Choose at least one audio file type (for example wav).')
        if readable_inputs and ext:
            survey = survey or self.survey(readable_inputs, ext)
            if not survey.files:
                problems.append('No audio files ending in ' + ', '.join(f'.{e}' for e in ext)
                                + ' were found in the chosen folders (sub-folders included). '
                                  'Pick a folder with audio, or add its file type.')
            elif survey.unreadable:
                names = ', '.join(p.name for p in survey.unreadable[:3])
                more = f' and {len(survey.unreadable) - 3} more' if len(survey.unreadable) > 3 else ''
                problems.append(f'{len(survey.unreadable)} file(s) cannot be read as audio: {names}{more}. '
                                'RAVE stops on such files: remove or re-export them, then try again.')
            elif not lazy and survey.examples(num_signal, sr) == 0:
                problems.append(f'Every file is shorter than one example ({example_seconds(num_signal, sr):.1f} s), '
                                'so nothing would be stored. Lower the example length or add longer recordings.')
        if not isinstance(num_signal, int) or not MIN_NUM_SIGNAL <= num_signal <= MAX_NUM_SIGNAL:
            problems.append(f'The example length (num_signal) must be a whole number of samples between '
                            f'{MIN_NUM_SIGNAL} and {MAX_NUM_SIGNAL}; 131072 is RAVE\'s default.')
        if channels not in (1, 2):
            problems.append('Channels must be 1 (mono) or 2 (stereo).')
        if sr not in SAMPLING_RATES:
            problems.append('Pick a sampling rate from the list (44100 Hz is RAVE\'s default).')
        missing = [tool for tool in ('ffmpeg', 'ffprobe') if shutil.which(tool) is None]
        if missing:
            problems.append(f'{" and ".join(missing)} not found: install ffmpeg (it decodes your audio), '
                            'then restart the studio.')
        return problems

    # ---- actions -------------------------------------------------------------------------------
    def command(self, inputs: list[str], output: Path, num_signal: int, channels: int, sr: int,
                ext: list[str], lazy: bool) -> list[str]:
        """The preprocess flags, shared by the argv the job runs and the command the user sees."""
        args = []
        for folder in inputs:
            args += ['--input_path', str(Path(folder).expanduser().resolve())]
        args += ['--output_path', str(output), '--num_signal', str(num_signal), '--channels', str(channels),
                 '--sampling_rate', str(sr)]
        if sorted(ext) != sorted(RAVE_EXTENSIONS):  # RAVE's default list needs no flags
            for e in ext:
                args += ['--ext', e]
        if lazy:
            args.append('--lazy')
        return args

    def start(self, project: Project, name: str, inputs: list[str], num_signal: int = 131072,
              channels: int = 1, sr: int = 44100, ext: list[str] | None = None, lazy: bool = False,
              survey: Survey | None = None) -> Dataset:
        """Register the dataset (status 'building') and queue RAVE's preprocess for it."""
        name = name.strip()
        ext = [e.strip().lstrip('.').lower() for e in (ext or RAVE_EXTENSIONS) if e.strip()]
        if not name:
            raise DatasetError('Give the dataset a name.')
        if Dataset.get_or_none((Dataset.project == project) & (Dataset.name == name)):
            raise DatasetError(f'This project already has a dataset called "{name}". Pick another name.')
        output = self.output_path(project, name)
        if output.exists() and any(output.iterdir()):
            raise DatasetError(f'The folder {output} is already in use. Pick another name.')
        survey = survey or self.survey(inputs, ext)
        expected = len(survey.files) if lazy else survey.examples(num_signal, sr)
        params = {'num_signal': num_signal, 'channels': channels, 'sampling_rate': sr, 'ext': ext, 'lazy': lazy,
                  'source_files': len(survey.files), 'source_seconds': round(survey.seconds, 3),
                  'expected_items': expected, 'unreadable': [str(p) for p in survey.unreadable[:20]]}
        sources = [str(Path(i).expanduser().resolve()) for i in inputs]
        flags = self.command(sources, output, num_signal, channels, sr, ext, lazy)
        dataset = Dataset.create(project=project, name=name, path=str(output), sources=sources, params=params,
                                 status='building', sr=sr, channels=channels, lazy=lazy)
        output.parent.mkdir(parents=True, exist_ok=True)
        # cwd: the jobs folder, which never holds a `scripts/` package that would shadow RAVE's own
        job = self.jobs.submit(
            'preprocess', f'Preprocess {name}', [self.settings.python, '-m', 'scripts.preprocess', *flags],
            command=shlex.join(['rave', 'preprocess', *flags]), project=project, cwd=self.jobs.root,
            stdin='y\n' if lazy else '', stall_s=STALL_S,
            env={'PYTHONWARNINGS': 'ignore::FutureWarning'},  # torch's pynvml notice, noise in the log
            spec={'dataset_id': dataset.id, 'output': str(output)}, slot='preprocess')
        dataset.job = job
        dataset.save()
        self._totals[job.id] = (expected, params)
        return dataset

    def cancel(self, dataset: Dataset) -> None:
        if dataset.job_id and dataset.status == 'building':
            self.jobs.cancel(dataset.job_id)

    def delete(self, dataset: Dataset, remove_files: bool = False) -> None:
        """Forget the dataset; with `remove_files`, also delete its LMDB folder (never the source audio)."""
        if dataset.status == 'building' and dataset.job_id:
            self.jobs.cancel(dataset.job_id)
        path = Path(dataset.path)
        dataset.delete_instance()
        if remove_files:
            _remove_lmdb(path)

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
        state.detail = f'{items} {unit} · {_fmt_seconds(seconds)} of audio'
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
                _remove_lmdb(Path(spec['output']))
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
                return
            if info:
                job.message = ('No examples were written: every file is shorter than one example '
                               f'({example_seconds(dataset.params.get("num_signal", 131072), dataset.sr or 44100):.1f} s). '
                               'Lower the example length or add longer recordings.')
        dataset.status = 'cancelled' if job.status == 'cancelled' else 'failed'
        message = job.message or 'Preprocessing stopped.'
        unreadable = dataset.params.get('unreadable') or []
        if unreadable and job.status != 'cancelled':
            message += ' Files that could not be read: ' + ', '.join(Path(p).name for p in unreadable[:5]) + '.'
        dataset.params = {**dataset.params, 'message': message}
        dataset.save()
        _remove_lmdb(path)


def read_lmdb(path: Path) -> dict:
    """Metadata of a finished RAVE dataset: its metadata.yaml, entry count and size on disk."""
    import lmdb
    import yaml

    meta = yaml.safe_load((path / 'metadata.yaml').read_text()) or {}
    env = lmdb.open(str(path), readonly=True, lock=False, readahead=False)
    try:  # closed at once: lmdb refuses a second open of the same path in one process
        entries = env.stat()['entries']
    finally:
        env.close()
    size = sum(f.stat().st_blocks * 512 for f in path.iterdir() if f.is_file())
    return {'examples': entries, 'channels': int(meta.get('channels', 1)), 'sr': int(meta.get('sr', 44100)),
            'lazy': bool(meta.get('lazy', False)), 'seconds': float(meta.get('n_seconds', 0.0)),
            'size_bytes': size}


def _remove_lmdb(path: Path) -> None:
    """Delete a dataset folder the studio made; refuse anything that does not look like one."""
    if not path.is_dir():
        return
    allowed = {'data.mdb', 'lock.mdb', 'metadata.yaml', 'data.mdb-lock'}
    if all(child.name in allowed for child in path.iterdir()):
        shutil.rmtree(path, ignore_errors=True)


def _duration(path: Path) -> float | None:
    """Seconds of audio in `path`, or None if neither libsndfile nor ffprobe can read it."""
    try:
        import soundfile
        info = soundfile.info(str(path))
        if info.frames > 0:
            return info.frames / info.samplerate
    except (RuntimeError, OSError, ValueError, TypeError):
        pass  # libsndfile lacks some formats (aac, opus in old builds): ask ffprobe
    try:
        out = subprocess.run(['ffprobe', '-v', 'error', '-show_entries', 'format=duration', '-of',
                              'default=noprint_wrappers=1:nokey=1', str(path)],
                             check=False, capture_output=True, text=True, timeout=30)
        return float(out.stdout.strip()) if out.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def _fmt_seconds(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f'{h} h {m:02d} min'
    return f'{m} min {s:02d} s' if m else f'{s} s'
