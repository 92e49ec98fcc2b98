"""Latent controls like the RAVE VST's: a bias and a scale slider per latent dimension (the first 8, all of
them on request) and one jitter slider. `on_change(controls)` hears every move while a slider is dragged;
the page decides what to render (services/models/play/live.py keeps at most one waiting)."""
from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from app import theme
from services.i18n import _
from services.models.play import Controls

FIRST = 8  # dimensions shown before "all dimensions": the VST's
BIAS = (-3.0, 3.0)
SCALE = (0.0, 3.0)


class SliderBank:
    def __init__(self, size: int, on_change: Callable[[Controls], object]) -> None:
        self.size = max(1, size)
        self.on_change = on_change
        self.bias = [0.0] * self.size
        self.scale = [1.0] * self.size
        self.jitter = 0.0
        with ui.column().classes('w-full gap-1').mark('slider-bank'):
            with ui.row().classes('w-full items-center gap-3'):
                ui.label(_('Latent controls')).classes(theme.SECTION)
                ui.label(_('z · scale + bias + jitter · noise, per dimension')).classes(theme.HINT + ' grow')
                self.all = ui.switch(_('All dimensions'), on_change=lambda: self._draw()).props('dense') \
                    .mark('all-dims').tooltip(_('Sliders for every latent dimension, not only the first 8'))
                ui.button(_('Reset'), icon='restart_alt', on_click=self.reset).props('flat dense') \
                    .mark('reset-controls')
                if self.size <= FIRST:
                    self.all.set_visibility(False)
            self.rows = ui.column().classes('w-full gap-0')
            with ui.row().classes('w-full items-center gap-2 no-wrap'):
                ui.label(_('jitter')).classes(f'{theme.HINT} w-20')
                self.jitter_slider = ui.slider(min=0, max=1, step=0.01, value=0.0,
                                               on_change=lambda e: self._set('jitter', 0, e.value)) \
                    .props('label dense').classes('grow').mark('jitter') \
                    .tooltip(_('Noise added to every dimension, drawn from the seed'))
                self.jitter_slider.props['aria-label'] = _('Jitter')
        self._draw()

    @property
    def controls(self) -> Controls:
        return Controls(tuple(self.bias), tuple(self.scale), float(self.jitter))

    @property
    def neutral(self) -> bool:
        return not any(self.bias) and all(s == 1.0 for s in self.scale) and not self.jitter

    def reset(self) -> None:
        self.bias, self.scale, self.jitter = [0.0] * self.size, [1.0] * self.size, 0.0
        self._draw()
        self.jitter_slider.set_value(0.0)
        self.on_change(self.controls)

    def load(self, bias: tuple[float, ...], scale: tuple[float, ...], jitter: float) -> None:
        """Put the sliders where a recorded or kept state had them (no on_change: the caller renders)."""
        self.bias = [float(b) for b in bias[:self.size]] + [0.0] * (self.size - len(bias[:self.size]))
        self.scale = [float(s) for s in scale[:self.size]] + [1.0] * (self.size - len(scale[:self.size]))
        self.jitter = float(jitter)
        self._draw()
        self.jitter_slider.set_value(self.jitter)  # its on_change sees the value it already holds: no render

    def _set(self, what: str, dim: int, value: float) -> None:
        value = float(value)
        if what == 'jitter':
            if value == self.jitter:
                return
            self.jitter = value
        else:
            values = self.bias if what == 'bias' else self.scale
            if values[dim] == value:
                return
            values[dim] = value
        self.on_change(self.controls)

    def _draw(self) -> None:
        self.rows.clear()
        shown = self.size if self.all.value else min(FIRST, self.size)
        with self.rows:
            for dim in range(shown):
                with ui.row().classes('w-full items-center gap-2 no-wrap'):
                    ui.label(f'z{dim}').classes(f'{theme.MONO} w-8')
                    ui.label(_('bias')).classes(theme.HINT)
                    ui.slider(min=BIAS[0], max=BIAS[1], step=0.05, value=self.bias[dim],
                              on_change=lambda e, d=dim: self._set('bias', d, e.value)) \
                        .props(f'label dense data-testid=bias-{dim}').classes('grow') \
                        .mark(f'bias-{dim}').tooltip(_('Added to z{dim}').format(dim=dim)) \
                        .props['aria-label'] = _('bias of z{dim}').format(dim=dim)
                    ui.label(_('scale')).classes(theme.HINT)
                    ui.slider(min=SCALE[0], max=SCALE[1], step=0.05, value=self.scale[dim],
                              on_change=lambda e, d=dim: self._set('scale', d, e.value)) \
                        .props(f'label dense data-testid=scale-{dim}').classes('grow') \
                        .mark(f'scale-{dim}').tooltip(_('z{dim} multiplied by it').format(dim=dim)) \
                        .props['aria-label'] = _('scale of z{dim}').format(dim=dim)
