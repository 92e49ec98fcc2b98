"""The keyboard shortcut registry: every shortcut of the studio is one `Shortcut` in SHORTCUTS. The frame's key
handler, the pages' own handlers (the inspector's arrows) and the shortcut sheet and Help's table are all made
from it, so the list a user reads cannot fall out of step with what the keys do."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from nicegui import events, ui

from components.icon_button import icon_button
from services.i18n import N_, _

SEQUENCE_S = 1.5  # the second key of a sequence ("g" then "d") must follow within this


@dataclass(frozen=True)
class Shortcut:
    id: str  # what code asks the registry for ('go.datasets', 'inspector.next-page')
    keys: tuple[str, ...]  # KeyboardEvent.key names, pressed one after the other
    what: str  # what it does, as the sheet says it (an English msgid: shown through _())
    where: str = N_('Everywhere')  # the page it works on
    target: str = ''  # the page a "go to" shortcut opens


SHORTCUTS = (
    Shortcut('go.dashboard', ('g', 'h'), N_('Go to the dashboard (home)'), target='/'),
    Shortcut('go.datasets', ('g', 'd'), N_('Go to Datasets'), target='/datasets'),
    Shortcut('go.training', ('g', 't'), N_('Go to Training'), target='/training'),
    Shortcut('go.models', ('g', 'm'), N_('Go to Models'), target='/models'),
    Shortcut('go.export', ('g', 'e'), N_('Go to Export'), target='/export'),
    Shortcut('go.explorer', ('g', 'x'), N_('Go to the Explorer'), target='/explorer'),
    Shortcut('search', ('/',), N_('Put the cursor in the page\'s search (Datasets, Help)')),
    Shortcut('sheet', ('?',), N_('Show this list of shortcuts')),
    Shortcut('close', ('Escape',), N_('Close the open dialog, this list or the tour')),
    Shortcut('inspector.previous-page', ('ArrowLeft',), N_('Previous page of examples'), N_('Dataset inspector')),
    Shortcut('inspector.next-page', ('ArrowRight',), N_('Next page of examples'), N_('Dataset inspector')),
    Shortcut('inspector.previous', ('ArrowUp',), N_('Previous example'), N_('Dataset inspector')),
    Shortcut('inspector.next', ('ArrowDown',), N_('Next example'), N_('Dataset inspector')),
)
BY_ID = {s.id: s for s in SHORTCUTS}
KEY_NAMES = {'Escape': 'Esc', 'ArrowLeft': '←', 'ArrowRight': '→', 'ArrowUp': '↑', 'ArrowDown': '↓'}
SEARCH_ATTRIBUTE = 'data-search'  # a page marks its search field with it; "/" focuses the first one


def key(shortcut_id: str) -> str:
    """The key of a one-key shortcut, for a page's own handler (`key('inspector.next')` → 'ArrowDown')."""
    return BY_ID[shortcut_id].keys[0]


def mark_search(field: ui.input) -> ui.input:
    """Make `field` the page's search: "/" puts the cursor in it."""
    field.props[SEARCH_ATTRIBUTE] = ''
    return field


class Sequence:
    """Turns single key presses into the studio-wide shortcut they complete (no UI: tested alone)."""

    def __init__(self, shortcuts: tuple[Shortcut, ...] = SHORTCUTS, clock: Callable[[], float] = time.monotonic):
        self.shortcuts = [s for s in shortcuts if s.where == 'Everywhere']
        self.clock = clock
        self.pending: tuple[str, ...] = ()
        self.since = 0.0

    def press(self, name: str) -> Shortcut | None:
        if self.pending and self.clock() - self.since > SEQUENCE_S:
            self.pending = ()
        typed = (*self.pending, name)
        done = next((s for s in self.shortcuts if s.keys == typed), None)
        if done is not None:
            self.pending = ()
            return done
        if any(s.keys[:len(typed)] == typed for s in self.shortcuts):
            self.pending, self.since = typed, self.clock()
        else:
            self.pending = ()
            single = next((s for s in self.shortcuts if s.keys == (name,)), None)
            if single is not None:  # "g" then "?" still opens the sheet
                return single
        return None


def install(on_shortcut: Callable[[Shortcut], None]) -> ui.keyboard:
    """The page's key handler for the studio-wide shortcuts (not while typing in a field)."""
    sequence = Sequence()

    def handle(e: events.KeyEventArguments) -> None:
        if not e.action.keydown or e.action.repeat or e.modifiers.ctrl or e.modifiers.alt or e.modifiers.meta:
            return
        done = sequence.press(e.key.name)
        if done is not None:
            on_shortcut(done)
    return ui.keyboard(on_key=handle, ignore=['input', 'select', 'textarea'])


def focus_search() -> None:
    ui.run_javascript(f'(document.querySelector("[{SEARCH_ATTRIBUTE}] input, input[{SEARCH_ATTRIBUTE}]") '
                      '|| {focus() {}}).focus()')


def table() -> None:
    """Every shortcut, grouped by where it works: the sheet's and Help's list."""
    with ui.column().classes('w-full gap-3').mark('shortcut-table'):
        for where in dict.fromkeys(s.where for s in SHORTCUTS):
            with ui.column().classes('w-full gap-1'):
                ui.label(_(where)).classes('text-xs uppercase tracking-wide font-semibold text-gray-500')
                for shortcut in (s for s in SHORTCUTS if s.where == where):
                    with ui.row().classes('w-full items-center gap-3 no-wrap text-sm') \
                            .mark(f'shortcut-{shortcut.id}'):
                        with ui.row().classes('w-24 shrink-0 gap-1 no-wrap items-center'):
                            for i, name in enumerate(shortcut.keys):
                                if i:
                                    ui.label(_('then')).classes('text-xs text-gray-500')
                                ui.html(f'<kbd>{KEY_NAMES.get(name, name)}</kbd>', sanitize=False)
                        ui.label(_(shortcut.what))


def sheet() -> ui.dialog:
    """The shortcut sheet ("?" opens it, Esc closes it)."""
    with ui.dialog() as dialog, ui.card().classes('w-[520px] max-w-[95vw] gap-3 p-5') \
            .props('role=dialog').props('aria-label="%s"' % _('Keyboard shortcuts')).mark('shortcut-sheet'):
        with ui.row().classes('w-full items-center gap-2'):
            ui.icon('keyboard', color='primary').classes('text-2xl')
            ui.label(_('Keyboard shortcuts')).classes('text-lg font-semibold grow')
            icon_button('close', _('Close the shortcut list'), dialog.close)
        table()
        ui.label(_('Shortcuts wait while you type in a field; Tab and Shift+Tab move between controls.')) \
            .classes('text-xs text-gray-500')
    return dialog
