"""Where renders go: each one a float WAV under `<project>/play/live/` for the page's player (the newest few are
kept), and the ones a user saves under `<project>/renders/` as WAV or FLAC with the recipe beside them.

A saved `<name>.wav` has `<name>.json` (what made it: op, model, seed, settings, threads) and `<name>.npz` (the
latent that was decoded) beside it, so it can be made again later. Live files are written as 32-bit float: a
saved WAV is the very bytes that were heard, and the same audio always gives the same bytes.
"""
from __future__ import annotations

import json
import secrets
import struct
from pathlib import Path

from services import i18n, lazy
from services.audio import envelope, spectrogram
from services.files import safe_name
from services.models.play.views import RenderView, SavedRender
from services.models.server import Render

np = lazy.module('numpy')

soundfile = lazy.module('soundfile')  # only a FLAC save needs it: not at the studio's launch

LIVE_KEEP = 64  # live files per project; older ones go (a page only ever plays its newest)
FORMATS = {'wav': ('WAV', 'FLOAT'), 'flac': ('FLAC', 'PCM_24')}


class RenderError(ValueError):
    """A render that cannot be kept or found, with a sentence saying what to do."""


class RenderStore:
    def __init__(self, folder_of) -> None:
        self._folder_of = folder_of  # (project, sub) → its folder, made if missing

    def keep(self, project, render: Render, label: str, recipe: dict, threads: int) -> RenderView:
        """Write a server's render for the page's player; returns its view."""
        return self.keep_audio(project, render.audio, render.sr, label, recipe, z=render.z, seed=render.seed,
                               elapsed_s=render.elapsed_s, rss_bytes=render.rss_bytes, threads=threads)

    def keep_audio(self, project, audio: np.ndarray, sr: int, label: str, recipe: dict | None = None, *,
                   z: np.ndarray | None = None, seed: int = 0, elapsed_s: float = 0.0, rss_bytes: int = 0,
                   threads: int = 0) -> RenderView:
        """Write any audio `[channels, samples]` (an original, a mix of two models) for the page's player."""
        audio = np.atleast_2d(np.asarray(audio, np.float32))
        folder = self._folder_of(project, 'play') / 'live'
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f'{secrets.token_hex(6)}.wav'
        write_float_wav(path, audio, sr)
        _prune(folder)
        return RenderView(path, label, audio.shape[1] / sr, sr, seed, elapsed_s, rss_bytes, threads,
                          envelope(audio), spectrogram(audio, sr),
                          np.zeros((0, 0), np.float32) if z is None else z, dict(recipe or {}))

    def save(self, project, render: RenderView, name: str, fmt: str = 'wav') -> SavedRender:
        """Copy a render into the project's renders/ as WAV (the bytes heard) or FLAC, recipe and latent beside."""
        if fmt not in FORMATS:
            raise RenderError(i18n.lazy('Save as {formats}, not {fmt!r}.', formats=' or '.join(FORMATS).upper(),
                                        fmt=fmt))
        if not render.path.is_file():
            raise RenderError(i18n.lazy('That render is gone (only the newest ones are kept); render it again, then '
                                        'save.'))
        if not (name or '').strip():
            raise RenderError(i18n.lazy('Give the file a name, e.g. "drone 1".'))
        stem = safe_name(name.strip()).removesuffix(f'.{fmt}')
        folder = self._folder_of(project, 'renders')
        target, n = folder / f'{stem}.{fmt}', 2
        while target.exists() or target.with_suffix('.json').exists():
            target, n = folder / f'{stem} ({n}).{fmt}', n + 1
        if fmt == 'wav':
            target.write_bytes(render.path.read_bytes())
        else:
            audio, sr = soundfile.read(str(render.path), dtype='float32', always_2d=True)
            soundfile.write(str(target), np.clip(audio, -1.0, 1.0), sr, format=FORMATS[fmt][0],
                            subtype=FORMATS[fmt][1])
        recipe = {**render.recipe, 'seconds': render.seconds, 'sr': render.sr, 'label': render.label}
        target.with_suffix('.json').write_text(json.dumps(recipe, indent=1))
        if render.z.size:
            np.savez(target.with_suffix('.npz'), z=render.z)
        return SavedRender(target, target.stem, render.seconds, recipe)

    def saved(self, project) -> list[SavedRender]:
        """The project's saved renders, newest first."""
        folder = Path(project.location) / 'renders'
        found = []
        for path in sorted(folder.glob('*'), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []:
            if path.suffix.lstrip('.') in FORMATS:
                recipe = _read_json(path.with_suffix('.json'))
                found.append(SavedRender(path, path.stem, float(recipe.get('seconds', 0.0)), recipe))
        return found

    def latent_of(self, saved: SavedRender) -> np.ndarray | None:
        """The latent a saved render decoded, when it was kept beside it."""
        path = saved.path.with_suffix('.npz')
        if not path.is_file():
            return None
        with np.load(path) as data:
            return data['z'].astype(np.float32)


def write_float_wav(path: Path, audio: np.ndarray, sr: int) -> None:
    """A 32-bit float WAV of `audio[channels, samples]`, nothing in it but the samples: libsndfile adds a PEAK
    chunk with a time stamp to float files, so two renders of the same audio would differ in bytes."""
    data = np.ascontiguousarray(audio.T, '<f4').tobytes()
    channels, frames = audio.shape
    fmt = struct.pack('<HHIIHHH', 3, channels, sr, sr * channels * 4, channels * 4, 32, 0)
    chunks = (b'fmt ' + struct.pack('<I', len(fmt)) + fmt + b'fact' + struct.pack('<II', 4, frames)
              + b'data' + struct.pack('<I', len(data)) + data)
    path.write_bytes(b'RIFF' + struct.pack('<I', 4 + len(chunks)) + b'WAVE' + chunks)


def _prune(folder: Path) -> None:
    files = sorted(folder.glob('*.wav'), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[LIVE_KEEP:]:
        old.unlink(missing_ok=True)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
