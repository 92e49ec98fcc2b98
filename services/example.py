"""The "try it" example: a project built from audio the studio synthesises (no downloads) that reaches a
playable model on a CPU in minutes — a tiny dataset, a short v2_small run, then an export the Explorer plays.

`ExampleService` makes the project and drives it stage by stage from the state in the database, through the
area facades (Projects, Datasets, Training, Models) bound to the user who started it: each DatasetChanged /
RunChanged it hears (and the studio's start) moves every example project one stage on, so a restart in the
middle carries on. The project folder holds EXAMPLE_MARKER, which says the project is one, who started it and
what went wrong, if anything. `Example` is the facade pages use.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from services import access, lazy
from services.access import Action, Actor, Forbidden
from services.events import Bus, DatasetChanged, RunChanged
from services.models.targets import ExportError
from services.projects import Projects, ProjectService
from services.store import Dataset, Export, Project, Run
from services.training.spec import RunSpec

if TYPE_CHECKING:
    from services.datasets import Datasets
    from services.models import Models
    from services.training import Training

np = lazy.module('numpy')

log = logging.getLogger(__name__)

EXAMPLE_MARKER = 'example.json'
NAME = 'Try RAVE'
SR = 44100
SECONDS = (12.0, 12.0, 12.0, 12.0)  # four takes, 48 s: 16 examples of 3 s, enough for v2_small's analysis
DATASET = 'synthesised tones'
RUN = 'first_model'
EXPORT = 'first_model'
NUM_SIGNAL = 65536
# short on purpose: it proves the whole way on a CPU (2–10 s a step on two cores); 100 steps sound like a sketch
TRAINING = RunSpec(name=RUN, base='v2_small', max_steps=100, val_every=50, n_signal=NUM_SIGNAL, batch=2,
                   channels=1, devices=('cpu',), workers=0)
STAGES = ('dataset', 'training', 'export', 'ready')


@dataclass(frozen=True)
class Facades:
    """The areas the example acts through, bound to one user."""
    projects: Projects
    datasets: Datasets
    training: Training
    models: Models


@dataclass(frozen=True)
class ExampleView:
    """Where an example project stands."""
    project_id: int
    stage: str  # dataset | training | export | ready | failed
    dataset_id: int | None = None
    run_id: int | None = None
    export_id: int | None = None
    step: int = 0  # the run's step now
    max_steps: int = TRAINING.max_steps
    message: str = ''  # why it stopped, when it failed

    @property
    def number(self) -> int:
        """1, 2, 3 for the stage under way; 4 when ready."""
        return STAGES.index(self.stage) + 1 if self.stage in STAGES else 0


class ExampleService:
    """Makes example projects and moves them on; listens on the bus. `facades(actor)` gives the areas bound to
    a user (the studio's session)."""

    def __init__(self, projects: ProjectService, facades: Callable[[Actor], Facades], bus: Bus) -> None:
        self.projects, self.facades, self.bus = projects, facades, bus
        bus.listen(self._heard)

    def create(self, actor: Actor) -> int:
        """A new example project for `actor`: audio synthesised into its uploads, its dataset queued."""
        areas = self.facades(actor)
        project = areas.projects.create(self.projects.free_name(NAME),
                                        'Made by the studio from synthesised tones: a tiny dataset, a short run '
                                        'and an export, to hear the whole way once.')
        folder = Path(areas.datasets.uploads(project.id)) / 'synthesised'
        synthesise(folder)
        _write_marker(Path(project.location), {'actor': dataclasses.asdict(actor)})
        from services.datasets import PreprocessSpec
        areas.datasets.start(project.id, PreprocessSpec(DATASET, (str(folder),), num_signal=NUM_SIGNAL, sr=SR))
        return project.id

    def is_example(self, project: Project) -> bool:
        return (Path(project.location) / EXAMPLE_MARKER).is_file()

    def view(self, project: Project) -> ExampleView | None:
        """Where the example stands (None when the project is not one)."""
        if not self.is_example(project):
            return None
        dataset, run, export = _rows(project)
        ids = {'dataset_id': dataset.id if dataset else None, 'run_id': run.id if run else None,
               'export_id': export.id if export else None, 'step': run.step if run else 0}
        failed = _read_marker(project).get('failed') or _failure(dataset, run, export)
        if failed:
            return ExampleView(project.id, 'failed', message=failed, **ids)
        stage = ('ready' if export is not None and export.status == 'done' else
                 'export' if run is not None and run.status == 'done' else
                 'training' if dataset is not None and dataset.status == 'ready' else 'dataset')
        return ExampleView(project.id, stage, **ids)

    def advance(self) -> None:
        """Move every example project one stage on where the previous one has ended."""
        for project in self.projects.all():
            if self.is_example(project):
                try:
                    self._advance(project)
                except _stopping() as e:
                    _write_marker(Path(project.location), {**_read_marker(project), 'failed': str(e)})
                    log.warning('example project %s stopped: %s', project.name, e)

    def _advance(self, project: Project) -> None:
        dataset, run, export = _rows(project)
        if dataset is not None and dataset.status == 'ready' and run is None:
            self._areas(project).training.start(project.id, dataclasses.replace(TRAINING, dataset=dataset.id))
        elif run is not None and run.status == 'done' and export is None:
            areas = self._areas(project)
            checkpoints = areas.training.checkpoints(run.id)
            best = [c for c in checkpoints if c.kind == 'best'] or sorted(checkpoints, key=lambda c: c.step or 0)[-1:]
            if not best:
                raise ExportError('The run ended without a checkpoint to export.')
            areas.models.start_export(project.id, run.id, best[0].path, target='explorer', name=EXPORT)

    def _areas(self, project: Project) -> Facades:
        """The facades of the user who started the example (the local user for one made before that was kept)."""
        who = _read_marker(project).get('actor')
        return self.facades(Actor(**who) if who else access.local())

    def _heard(self, event: object) -> None:
        if isinstance(event, (DatasetChanged, RunChanged)):
            self.advance()


@access.acts
class Example:
    """The example project as the acting user may start and follow it."""

    def __init__(self, engine: ExampleService, actor: Actor) -> None:
        self._engine = engine
        self.actor = actor

    def start(self) -> int:
        """Make a new example project and start it; its id."""
        access.require(self.actor, Action.EDIT)
        access.require(self.actor, Action.RUN)
        return self._engine.create(self.actor)

    def view(self, project_id: int) -> ExampleView | None:
        access.require(self.actor, Action.READ, project_id)
        project = self._engine.projects.get(project_id)
        return self._engine.view(project) if project is not None else None


def synthesise(folder: Path, seed: int = 7) -> list[Path]:
    """Four short takes of plucked, bowed and struck tones on a pentatonic scale, written as 16-bit WAV."""
    import soundfile
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    scale = 220.0 * 2 ** (np.array([0, 2, 4, 7, 9, 12, 14, 16]) / 12)
    paths = []
    for take, seconds in enumerate(SECONDS):
        out = np.zeros(int(seconds * SR))
        at = 0
        while at < out.size - SR // 4:
            length = int(SR * rng.uniform(0.25, 1.0))
            note = _note(rng.choice(scale), length, kind=take % 3, rng=rng)
            end = min(at + note.size, out.size)
            out[at:end] += note[:end - at]
            at += int(length * rng.uniform(0.5, 1.0))
        out = 0.5 * out / max(np.abs(out).max(), 1e-9)
        path = folder / f'take_{take + 1}.wav'
        soundfile.write(path, out.astype(np.float32), SR, subtype='PCM_16')
        paths.append(path)
    return paths


def _note(f0: float, length: int, *, kind: int, rng: np.random.Generator) -> np.ndarray:
    """One note: plucked (fast decay, bright), bowed (slow swell, vibrato) or struck (inharmonic bell)."""
    t = np.arange(length) / SR
    if kind == 0:
        partials, envelope = [(k, 0.7 ** k) for k in range(1, 8)], np.exp(-t * 6)
    elif kind == 1:
        partials = [(k, 1 / k) for k in range(1, 6)]
        envelope = np.minimum(t / 0.15, 1) * np.exp(-t * 1.5)
        t = t + 0.002 * np.sin(2 * np.pi * 5.5 * t)  # vibrato
    else:
        partials, envelope = [(1, 1), (2.76, 0.5), (5.4, 0.25), (8.9, 0.1)], np.exp(-t * 3)
    tone = sum(a * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 2 * np.pi)) for k, a in partials)
    return tone * envelope * np.minimum(1, (length - np.arange(length)) / 256)  # no click at the end


def _failure(dataset: Dataset | None, run: Run | None, export: Export | None) -> str:
    for thing, what in ((dataset, 'dataset'), (run, 'training'), (export, 'export')):
        if thing is not None and thing.status in ('failed', 'cancelled', 'interrupted'):
            return f'The example\'s {what} is {thing.status}: open it to see why, or start a new example.'
    return ''


def _rows(project: Project) -> tuple[Dataset | None, Run | None, Export | None]:
    return (Dataset.get_or_none((Dataset.project == project) & (Dataset.name == DATASET)),
            Run.get_or_none((Run.project == project) & (Run.name == RUN)),
            Export.get_or_none(Export.project == project))


def _read_marker(project: Project) -> dict:
    try:
        return json.loads((Path(project.location) / EXAMPLE_MARKER).read_text() or '{}')
    except (OSError, ValueError):
        return {}


def _write_marker(folder: Path, state: dict) -> None:
    path = folder / EXAMPLE_MARKER
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state))


def _stopping() -> tuple[type[BaseException], ...]:
    """What stops an example project's next stage with a sentence (the areas' engines, imported by then)."""
    from services.datasets.preprocessing import DatasetError
    from services.training.runs import TrainingError
    return DatasetError, TrainingError, ExportError, Forbidden, OSError
