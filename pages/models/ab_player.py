"""An A/B player: two renderings of the same audio, both loaded up front, one transport that switches between
them at the same position — the way you compare two mixes, so the ear hears the difference and not a restart.

Switching is done in the browser (no round trip): the playing element pauses, the other takes its time and
plays on. The page can also switch (`select`) from Python, e.g. from a keyboard shortcut or a click on a curve.
"""
from __future__ import annotations

from nicegui import ui

from app import theme

_SCRIPT = r'''
if (!window.studioAB) window.studioAB = {
  pick(a, b, which) {
    const [x, y] = [getHtmlElement(a), getHtmlElement(b)];
    if (!x || !y) return;
    const [from, to] = which === 'b' ? [x, y] : [y, x];
    if (from === to) return;
    const playing = !from.paused || !to.paused;
    const t = Math.max(from.currentTime, to.paused ? 0 : to.currentTime);
    from.pause();
    to.currentTime = Math.min(t, (to.duration || t));
    if (playing) to.play();
  },
  toggle(a, b, which) {
    const el = getHtmlElement(which === 'b' ? b : a);
    if (el.paused) el.play(); else el.pause();
  },
};
'''


class ABPlayer:
    """Two sources (labels and URLs); `selected` is 'a' or 'b'."""

    def __init__(self, label_a: str, url_a: str, label_b: str, url_b: str, *, mark: str = 'ab') -> None:
        self.selected = 'a'
        self.labels = {'a': label_a, 'b': label_b}
        with ui.row().classes('w-full items-center gap-3 no-wrap').mark(mark):
            self.play = ui.button(icon='play_arrow', on_click=self._toggle) \
                .props('round unelevated color=primary').mark(f'{mark}-play').tooltip('Play / pause (space)')
            self.switch = ui.toggle({'a': label_a, 'b': label_b}, value='a', on_change=lambda e: self.select(e.value)) \
                .props('no-caps unelevated toggle-color=primary').mark(f'{mark}-switch')
            self.now = ui.label(f'Hearing {label_a}').classes(theme.HINT).mark(f'{mark}-hearing')
            # both players load at once (preload=auto): a switch never waits for the network
            self.a = ui.audio(url_a, controls=True).props('preload=auto').classes('grow h-8').mark(f'{mark}-a')
            self.b = ui.audio(url_b, controls=True).props('preload=auto').classes('hidden').mark(f'{mark}-b')
        for player in (self.a, self.b):
            player.on('play', lambda: self.play.props('icon=pause'))
            player.on('pause', lambda: self.play.props('icon=play_arrow'))
        ui.run_javascript(_SCRIPT) if ui.context.client.has_socket_connection else ui.add_body_html(
            f'<script>{_SCRIPT}</script>')

    def select(self, which: str) -> None:
        """Hear `which` ('a' or 'b') from the same position, playing on if it was playing."""
        if which not in ('a', 'b'):
            return
        self.selected = which
        self.switch.set_value(which)
        self.now.set_text(f'Hearing {self.labels[which]}')
        # the visible controls follow the source heard, so its scrubber shows where it is
        self.a.classes(remove='hidden' if which == 'a' else 'grow', add='grow' if which == 'a' else 'hidden')
        self.b.classes(remove='hidden' if which == 'b' else 'grow', add='grow' if which == 'b' else 'hidden')
        ui.run_javascript(f'window.studioAB.pick({self.a.id}, {self.b.id}, "{which}")')

    def set_sources(self, label_a: str, url_a: str, label_b: str, url_b: str) -> None:
        self.labels = {'a': label_a, 'b': label_b}
        self.switch.set_options({'a': label_a, 'b': label_b}, value=self.selected)
        self.now.set_text(f'Hearing {self.labels[self.selected]}')
        self.a.set_source(url_a)
        self.b.set_source(url_b)

    def _toggle(self) -> None:
        ui.run_javascript(f'window.studioAB.toggle({self.a.id}, {self.b.id}, "{self.selected}")')
