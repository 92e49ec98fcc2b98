"""Source audio as RAVE's preprocess will meet it: walking input folders, probing files, browsing inside the
roots, saving uploads and drawing cached waveforms. Everything here is slow I/O: call it off the event loop.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

AUDIO_SUFFIXES = ('.wav', '.aif', '.aiff', '.flac', '.mp3', '.ogg', '.opus', '.aac')
PROBE_TIMEOUT_S = 20.0
ENVELOPE_POINTS = 600
ENVELOPE_RATE = 2000  # Hz the waveform preview decodes at: plenty for a min/max drawing


@dataclass
class SourceFile:
    """One audio file: its size and, once probed, its duration, rate and channels (or why it is unusable)."""
    path: Path
    size: int = 0
    duration: float | None = None
    sr: int | None = None
    channels: int | None = None
    problem: str = ''
    via_link: bool = False  # reached through a linked folder, which RAVE's own search does not follow


@dataclass
class Walk:
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # found but not a file RAVE can use
    duplicates: int = 0  # files reached twice (overlapping input folders)


def suffixes_for(ext: list[str]) -> set[str]:
    """RAVE matches `*.ext` and `*.EXT` only (preprocess.py:205), not mixed case."""
    return {f'.{e}' for e in ext} | {f'.{e.upper()}' for e in ext}


def walk(inputs: list[Path], ext: list[str]) -> Walk:
    """Every file under `inputs` whose name ends in one of `ext`, following folder links once (loops are cut)."""
    suffixes = suffixes_for(ext)
    result = Walk()
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()
    for root in inputs:
        stack = [(Path(root), False)]
        while stack:
            folder, linked = stack.pop()
            try:
                st = folder.stat()
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen_dirs:
                if folder.is_symlink():
                    result.skipped.append((folder, 'a folder link that loops back to a folder already searched'))
                continue
            seen_dirs.add(key)
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                result.skipped.append((folder, 'a folder that cannot be opened'))
                continue
            subdirs = []
            for entry in entries:
                path = Path(entry.path)
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    if path.suffix in suffixes:
                        result.skipped.append((path, 'a folder whose name ends like an audio file'))
                    subdirs.append((path, linked or entry.is_symlink()))
                    continue
                if path.suffix not in suffixes:
                    continue
                try:
                    info = path.stat()
                except OSError:
                    result.skipped.append((path, 'a broken link or a file that cannot be opened'))
                    continue
                if not stat.S_ISREG(info.st_mode):
                    result.skipped.append((path, 'not a regular file (a pipe or a device)'))
                    continue
                real = os.path.realpath(path)
                if real in seen_files:
                    result.duplicates += 1
                    continue
                seen_files.add(real)
                result.files.append(SourceFile(path=path, size=info.st_size, via_link=linked or path.is_symlink()))
            stack.extend(reversed(subdirs))
    return result


def probe(item: SourceFile) -> SourceFile:
    """Fill in duration, sample rate and channels; set `problem` when neither libsndfile nor ffprobe reads it."""
    if item.size == 0:
        item.problem = 'an empty file (0 bytes)'
        return item
    if not os.access(item.path, os.R_OK):
        item.problem = 'no permission to read it'
        return item
    try:
        import soundfile
        info = soundfile.info(str(item.path))
        if info.frames > 0 and info.samplerate > 0:
            item.duration, item.sr, item.channels = info.frames / info.samplerate, info.samplerate, info.channels
            return item
    except (RuntimeError, OSError, ValueError, TypeError):
        pass  # libsndfile lacks some formats (aac, opus in old builds): ask ffprobe, as RAVE does
    try:
        out = subprocess.run(['ffprobe', '-v', 'error', '-select_streams', 'a:0', '-show_entries',
                              'stream=sample_rate,channels:format=duration', '-of', 'json', str(item.path)],
                             capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL,
                             check=False)
    except FileNotFoundError:
        item.problem = 'ffprobe is missing, so it cannot be checked'
        return item
    except (OSError, subprocess.TimeoutExpired):
        item.problem = 'reading it took too long (damaged?)'
        return item
    try:
        data = json.loads(out.stdout or '{}')
        stream = (data.get('streams') or [{}])[0]
        duration = float((data.get('format') or {}).get('duration') or 0)
        item.sr, item.channels = int(stream.get('sample_rate') or 0) or None, int(stream.get('channels') or 0) or None
    except (ValueError, TypeError):
        duration = 0.0
    if out.returncode != 0 or item.channels is None:
        item.problem = 'not readable as audio (damaged, or not really an audio file)'
    elif duration <= 0:
        item.problem = 'holds no audio (zero length)'
    else:
        item.duration = duration
    return item


def probe_all(items: list[SourceFile], workers: int = 4) -> list[SourceFile]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(probe, items))


# ---- browsing ---------------------------------------------------------------------------------------
@dataclass
class Entry:
    name: str
    path: Path
    is_dir: bool
    size: int = 0
    audio_inside: int = 0  # folders: audio files directly inside
    duration: float | None = None


def listing(folder: Path, ext: list[str] | None = None, limit: int = 500) -> list[Entry]:
    """Visible sub-folders then audio files of `folder` (sizes; durations for files libsndfile reads fast)."""
    suffixes = suffixes_for(ext) if ext else set(AUDIO_SUFFIXES) | {s.upper() for s in AUDIO_SUFFIXES}
    dirs, files = [], []
    try:
        with os.scandir(folder) as it:
            entries = [e for e in it if not e.name.startswith('.')]
    except OSError:
        return []
    for entry in sorted(entries, key=lambda e: e.name.lower())[:limit * 4]:
        try:
            if entry.is_dir():
                dirs.append(Entry(entry.name, Path(entry.path), True, audio_inside=_count_audio(entry.path, suffixes)))
            elif Path(entry.name).suffix in suffixes and entry.is_file():
                item = Entry(entry.name, Path(entry.path), False, size=entry.stat().st_size)
                item.duration = _quick_duration(entry.path) if len(files) < limit else None
                files.append(item)
        except OSError:
            continue
    return dirs[:limit] + files[:limit]


def _count_audio(path: str, suffixes: set[str]) -> int:
    try:
        with os.scandir(path) as inner:
            return sum(1 for f in inner if Path(f.name).suffix in suffixes)
    except OSError:
        return 0


def _quick_duration(path: str) -> float | None:
    try:
        import soundfile
        info = soundfile.info(path)
        return info.frames / info.samplerate if info.samplerate else None
    except (RuntimeError, OSError, ValueError, TypeError):
        return None


# ---- uploads ----------------------------------------------------------------------------------------
def safe_name(name: str) -> str:
    """A file or folder name that cannot escape its folder or surprise a shell: no separators, no control
    characters, no leading dots; letters of any script are kept."""
    name = unicodedata.normalize('NFC', name or '').replace('\\', '/').rsplit('/', 1)[-1]
    name = re.sub(r'[\x00-\x1f\x7f"\'`$<>|:*?]', '_', name).strip().lstrip('.').strip()
    return name[:150] or 'upload'


FOLDER_SEP = '\u2044'  # "⁄": how the browser marks the folders of a file picked or dropped inside a folder


def upload_target(uploads: Path, folder: str, filename: str) -> Path:
    """Where an uploaded file goes: `uploads/<folder>/<name>`, never outside `uploads/`, never overwriting.
    `filename` may carry the file's path inside an uploaded folder ('drums/kicks/a.wav', or with FOLDER_SEP):
    the sub-folders are kept, each part sanitized, and empty, '.' and '..' parts dropped."""
    base = (uploads / safe_name(folder)).resolve() if folder else uploads.resolve()
    parts = [p for p in re.split(rf'[/\\{FOLDER_SEP}]', unicodedata.normalize('NFC', filename or ''))
             if p.strip().strip('.')]
    target = base.joinpath(*[safe_name(p) for p in parts[-32:]] or ['upload']).resolve()
    if not target.is_relative_to(uploads.resolve()):
        raise ValueError('That name would leave the uploads folder.')
    stem, suffix, n = target.stem, target.suffix, 1
    while target.exists():
        n += 1
        target = target.with_name(f'{stem} ({n}){suffix}')
    return target


# ---- waveform previews ------------------------------------------------------------------------------
def envelope(path: Path, cache_dir: Path, points: int = ENVELOPE_POINTS) -> dict:
    """Min/max envelope of a file ({'min','max','duration'}), decoded once by ffmpeg and cached on disk."""
    st = path.stat()
    key = hashlib.sha1(f'{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{points}'.encode()).hexdigest()
    cached = cache_dir / f'{key}.json'
    if cached.exists():
        return json.loads(cached.read_text())
    import numpy as np
    out = subprocess.run(['ffmpeg', '-v', 'error', '-nostdin', '-i', str(path), '-ac', '1', '-ar', str(ENVELOPE_RATE),
                          '-f', 's16le', '-'], capture_output=True, timeout=120, check=False)
    if out.returncode != 0 and not out.stdout:
        raise ValueError(out.stderr.decode('utf-8', 'replace').strip()[-200:] or 'ffmpeg could not decode it')
    x = np.frombuffer(out.stdout, np.int16).astype(np.float32) / 32767
    duration = x.size / ENVELOPE_RATE
    if x.size == 0:
        result = {'min': [0.0], 'max': [0.0], 'duration': 0.0}
    else:
        chunks = np.array_split(x, min(points, x.size))
        result = {'min': [round(float(c.min()), 4) for c in chunks], 'max': [round(float(c.max()), 4) for c in chunks],
                  'duration': duration}
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f'.{os.getpid()}.{time.monotonic_ns()}.tmp')
    tmp.write_text(json.dumps(result))
    os.replace(tmp, cached)
    return result
