"""A dataset's folders on disk: the staging links RAVE reads when some files are left out, and the LMDB it
writes (its metadata, and removing one the studio made)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from services.datasets import lmdb_reader
from services.datasets.views import SourceFile

STAGING = 'sources'  # inside the dataset folder: links to the readable files, what RAVE reads when files are skipped
STUDIO = '.studio'  # inside the dataset folder: the studio's own caches (statistics)


def read_lmdb(path: Path) -> dict:
    """Metadata of a finished RAVE dataset: its metadata.yaml, entry count and size on disk."""
    import yaml

    meta = yaml.safe_load((path / 'metadata.yaml').read_text()) or {}
    entries = lmdb_reader.entries(path)  # the shared env cache: lmdb refuses a second open of a path
    size = sum(f.stat().st_blocks * 512 for f in path.iterdir() if f.is_file())
    return {'examples': entries, 'channels': int(meta.get('channels', 1)), 'sr': int(meta.get('sr', 44100)),
            'lazy': bool(meta.get('lazy', False)), 'seconds': float(meta.get('n_seconds', 0.0)),
            'size_bytes': size}


def remove_lmdb(path: Path) -> None:
    """Delete a dataset folder the studio made; refuse anything that does not look like one."""
    lmdb_reader.release(path)  # close the cached environment first: a rebuild at this path must open afresh
    if not path.is_dir():
        return
    allowed = {'data.mdb', 'lock.mdb', 'metadata.yaml', 'data.mdb-lock', STAGING, STUDIO}
    if all(child.name in allowed for child in path.iterdir()):
        shutil.rmtree(path, ignore_errors=True)  # the staging folder holds links only: their targets stay


def vanished(staging: Path) -> list[str]:
    """Names of staged files whose link no longer leads to a readable file."""
    gone = []
    for dirpath, _dirs, names in os.walk(staging):
        for name in names:
            link = Path(dirpath) / name
            if not link.exists():
                gone.append(name)
    return gone


def stage(folder: Path, roots: list[Path], files: list[SourceFile]) -> None:
    """Links to `files`, one sub-folder per input folder, keeping the relative layout (so names stay unique)."""
    for item in files:
        index, rel = next(((i, item.path.relative_to(r)) for i, r in enumerate(roots)
                           if item.path.is_relative_to(r)), (len(roots), Path(item.path.name)))
        link = folder / str(index) / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            os.symlink(os.path.abspath(item.path), link)
