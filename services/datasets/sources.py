"""Source audio as RAVE's preprocess will meet it: walking input folders, probing files, listing a folder for the
browser and drawing cached waveforms. Everything here is slow I/O: call it off the event loop. Which folders may
be walked or listed is the file policy's to say (services/files.py); callers confine paths first.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from services import i18n
from services.datasets.views import FolderEntry, SourceFile
from services.files import AUDIO_SUFFIXES
from services.i18n import _

PROBE_TIMEOUT_S = 20.0
ENVELOPE_POINTS = 600
ENVELOPE_RATE = 2000  # Hz the waveform preview decodes at: plenty for a min/max drawing


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
                    result.skipped.append((folder, _('a folder link that loops back to a folder already searched')))
                continue
            seen_dirs.add(key)
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                result.skipped.append((folder, _('a folder that cannot be opened')))
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
                        result.skipped.append((path, _('a folder whose name ends like an audio file')))
                    subdirs.append((path, linked or entry.is_symlink()))
                    continue
                if path.suffix not in suffixes:
                    continue
                try:
                    info = path.stat()
                except OSError:
                    result.skipped.append((path, _('a broken link or a file that cannot be opened')))
                    continue
                if not stat.S_ISREG(info.st_mode):
                    result.skipped.append((path, _('not a regular file (a pipe or a device)')))
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
    """`item` with duration, sample rate and channels filled in, or with `problem` set when neither libsndfile nor
    ffprobe reads it."""
    if item.size == 0:
        return dataclasses.replace(item, problem=_('an empty file (0 bytes)'))
    if not os.access(item.path, os.R_OK):
        return dataclasses.replace(item, problem=_('no permission to read it'))
    try:
        import soundfile
        info = soundfile.info(str(item.path))
        if info.frames > 0 and info.samplerate > 0:
            return dataclasses.replace(item, duration=info.frames / info.samplerate, sr=info.samplerate,
                                       channels=info.channels)
    except (RuntimeError, OSError, ValueError, TypeError):
        pass  # libsndfile lacks some formats (aac, opus in old builds): ask ffprobe, as RAVE does
    try:
        out = subprocess.run(['ffprobe', '-v', 'error', '-select_streams', 'a:0', '-show_entries',
                              'stream=sample_rate,channels:format=duration', '-of', 'json', str(item.path)],
                             capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL,
                             check=False)
    except FileNotFoundError:
        return dataclasses.replace(item, problem=_('ffprobe is missing, so it cannot be checked'))
    except (OSError, subprocess.TimeoutExpired):
        return dataclasses.replace(item, problem=_('reading it took too long (damaged?)'))
    sr = channels = None
    try:
        data = json.loads(out.stdout or '{}')
        stream = (data.get('streams') or [{}])[0]
        duration = float((data.get('format') or {}).get('duration') or 0)
        sr, channels = int(stream.get('sample_rate') or 0) or None, int(stream.get('channels') or 0) or None
    except (ValueError, TypeError):
        duration = 0.0
    if out.returncode != 0 or channels is None:
        return dataclasses.replace(item, sr=sr, channels=channels,
                                   problem=_('not readable as audio (damaged, or not really an audio file)'))
    if duration <= 0:
        return dataclasses.replace(item, sr=sr, channels=channels, problem=_('holds no audio (zero length)'))
    return dataclasses.replace(item, duration=duration, sr=sr, channels=channels)


def probe_all(items: list[SourceFile], workers: int = 4) -> list[SourceFile]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(i18n.carrying(probe), items))  # its reasons in the language spoken here


# ---- browsing ---------------------------------------------------------------------------------------
def listing(folder: Path, ext: list[str] | None = None, limit: int = 500) -> list[FolderEntry]:
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
                dirs.append(FolderEntry(entry.name, Path(entry.path), True,
                                        audio_inside=_count_audio(entry.path, suffixes)))
            elif Path(entry.name).suffix in suffixes and entry.is_file():
                duration = _quick_duration(entry.path) if len(files) < limit else None
                files.append(FolderEntry(entry.name, Path(entry.path), False, size=entry.stat().st_size,
                                         duration=duration))
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
