"""Model testing: audio through a checkpoint or an export in the model-test worker (a job, so it shows in the
jobs indicator and survives the page), with per-file codec metrics and their aggregate.

Each test gets <project>/tests/<id>/ holding request.json, the original and reconstructed WAVs and result.json
(services/workers/model_test.py). `ModelTests` is the facade pages use: it checks the acting user, keeps every
path a user names inside the file policy, and returns frozen views.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from services import access, audio, formatting, i18n, lazy
from services.access import Action, Actor
from services.files import FilePolicy, PathRefused, is_audio
from services.hookspecs import JobKind
from services.i18n import N_, _
from services.jobs import REPO_ROOT, JobService, JobState
from services.models.inference import InferenceService
from services.models.views import Envelope
from services.projects import ProjectService
from services.settings import SettingsService
from services.store import Checkpoint, Dataset, Export, Job, Project, Run
from services.workers.model_test import parse as parse_model_test

np = lazy.module('numpy')
sf = lazy.module('soundfile')

KIND = 'model_test'
RESULT = 'result.json'
MAX_FILES = 200
# each metric's name and which way is better (marked for the catalogue: pages say them in their language)
LABELS = {'mrstft': (N_('MR-STFT distance'), N_('lower is better')), 'mel': (N_('Mel distance'), N_('lower is better')),
          'si_sdr': (N_('SI-SDR (dB)'), N_('higher is better')), 'lufs_in': (N_('Loudness in (LUFS)'), ''),
          'lufs_out': (N_('Loudness out (LUFS)'), ''),
          'lufs_diff': (N_('Loudness difference (LU)'), N_('nearer 0 is better')),
          'pesq': (N_('PESQ (speech)'), N_('higher is better, 1–4.6')),
          'stoi': (N_('STOI (speech)'), N_('higher is better, 0–1'))}
SPEECH_METRICS = ('pesq', 'stoi')  # measured only when the user says the audio is speech
SPEECH = 'speech'  # the dataset category or tag that says so


class ModelTestError(ValueError):
    """A test that cannot start, with what to do instead."""


@dataclass(frozen=True)
class ModelSource:
    """Something audio can be tested through: a checkpoint of a run or a finished export."""
    path: str
    label: str
    kind: str  # checkpoint | export
    run_id: int | None
    speech: bool = False  # its run trained on a dataset marked speech


@dataclass(frozen=True)
class TestedFile:
    name: str
    input: str  # absolute paths of the WAVs the worker wrote
    output: str
    seconds: float
    model_seconds: float
    metrics: dict
    input_envelope: Envelope
    output_envelope: Envelope


@dataclass(frozen=True)
class TestView:
    """A test as it stands: its job's status, progress, and once done the files and the aggregate."""
    id: str
    job_id: int
    folder: str
    status: str
    progress: float | None
    detail: str
    model: str = ''
    sr: int | None = None
    files: tuple[TestedFile, ...] = ()
    aggregate: tuple[tuple[str, float], ...] = ()
    model_seconds: float | None = None
    error: str = ''
    speech: bool = False  # PESQ and STOI were measured

    @property
    def metric_keys(self) -> tuple[str, ...]:
        """The per-file metrics the table shows: the codec ones, and the speech ones when measured."""
        return ('mrstft', 'mel', 'si_sdr', 'lufs_diff') + (SPEECH_METRICS if self.speech else ())

    @property
    def done(self) -> bool:
        return self.status == 'done' and not self.error


class TestingService:
    def __init__(self, jobs: JobService, settings: SettingsService, projects: ProjectService) -> None:
        self.jobs, self.settings, self.projects = jobs, settings, projects

    def job_kinds(self) -> list[JobKind]:
        return [JobKind(KIND, parse=parse_model_test, describe=_describe)]

    def start(self, project: Project, model: Path, request: dict, title: str, owner: str = '') -> tuple[str, int, Path]:
        test_id = f'{time.strftime("%Y%m%d-%H%M%S")}-{secrets.token_hex(3)}'
        folder = self.projects.folder(project, 'tests') / test_id
        folder.mkdir(parents=True)
        (folder / 'request.json').write_text(json.dumps({**request, 'model': str(model), 'out': str(folder)}))
        argv = [self.settings.python, '-m', 'services.workers.model_test', str(folder / 'request.json')]
        job = self.jobs.submit(KIND, title, argv, project=project, cwd=REPO_ROOT,
                               spec={'folder': str(folder), 'model': str(model)}, owner=owner)
        return test_id, job.id, folder

    def view(self, test_id: str, job_id: int, folder: Path) -> TestView:
        state = self.jobs.states.get(job_id)
        job = Job.get_or_none(Job.id == job_id)
        status = state.status if state else (job.status if job else 'failed')
        data = _read(folder / RESULT) if status in ('done', 'failed') else None
        if data is None or status != 'done':
            error = (data or {}).get('error') or ((state.message if state else '') if status == 'failed' else '')
            return TestView(test_id, job_id, str(folder), status, state.progress if state else None,
                            state.detail if state else '', error=error or ('The test failed: see its job log.'
                                                                          if status in ('failed', 'interrupted')
                                                                          else ''))
        if 'error' in data:
            return TestView(test_id, job_id, str(folder), status, 1.0, '', error=data['error'])
        files = tuple(TestedFile(f['name'], f['input'], f['output'], f['seconds'], f['model_seconds'], f['metrics'],
                                 _envelope(f['input_envelope']), _envelope(f['output_envelope']))
                      for f in data['files'])
        return TestView(test_id, job_id, str(folder), status, 1.0, '', data['model'], data['sr'], files,
                        tuple(data['aggregate'].items()), data['model_seconds'], speech=bool(data.get('speech')))


@access.acts
class ModelTests:
    """Testing models on audio as the acting user may."""

    def __init__(self, service: TestingService, inference: InferenceService, files: FilePolicy,
                 actor: Actor) -> None:
        self._service, self._inference, self._files = service, inference, files
        self.actor = actor

    def sources(self, project_id: int) -> list[ModelSource]:
        """Every checkpoint of the project's runs (best first) and every finished export."""
        access.require(self.actor, Action.READ, project_id)
        found, speech = [], {}
        for run in Run.select().where((Run.project == project_id) & (Run.archived == False)) \
                .order_by(Run.created.desc()):  # noqa: E712
            speech[run.id] = is_speech(run.dataset)
            for c in Checkpoint.select().where(Checkpoint.run == run).order_by(Checkpoint.kind != 'best',
                                                                                Checkpoint.step.desc()):
                if Path(c.path).is_file():
                    found.append(ModelSource(c.path, _('{run} · {kind} · {step}').format(
                        run=run.name, kind=_(c.kind), step=_('step {step}').format(step=formatting.count(c.step))
                        if c.step is not None else Path(c.path).name), 'checkpoint', run.id,
                                             speech[run.id]))
        for e in Export.select().where((Export.project == project_id) & (Export.status == 'done')):
            if Path(e.path).is_file() and e.path.endswith('.ts'):
                found.append(ModelSource(e.path, f'{e.name or Path(e.path).stem} · {_("export")}', 'export', e.run_id,
                                         speech.get(e.run_id, False)))
        return found

    def audio_choices(self, project_id: int) -> list[str]:
        project = self._project(project_id, Action.READ)
        return [str(p) for p in self._inference.audio_choices(project)]

    def datasets(self, project_id: int) -> dict[int, str]:
        access.require(self.actor, Action.READ, project_id)
        return {d.id: d.name for d in self._ready(project_id)}

    def speech_datasets(self, project_id: int) -> frozenset[int]:
        """The ready datasets marked speech (category or tag `speech`): testing on them measures PESQ and STOI."""
        access.require(self.actor, Action.READ, project_id)
        return frozenset(d.id for d in self._ready(project_id) if is_speech(d))

    def start(self, project_id: int, model: str, *, files: list[str] = (), folder: str = '',
              dataset_id: int | None = None, limit: int = 8, speech: bool | None = None) -> TestView:
        """Test `model` (a source of `sources`) on files, every audio file of a folder, or a dataset's held-out
        examples; with `speech` also PESQ and STOI (None: when the tested dataset, or else the model's, is marked
        speech). ModelTestError says what is missing."""
        project = self._project(project_id, Action.RUN)
        source = next((s for s in self.sources(project_id) if s.path == model), None)
        if source is None:
            raise ModelTestError(i18n.lazy('Pick a checkpoint or an export of this project to test.'))
        request: dict = {}
        if dataset_id is not None:
            dataset = Dataset.get_or_none((Dataset.id == dataset_id) & (Dataset.project == project))
            if dataset is None or dataset.status != 'ready':
                raise ModelTestError(i18n.lazy('Pick a ready dataset of this project.'))
            request = {'dataset': dataset.path, 'limit': max(1, min(int(limit), 100))}
            what = f'{dataset.name}\'s held-out examples'
            marked = is_speech(dataset)
        else:
            paths = self._audio(project, files, folder)
            request = {'files': [str(p) for p in paths]}
            what = paths[0].name if len(paths) == 1 else f'{len(paths)} files'
            marked = source.speech
        request['speech'] = marked if speech is None else bool(speech)
        test_id, job_id, out = self._service.start(project, Path(model), request,
                                                   f'Test {Path(model).name} on {what}', self.actor.name)
        return self._service.view(test_id, job_id, out)

    def test(self, test_id: str, job_id: int, folder: str) -> TestView:
        job = Job.get_or_none(Job.id == job_id)
        if job is None or Path(job.spec.get('folder', '')) != Path(folder):
            raise ModelTestError(i18n.lazy('This test is gone.'))
        access.require(self.actor, Action.READ, job.project_id)
        return self._service.view(test_id, job_id, Path(folder))

    def data_path(self, relative: str) -> str:
        """A data-folder path (as the TensorBoard reader gives its WAVs) made absolute."""
        return str(self._files.data_dir / relative)

    def comparison(self, tested: TestedFile) -> dict:
        """Spectrograms of the original and the reconstruction and their difference (dB), for the charts.
        Blocking (reads two WAVs): call it off the event loop."""
        data = []
        for path in (tested.input, tested.output):
            samples, sr = sf.read(path, dtype='float32', always_2d=True)
            data.append(audio.spectrogram(samples.T, sr))
        a, b = data
        frames = min(a['db'].shape[1], b['db'].shape[1])
        diff = b['db'][:, :frames].astype(np.int16) - a['db'][:, :frames].astype(np.int16)
        return {'input': a, 'output': b, 'difference': {**a, 'db': diff, 'times': a['times'][:frames]}}

    def _audio(self, project: Project, files: list[str], folder: str) -> list[Path]:
        also = (Path(project.location),)
        try:
            if folder:
                root = self._files.confine(folder, also=also, what='folder of audio')
                paths = sorted(p for p in root.rglob('*') if p.is_file() and is_audio(p))[:MAX_FILES]
                if not paths:
                    raise ModelTestError(i18n.lazy('{root} holds no audio file (wav, flac, ogg…).', root=root))
                return paths
            paths = [self._files.confine(f, also=also, what='audio file') for f in files]
        except PathRefused as e:
            raise ModelTestError(str(e)) from e
        if not paths:
            raise ModelTestError(i18n.lazy('Pick or upload a piece of audio, a folder, or a dataset.'))
        missing = [p for p in paths if not p.is_file() or not is_audio(p)]
        if missing:
            raise ModelTestError(i18n.lazy('{name} is not an audio file the studio can read.', name=missing[0].name))
        return paths

    def _project(self, project_id: int, action: Action) -> Project:
        access.require(self.actor, action, project_id)
        return Project.get_by_id(project_id)

    @staticmethod
    def _ready(project_id: int):
        return Dataset.select().where((Dataset.project == project_id) & (Dataset.status == 'ready'))


def is_speech(dataset: Dataset | None) -> bool:
    """Whether the user marked the dataset as speech: its category or one of its tags is `speech`. (A choice,
    never a guess from the audio: PESQ and STOI mean nothing on music.)"""
    if dataset is None:
        return False
    return SPEECH in {(dataset.category or '').strip().lower(), *(str(t).strip().lower() for t in dataset.tags or ())}


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _envelope(data: dict) -> Envelope:
    return Envelope(tuple(data.get('min') or ()), tuple(data.get('max') or ()))


def _describe(state: JobState) -> None:
    if 'fraction' in state.last:
        state.progress = min(float(state.last['fraction']), 0.99)
        state.detail = state.last.get('stage', '')
