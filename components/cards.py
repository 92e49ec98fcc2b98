"""The studio's recurring surfaces, drawn one way everywhere: a titled section card, the empty state of a page
that has nothing to show yet, the confirmation before something is lost, and what a page builds only when it is
first asked for."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from nicegui import ui

from app import theme
from services.i18n import N_, _

T = TypeVar('T')


def section(title: str, icon: str, *, classes: str = '', gap: str = 'gap-3') -> ui.card:
    """A card with an icon and a title; enter it (`with section(...):`) to fill it."""
    card = ui.card().classes(f'{theme.CARD} {gap} {classes}')
    with card, ui.row().classes('items-center gap-2'):
        ui.icon(icon, color='primary').classes('text-xl')
        ui.label(title).classes(theme.SECTION)
    return card


@dataclass(frozen=True)
class Action:
    """A button of an empty state: where it goes (a path) or what it does."""
    label: str
    icon: str
    go: str | Callable[[], object]
    primary: bool = True


def empty_state(icon: str, title: str, text: str, actions: Sequence[Action] = (), *, hint: str = '',
                mark: str = 'empty') -> ui.card:
    """What a page shows before its first item: what the item is, and the shortest way to make one."""
    with ui.card().classes(theme.CARD + ' items-center text-center gap-3 py-10').mark(mark) as card:
        ui.icon(icon, color='primary').classes('text-5xl opacity-80')
        ui.label(title).classes('text-xl font-semibold')
        ui.label(text).classes('max-w-xl text-sm text-gray-600 dark:text-gray-300')
        if hint:
            ui.label(hint).classes(theme.HINT + ' max-w-xl')
        if actions:
            with ui.row().classes('gap-2 mt-1 justify-center'):
                for action in actions:
                    go = action.go
                    handler = (lambda target=go: ui.navigate.to(target)) if isinstance(go, str) else go
                    ui.button(action.label, icon=action.icon, on_click=handler) \
                        .props('unelevated color=primary' if action.primary else 'outline')
    return card


def dialog_on_page() -> ui.dialog:
    """A dialog that belongs to the page, not to the section that opened it: a section that redraws under an
    open dialog (a run's header when its job starts) would take the dialog, and the user's answer, with it.
    The dialog removes itself once closed."""
    with ui.context.client.content:
        dialog = ui.dialog()
    dialog.on('hide', lambda: dialog.delete() if not dialog.is_deleted else None)
    return dialog


class OnDemand(Generic[T]):
    """What every page offers and few open (the shortcut sheet, the tour): built in the page's content the first
    time it is asked for, not with the page — 25 people opening pages at once pay only for what they see."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._client = ui.context.client
        self._made: T | None = None

    def __call__(self) -> T:
        if self._made is None:
            with self._client.content:
                self._made = self._build()
        return self._made

    @property
    def made(self) -> bool:
        return self._made is not None


async def confirm(title: str, text: str, *, yes: str, no: str = N_('Cancel'), icon: str = 'delete',
                  color: str = 'negative', details: Sequence[str] = (), mark: str = 'confirm') -> bool:
    """Ask before something that cannot be undone; True when the user says `yes`. The buttons are marked
    `<mark>-yes` and `<mark>-no`, the dialog `<mark>-dialog`."""
    with dialog_on_page() as dialog, ui.card().classes('w-[480px] max-w-full gap-3').mark(f'{mark}-dialog'):
        with ui.row().classes('items-center gap-2 no-wrap'):
            ui.icon('warning_amber' if color == 'warning' else icon, color=color).classes('text-2xl')
            ui.label(title).classes(theme.SECTION)
        ui.label(text).classes('text-sm')
        if details:
            with ui.column().classes('w-full gap-0 rounded-lg bg-gray-50 dark:bg-gray-900 p-2'):
                for line in details:
                    ui.label(line).classes(theme.MONO + ' break-all')
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_(no), on_click=lambda: dialog.submit(False)).props('flat').mark(f'{mark}-no')
            ui.button(yes, icon=icon, on_click=lambda: dialog.submit(True)) \
                .props(f'unelevated color={color}').mark(f'{mark}-yes')
    answer = await dialog
    if not dialog.is_deleted:
        dialog.delete()
    return bool(answer)
