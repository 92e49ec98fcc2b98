"""Play: generation, the latent explorer and timbre transfer through the studio's model servers.

Pages use `Play`, which checks the acting user, lets them name only this project's models and datasets and
the files the file policy allows, and returns frozen views (`views.py`). The engine is `engine.py`; renders
are stored by `renders.py`, maps and statistics cached by `latents.py`, favourites kept by `favourites.py`.
Every method that renders blocks until the model server answers: call it off the event loop
(`await run.io_bound(play.generate, ...)`).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from services import access, i18n, lazy
from services.access import Action, Actor
from services.files import FilePolicy, PathRefused
from services.models.play.engine import PlayError, PlayService
from services.models.play.favourites import KINDS, FavouriteError, FavouriteStore
from services.models.play.latents import LatentError
from services.models.play.live import LatestOnly
from services.models.play.renders import RenderError
from services.models.play.views import (
    SPREADS,
    Content,
    FavouriteView,
    GenerateSettings,
    LatentInput,
    MapView,
    PlayModel,
    RenderView,
    SavedRender,
    ServerView,
    StatisticsView,
)
from services.models.prior import Generation, PriorError, PriorService, PriorView
from services.models.server import Controls, ModelInfo, Progress
from services.store import Dataset, Job, Project, Run
from services.training.views import MetricsView
from services.workers.latent import Keyframe

np = lazy.module('numpy')

__all__ = ['KINDS', 'SPREADS', 'Content', 'Controls', 'FavouriteView', 'GenerateSettings', 'Generation', 'Keyframe',
           'LatentInput', 'LatestOnly', 'MapView', 'ModelInfo', 'Play', 'PlayError', 'PlayModel', 'PlayService',
           'PriorView', 'RenderView', 'SavedRender', 'ServerView', 'StatisticsView']
FAILURES = (PlayError, LatentError, RenderError, FavouriteError, PriorError)  # each carries a sentence for the user


@access.acts
class Play:
    """Generation, exploration and transfer as the acting user may do them. Failures raise PlayError."""

    def __init__(self, engine: PlayService, favourites: FavouriteStore, files: FilePolicy, actor: Actor,
                 priors: PriorService | None = None) -> None:
        self._engine = engine
        self._favourites = favourites
        self._priors = priors
        self._files = files
        self.actor = actor
        self._known: dict[int, dict[str, PlayModel]] = {}  # per project: its playable models, listed once

    # ---- models and their servers ----------------------------------------------------------------------------
    def models(self, project_id: int) -> list[PlayModel]:
        """This project's finished non-streaming exports, then its runs' checkpoints."""
        models = self._engine.models(self._project(project_id, Action.READ))
        self._known[project_id] = {m.path: m for m in models}
        return models

    def info(self, project_id: int, model: str) -> ModelInfo:
        """Load the model (seconds; ~40 s for a checkpoint) and say what it is."""
        self._model(project_id, model, Action.RUN)
        return _play(self._engine.info, model)

    def servers(self) -> list[ServerView]:
        """The loaded models, their memory and how long each has been idle."""
        return self._engine.servers.views()

    def unload(self, project_id: int, model: str) -> None:
        self._model(project_id, model, Action.RUN)
        self._engine.servers.close(model)

    # ---- inputs ----------------------------------------------------------------------------------------------
    def content_file(self, project_id: int, path: str | Path) -> Content:
        project = self._project(project_id, Action.RUN)
        try:
            audio = self._files.confine(path, also=(Path(project.location),), what='audio file')
        except PathRefused as e:
            raise PlayError(str(e)) from e
        if not audio.is_file():
            raise PlayError(i18n.lazy('{name} does not exist; upload it or pick another file.', name=audio.name))
        return _play(self._engine.content_file, project, audio)

    def content_example(self, project_id: int, dataset_id: int, index: int) -> Content:
        project = self._project(project_id, Action.RUN)
        return _play(self._engine.content_example, project, self._dataset(project, dataset_id), int(index))

    def encode(self, project_id: int, model: str, content: Content) -> LatentInput:
        self._model(project_id, model, Action.RUN)
        return _play(self._engine.encode, model, content)

    def generated_input(self, project_id: int, model: str, settings: GenerateSettings,
                        statistics: StatisticsView | None = None) -> LatentInput:
        project = self._model(project_id, model, Action.RUN)
        return _play(self._engine.generated_input, project, model, settings, statistics)

    # ---- generation ------------------------------------------------------------------------------------------
    def generate(self, project_id: int, model: str, settings: GenerateSettings,
                 statistics: StatisticsView | None = None) -> RenderView:
        project = self._model(project_id, model, Action.RUN)
        return _play(self._engine.generate, project, model, _checked(settings), statistics)

    def batch(self, project_id: int, model: str, settings: GenerateSettings, count: int,
              statistics: StatisticsView | None = None) -> list[RenderView]:
        """`count` variations: the same settings at seeds seed, seed + 1, …"""
        if not 1 <= count <= 32:
            raise PlayError(i18n.lazy('Make 1 to 32 variations at once, not {count}.', count=count))
        project = self._model(project_id, model, Action.RUN)
        settings = _checked(settings)
        return [_play(self._engine.generate, project, model, GenerateSettings.of(
            {**settings.to_dict(), 'seed': settings.seed + i}), statistics) for i in range(count)]

    def statistics(self, project_id: int, model: str, dataset_id: int,
                   on_progress: Progress | None = None) -> StatisticsView:
        """The dataset's per-dimension latent mean and spread through the model (measured once, then cached)."""
        project = self._model(project_id, model, Action.RUN)
        dataset = self._dataset(project, dataset_id)
        return _play(self._engine.latents.statistics, project, self._engine.open(model), dataset, on_progress)

    # ---- the map ---------------------------------------------------------------------------------------------
    def latent_map(self, project_id: int, model: str, dataset_id: int, dims: int = 2,
                   on_progress: Progress | None = None) -> MapView:
        project = self._model(project_id, model, Action.RUN)
        dataset = self._dataset(project, dataset_id)
        return _play(self._engine.latents.map, project, self._engine.open(model), dataset, dims, on_progress)

    def start_umap(self, project_id: int, view: MapView) -> int:
        """Start the map's UMAP job (a background job on a sample of its points); returns its job id."""
        return _play(self._engine.latents.start_umap, self._project(project_id, Action.RUN), view, self.actor.name)

    def umap(self, project_id: int, view: MapView) -> MapView | None:
        """The map's UMAP twin once its job has written it."""
        return self._engine.latents.umap(self._project(project_id, Action.READ), view)

    def umap_status(self, view: MapView) -> str:
        """'' when no UMAP job ran for this map, else the newest one's status."""
        job = self._engine.latents.umap_job(view)
        return job.status if job else ''

    def moment(self, project_id: int, model: str, view: MapView, point: int, *, seed: int = 0,
               controls: Controls | None = None, seconds: float = 2.0) -> tuple[RenderView, RenderView]:
        """The dataset's audio at a point of the map, and that audio through the model (with the controls)."""
        project = self._model(project_id, model, Action.RUN)
        dataset = self._dataset(project, view.dataset_id)
        audio, sr = _play(self._engine.latents.moment, dataset, view, int(point), seconds)
        original = self._engine.renders.keep_audio(project, audio, sr, view.describe(int(point)))
        return original, _play(self._engine.reconstruct, project, model, audio, sr, seed, controls, False,
                               f'decode of {view.describe(int(point))}')

    def place_latent(self, view: MapView, places: np.ndarray) -> np.ndarray:
        """Latents `[L, places]` of places on the map (clicked points, a drawn path)."""
        return _play(self._engine.latents.to_latent, view, places)

    # ---- renders ---------------------------------------------------------------------------------------------
    def decode(self, project_id: int, model: str, z: np.ndarray, seed: int = 0, controls: Controls | None = None,
               label: str = 'decode') -> RenderView:
        project = self._model(project_id, model, Action.RUN)
        return _play(self._engine.decode, project, model, z, seed, controls, label)

    def transfer(self, project_id: int, model: str, content: Content, *, seed: int = 0,
                 controls: Controls | None = None, match_loudness: bool = False) -> RenderView:
        """Timbre transfer: the content through the model (resampled, channels matched, padding cropped)."""
        project = self._model(project_id, model, Action.RUN)
        return _play(self._engine.reconstruct, project, model, content.audio, content.sr, seed, controls,
                     match_loudness, f'{content.label} through {Path(model).stem}')

    def interpolate(self, project_id: int, model: str, a: np.ndarray, b: np.ndarray, *, seed: int = 0,
                    mix: float | None = None, kind: str = 'linear', duration_s: float = 4.0,
                    controls: Controls | None = None) -> RenderView:
        project = self._model(project_id, model, Action.RUN)
        return _play(self._engine.interpolate, project, model, a, b, seed=seed, mix=mix, kind=kind,
                     duration_s=duration_s, controls=controls)

    def path(self, project_id: int, model: str, view: MapView, places: np.ndarray, duration_s: float, *,
             seed: int = 0, controls: Controls | None = None) -> RenderView:
        project = self._model(project_id, model, Action.RUN)
        return _play(self._engine.path, project, model, view, places, duration_s, seed, controls)

    def automation(self, project_id: int, model: str, z: np.ndarray, keyframes: Sequence[Keyframe], *,
                   speed: float = 1.0, seed: int = 0) -> RenderView:
        project = self._model(project_id, model, Action.RUN)
        return _play(self._engine.automation, project, model, z, keyframes, speed, seed)

    def morph(self, project_id: int, models: tuple[str, str], content: Content, mix: float, *,
              mode: str = 'audio', seed: int = 0, controls: Controls | None = None,
              match_loudness: bool = False) -> RenderView:
        project = self._model(project_id, models[0], Action.RUN)
        self._model(project_id, models[1], Action.RUN)
        return _play(self._engine.morph, project, models, content, mix, mode=mode, seed=seed, controls=controls,
                     match_loudness=match_loudness)

    # ---- saved renders ---------------------------------------------------------------------------------------
    def save(self, project_id: int, render: RenderView, name: str, fmt: str = 'wav') -> SavedRender:
        """Keep a render in the project's renders/ as WAV or FLAC, its recipe beside it."""
        project = self._project(project_id, Action.EDIT)
        if not render.path.resolve().is_relative_to(Path(project.location).resolve()):
            raise PlayError(i18n.lazy('That render belongs to another project.'))
        return _play(self._engine.renders.save, project, render, name, fmt)

    def saved(self, project_id: int) -> list[SavedRender]:
        return self._engine.renders.saved(self._project(project_id, Action.READ))

    def regenerate(self, project_id: int, saved: SavedRender) -> RenderView:
        """Make a saved render again from its recipe (the same bytes for a generation at the same threads)."""
        project = self._project(project_id, Action.RUN)
        if saved.recipe.get('model'):
            self._model(project_id, saved.recipe['model'], Action.RUN)
        return _play(self._engine.regenerate, project, saved)

    # ---- favourites and presets ------------------------------------------------------------------------------
    def favourites(self, project_id: int, kind: str | None = None, tag: str = '') -> list[FavouriteView]:
        return self._favourites.list(self._project(project_id, Action.READ), kind, tag)

    def favourite_tags(self, project_id: int) -> list[str]:
        return self._favourites.tags(self._project(project_id, Action.READ))

    def add_favourite(self, project_id: int, kind: str, name: str, data: dict, tags: Sequence[str] | str = (),
                      model: str = '') -> FavouriteView:
        """Keep a latent point, a path, an automation or a preset under a name, with tags."""
        return _play(self._favourites.add, self._project(project_id, Action.EDIT), kind, name, data, tags, model)

    def retag_favourite(self, project_id: int, favourite_id: int, name: str, tags: Sequence[str] | str) -> None:
        _play(self._favourites.retag, self._project(project_id, Action.EDIT), favourite_id, name, tags)

    def delete_favourite(self, project_id: int, favourite_id: int) -> None:
        self._favourites.delete(self._project(project_id, Action.DELETE), favourite_id)

    def save_preset(self, project_id: int, name: str, model: str, settings: GenerateSettings,
                    tags: Sequence[str] | str = ()) -> FavouriteView:
        """A named generation preset, seed and thread count included."""
        return self.add_favourite(project_id, 'preset', name, _checked(settings).to_dict(), tags, model)

    # ---- priors ----------------------------------------------------------------------------------------------
    def priors(self, project_id: int, run_id: int) -> list[PriorView]:
        """The priors trained for a run of this project, each with its checkpoints so far."""
        project = self._project(project_id, Action.READ)
        return self._priors.priors(project, self._run(project, run_id))

    def prior(self, project_id: int, run_id: int, name: str) -> PriorView:
        project = self._project(project_id, Action.READ)
        found = self._priors.prior(project, self._run(project, run_id), name)
        if found is None:
            raise PlayError(i18n.lazy('No prior called {name} for this run; train one from the model\'s page.',
                                      name=name))
        return found

    def prior_metrics(self, prior: PriorView) -> MetricsView:
        """Its `latent_prediction` and `validation` so far, over every training of it (as a run's charts read)."""
        self._project(self._project_of_run(prior.run_id), Action.READ)
        return MetricsView.of(self._priors.metrics(prior))

    def prior_generations(self, prior: PriorView) -> list[Generation]:
        """The audio each validation generated, newest first."""
        self._project(self._project_of_run(prior.run_id), Action.READ)
        return self._priors.generations(prior)

    def prior_devices(self) -> dict[str, str]:
        return self._priors.devices()

    def stop_prior(self, prior: PriorView) -> None:
        """Stop with a checkpoint (the worker saves `stop-step=N.ckpt`, resumable), as a run stops."""
        job = Job.get_or_none(Job.id == prior.job_id)
        self._project(self._project_of_run(prior.run_id), access.control(self.actor, job.owner if job else ''))
        self._priors.stop(prior)

    def train_prior(self, project_id: int, run_id: int, name: str, *, fidelity: float = 0.95,
                    max_steps: int = 100_000, val_every: int = 1000, batch: int = 8, device: str = 'cpu',
                    n_signal: int = 0, resume: str = '') -> int:
        """Start training a prior of the run with RAVE's train_prior (or go on with the prior named `resume`);
        returns the job's id."""
        project = self._project(project_id, Action.RUN)
        run = self._run(project, run_id)
        previous = self._priors.prior(project, run, resume) if resume else None
        if resume and (previous is None or not previous.checkpoints):
            raise PlayError(i18n.lazy('The prior {resume} has no checkpoint yet to go on from.', resume=resume))
        if previous is not None and previous.active:
            raise PlayError(i18n.lazy('The prior {resume} is still training: stop it before going on.', resume=resume))
        return _play(self._priors.start, project, run, name=resume or name, fidelity=fidelity, max_steps=max_steps,
                     val_every=val_every, batch=batch, device=device,
                     n_signal=previous.n_signal if previous and not n_signal else n_signal, resume=previous,
                     owner=self.actor.name).id

    # ---- internals -------------------------------------------------------------------------------------------
    def _project(self, project_id: int, action: Action) -> Project:
        access.require(self.actor, action, project_id)
        project = Project.get_or_none(Project.id == project_id)
        if project is None:
            raise PlayError(i18n.lazy('That project is gone; pick another one.'))
        return project

    def _model(self, project_id: int, model: str, action: Action) -> Project:
        """The project, once `model` is known to be one of its playable models."""
        project = self._project(project_id, action)
        if model not in self._known.get(project_id, {}):
            self._known[project_id] = {m.path: m for m in self._engine.models(project)}
        if model not in self._known[project_id]:
            raise PlayError(i18n.lazy('{name} is not an export or checkpoint of this project; pick one from the list.',
                                      name=Path(str(model)).name or 'That model'))
        return project

    def _project_of_run(self, run_id: int) -> int:
        run = Run.get_or_none(Run.id == run_id)
        if run is None:
            raise PlayError(i18n.lazy('That run is gone; pick another one.'))
        return run.project_id

    def _run(self, project: Project, run_id: int) -> Run:
        run = Run.get_or_none((Run.id == run_id) & (Run.project == project))
        if run is None:
            raise PlayError(i18n.lazy('That run is not in this project; pick one of its runs.'))
        return run

    def _dataset(self, project: Project, dataset_id: int | None) -> Dataset:
        dataset = Dataset.get_or_none((Dataset.id == dataset_id) & (Dataset.project == project))
        if dataset is None or dataset.status != 'ready':
            raise PlayError(i18n.lazy('Pick a finished dataset of this project.'))
        return dataset


def _checked(settings: GenerateSettings) -> GenerateSettings:
    """The settings, if they make sense; PlayError says which one does not."""
    if not isinstance(settings.seed, int) or not 0 <= settings.seed < 2 ** 63:
        raise PlayError(i18n.lazy('A seed is a whole number from 0 up, not {seed!r}.', seed=settings.seed))
    if not 0.05 <= settings.duration_s <= 300:
        raise PlayError(i18n.lazy('Generate 0.05 to 300 seconds, not {duration_s:g}.', duration_s=settings.duration_s))
    if not 0 <= settings.temperature <= 10:
        raise PlayError(i18n.lazy('The temperature goes from 0 to 10, not {temperature:g}.',
                                  temperature=settings.temperature))
    if not 0.01 <= settings.keyframe_rate <= 100:
        raise PlayError(i18n.lazy('Smoothness is 0.01 to 100 keyframes a second, not {keyframe_rate:g}.',
                                  keyframe_rate=settings.keyframe_rate))
    if settings.spread not in SPREADS:
        raise PlayError(i18n.lazy('Spread the latents by {spreads}, not {spread!r}.',
                                  spreads=', '.join(SPREADS.values()), spread=settings.spread))
    return settings


def _play(method, *args, **kwargs):
    """Call an engine method, turning every failure it explains into PlayError (one kind for pages to catch)."""
    try:
        return method(*args, **kwargs)
    except PlayError:
        raise
    except FAILURES as e:
        raise PlayError(str(e)) from e
