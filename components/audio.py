"""Audio players with their waveform, and URLs for project files served with range support."""
from __future__ import annotations

from pathlib import Path

from nicegui import ui

from app import theme
from components.waveform import waveform
from services import formatting
from services.models.views import Envelope
from services.projects import ProjectView


def media_url(project: ProjectView, path: str | Path) -> str:
    """The URL that streams a file inside the project's folder (app/media.py serves it)."""
    relative = Path(path).resolve().relative_to(Path(project.location).resolve())
    return f'/media/project/{project.id}/{relative.as_posix()}'


def audio_card(title: str, url: str, envelope: Envelope | dict, duration_s: float, *, caption: str = '',
               color: str = theme.ACCENT, marker: str = '') -> None:
    """A card with a title, a player and the waveform drawn from a precomputed envelope."""
    if isinstance(envelope, Envelope):
        envelope = {'min': envelope.low, 'max': envelope.high}
    marker = marker or title.lower()
    with ui.card().classes(theme.CARD + ' gap-2').mark(marker):
        with ui.row().classes('w-full items-baseline gap-2 no-wrap'):
            ui.label(title).classes(theme.SECTION)
            ui.label(caption).classes(theme.HINT + ' grow truncate')
            ui.label(f'{formatting.number(duration_s, 2)} s').classes(f'{theme.HINT} {theme.NUMBER}')
        waveform(envelope, duration_s, color=color)
        ui.audio(url).classes('w-full').mark(f'{marker}-player')
