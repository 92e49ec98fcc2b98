"""A player for the Play pages' renders: title, waveform, player and (on request) the spectrogram.

`RenderPlayer.show(render)` draws a new render into the same card and, when asked, plays it at once: a slider
moved on the Explorer is heard without another click. Renders are files in the project (play/live/), served by
the media route; each has its own name, so the browser never plays a stale one from its cache.
"""
from __future__ import annotations

from nicegui import ui

from app import theme
from components.audio import media_url
from components.spectrogram import show_spectrogram, spectrogram
from components.waveform import waveform
from services import formatting
from services.i18n import _
from services.models.play import RenderView
from services.projects import ProjectView


class RenderPlayer:
    """One card that always shows the newest render given to it (or a hint while there is none)."""

    def __init__(self, project: ProjectView, title: str, *, marker: str, hint: str = '',
                 color: str = theme.ACCENT, spectrum: bool = True) -> None:
        self.project, self.color, self.marker = project, color, marker
        self.render: RenderView | None = None
        self.shown = 0  # renders drawn so far (the browser tests wait for it to move)
        with ui.card().classes(theme.CARD + ' gap-2').mark(marker) as self.card:
            with ui.row().classes('w-full items-baseline gap-2 no-wrap'):
                ui.label(title).classes(theme.SECTION)
                self.caption = ui.label(hint or _('Nothing rendered yet.')).classes(theme.HINT + ' grow truncate') \
                    .mark(f'{marker}-caption')
                self.length = ui.label('').classes(f'{theme.HINT} {theme.NUMBER}')
            self.wave = ui.column().classes('w-full gap-0')
            with self.wave:
                waveform({}, 0.0, color=color, height=72)
            self.audio = ui.audio('').classes('w-full').props(f'data-testid={marker}-player').mark(f'{marker}-player')
            self.audio.set_visibility(False)
            self.spectrum = None
            if spectrum:
                with ui.expansion(_('Spectrogram'), icon='equalizer').classes('w-full').props('dense') as self.fold:
                    self.spectrum = spectrogram({'db': [[-90]], 'times': [0.0], 'freqs': [1.0]}, height='h-48')
                self.fold.on_value_change(lambda e: self._draw_spectrum() if e.value else None)

    def show(self, render: RenderView, *, caption: str | None = None, play: bool = False) -> None:
        self.render = render
        self.shown += 1
        self.caption.set_text(caption if caption is not None else render.label)
        self.length.set_text(f'{formatting.number(render.seconds, 2)} s')
        self.wave.clear()
        with self.wave:
            waveform(render.envelope, render.seconds, color=self.color, height=72)
        self.audio.set_source(media_url(self.project, render.path))
        self.audio.set_visibility(True)
        self.audio.props(f'data-render="{render.path.stem}"')
        if self.spectrum is not None and self.fold.value:
            self._draw_spectrum()
        if play:
            self.audio.play()

    def _draw_spectrum(self) -> None:
        if self.render is not None and self.spectrum is not None:
            show_spectrogram(self.spectrum, self.render.spectrogram)


def render_card(project: ProjectView, render: RenderView, title: str, *, marker: str, caption: str = '',
                color: str = theme.ACCENT) -> RenderPlayer:
    """A player already showing `render` (a generation's result, a map moment)."""
    player = RenderPlayer(project, title, marker=marker, color=color)
    player.show(render, caption=caption or None)
    return player
