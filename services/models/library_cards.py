"""The model library's cards: every run of a project as a model, searched, filtered and sorted, with its
favourite star and rating, and a spectrogram thumbnail of a validation reconstruction.

A project holds tens to a few hundred runs, so the list is one query and the filtering happens here; the
thumbnail is a small PNG drawn once from the reconstruction WAV the TensorBoard reader already wrote and kept
under the data folder's cache (the card then shows a plain image, no chart per card).
"""
from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import peewee as pw

from services import audio, lazy
from services.models.views import LibraryCard
from services.store import Checkpoint, Dataset, Export, Run

np = lazy.module('numpy')
sf = lazy.module('soundfile')

SORTS = ('created', 'name', 'best_validation', 'rating', 'duration', 'size')
THUMB = (160, 48)  # frames × frequency rows of the thumbnail


@dataclass(frozen=True)
class LibraryQuery:
    search: str = ''  # words in the name, description, configs, dataset or tags
    status: str = ''
    config: str = ''
    favourites: bool = False
    min_rating: int = 0
    sort: str = 'created'
    descending: bool = True


def cards(project_id: int, query: LibraryQuery = LibraryQuery()) -> list[LibraryCard]:
    runs = list(Run.select(Run, Dataset.name.alias('dataset_name'))
                .join(Dataset, pw.JOIN.LEFT_OUTER, on=(Run.dataset == Dataset.id))
                .where((Run.project == project_id) & (Run.archived == False)).objects())  # noqa: E712
    ids = [r.id for r in runs]
    checkpoints: dict[int, list[str]] = {}
    for c in Checkpoint.select(Checkpoint.run, Checkpoint.path).where(Checkpoint.run.in_(ids)):
        checkpoints.setdefault(c.run_id, []).append(c.path)
    exports: dict[int, list[str]] = {}
    for e in Export.select(Export.run, Export.path).where(Export.run.in_(ids) & (Export.status == 'done')):
        exports.setdefault(e.run_id, []).append(e.path)
    found = [_card(r, checkpoints.get(r.id, []), exports.get(r.id, [])) for r in runs]
    found = [c for c in found if _matches(c, query)]
    return sorted(found, key=_sort_key(query.sort, query.descending), reverse=query.descending)


def thumbnail(wav: Path, cache: Path) -> Path:
    """A PNG spectrogram of `wav` (drawn once, kept under `cache` by the file's name, size and mtime)."""
    stat = wav.stat()
    key = hashlib.sha1(f'{wav.resolve()}:{stat.st_size}:{stat.st_mtime}'.encode()).hexdigest()[:16]
    out = cache / f'{key}.png'
    if out.exists():
        return out
    data, sr = sf.read(str(wav), dtype='float32', always_2d=True)
    spec = audio.spectrogram(data.T, sr, n_fft=256, columns=THUMB[0])
    db = spec['db'].astype(np.float32)  # bins × frames, low frequencies first
    rows = np.unique(np.geomspace(1, db.shape[0] - 1, THUMB[1]).astype(int))  # a log frequency axis
    image = np.clip((db[rows][::-1] + 90) / 90, 0, 1)  # high frequencies on top
    cache.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix('.tmp')
    tmp.write_bytes(_png(_colour(image)))
    tmp.replace(out)
    return out


def _card(run: Run, checkpoints: list[str], exports: list[str]) -> LibraryCard:
    spec = (run.params or {}).get('spec') or {}
    return LibraryCard(run.id, run.name, run.status, tuple(run.configs or ()), run.created, run.seconds,
                       getattr(run, 'dataset_name', None) or '', run.best_validation, run.last_loss, run.step,
                       len(checkpoints), sum(_size(p) for p in checkpoints), len(exports),
                       sum(_size(p) for p in exports), tuple(run.tags or ()), bool(run.favourite), run.rating,
                       spec.get('description') or '')


def _matches(card: LibraryCard, query: LibraryQuery) -> bool:
    text = ' '.join((card.name, card.description, card.dataset, *card.configs, *card.tags)).lower()
    return (all(w in text for w in query.search.lower().split())
            and (not query.status or card.status == query.status)
            and (not query.config or query.config in card.configs)
            and (not query.favourites or card.favourite)
            and (card.rating or 0) >= query.min_rating)


def _sort_key(sort: str, descending: bool):
    """Missing figures (no validation, no rating) sort last whichever the direction."""
    keys = {'created': lambda c: c.created.timestamp(), 'name': lambda c: c.name.lower(),
            'best_validation': lambda c: c.best_validation, 'rating': lambda c: c.rating,
            'duration': lambda c: c.seconds, 'size': lambda c: c.checkpoint_bytes + c.export_bytes}
    key = keys.get(sort, keys['created'])
    return lambda c: ((key(c) is None) != descending, key(c) if key(c) is not None else 0)


def _size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def _colour(image: np.ndarray) -> np.ndarray:
    """The studio's spectrogram scale (components/spectrogram.py): dark violet → accent → pale yellow."""
    stops = np.array([0.0, 0.35, 0.65, 0.85, 1.0])
    colours = np.array([[24, 24, 36], [45, 42, 90], [108, 92, 231], [201, 167, 255], [255, 243, 176]], float)
    rgb = np.stack([np.interp(image, stops, colours[:, k]) for k in range(3)], axis=-1)
    return rgb.astype(np.uint8)


def _png(rgb: np.ndarray) -> bytes:
    """An 8-bit RGB PNG (no imaging library in the UI process)."""
    height, width, _ = rgb.shape
    raw = b''.join(b'\x00' + rgb[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw, 6)) + chunk(b'IEND', b''))
