"""Preview of a source file inside the browsable folders: its waveform (computed once, cached) and a player.

The player streams from `/media/source?path=…`, a route installed once per process that serves only what the
datasets facade says may be played (the file policy's folders, audio files, nothing hidden)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import Response
from nicegui import app, run, ui
from nicegui.app.range_response import get_range_response

from app import theme
from components.waveform import waveform
from services import formatting
from services.datasets import DatasetError, Datasets
from services.i18n import _

_ROUTE = '/media/source'
_playable: list[Callable[[str], Path | None]] = []  # the rule the route asks: the latest installed


def install(playable: Callable[[str], Path | None]) -> None:
    """Serve `/media/source?path=…` for the files `playable(path)` allows (the route is added once)."""
    first = not _playable
    _playable[:] = [playable]
    if not first:
        return

    @app.get(_ROUTE)
    def source_file(request: Request, path: str) -> Response:
        target = _playable[0](path)
        if target is None:
            raise HTTPException(status_code=404, detail='Not Found')
        return get_range_response(target, request, chunk_size=8192)


def preview_url(path: str | Path) -> str:
    return f'{_ROUTE}?path={quote(str(Path(path).resolve()))}'


async def audio_preview(datasets: Datasets, path: Path) -> None:
    """A compact card: name, size, waveform (drawn when ready) and a player; errors say what to do."""
    install(datasets.playable)
    with ui.card().classes(theme.CARD + ' gap-2').mark('preview'):
        with ui.row().classes('w-full items-baseline gap-2 no-wrap'):
            ui.icon('graphic_eq', color='primary')
            ui.label(path.name).classes('text-sm font-medium truncate grow')
            size = path.stat().st_size if path.exists() else None
            ui.label(formatting.size(size)).classes(f'{theme.HINT} {theme.NUMBER}')
        slot = ui.column().classes('w-full gap-1')
        with slot:
            ui.skeleton().classes('w-full h-16 rounded-md')
        ui.audio(preview_url(path)).classes('w-full').mark('preview-player')
    try:
        env = await run.io_bound(datasets.waveform, path)
    except (DatasetError, OSError, ValueError) as e:
        slot.clear()
        with slot:
            ui.label(_('No waveform: ffmpeg cannot decode this file ({error}). It will be skipped.').format(error=e)) \
                .classes('text-xs text-negative')
        return
    slot.clear()
    with slot:
        waveform(env, env.get('duration', 0.0), height=64)
