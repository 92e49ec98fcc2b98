"""Preview of any source file inside the browsable roots: its waveform (computed once, cached) and a player."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import Response
from nicegui import app, run, ui
from nicegui.app.range_response import get_range_response

from app import theme
from components.status import fmt_bytes
from components.waveform import waveform
from services.datasets import sources
from services.files import AUDIO_SUFFIXES

_ROUTE = '/media/source'
_current: dict = {}  # the settings the route checks against: the latest studio that installed it


def install(studio) -> None:
    """Serve `/media/source?path=…` for audio files inside the roots (once per process)."""
    first = not _current
    _current['studio'] = studio
    if not first:
        return

    @app.get(_ROUTE)
    def source_file(request: Request, path: str) -> Response:
        target = Path(path).resolve()
        studio_ = _current['studio']
        allowed = studio_.files.within_roots(target) or any(
            target.is_relative_to(studio_.datasets.uploads(project)) for project in studio_.projects.all())
        if not allowed or not target.is_file() \
                or target.suffix.lower() not in AUDIO_SUFFIXES \
                or any(part.startswith('.') for part in target.parts):
            raise HTTPException(status_code=404, detail='Not Found')
        return get_range_response(target, request, chunk_size=8192)


def preview_url(path: str | Path) -> str:
    return f'{_ROUTE}?path={quote(str(Path(path).resolve()))}'


async def audio_preview(studio, path: Path) -> None:
    """A compact card: name, size, waveform (drawn when ready) and a player; errors say what to do."""
    install(studio)
    with ui.card().classes(theme.CARD + ' gap-2').mark('preview'):
        with ui.row().classes('w-full items-baseline gap-2 no-wrap'):
            ui.icon('graphic_eq', color='primary')
            ui.label(path.name).classes('text-sm font-medium truncate grow')
            size = path.stat().st_size if path.exists() else None
            ui.label(fmt_bytes(size)).classes(f'{theme.HINT} {theme.NUMBER}')
        slot = ui.column().classes('w-full gap-1')
        with slot:
            ui.skeleton().classes('w-full h-16 rounded-md')
        ui.audio(preview_url(path)).classes('w-full').mark('preview-player')
    try:
        env = await run.io_bound(sources.envelope, path, studio.data_dir / 'cache' / 'waveforms')
    except (OSError, ValueError) as e:
        slot.clear()
        with slot:
            ui.label(f'No waveform: ffmpeg cannot decode this file ({e}). It will be skipped.') \
                .classes('text-xs text-negative')
        return
    slot.clear()
    with slot:
        waveform(env, env.get('duration', 0.0), height=64)
