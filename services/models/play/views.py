"""What the Play pages see: frozen copies of playable models, renders, maps, statistics, favourites and saved
files (a page never holds a row, a server or an open file)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from services import lazy
from services.i18n import N_
from services.models.server import Controls, LatentMap
from services.models.server_pool import ServerView
from services.store import Favourite

np = lazy.module('numpy')

__all__ = ['Content', 'FavouriteView', 'GenerateSettings', 'LatentInput', 'MapView', 'PlayModel', 'RenderView',
           'SavedRender', 'ServerView', 'StatisticsView']

SPREADS = {'unit': N_('unit normal'), 'dataset': N_("the dataset's measured spread"), 'prior': N_("the model's prior")}


@dataclass(frozen=True)
class PlayModel:
    """Something the Play pages can load: a finished non-streaming export, or a run's checkpoint."""
    path: str
    label: str
    kind: str  # export | checkpoint
    run_id: int | None
    dataset_id: int | None  # the dataset its run trained on (for statistics and the map)
    dataset_name: str
    export_id: int | None = None  # the Export row, for links from the export pages (`?export=<id>`)

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class GenerateSettings:
    """Everything a generation depends on: the same settings (threads included) give byte-identical audio."""
    seed: int = 0
    temperature: float = 1.0
    duration_s: float = 4.0
    keyframe_rate: float = 1.0  # keyframes per second: the lower, the smoother
    spread: str = 'unit'  # unit | dataset | prior (SPREADS)
    dataset_id: int | None = None
    bias: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()
    jitter: float = 0.0
    threads: int = 0  # the model server's thread count the settings were heard at (0: not known yet)

    @property
    def controls(self) -> Controls:
        return Controls(tuple(self.bias), tuple(self.scale), float(self.jitter))

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def of(cls, data: dict) -> GenerateSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in (data or {}).items() if k in known}
        return cls(**values)


@dataclass(frozen=True)
class RenderView:
    """One render, written as a WAV in the project (`path`), with its waveform and spectrogram ready to draw.

    `recipe` says how to make it again (op, model, seed, settings); `z` is the latent that was decoded."""
    path: Path
    label: str
    seconds: float
    sr: int
    seed: int
    elapsed_s: float
    rss_bytes: int
    threads: int
    envelope: dict
    spectrogram: dict
    z: np.ndarray = field(repr=False, compare=False)
    recipe: dict = field(default_factory=dict, compare=False)

    @property
    def peak(self) -> float:
        return max([abs(v) for v in self.envelope.get('min', [])] + [abs(v) for v in self.envelope.get('max', [])],
                   default=0.0)


@dataclass(frozen=True)
class Content:
    """Audio to play through models (a file, a dataset example), read once, with its player's render."""
    label: str
    audio: np.ndarray = field(repr=False, compare=False)
    sr: int
    original: RenderView
    source: str  # the file, or 'dataset <id> example <index>'

    @property
    def seconds(self) -> float:
        return self.audio.shape[-1] / self.sr


@dataclass(frozen=True)
class LatentInput:
    """An input turned into a latent once (a file, a dataset example, a generation), ready for the controls."""
    label: str
    z: np.ndarray = field(repr=False, compare=False)
    frame_rate: float
    original: RenderView | None  # what it sounds like before the model (None for a generation)

    @property
    def seconds(self) -> float:
        return self.z.shape[1] / self.frame_rate


@dataclass(frozen=True)
class StatisticsView:
    """Per-dimension mean and std of a dataset's deterministic encodings through one model."""
    mean: tuple[float, ...]
    std: tuple[float, ...]
    frames: int
    dataset_id: int
    dataset_name: str


@dataclass(frozen=True)
class MapView:
    """A map of a dataset's encodings: point i is example `examples[file_index[i]]` at `time_s[i]` seconds.

    `method` is 'pca' (coordinates map back to latents exactly along the axes) or 'umap' (places map back
    through the nearest points)."""
    key: str
    model: str
    dataset_id: int
    dataset_name: str
    method: str
    dims: int
    latent_map: LatentMap = field(repr=False, compare=False)
    examples: tuple[int, ...] = ()
    umap_job: int | None = None

    @property
    def coords(self) -> np.ndarray:
        return self.latent_map.coords

    @property
    def points(self) -> int:
        return int(self.latent_map.coords.shape[0])

    def latent_at(self, i: int) -> np.ndarray:
        """The latent `[L]` of point i as the encoder gave it (not its place on the map)."""
        return np.asarray(self.latent_map.frames[int(i)], np.float32)

    def describe(self, i: int) -> str:
        """'example 12 · 1.25 s' for point i (what hovering it shows)."""
        return f'{self.latent_map.names[int(self.latent_map.file_index[i])]} · {self.latent_map.time_s[i]:.2f} s'


@dataclass(frozen=True)
class FavouriteView:
    """A kept point, path, automation or preset, with its name and tags."""
    id: int
    kind: str  # point | path | automation | preset
    name: str
    tags: tuple[str, ...]
    model: str
    data: dict
    created: dt.datetime

    @classmethod
    def of(cls, row: Favourite) -> FavouriteView:
        return cls(row.id, row.kind, row.name, tuple(row.tags or ()), row.model, dict(row.data or {}), row.created)


@dataclass(frozen=True)
class SavedRender:
    """An audio file saved into the project, with the settings beside it (`<name>.json`) to make it again."""
    path: Path
    name: str
    seconds: float
    recipe: dict

    @property
    def format(self) -> str:
        return self.path.suffix.lstrip('.').upper()
