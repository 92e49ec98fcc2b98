"""A folder picker confined to the studio's browsable roots (Settings → Browsable folders)."""
from __future__ import annotations

import os
from pathlib import Path

from nicegui import run, ui

from app import theme
from services.settings import SettingsService


async def pick_folder(settings: SettingsService, start: str | None = None) -> str | None:
    """Open a dialog that browses folders inside `settings.roots()`; returns the chosen path or None."""
    roots = settings.roots()
    here = {'path': Path(start).expanduser().resolve() if start and settings.within_roots(start) else roots[0]}

    with ui.dialog() as dialog, ui.card().classes('w-[560px] max-w-full gap-3 p-5').mark('folder-picker'):
        with ui.row().classes('w-full items-center gap-2'):
            ui.icon('folder_open', color='primary').classes('text-2xl')
            ui.label('Choose a folder').classes(theme.SECTION)
        if len(roots) > 1:
            ui.select({str(r): str(r) for r in roots}, value=str(here['path']) if here['path'] in roots else None,
                      label='Browsable folder', on_change=lambda e: e.value and _go(Path(e.value))) \
                .props('dense outlined').classes('w-full')
        crumbs = ui.label().classes(f'{theme.MONO} break-all text-gray-600 dark:text-gray-300')
        listing = ui.column().classes('w-full gap-0 h-72 overflow-auto rounded-lg border border-gray-200 '
                                      'dark:border-gray-800')
        ui.label('Only folders inside the browsable folders are shown; add more under Settings.') \
            .classes(theme.HINT)
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Cancel', on_click=lambda: dialog.submit(None)).props('flat')
            ui.button('Use this folder', icon='check', on_click=lambda: dialog.submit(str(here['path']))) \
                .props('unelevated color=primary').mark('use-folder')

    async def _go(path: Path) -> None:
        if not settings.within_roots(path):
            return
        here['path'] = path
        crumbs.set_text(str(path))
        entries = await run.io_bound(_subfolders, path)
        listing.clear()
        with listing:
            if path not in roots:
                _entry('arrow_upward', '..', lambda: _go(path.parent))
            if not entries:
                ui.label('No sub-folders here.').classes(f'{theme.HINT} p-3')
            for name, audio in entries:
                _entry('folder', name, lambda n=name: _go(path / n),
                       f'{audio} audio file{"s" if audio != 1 else ""}' if audio else '')

    await _go(here['path'])
    return await dialog


def _entry(icon: str, name: str, on_click, note: str = '') -> None:
    with ui.item(on_click=on_click).props('clickable dense').classes('w-full').mark(f'folder-{name}'):
        with ui.item_section().props('avatar'):
            ui.icon(icon, color='primary')
        with ui.item_section():
            ui.label(name).classes('text-sm')
        if note:
            with ui.item_section().props('side'):
                ui.label(note).classes(theme.HINT)


AUDIO_SUFFIXES = {'.wav', '.aif', '.aiff', '.flac', '.mp3', '.ogg', '.opus', '.aac'}


def _subfolders(path: Path) -> list[tuple[str, int]]:
    """Visible sub-folders of `path`, each with how many audio files sit directly inside it."""
    result = []
    try:
        with os.scandir(path) as it:
            dirs = sorted((e for e in it if e.is_dir() and not e.name.startswith('.')), key=lambda e: e.name.lower())
    except OSError:
        return []
    for entry in dirs[:500]:
        try:
            with os.scandir(entry.path) as inner:
                audio = sum(1 for f in inner if Path(f.name).suffix.lower() in AUDIO_SUFFIXES)
        except OSError:
            audio = 0
        result.append((entry.name, audio))
    return result
