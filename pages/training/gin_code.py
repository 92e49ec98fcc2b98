"""The one question before gin code runs: custom configs and extra bindings can import and call Python."""
from __future__ import annotations

from nicegui import ui

from app import theme
from services.training import CODE_WARNING


async def confirm(title: str, lines: list[str] = ()) -> bool:
    """Ask once whether this gin code may run on this machine; True when the user says yes."""
    with ui.dialog() as dialog, ui.card().classes('w-[520px] gap-3').mark('code-dialog'):
        with ui.row().classes('items-center gap-2 no-wrap'):
            ui.icon('warning_amber', color='warning').classes('text-2xl')
            ui.label(title).classes(theme.SECTION)
        ui.label(CODE_WARNING).classes('text-sm')
        if lines:
            with ui.column().classes('w-full gap-0 rounded-lg bg-gray-50 dark:bg-gray-900 p-2'):
                for line in lines:
                    ui.label(line).classes(theme.MONO + ' break-all')
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Cancel', on_click=lambda: dialog.submit(False)).props('flat').mark('code-cancel')
            ui.button('Run it', icon='terminal', on_click=lambda: dialog.submit(True)) \
                .props('unelevated color=warning').mark('code-confirm')
    answer = await dialog
    dialog.delete()  # asked again later only if this one was declined: a fresh dialog then
    return bool(answer)
