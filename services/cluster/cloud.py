"""Cloud storage: run folders and exports pushed to, and pulled from, an S3-compatible store through fsspec's
s3fs (AWS S3, MinIO, Ceph…; `endpoint` names a server other than AWS).

Never a half copy, either way:
- push: every file goes up under a temporary key (`<name>/.partial/<file>`) and is moved to its place once
  whole; the folder counts as there only when its manifest (`<name>/.rave-studio.json`: every file and its
  size) is written, last (until then `<name>/.pushing` says a push began). Pushing again resumes: files
  already in place with their size are skipped.
- pull: only a pushed folder with its manifest; files land in `<target>.partial/` (each as `.part` until
  whole) and the folder is renamed to the target once every file arrived. Pulling again resumes there.
Credentials come from the usual AWS chain (environment, ~/.aws/credentials, an instance role): the studio
keeps none. Blocking and long: call these from a worker thread or a job, with `progress`.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

MANIFEST = '.rave-studio.json'
RECORD = 'rave-studio-export.json'  # beside a pushed export's files: what the studio knew of it (target, verdict…)
PARTIAL = '.partial'
PUSHING = '.pushing'  # written first, removed last: a push that did not finish

Progress = Callable[[int, int, str], None]  # bytes done, bytes in all, the file being copied


class CloudError(RuntimeError):
    """A copy that cannot be done, with what to do instead."""


@dataclass(frozen=True)
class Store:
    url: str  # s3://bucket/prefix
    endpoint: str = ''

    @property
    def root(self) -> str:
        if not self.url.startswith('s3://') or len(self.url.rstrip('/')) <= len('s3://'):
            raise CloudError(f'"{self.url}" is not an S3 location: write s3://bucket or s3://bucket/folder.')
        return self.url[len('s3://'):].rstrip('/')

    def fs(self):
        import s3fs  # only a studio that uses cloud storage loads it
        return s3fs.S3FileSystem(endpoint_url=self.endpoint or None, use_listings_cache=False)


@dataclass(frozen=True)
class Remote:
    """A folder in the store: complete (its manifest is there) or a push that has not finished."""
    name: str
    complete: bool
    size: int = 0
    files: int = 0
    modified: dt.datetime | None = None  # when its push completed (its manifest was written)

    @property
    def kind(self) -> str:
        """'runs' or 'exports': what the studio pushed it as (`<project>/<kind>/<name>`), else ''."""
        parts = self.name.split('/')
        return parts[-2] if len(parts) >= 2 and parts[-2] in ('runs', 'exports') else ''


def push(store: Store, local: Path | Sequence[Path], name: str, progress: Progress | None = None,
         extra: dict[str, bytes] | None = None) -> int:
    """Copy a file or folder to `<store>/<name>` — or several, each under its own name (a folder's files
    under `<folder name>/`) — with `extra` small files written beside them (e.g. an export's record, RECORD);
    returns the bytes in it."""
    sources = _sources(local)
    if not sources:
        raise CloudError(f'{local} has no files to push.')
    extra = extra or {}
    files = {**{rel: path.stat().st_size for rel, path in sources.items()}, **{rel: len(b) for rel, b in extra.items()}}
    fs, remote = store.fs(), f'{store.root}/{_safe(name)}'
    total, done = sum(files.values()), 0
    fs.pipe(f'{remote}/{PUSHING}', b'')
    for rel, size in files.items():
        key = f'{remote}/{rel}'
        if rel in extra:
            fs.pipe(key, extra[rel])
        elif not (fs.exists(key) and fs.size(key) == size):
            temporary = f'{remote}/{PARTIAL}/{rel}'
            fs.put_file(str(sources[rel]), temporary, callback=_bytes(progress, done, total, rel))
            fs.mv(temporary, key)
        done += size
        _tell(progress, done, total, rel)
    fs.pipe(f'{remote}/{MANIFEST}', json.dumps({'files': files}).encode())
    if fs.exists(f'{remote}/{PARTIAL}'):
        fs.rm(f'{remote}/{PARTIAL}', recursive=True)
    fs.rm(f'{remote}/{PUSHING}')
    return total


def pull(store: Store, name: str, target: Path, progress: Progress | None = None) -> Path:
    """Copy `<store>/<name>` to the folder `target` (which must not exist yet); returns it."""
    if target.exists():
        raise CloudError(f'{target} exists already: pull into a new folder (or remove it first).')
    fs, remote = store.fs(), f'{store.root}/{_safe(name)}'
    files = _manifest(fs, remote, name)
    partial = target.with_name(target.name + PARTIAL)
    total, done = sum(files.values()), 0
    for rel, size in files.items():
        dest = partial / rel
        if not (dest.is_file() and dest.stat().st_size == size):
            dest.parent.mkdir(parents=True, exist_ok=True)
            part = dest.with_name(dest.name + '.part')
            fs.get_file(f'{remote}/{rel}', str(part), callback=_bytes(progress, done, total, rel))
            if part.stat().st_size != size:
                raise CloudError(f'{rel} arrived with {part.stat().st_size} bytes instead of {size}: pull again.')
            os.replace(part, dest)
        done += size
        _tell(progress, done, total, rel)
    os.replace(partial, target)
    return target


def listing(store: Store) -> list[Remote]:
    """Every pushed folder under the store's location (names relative to it), complete ones first; a push
    that did not finish shows as incomplete."""
    fs = store.fs()
    try:
        keys = [k[len(store.root) + 1:] for k in fs.find(store.root, refresh=True)]
    except FileNotFoundError as e:
        raise CloudError(f'{store.url} does not exist (create the bucket first).') from e
    complete = {k[:-len(MANIFEST) - 1] for k in keys if k.endswith('/' + MANIFEST)}
    started = {k[:-len(PUSHING) - 1] for k in keys if k.endswith('/' + PUSHING)} - complete
    out = []
    for name in sorted(complete):
        files = _manifest(fs, f'{store.root}/{name}', name)
        modified = fs.info(f'{store.root}/{name}/{MANIFEST}').get('LastModified')
        out.append(Remote(name, True, sum(files.values()), len(files),
                          modified if isinstance(modified, dt.datetime) else None))
    return out + [Remote(name, False) for name in sorted(started)]


def _manifest(fs, remote: str, name: str) -> dict[str, int]:
    try:
        return json.loads(fs.cat_file(f'{remote}/{MANIFEST}'))['files']
    except FileNotFoundError as e:
        raise CloudError(f'{name} is not complete in the store (its push did not finish): push it again, '
                         'it resumes.') from e


def _sources(local: Path | Sequence[Path]) -> dict[str, Path]:
    """Key in the store → local file: a folder's files (under the folder's name when it is one of several)."""
    if isinstance(local, Path):
        return {local.name: local} if local.is_file() else _folder(local, '')
    out: dict[str, Path] = {}
    for path in local:
        out.update({path.name: path} if path.is_file() else _folder(path, path.name + '/'))
    return out


def _folder(folder: Path, prefix: str) -> dict[str, Path]:
    return {prefix + p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob('*')) if p.is_file()}


def _safe(name: str) -> str:
    name = name.strip().strip('/')
    if not name or '..' in name.split('/') or name.startswith('.'):
        raise CloudError(f'"{name}" cannot name a folder in the store: use letters, digits, - _ . and /.')
    return name


def _tell(progress: Progress | None, done: int, total: int, rel: str) -> None:
    if progress is not None:
        progress(done, total, rel)


def _bytes(progress: Progress | None, before: int, total: int, rel: str):
    """fsspec's transfer callback, turned into the studio's (fsspec is imported with the first copy, not at the
    studio's start)."""
    from fsspec.callbacks import Callback

    class _Bytes(Callback):
        """fsspec's transfer callback, turned into the studio's (bytes of the whole copy so far)."""

        def __init__(self, progress: Progress | None, before: int, total: int, rel: str) -> None:
            super().__init__()
            self.progress, self.before, self.total, self.rel = progress, before, total, rel

        def call(self, *args, **kwargs) -> None:
            _tell(self.progress, self.before + (self.value or 0), self.total, self.rel)

    return _Bytes(progress, before, total, rel)
