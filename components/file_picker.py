"""The source browser: folders and audio files inside the browsable folders (the data folder, the home folder
of a local studio, Settings → Browsable folders) and the project's uploads; which folders it may open is the
datasets facade's (the file policy's) to say."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from nicegui import run, ui

from app import theme
from components.icon_button import icon_button
from services import formatting
from services.datasets import Datasets, FolderEntry
from services.i18n import _


def source_browser(datasets: Datasets, project_id: int, on_add: Callable[[str], Awaitable[None]],
                   on_preview: Callable[[Path], Awaitable[None]],
                   ext: Callable[[], list[str] | None] = lambda: None) -> ui.column:
    """An inline browser: open folders, add them as inputs (`on_add(path)`), preview files (`on_preview(path)`);
    sizes and durations shown; `ext()` filters files. `await browser.refresh_listing()` re-reads the folder,
    `await browser.show_folder(path)` re-reads the browsable folders (one was just allowed) and opens `path`."""
    places = datasets.browse_places(project_id)
    roots = list(places)
    here = {'path': roots[0]}
    with ui.column().classes('w-full gap-2').mark('browser'):
        with ui.row().classes('w-full items-center gap-2 no-wrap'):
            root = ui.select({str(r): label for r, label in places.items()}, value=str(roots[0]),
                             label=_('Browsable folder'), on_change=lambda e: e.value and _go(Path(e.value))) \
                .props('dense outlined options-dense').classes('w-56 shrink-0') \
                .tooltip(_('Where the browser starts: the data folder, your home folder or a folder from Settings')) \
                .mark('root')
            root.set_visibility(len(roots) > 1)
            up = icon_button('arrow_upward', _('Up one folder'), lambda: _go(here['path'].parent)).mark('up')
            crumbs = ui.label().classes(f'{theme.MONO} break-all grow min-w-0 text-gray-600 dark:text-gray-300')
            ui.button(_('Add this folder'), icon='playlist_add', on_click=lambda: on_add(str(here['path']))) \
                .props('flat dense color=primary no-caps').classes('shrink-0').mark('add-current')
        listing = ui.column().classes('w-full gap-0 h-72 overflow-auto rounded-lg border border-gray-200 '
                                      'dark:border-gray-800')

    async def _go(path: Path) -> None:
        if not any(path == r or path.is_relative_to(r) for r in roots):
            return  # above the top of every root: the up button stays where it is
        here['path'] = path
        crumbs.set_text(str(path))
        up.set_enabled(path not in roots)
        entries = await run.io_bound(datasets.listing, project_id, path, ext())
        listing.clear()
        with listing:
            if not entries:
                ui.label(_('No folders or audio files here.')).classes(f'{theme.HINT} p-3')
            for entry in entries:
                _browser_row(entry, _go, on_add, on_preview)

    async def _show_folder(path: Path) -> None:
        places.clear()
        places.update(datasets.browse_places(project_id))
        roots[:] = list(places)
        root.set_options({str(r): label for r, label in places.items()}, value=root.value)
        root.set_visibility(len(roots) > 1)
        await _go(path)

    listing.refresh_listing = lambda: _go(here['path'])
    listing.show_folder = _show_folder
    ui.timer(0.01, listing.refresh_listing, once=True)  # the first listing, once the page is drawn
    return listing


def _browser_row(entry: FolderEntry, go, on_add, on_preview) -> None:
    with ui.row().classes('w-full items-center gap-3 no-wrap px-3 py-1.5 hover:bg-gray-50 '
                          'dark:hover:bg-gray-900 border-b border-gray-100 dark:border-gray-900') \
            .mark(f'entry-{entry.name}'):
        if entry.is_dir:
            ui.icon('folder', color='primary').classes('text-lg')
            ui.label(entry.name).classes('text-sm grow truncate cursor-pointer') \
                .on('click', lambda p=entry.path: go(p)).mark(f'open-{entry.name}')
            ui.label(_('{count} audio').format(count=entry.audio_inside) if entry.audio_inside else '') \
                .classes(theme.HINT)
            icon_button('playlist_add', _('Add {name} as input folder').format(name=entry.name),
                        lambda p=entry.path: on_add(str(p)),
                        props='flat round dense size=sm color=primary').mark(f'add-{entry.name}')
        else:
            icon_button('play_arrow', _('Preview {name}').format(name=entry.name), lambda p=entry.path: on_preview(p),
                        props='flat round dense size=sm').mark(f'play-{entry.name}')
            ui.label(entry.name).classes('text-sm grow truncate')
            ui.label(formatting.clock(entry.duration)).classes(f'{theme.HINT} {theme.NUMBER} w-16')
            ui.label(formatting.size(entry.size)).classes(f'{theme.HINT} {theme.NUMBER} w-16')
