"""An A/B player: two renderings of the same audio, both loaded up front, one transport that switches between
them at the same position — the way you compare two mixes, so the ear hears the difference and not a restart.

Switching is done in the browser (no round trip): the playing element pauses, the other takes its time and
plays on.
"""
from __future__ import annotations

from nicegui import ui

from services.i18n import _

_SCRIPT = r'''
if (!window.studioAB) window.studioAB = {
  to(a, b, which, buttons) {  // hear `which` ('a' or 'b') from where the other one is
    const [x, y] = [getHtmlElement(a), getHtmlElement(b)];
    const [from, to] = which === 'b' ? [x, y] : [y, x];
    buttons.forEach((id, i) => getHtmlElement(id).classList.toggle('studio-ab-on', (i === 1) === (which === 'b')));
    if (!x || !y || to.style.display !== 'none') return;  // already the one heard
    const playing = !from.paused;
    to.currentTime = Math.min(from.currentTime, to.duration || from.currentTime);
    from.pause();
    from.style.display = 'none';
    to.style.display = '';
    if (playing) to.play();
  },
  wire(a, b, play) {  // the play button's icon follows whichever is playing, without a round trip
    const icon = () => getHtmlElement(play).querySelector('i');
    for (const id of [a, b]) {
      const el = getHtmlElement(id);
      el.addEventListener('play', () => { icon().textContent = 'pause'; });
      el.addEventListener('pause', () => { icon().textContent = 'play_arrow'; });
    }
  },
  toggle(a, b) {  // play or pause the one heard (the one shown)
    const el = [getHtmlElement(a), getHtmlElement(b)].find((e) => e.style.display !== 'none');
    if (el.paused) el.play(); else el.pause();
  },
};
'''
_CSS = ('.studio-ab-on { background: var(--q-primary) !important; } '
        '.studio-ab-on, .studio-ab-on * { color: white !important; }')


class ABPlayer:
    """Two sources (labels and URLs). Everything acts in the browser, inside the click itself: a browser lets
    media start only from a user's gesture, and a switch must not wait for a round trip."""

    def __init__(self, label_a: str, url_a: str, label_b: str, url_b: str, *, mark: str = 'ab') -> None:
        with ui.row().classes('w-full items-center gap-3 no-wrap').mark(mark):
            play = ui.button(icon='play_arrow').props('round unelevated color=primary').mark(f'{mark}-play') \
                .tooltip(_('Play / pause'))
            with ui.element('div').classes('flex rounded-md border border-gray-300 dark:border-gray-700 '
                                           'overflow-hidden no-wrap'):
                pick_a = ui.button(label_a).props('flat no-caps').classes('studio-ab-on rounded-none') \
                    .mark(f'{mark}-pick-a')
                pick_b = ui.button(label_b).props('flat no-caps').classes('rounded-none').mark(f'{mark}-pick-b')
            # both load at once (preload=auto): a switch never waits for the network; the one not heard is
            # hidden by the browser-side switch only (a server update would undo it)
            a = ui.audio(url_a).props('preload=auto').classes('grow h-8').mark(f'{mark}-a')
            b = ui.audio(url_b).props('preload=auto').classes('grow h-8').style('display: none').mark(f'{mark}-b')
        buttons = f'[{pick_a.id}, {pick_b.id}]'
        play.on('click', js_handler=f'() => window.studioAB.toggle({a.id}, {b.id})')
        pick_a.on('click', js_handler=f'() => window.studioAB.to({a.id}, {b.id}, "a", {buttons})')
        pick_b.on('click', js_handler=f'() => window.studioAB.to({a.id}, {b.id}, "b", {buttons})')
        wire = f'window.studioAB.wire({a.id}, {b.id}, {play.id})'
        if ui.context.client.has_socket_connection:
            ui.run_javascript(_SCRIPT)
            ui.run_javascript(f'document.head.insertAdjacentHTML("beforeend", "<style>{_CSS}</style>")')
        else:
            ui.add_body_html(f'<script>{_SCRIPT}</script><style>{_CSS}</style>')
        ui.timer(0.2, lambda: ui.run_javascript(wire), once=True)  # once the elements are mounted
