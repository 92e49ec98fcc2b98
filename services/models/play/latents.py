"""What a dataset looks like through one model, computed once and cached under `<project>/play/cache/`: the
per-dimension statistics generation spreads by, and the explorer's map of its encodings (PCA in the model
server, at once; UMAP as a background job on a sample of the map's points).

Both read an even sample of the dataset's examples, about `SECONDS` of audio (≈ 10 000 frames at v2's 86 Hz).
A cache entry is keyed by the model file and the dataset's data.mdb as they are now: retraining or rebuilding
either makes a new one.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services import i18n, lazy
from services.datasets import lmdb_reader
from services.jobs import REPO_ROOT, JobService
from services.models.play.views import MapView, StatisticsView
from services.models.server import LatentMap, ModelServer, Progress
from services.store import Dataset, Job
from services.workers import latent

np = lazy.module('numpy')

SECONDS = 120.0
MAX_FRAMES = 10_000
UMAP_POINTS = 2_000  # UMAP takes ~100 s for 6k points on 2 cores (RAVE_NOTES §8): a sample keeps it a minute
UMAP_KIND = 'latent_umap'


class LatentError(ValueError):
    """Statistics or a map that cannot be made, with a sentence saying what to do."""


@dataclass(frozen=True)
class DatasetAudio:
    """An even sample of a dataset: the examples read, a name for each and their audio with its rate."""
    examples: tuple[int, ...]
    names: tuple[str, ...]
    audios: tuple[tuple[np.ndarray, int], ...]


class LatentCache:
    def __init__(self, folder_of: Callable, jobs: JobService, python: Callable[[], str]) -> None:
        self._folder_of = folder_of
        self._jobs = jobs
        self._python = python

    # ---- statistics ------------------------------------------------------------------------------------------
    def statistics(self, project, server: ModelServer, dataset: Dataset,
                   on_progress: Progress | None = None) -> StatisticsView:
        """The dataset's per-dimension latent mean and std through the served model (cached)."""
        path = self._cache(project, 'stats', server, dataset)
        if not path.is_file():
            sample = self.sample(dataset)
            stats = server.statistics(list(sample.audios), on_progress)
            _save(path, mean=stats.mean, std=stats.std, frames=np.array(stats.frames))
        with np.load(path) as data:
            return StatisticsView(tuple(data['mean'].tolist()), tuple(data['std'].tolist()), int(data['frames']),
                                  dataset.id, dataset.name)

    # ---- the map ---------------------------------------------------------------------------------------------
    def map(self, project, server: ModelServer, dataset: Dataset, dims: int = 2,
            on_progress: Progress | None = None) -> MapView:
        """The PCA map of the dataset's encodings (cached); with its UMAP twin's job when one was started."""
        if dims not in (2, 3):
            raise LatentError(i18n.lazy('A map has 2 or 3 dimensions, not {dims}.', dims=dims))
        path = self._cache(project, f'map{dims}', server, dataset)
        if not path.is_file():
            sample = self.sample(dataset)
            mapped = server.latent_map(list(sample.audios), sample.names, dims, MAX_FRAMES, on_progress)
            _save(path, coords=mapped.coords, file_index=mapped.file_index, time_s=mapped.time_s,
                  frames=mapped.frames, explained=np.array(mapped.explained, np.float32),
                  frames_total=np.array(mapped.frames_total), names=np.array(mapped.names), axes=mapped.axes,
                  center=mapped.center, examples=np.array(sample.examples, np.int64))
        return self._map_view(path, server.info.path, dataset, dims)

    def start_umap(self, project, view: MapView, owner: str = '') -> int:
        """Start the UMAP job of a map (on at most UMAP_POINTS of its points); returns the job's id."""
        source = self._map_file(project, view)
        job = self._umap_job(view)
        if job is not None and (job.status in ('queued', 'running') or _umap_file(source).is_file()):
            return job.id
        argv = [self._python(), '-m', 'services.workers.latent_umap', '--map', str(source),
                '--out', str(_umap_file(source)), '--points', str(UMAP_POINTS)]
        job = self._jobs.submit(UMAP_KIND, f'UMAP map of {view.dataset_name} through {Path(view.model).stem}',
                                argv, project=project, cwd=REPO_ROOT, spec={'map': view.key}, owner=owner)
        return job.id

    def umap(self, project, view: MapView) -> MapView | None:
        """The UMAP version of a PCA map once its job has written it, else None."""
        source = self._map_file(project, view)
        target = _umap_file(source)
        if not target.is_file():
            return None
        pca = view.latent_map
        with np.load(target) as data:
            keep, coords = data['keep'], data['coords'].astype(np.float32)
        mapped = LatentMap(coords, pca.file_index[keep], pca.time_s[keep], pca.frames[keep], (), pca.frames_total,
                           pca.names, pca.axes, pca.center)
        return MapView(view.key, view.model, view.dataset_id, view.dataset_name, 'umap', coords.shape[1], mapped,
                       view.examples, view.umap_job)

    def umap_job(self, view: MapView) -> Job | None:
        return self._umap_job(view)

    def to_latent(self, view: MapView, places: np.ndarray) -> np.ndarray:
        """Latents `[L, places]` of places on the map: exact along PCA's axes, the nearest points' on UMAP."""
        places = np.atleast_2d(np.asarray(places, np.float32))
        if places.shape[1] != view.dims:
            raise LatentError(i18n.lazy('A place on this map has {dims} coordinates, not {given}.',
                                        dims=view.dims, given=places.shape[1]))
        if view.method == 'pca':
            return view.latent_map.to_latent(places)
        return latent.nearest_latent(view.coords, view.latent_map.frames, places)

    # ---- the dataset's audio ---------------------------------------------------------------------------------
    def sample(self, dataset: Dataset, seconds: float = SECONDS) -> DatasetAudio:
        """About `seconds` of the dataset's examples, evenly spread over it."""
        try:
            db = lmdb_reader.reader(dataset.path)
            count = db.span()
        except (OSError, FileNotFoundError) as e:
            raise LatentError(i18n.lazy('The dataset {name} cannot be read ({reason}); rebuild it or pick another.',
                                        name=dataset.name, reason=e)) from e
        if count == 0:
            raise LatentError(i18n.lazy('The dataset {name} holds no examples.', name=dataset.name))
        first_audio, _ = self._example(db, dataset, 0 if db.raw(0) is not None else next(
            i for i in range(count) if db.raw(i) is not None))
        per_example = max(first_audio.shape[1] / db.sr, 1e-3)
        wanted = min(count, max(2, math.ceil(seconds / per_example)))
        examples, names, audios, total = [], [], [], 0.0
        for index in latent.even_sample(count, wanted).tolist():
            if db.raw(index) is None:
                continue
            audio, sr = self._example(db, dataset, index)
            audio = audio[:, :int(max(seconds - total, 0.5) * sr)]
            examples.append(index)
            names.append(_name(db, index))
            audios.append((audio, sr))
            total += audio.shape[1] / sr
            if total >= seconds:
                break
        return DatasetAudio(tuple(examples), tuple(names), tuple(audios))

    def moment(self, dataset: Dataset, view: MapView, point: int, seconds: float = 2.0) -> tuple[np.ndarray, int]:
        """The dataset's audio around point `point` of the map (`seconds` long, centred where it can be)."""
        if not 0 <= point < view.points:
            raise LatentError(i18n.lazy('The map has {points} points; {point} is not one of them.',
                                        points=view.points, point=point))
        index = view.examples[int(view.latent_map.file_index[point])]
        audio, sr = self._example(lmdb_reader.reader(dataset.path), dataset, index)
        centre = int(float(view.latent_map.time_s[point]) * sr)
        width = int(seconds * sr)
        start = max(0, min(centre - width // 2, audio.shape[1] - width))
        return audio[:, start:start + width], sr

    # ---- internals -------------------------------------------------------------------------------------------
    def _example(self, db, dataset: Dataset, index: int) -> tuple[np.ndarray, int]:
        try:
            return db.audio(index)
        except (OSError, ValueError, IndexError) as e:
            raise LatentError(i18n.lazy('Example {index} of {name} cannot be read: {reason}',
                                        index=index, name=dataset.name, reason=e)) from e

    def _cache(self, project, what: str, server: ModelServer, dataset: Dataset) -> Path:
        model = Path(server.info.path)
        key = _key(what, model, Path(dataset.path))
        return self._folder_of(project, 'play') / 'cache' / f'{what}-{key}.npz'

    def _map_file(self, project, view: MapView) -> Path:
        return self._folder_of(project, 'play') / 'cache' / f'{view.key}.npz'

    def _map_view(self, path: Path, model: str, dataset: Dataset, dims: int) -> MapView:
        with np.load(path) as data:
            mapped = LatentMap(data['coords'], data['file_index'], data['time_s'], data['frames'],
                               tuple(data['explained'].tolist()), int(data['frames_total']),
                               tuple(str(n) for n in data['names']), data['axes'], data['center'])
            examples = tuple(int(i) for i in data['examples'])
        view = MapView(path.stem, model, dataset.id, dataset.name, 'pca', dims, mapped, examples)
        job = self._umap_job(view)
        return MapView(view.key, model, dataset.id, dataset.name, 'pca', dims, mapped, examples,
                       job.id if job else None)

    def _umap_job(self, view: MapView) -> Job | None:
        """The newest UMAP job of this map (the spec is JSON text: filtered here, there are few such jobs)."""
        for job in Job.select().where(Job.kind == UMAP_KIND).order_by(Job.id.desc()):
            if (job.spec or {}).get('map') == view.key:
                return job
        return None


def _umap_file(source: Path) -> Path:
    return source.with_name(source.stem + '-umap.npz')


def _key(what: str, model: Path, dataset: Path) -> str:
    def stamp(path: Path) -> list:
        try:
            st = path.stat()
        except OSError:
            return [str(path), 0, 0]
        return [str(path.resolve()), st.st_mtime_ns, st.st_size]
    facts = [what, SECONDS, MAX_FRAMES, stamp(model), stamp(dataset / 'data.mdb')]
    return hashlib.sha1(json.dumps(facts).encode()).hexdigest()[:16]


def _name(db, index: int) -> str:
    example = db.example(index)
    return Path(example.source).name if example.lazy and example.source else f'example {index}'


def _save(path: Path, **arrays: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + '.part.npz')
    np.savez(partial, **arrays)
    partial.replace(path)
