"""Receiving uploads safely: `UploadSink` writes what the browser sends, refuses content that is not what its
name says (audio, or the archive expected) and stops at the upload limit (the declared size is checked first by
services/files.py, but a client can lie about it); `unpack_zip` unpacks a .zip of a folder of audio: the size
limit applies to what it unpacks to (checked before writing and again while writing, in case the archive lies), no
entry leaves `uploads/<folder>/`, links and hidden or non-audio files are skipped, nothing is overwritten, and a
refused archive leaves nothing behind. Slow I/O: call it off the event loop.
"""
from __future__ import annotations

import asyncio
import stat
import zipfile
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from services.files import AUDIO_SUFFIXES, CONTENT_HEAD, FOLDER_SEP, FilePolicy, UploadRefused, upload_target

MAX_ENTRIES = 20000
CHUNK = 1 << 20


class UploadSink:
    """The file one upload is written to (reserved, empty); refuses to grow past `limit` bytes (0: no limit) and,
    given the upload's `kind`, refuses content that is not that kind's (FilePolicy.check_content: checked on the
    first bytes, before any is written); removes what it wrote when refused or discarded."""

    def __init__(self, path: Path, limit: int, shown: str, kind: str | None = None) -> None:
        self.path, self.limit, self.shown = path, limit, (shown or path.name).replace(FOLDER_SEP, '/')
        self.kind = kind
        self.written = 0

    async def receive(self, chunks: AsyncIterable[bytes]) -> Path:
        """Write every chunk (off the event loop); the file's path once complete."""
        f = await asyncio.to_thread(self.path.open, 'wb')
        head = b'' if self.kind else None  # held back until it shows what the file is
        try:
            async for chunk in chunks:
                self.written += len(chunk)
                if self.limit and self.written > self.limit:
                    raise UploadRefused(f'{self.shown} is larger than the upload limit of '
                                        f'{self.limit / 1024 ** 2:.0f} MB: it was not uploaded.')
                if head is not None:
                    head += chunk
                    if len(head) < CONTENT_HEAD:
                        continue
                    FilePolicy.check_content(head, self.kind, self.shown)
                    chunk, head = head, None
                await asyncio.to_thread(f.write, chunk)
            if head is not None:  # the whole file was shorter than CONTENT_HEAD
                FilePolicy.check_content(head, self.kind, self.shown)
                await asyncio.to_thread(f.write, head)
        except BaseException:
            f.close()
            self.discard()
            raise
        f.close()
        return self.path

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class Unpacked:
    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # names inside the archive, with why

    @property
    def folder(self) -> Path | None:
        """The deepest folder holding everything written (what becomes an input folder)."""
        if not self.written:
            return None
        common = self.written[0].parent
        for path in self.written[1:]:
            while not path.is_relative_to(common):
                common = common.parent
        return common


def unpack_zip(archive: Path, uploads: Path, folder: str, limit_bytes: int, shown: str | None = None) -> Unpacked:
    """Unpack the audio files of `archive` (called `shown` in messages) into `uploads/<folder>/`, keeping
    their sub-folders.
    Raises UploadRefused (and writes nothing) for an archive that is not a zip, is encrypted, holds too many
    entries or unpacks to more than `limit_bytes` (0: no limit)."""
    result, shown = Unpacked(), shown or archive.name
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise UploadRefused(f'{shown} is not a readable .zip archive ({e}). Zip the folder again and retry.') \
            from None
    with zf:
        members = _audio_members(zf, result, shown)
        if len(members) > MAX_ENTRIES:
            raise UploadRefused(f'{shown} holds {len(members)} audio files, more than {MAX_ENTRIES} in one '
                                'upload. Copy the folder into a browsable folder instead (Settings).')
        declared = sum(info.file_size for info in members)
        if limit_bytes and declared > limit_bytes:
            raise UploadRefused(f'{shown} unpacks to {declared / 1024 ** 2:.0f} MB, over the upload limit of '
                                f'{limit_bytes / 1024 ** 2:.0f} MB. Upload it in parts, copy the folder into a '
                                'browsable folder, or raise the limit in Settings.')
        total = 0
        try:
            for info in members:
                target = upload_target(uploads, folder, info.filename)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, 'xb') as dst:  # 'x': never overwrite
                    result.written.append(target)
                    while chunk := src.read(CHUNK):
                        total += len(chunk)
                        if limit_bytes and total > limit_bytes:  # the header understated the size
                            raise UploadRefused(f'{shown} unpacks to more than the upload limit of '
                                                f'{limit_bytes / 1024 ** 2:.0f} MB. Nothing was kept.')
                        dst.write(chunk)
        except (UploadRefused, zipfile.BadZipFile, OSError, ValueError) as e:
            _undo(result.written, uploads)
            if isinstance(e, UploadRefused):
                raise
            raise UploadRefused(f'{shown} could not be unpacked ({e}). Nothing was kept; check the archive '
                                'and retry.') from None
    return result


def _audio_members(zf: zipfile.ZipFile, result: Unpacked, shown: str) -> list[zipfile.ZipInfo]:
    """The archive's audio files; what is skipped is noted in `result` with why."""
    members = []
    for info in zf.infolist():
        name = info.filename
        parts = PurePosixPath(name.replace('\\', '/')).parts
        if info.is_dir():
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            result.skipped.append(f'{name} — a link, not a file')
        elif '..' in parts or PurePosixPath(name).is_absolute():
            result.skipped.append(f'{name} — points outside the archive')
        elif any(p.startswith('.') or p == '__MACOSX' for p in parts):
            continue  # hidden files and macOS resource forks: never audio
        elif PurePosixPath(name).suffix.lower() not in AUDIO_SUFFIXES:
            result.skipped.append(f'{name} — not an audio file')
        elif info.flag_bits & 0x1:
            raise UploadRefused(f'{shown} is password-protected. Zip the folder without a password.')
        else:
            members.append(info)
    return members


def _undo(written: list[Path], uploads: Path) -> None:
    """Remove what a refused archive wrote, and the folders it made that are now empty."""
    uploads = uploads.resolve()
    for path in written:
        path.unlink(missing_ok=True)
    for path in sorted({p.parent for p in written}, key=lambda p: len(p.parts), reverse=True):
        while path != uploads and path.is_relative_to(uploads):
            try:
                path.rmdir()
            except OSError:
                break
            path = path.parent
