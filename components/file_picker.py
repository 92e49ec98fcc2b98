"""A folder picker confined to the studio's browsable roots (Settings → Browsable folders)."""
from __future__ import annotations

import os
from pathlib import Path

from nicegui import run, ui

from app import theme
from components.status import fmt_bytes
from services.datasets import sources
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


def source_browser(settings: SettingsService, on_add, on_preview, ext=lambda: None, extra_roots=()) -> None:
    """An inline browser of folders and audio files inside the roots: open folders, add them as inputs
    (`on_add(path)`), preview files (`on_preview(path)`); sizes and durations shown; `ext()` filters files."""
    roots = [*settings.roots(), *[Path(r) for r in extra_roots]]
    here = {'path': roots[0]}
    with ui.column().classes('w-full gap-2').mark('browser'):
        with ui.row().classes('w-full items-center gap-2 no-wrap'):
            if len(roots) > 1:
                ui.select({str(r): str(r) for r in roots}, value=str(roots[0]), label='Browsable folder',
                          on_change=lambda e: e.value and _go(Path(e.value))) \
                    .props('dense outlined options-dense').classes('w-56 shrink-0').mark('root')
            up = ui.button(icon='arrow_upward', on_click=lambda: _go(here['path'].parent)) \
                .props('flat round dense').tooltip('Up one folder').mark('up')
            crumbs = ui.label().classes(f'{theme.MONO} break-all grow min-w-0 text-gray-600 dark:text-gray-300')
            ui.button('Add this folder', icon='playlist_add', on_click=lambda: on_add(str(here['path']))) \
                .props('flat dense color=primary no-caps').classes('shrink-0').mark('add-current')
        listing = ui.column().classes('w-full gap-0 h-72 overflow-auto rounded-lg border border-gray-200 '
                                      'dark:border-gray-800')

    async def _go(path: Path) -> None:
        if not any(path == r or path.is_relative_to(r) for r in roots):
            return
        here['path'] = path
        crumbs.set_text(str(path))
        up.set_enabled(path not in roots)
        entries = await run.io_bound(sources.listing, path, ext())
        listing.clear()
        with listing:
            if not entries:
                ui.label('No folders or audio files here.').classes(f'{theme.HINT} p-3')
            for entry in entries:
                _browser_row(entry, _go, on_add, on_preview)

    refresh = lambda: _go(here['path'])
    listing.refresh_listing = refresh
    ui.timer(0.01, refresh, once=True)
    return listing


def _browser_row(entry, go, on_add, on_preview) -> None:
    with ui.row().classes('w-full items-center gap-3 no-wrap px-3 py-1.5 hover:bg-gray-50 '
                          'dark:hover:bg-gray-900 border-b border-gray-100 dark:border-gray-900') \
            .mark(f'entry-{entry.name}'):
        if entry.is_dir:
            ui.icon('folder', color='primary').classes('text-lg')
            ui.label(entry.name).classes('text-sm grow truncate cursor-pointer') \
                .on('click', lambda p=entry.path: go(p)).mark(f'open-{entry.name}')
            ui.label(f'{entry.audio_inside} audio' if entry.audio_inside else '').classes(theme.HINT)
            ui.button(icon='playlist_add', on_click=lambda p=entry.path: on_add(str(p))) \
                .props('flat round dense size=sm color=primary').tooltip('Add as input folder') \
                .mark(f'add-{entry.name}')
        else:
            ui.button(icon='play_arrow', on_click=lambda p=entry.path: on_preview(p)) \
                .props('flat round dense size=sm').tooltip('Preview').mark(f'play-{entry.name}')
            ui.label(entry.name).classes('text-sm grow truncate')
            ui.label(_fmt_len(entry.duration)).classes(f'{theme.HINT} {theme.NUMBER} w-16')
            ui.label(fmt_bytes(entry.size)).classes(f'{theme.HINT} {theme.NUMBER} w-16')


def _fmt_len(seconds: float | None) -> str:
    if seconds is None:
        return '—'
    m, s = divmod(round(seconds), 60)
    return f'{m}:{s:02d}'
