"""The Play engine: the project's playable models, renders through their model servers, and the inputs, maps and
statistics around them. `services.models.play.Play` is the facade pages use; this module trusts its caller.

Every render goes through the studio's one `ModelServers` pool (a warm child process per model, torch never in
this process) and comes back as a `RenderView` written under the project (renders.py). Latent maths that
need no model (paths, automations, mixes) run here in numpy.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from services import formatting, i18n, lazy, progress
from services.hookspecs import JobKind
from services.i18n import _
from services.jobs import JobService, JobState
from services.models.play.latents import UMAP_KIND, LatentCache, LatentError
from services.models.play.renders import RenderError, RenderStore
from services.models.play.views import (
    Content,
    GenerateSettings,
    LatentInput,
    MapView,
    PlayModel,
    RenderView,
    SavedRender,
    StatisticsView,
)
from services.models.server import Controls, ModelInfo, ModelServer, ModelServerError, Render, read_audio
from services.models.server_pool import ModelServers
from services.projects import ProjectService
from services.store import Dataset, Export, Project, Run
from services.training.checkpoints import index as index_checkpoints
from services.workers import latent

np = lazy.module('numpy')

DECODES_KEPT = 8  # reconstructions kept for morphing (two per content and controls)
MAX_INPUT_S = 60.0  # of a file or example turned into a latent for live play: a slider re-renders all of it


class PlayError(ValueError):
    """A play action that cannot be done, with a sentence saying what to do."""


class PlayService:
    def __init__(self, servers: ModelServers, projects: ProjectService, jobs: JobService, python) -> None:
        self.servers = servers
        self.projects = projects
        self.renders = RenderStore(projects.folder)
        self.latents = LatentCache(projects.folder, jobs, python)
        self._decoded: OrderedDict[tuple, Render] = OrderedDict()

    def job_kinds(self) -> list[JobKind]:
        """The map's UMAP job says what it is doing (its two lines) as its detail."""
        return [JobKind(UMAP_KIND, parse=progress.parse_umap, describe=_describe_umap)]

    # ---- models ----------------------------------------------------------------------------------------------
    def models(self, project: Project) -> list[PlayModel]:
        """Verified non-streaming TorchScript exports (newest first; the model server plays .ts, not ONNX or
        Neutone files), then every checkpoint of the project's runs."""
        found = []
        for export in Export.select().where((Export.project == project) & (Export.status == 'done')
                                            & ~Export.streaming).order_by(Export.created.desc()):
            if Path(export.path).suffix == '.ts' and Path(export.path).is_file():
                run = export.run
                found.append(PlayModel(export.path, f'{Path(export.path).stem} · {_("export")}', 'export',
                                       run.id if run else None, *_dataset_of(run), export_id=export.id))
        for run in Run.select().where(Run.project == project).order_by(Run.created.desc()):
            for checkpoint in sorted(index_checkpoints(run), key=lambda c: c.step or 0, reverse=True):
                step = (_('step {step}').format(step=formatting.count(checkpoint.step)) if checkpoint.step is not None
                        else Path(checkpoint.path).name)
                said = _('{run} · {kind} checkpoint, {step}').format(run=run.name, kind=_(checkpoint.kind), step=step)
                found.append(PlayModel(checkpoint.path, said,
                                       'checkpoint', run.id, *_dataset_of(run)))
        return found

    def open(self, model: str) -> ModelServer:
        """The warm server of `model`, started if need be (seconds; ~40 s for a checkpoint under load)."""
        try:
            return self.servers.open(model)
        except ModelServerError as e:
            raise PlayError(str(e)) from e

    def info(self, model: str) -> ModelInfo:
        return self.open(model).info

    # ---- inputs ----------------------------------------------------------------------------------------------
    def content_file(self, project: Project, audio: Path) -> Content:
        """A file's first MAX_INPUT_S seconds, at its own rate and channels."""
        try:
            samples, sr = read_audio(audio, max_seconds=MAX_INPUT_S)
        except ModelServerError as e:
            raise PlayError(str(e)) from e
        return Content(audio.name, samples, sr, self.renders.keep_audio(project, samples, sr, audio.name), str(audio))

    def content_example(self, project: Project, dataset: Dataset, index: int) -> Content:
        from services.datasets import lmdb_reader
        try:
            samples, sr = lmdb_reader.reader(dataset.path).audio(index)
        except (OSError, ValueError, IndexError) as e:
            raise PlayError(i18n.lazy('Example {index} of {name} cannot be read: {reason}',
                                      index=index, name=dataset.name, reason=e)) from e
        samples, label = samples[:, :int(MAX_INPUT_S * sr)], f'{dataset.name} · example {index}'
        return Content(label, samples, sr, self.renders.keep_audio(project, samples, sr, label),
                       f'dataset {dataset.id} example {index}')

    def encode(self, model: str, content: Content) -> LatentInput:
        """The content's deterministic latent through `model`, ready for the controls."""
        server = self.open(model)
        z = self._call(server.encode, content.audio, content.sr)
        return LatentInput(content.label, z, server.info.frame_rate, content.original)

    def generated_input(self, project: Project, model: str, settings: GenerateSettings,
                        statistics: StatisticsView | None) -> LatentInput:
        """A generation's latent (with its controls applied), as an input for the sliders."""
        render = self.generate(project, model, settings, statistics)
        return LatentInput(f'generated, seed {settings.seed}', render.z, self.info(model).frame_rate, render)

    # ---- renders ---------------------------------------------------------------------------------------------
    def generate(self, project: Project, model: str, settings: GenerateSettings,
                 statistics: StatisticsView | None = None) -> RenderView:
        """Audio from random latents (or the model's prior), recipe and thread count kept with it."""
        server = self.open(model)
        threads = server.info.threads
        kept = GenerateSettings.of({**settings.to_dict(), 'threads': threads})
        recipe = {'op': 'generate', 'model': model, 'settings': kept.to_dict()}
        if settings.spread == 'prior':
            render = self._call(server.prior, settings.seed, settings.duration_s, settings.temperature,
                                settings.controls)
            recipe['note'] = "RAVE's prior continues from its previous call: the seed does not repeat it exactly."
        else:
            mean = spread = None
            if settings.spread == 'dataset':
                if statistics is None:
                    raise PlayError(i18n.lazy('Measure the dataset\'s latent statistics first (or pick "unit '
                                              'normal").'))
                mean, spread = np.array(statistics.mean, np.float32), np.array(statistics.std, np.float32)
                recipe['statistics'] = {'dataset_id': statistics.dataset_id, 'mean': list(statistics.mean),
                                        'std': list(statistics.std)}
            render = self._call(server.generate, settings.seed, settings.duration_s, settings.temperature,
                                settings.keyframe_rate, mean, spread, settings.controls)
        label = f'seed {settings.seed} · temperature {settings.temperature:g} · {settings.duration_s:g} s'
        return self.renders.keep(project, render, label, recipe, threads)

    def decode(self, project: Project, model: str, z: np.ndarray, seed: int = 0, controls: Controls | None = None,
               label: str = 'decode') -> RenderView:
        server = self.open(model)
        render = self._call(server.decode, z, seed, controls)
        return self.renders.keep(project, render, label, {'op': 'decode', 'model': model, 'seed': seed},
                                 server.info.threads)

    def reconstruct(self, project: Project, model: str, audio: np.ndarray, sr: int, seed: int = 0,
                    controls: Controls | None = None, match_loudness: bool = False,
                    label: str = 'through the model') -> RenderView:
        """Timbre transfer: any audio through `model` (resampled, channels matched, padding cropped)."""
        server = self.open(model)
        render = self._call(server.reconstruct, audio, sr, seed, controls, False, match_loudness)
        recipe = {'op': 'decode', 'model': model, 'seed': seed, 'loudness_matched': match_loudness}
        return self.renders.keep(project, render, label, recipe, server.info.threads)

    def interpolate(self, project: Project, model: str, a: np.ndarray, b: np.ndarray, *, seed: int = 0,
                    mix: float | None = None, kind: str = 'linear', duration_s: float = 4.0,
                    controls: Controls | None = None) -> RenderView:
        server = self.open(model)
        render = self._call(server.interpolate, a, b, seed, mix, kind, duration_s, controls)
        label = f'{kind} {"morph over time" if mix is None else f"mix {mix:.2f}"}'
        return self.renders.keep(project, render, label, {'op': 'decode', 'model': model, 'seed': seed},
                                 server.info.threads)

    def path(self, project: Project, model: str, view: MapView, places: np.ndarray, duration_s: float,
             seed: int = 0, controls: Controls | None = None) -> RenderView:
        """A path drawn on the map, walked at an even speed in `duration_s` and decoded."""
        info = self.info(model)
        frames = max(2, math.ceil(duration_s * info.frame_rate))
        try:
            z = self.latents.to_latent(view, latent.along_path(places, frames))
        except ValueError as e:
            raise PlayError(str(e)) from e
        return self.decode(project, model, z, seed, controls, f'path, {duration_s:g} s')

    def automation(self, project: Project, model: str, z: np.ndarray, keyframes: Sequence[latent.Keyframe],
                   speed: float = 1.0, seed: int = 0) -> RenderView:
        """`z` with the controls following a recorded automation (looped over `z` if the recording is longer)."""
        info = self.info(model)
        length = max(k.t for k in keyframes) / speed if keyframes else 0.0
        frames = max(z.shape[1], math.ceil(length * info.frame_rate) + 1)
        looped = np.tile(z, (1, math.ceil(frames / z.shape[1])))[:, :frames]
        try:
            moved, _mix = latent.automate(looped, np.random.default_rng(seed), keyframes, info.frame_rate, speed)
        except ValueError as e:
            raise PlayError(str(e)) from e
        return self.decode(project, model, moved, seed, None, f'automation at {speed:g}×')

    def morph(self, project: Project, models: tuple[str, str], content: Content, mix: float, *,
              mode: str = 'audio', seed: int = 0, controls: Controls | None = None,
              match_loudness: bool = False) -> RenderView:
        """The same content through two models, crossfaded by `mix` (0: the first, 1: the second): their decoded
        audio (`mode='audio'`: each decode is kept, so moving only the crossfader just remixes) or, where their
        latent sizes match, their latents mixed and decoded by both."""
        if not 0.0 <= mix <= 1.0:
            raise PlayError(i18n.lazy('The crossfader goes from 0 to 1, not {mix:g}.', mix=mix))
        first, second = self.open(models[0]), self.open(models[1])
        if mode == 'latent':
            if first.info.latent_size != second.info.latent_size:
                raise PlayError(i18n.lazy('The latents differ in size ({first} and {second} dimensions): morph their '
                                          'audio instead.', first=first.info.latent_size,
                                          second=second.info.latent_size))
            za, zb = (self._call(s.encode, content.audio, content.sr) for s in (first, second))
            frames = min(za.shape[1], zb.shape[1])
            z = latent.interpolate(za[:, :frames], zb[:, :frames], np.full(frames, mix), 'linear')
            renders = [self._call(s.decode, z, seed, _fit(controls, s.info.latent_size)) for s in (first, second)]
        elif mode == 'audio':
            renders = [self._through(s, content, seed, _fit(controls, s.info.latent_size), match_loudness)
                       for s in (first, second)]
        else:
            raise PlayError(i18n.lazy('Morph the "audio" or the "latent", not {mode!r}.', mode=mode))
        mixed, out_sr = crossfade(renders[0].audio, renders[0].sr, renders[1].audio, renders[1].sr, mix)
        recipe = {'op': 'morph', 'models': list(models), 'mode': mode, 'mix': mix, 'seed': seed}
        return self.renders.keep_audio(project, mixed, out_sr, f'{mode} morph {mix:.2f}', recipe,
                                       z=renders[0].z, seed=seed, threads=first.info.threads,
                                       elapsed_s=sum(r.elapsed_s for r in renders))

    def regenerate(self, project: Project, saved: SavedRender) -> RenderView:
        """Make a saved render again from what was stored beside it."""
        recipe = saved.recipe
        model = str(recipe.get('model') or '')
        if recipe.get('op') == 'generate':
            stats = recipe.get('statistics')
            statistics = StatisticsView(tuple(stats['mean']), tuple(stats['std']), 0, stats.get('dataset_id') or 0,
                                        '') if stats else None
            return self.generate(project, model, GenerateSettings.of(recipe.get('settings') or {}), statistics)
        z = self.renders.latent_of(saved)
        if recipe.get('op') != 'decode' or z is None:
            raise PlayError(i18n.lazy('{name} keeps no recipe to make it again (a morph of two models, or a file '
                                      'saved by hand).', name=saved.path.name))
        return self.decode(project, model, z, int(recipe.get('seed') or 0), None, f'again: {saved.name}')

    # ---- internals -------------------------------------------------------------------------------------------
    def _through(self, server: ModelServer, content: Content, seed: int, controls: Controls | None,
                 match_loudness: bool):
        """The content through one model, from the last few kept (the crossfader moves without re-rendering)."""
        key = (server.info.path, server.info.pid, content.source, content.audio.shape, seed, controls, match_loudness)
        if key not in self._decoded:
            self._decoded[key] = self._call(server.reconstruct, content.audio, content.sr, seed, controls, False,
                                            match_loudness)
            while len(self._decoded) > DECODES_KEPT:
                self._decoded.popitem(last=False)
        self._decoded.move_to_end(key)
        return self._decoded[key]

    @staticmethod
    def _call(method, *args):
        try:
            return method(*args)
        except ModelServerError as e:
            raise PlayError(str(e)) from e


def crossfade(a: np.ndarray, sr_a: int, b: np.ndarray, sr_b: int, mix: float | np.ndarray) -> tuple[np.ndarray, int]:
    """`(1 - mix) · a + mix · b` at a's rate, b resampled and its channels matched, cropped to the shorter;
    `mix` is one value or one per sample."""
    if sr_b != sr_a:
        from scipy.signal import resample_poly
        g = math.gcd(sr_a, sr_b)
        b = resample_poly(b, sr_a // g, sr_b // g, axis=1).astype(np.float32)
    channels = max(a.shape[0], b.shape[0])
    a, b = (np.repeat(x, channels, axis=0) if x.shape[0] == 1 else x for x in (a, b))
    n = min(a.shape[1], b.shape[1])
    weight = np.asarray(mix, np.float32)
    weight = weight[:n] if weight.ndim else weight
    return ((1 - weight) * a[:, :n] + weight * b[:, :n]).astype(np.float32), sr_a


def _fit(controls: Controls | None, size: int) -> Controls | None:
    """The controls for a model of `size` latent dimensions: sliders set for a wider model crossfaded with a
    narrower one act on the dimensions both have."""
    if controls is None:
        return None
    jitter = controls.jitter if isinstance(controls.jitter, float | int) else tuple(controls.jitter)[:size]
    return Controls(tuple(controls.bias)[:size], tuple(controls.scale)[:size], jitter)


def _dataset_of(run: Run | None) -> tuple[int | None, str]:
    dataset = run.dataset if run is not None else None
    return (dataset.id, dataset.name) if dataset is not None else (None, '')


__all__ = ['LatentError', 'PlayError', 'PlayService', 'RenderError', 'crossfade']


def _describe_umap(state: JobState) -> None:
    state.detail = str(state.last.get('stage', ''))
