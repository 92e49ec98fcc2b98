"""Unpacking a .zip of a folder of audio uploaded through the browser, safely: the size limit applies to
what it unpacks to (checked before writing and again while writing, in case the archive lies), no entry
leaves `uploads/<folder>/`, links and hidden or non-audio files are skipped, nothing is overwritten, and a
refused archive leaves nothing behind. Slow I/O: call it off the event loop.
"""
from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from services.datasets.sources import AUDIO_SUFFIXES, upload_target

MAX_ENTRIES = 20000
CHUNK = 1 << 20


class UploadRefused(ValueError):
    """An archive that is not unpacked, with a message for the user."""


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
