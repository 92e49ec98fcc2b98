"""The one file policy: which folders a user may name, where uploads go and how big they may be, what counts
as audio, and which files may be served. Every service, route and media handler asks this module.

- Browsable roots: the data folder, the folders listed in Settings (`browse_roots`) and, on a studio that
  serves only this machine, the user's home folder (`browse_home`). On a shared studio only admins may name a
  folder outside them (services ask `services.access` for `Action.OUTSIDE_ROOTS`).
- Uploads land only under a project's `uploads/`, with sanitized names, never overwriting, within the size
  limit (Settings → `max_upload_mb`), and only with an expected suffix (audio; zip/tar where an archive is
  expected; zip for project backups) — by suffix and by content: the first bytes must be those of an audio
  file (WAV, AIFF, FLAC, MP3, Ogg, AAC, MP4) or of the archive expected, so an HTML page named `take.wav` is
  refused (`check_content`; services/uploads.py `UploadSink` applies it before anything is written).
- Served files: never the database, the session secret or any dot-file.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Protocol

from services.i18n import _

AUDIO_SUFFIXES = ('.wav', '.aif', '.aiff', '.flac', '.mp3', '.ogg', '.opus', '.aac', '.m4a')
ARCHIVE_SUFFIXES = {'audio-archive': ('.zip',), 'dataset-archive': ('.tar',), 'backup': ('.zip',)}
PRIVATE_NAMES = ('studio.db', '.storage_secret')
CONTENT_HEAD = 512  # the bytes `check_content` looks at (a tar's magic sits at 257)
CONTENT = {'audio': 'audio', 'audio-archive': 'zip', 'dataset-archive': 'tar', 'backup': 'zip'}  # kind → content
FOLDER_SEP = '\u2044'  # "⁄": how the browser marks the folders of a file picked or dropped inside a folder


class PathRefused(ValueError):
    """A path the user may not use, with a sentence saying why and what to do."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path  # the refused folder, so a page can offer "allow this folder"


class UploadRefused(ValueError):
    """An upload that is not kept, with a sentence saying why."""


class Settings(Protocol):
    def get(self, key: str): ...


class FilePolicy:
    """The rules above for one data folder; `shared` is whether the studio serves the network."""

    def __init__(self, data_dir: Path, settings: Settings, *, shared: bool = False) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.settings = settings
        self.shared = shared

    # ---- folders -------------------------------------------------------------------------------------
    def roots(self) -> list[Path]:
        """Folders the file browser may show and a user may name; everything else is refused."""
        roots = [self.data_dir]
        roots += [Path(p).expanduser().resolve() for p in self.settings.get('browse_roots') or []]
        if not self.shared and self.settings.get('browse_home'):
            roots.append(Path.home().resolve())
        return list(dict.fromkeys(roots))

    def within_roots(self, path: str | Path) -> bool:
        return any(_inside(resolve(path), root) for root in self.roots())

    def confine(self, path: str | Path, *, also: tuple[Path, ...] = (), what: str = 'folder') -> Path:
        """`path` resolved, if it lies inside the roots (or inside one of `also`, e.g. a project's own folder);
        otherwise PathRefused saying how to allow it."""
        if not str(path or '').strip():
            raise PathRefused(f'Give the path of a {what}.')
        target = resolve(path)
        if self.within_roots(target) or any(_inside(target, Path(a).resolve()) for a in also):
            return target
        hint = ('ask an admin to add it in Settings → browsable folders' if self.shared else
                'allow this folder (Settings → browsable folders)')
        raise PathRefused(f'{target} is outside the folders this studio may use: {hint}.', target)

    # ---- uploads -------------------------------------------------------------------------------------
    def upload_limit(self) -> int:
        """The largest upload in bytes (0: no limit)."""
        return int(float(self.settings.get('max_upload_mb') or 0) * 1024 ** 2)

    def check_upload(self, filename: str, size: int | None, kind: str = 'audio') -> None:
        """Refuse an upload by its name and (declared or received) size, before anything is stored."""
        shown = (filename or 'upload').replace(FOLDER_SEP, '/')
        suffixes = AUDIO_SUFFIXES if kind == 'audio' else ARCHIVE_SUFFIXES[kind]
        if Path(shown).suffix.lower() not in suffixes:
            expected = 'an audio file (' + ', '.join(s[1:] for s in AUDIO_SUFFIXES) + ')' if kind == 'audio' \
                else ' or '.join(suffixes)
            raise UploadRefused(f'{shown} is not {expected}: it was not uploaded.')
        limit = self.upload_limit()
        if limit and size is not None and size > limit:
            raise UploadRefused(f'{shown} is {size / 1024 ** 2:.0f} MB, over the upload limit of '
                                f'{limit / 1024 ** 2:.0f} MB. Copy it into a browsable folder instead, or raise '
                                'the limit in Settings.')

    @staticmethod
    def check_content(head: bytes, kind: str, filename: str) -> None:
        """Refuse an upload whose first bytes (`head`, CONTENT_HEAD of them or the whole file) are not what its
        kind expects: audio, or the zip or tar archive expected. A suffix is only a name; this is what it holds."""
        if sniff(head) != CONTENT[kind]:
            shown = (filename or 'upload').replace(FOLDER_SEP, '/')
            expected = _('an audio file') if kind == 'audio' else _('a {kind} archive').format(kind=CONTENT[kind])
            raise UploadRefused(_('{file} does not hold what its name says ({expected}): it was not uploaded.')
                                .format(file=shown, expected=expected))

    def reserve_upload(self, uploads: Path, folder: str, filename: str) -> Path:
        """Create (empty) and return the file an upload is written to: `uploads/<folder>/<name>`, sanitized,
        never outside `uploads/`, never overwriting (parallel requests of one folder never get the same name)."""
        while True:
            target = upload_target(uploads, folder, filename)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                target.touch(exist_ok=False)
                return target
            except FileExistsError:
                continue

    # ---- serving -------------------------------------------------------------------------------------
    @staticmethod
    def servable(root: Path, relative: str) -> Path | None:
        """The file `relative` under `root` if it may be served (inside, a plain file, not private or hidden)."""
        root = Path(root).resolve()
        path = (root / relative).resolve()
        if not _inside(path, root) or not path.is_file() or path.name.startswith(PRIVATE_NAMES):
            return None
        if any(part.startswith('.') for part in path.relative_to(root).parts):
            return None
        return path


def sniff(head: bytes) -> str | None:
    """What the first bytes of a file are: 'audio', 'zip', 'tar' or None (anything else)."""
    riff, form = head[:4] in (b'RIFF', b'RF64', b'BW64'), head[:4] == b'FORM'
    if (riff and head[8:12] == b'WAVE') or (form and head[8:12] in (b'AIFF', b'AIFC')) \
            or head[:4] in (b'fLaC', b'OggS', b'ADIF') or head[:3] == b'ID3' or head[4:8] == b'ftyp' \
            or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):  # an MPEG or ADTS frame
        return 'audio'
    if head[:4] in (b'PK\x03\x04', b'PK\x05\x06'):
        return 'zip'
    if head[257:262] == b'ustar':
        return 'tar'
    return None


def is_audio(path: str | Path) -> bool:
    return Path(path).suffix.lower() in AUDIO_SUFFIXES


def resolve(path: str | Path) -> Path:
    return Path(str(path).strip()).expanduser().resolve()


def safe_name(name: str) -> str:
    """A file or folder name that cannot escape its folder or surprise a shell: no separators, no control
    characters, no leading dots; letters of any script are kept."""
    name = unicodedata.normalize('NFC', name or '').replace('\\', '/').rsplit('/', 1)[-1]
    name = re.sub(r'[\x00-\x1f\x7f"\'`$<>|:*?]', '_', name).strip().lstrip('.').strip()
    return name[:150] or 'upload'


def upload_target(uploads: Path, folder: str, filename: str) -> Path:
    """Where an uploaded file goes: `uploads/<folder>/<name>`, never outside `uploads/`, never overwriting.
    `filename` may carry the file's path inside an uploaded folder ('drums/kicks/a.wav', or with FOLDER_SEP):
    the sub-folders are kept, each part sanitized, and empty, '.' and '..' parts dropped."""
    base = (uploads / safe_name(folder)).resolve() if folder else uploads.resolve()
    parts = [p for p in re.split(rf'[/\\{FOLDER_SEP}]', unicodedata.normalize('NFC', filename or ''))
             if p.strip().strip('.')]
    target = base.joinpath(*[safe_name(p) for p in parts[-32:]] or ['upload']).resolve()
    if not target.is_relative_to(uploads.resolve()):
        raise UploadRefused('That name would leave the uploads folder.')
    stem, suffix, n = target.stem, target.suffix, 1
    while target.exists():
        n += 1
        target = target.with_name(f'{stem} ({n}){suffix}')
    return target


def inside(path: str | Path, root: str | Path) -> bool:
    """Whether `path` is `root` or lies below it (both resolved)."""
    return _inside(resolve(path), resolve(root))


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
