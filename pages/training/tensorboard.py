"""TensorBoard inside the studio: the project's log folders (sizes, open, delete old versions) and an embedded,
proxied TensorBoard for the whole project or one run; `run_panel` is the run page's TensorBoard tab."""
from __future__ import annotations

import datetime
from pathlib import Path

from nicegui import run as background
from nicegui import ui

from app import theme
from components.status import fmt_bytes
from services.store import Run
from services.training.tensorboard import TensorBoardError


def create(studio, project) -> None:
    """The log-folder manager and the embedded TensorBoard of the current project."""
    runs_root = studio.projects.folder(project, 'runs')
    with ui.row().classes('w-full items-end gap-4'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to('/training')).props('flat round dense') \
            .tooltip('All runs')
        with ui.column().classes('gap-0 grow'):
            ui.label('TensorBoard').classes(theme.TITLE)
            ui.label(f'Log folders of {project.name}\'s runs; TensorBoard runs inside the studio, behind its login.') \
                .classes(theme.SUBTITLE)
        ui.button('Open all runs', icon='insights',
                  on_click=lambda: frame.open(f'project-{project.id}', runs_root, f'{project.name}: all runs')) \
            .props('unelevated color=primary').mark('tb-all')

    box = ui.column().classes('w-full')
    frame = _Embedded(studio)

    @ui.refreshable
    def folders() -> None:
        _folders(studio, runs_root, frame, folders.refresh)

    with box:
        folders()


def run_panel(studio, run: Run) -> None:
    """The run page's tab: TensorBoard on this run's folder (all its versions)."""
    frame = _Embedded(studio, compact=True)
    key = f'run-{run.id}'

    async def open_board() -> None:
        root = run_root(studio, run)
        if not root:
            ui.notify('This run has not written logs yet: TensorBoard can open once training started.',
                      type='warning')
            return
        await frame.open(key, root, run.name)

    with frame.toolbar:
        ui.button('Open TensorBoard for this run', icon='insights', on_click=open_board) \
            .props('unelevated color=primary no-caps').mark('tb-run')
        ui.button('All log folders', icon='folder_open', on_click=lambda: ui.navigate.to('/training/tensorboard')) \
            .props('flat no-caps color=primary')
    board = studio.tensorboard.boards.get(key)
    if board is not None and board.alive:
        frame.show(board)


def run_root(studio, run: Run) -> str | None:
    """RAVE's `<name>_<hash>` folder of the run, known once the worker reported its version folder."""
    series = studio.training.metrics(run)
    if series.run_dir:
        return str(Path(series.run_dir).parent)
    return run.folder or None


class _Embedded:
    """A toolbar and the proxied TensorBoard iframe."""

    def __init__(self, studio, compact: bool = False) -> None:
        self.studio = studio
        with ui.card().classes(theme.CARD + ' gap-3').mark('tb-frame'):
            with ui.row().classes('w-full items-center gap-2') as self.toolbar:
                self.title = ui.label('TensorBoard is not running.').classes(theme.SECTION + ' grow')
                self.actions = ui.row().classes('items-center gap-1')
            self.hint = ui.label('TensorBoard reads RAVE\'s event files (scalars, validation audio, config). '
                                 'It starts as a child process of the studio and stops with it.').classes(theme.HINT)
            self.slot = ui.element('div').classes('w-full')
        self.height = '640px' if compact else '760px'

    async def open(self, key: str, logdir: str | Path, title: str) -> None:
        self.title.set_text(f'Starting TensorBoard on {title}…')
        try:
            board = await background.io_bound(self.studio.tensorboard.start, key, str(logdir), title)
        except TensorBoardError as e:
            self.title.set_text('TensorBoard is not running.')
            ui.notify(str(e), type='negative', multi_line=True)
            return
        self.show(board)

    def show(self, board) -> None:
        self.title.set_text(f'TensorBoard · {board.title}')
        self.actions.clear()
        with self.actions:
            ui.button(icon='open_in_new', on_click=lambda: ui.navigate.to(board.url, new_tab=True)) \
                .props('flat round dense').tooltip('Open in a new tab')
            ui.button('Stop', icon='stop', on_click=lambda: self._stop(board.id)) \
                .props('flat dense no-caps color=negative').mark('tb-stop')
        self.slot.clear()
        with self.slot:
            ui.element('iframe').props(f'src="{board.url}"').classes('w-full rounded-lg border-0') \
                .style(f'height:{self.height}').mark('tb-iframe')

    async def _stop(self, key: str) -> None:
        await background.io_bound(self.studio.tensorboard.stop, key)
        self.slot.clear()
        self.actions.clear()
        self.title.set_text('TensorBoard is not running.')


def _folders(studio, runs_root: Path, frame: _Embedded, refresh) -> None:
    rows = studio.tensorboard.log_folders(runs_root)
    columns = 'grid-cols-[2fr_1fr_1fr_1fr_1.4fr_auto]'
    with ui.card().classes(theme.CARD + ' p-0 gap-0').mark('log-folders'):
        with ui.row().classes('w-full items-center px-4 pt-3 pb-2'):
            ui.label('Log folders').classes(theme.SECTION)
            ui.label(f'{len(rows)} version folder(s) · {fmt_bytes(sum(r.size for r in rows))} under {runs_root}') \
                .classes(theme.HINT + ' grow')
        if not rows:
            ui.label('No run has written logs yet. Each run writes <name>_<hash>/version_N folders here.') \
                .classes(theme.HINT + ' px-4 pb-4')
            return
        with ui.element('div').classes(f'w-full grid {columns} gap-4 px-4 py-2 {theme.HINT} uppercase tracking-wide '
                                       'border-y border-gray-200 dark:border-gray-800'):
            for title in ('Run folder', 'Version', 'Size', 'Event files', 'Modified', ''):
                ui.label(title).classes('text-right' if title in ('Size', 'Event files') else '')
        for row in rows:
            with ui.element('div').classes(f'w-full grid {columns} gap-4 px-4 py-2 items-center text-sm border-b '
                                           'border-gray-100 dark:border-gray-900').mark(f'logdir-{row.run}-{row.version}'):
                ui.label(row.run).classes(theme.MONO + ' truncate')
                ui.label(row.version).classes(theme.MONO)
                ui.label(fmt_bytes(row.size)).classes(theme.NUMBER)
                ui.label(str(row.events)).classes(theme.NUMBER)
                ui.label(datetime.datetime.fromtimestamp(row.modified).strftime('%d %b %Y, %H:%M'))
                with ui.row().classes('gap-1 no-wrap'):
                    ui.button(icon='insights', on_click=lambda r=row: frame.open(
                        f'{r.run}-{r.version}', r.path, f'{r.run}/{r.version}')).props('flat round dense color=primary') \
                        .tooltip('Open in TensorBoard')
                    ui.button(icon='delete_outline', on_click=lambda r=row: _confirm_delete(studio, runs_root, r, refresh)) \
                        .props('flat round dense color=negative').tooltip('Delete this version').mark(f'delete-{row.run}-{row.version}')


def _confirm_delete(studio, runs_root: Path, row, refresh) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-[460px] gap-3'):
        ui.label(f'Delete {row.run}/{row.version}?').classes(theme.SECTION)
        ui.label(f'This removes the folder {row.path} ({fmt_bytes(row.size)}): its TensorBoard logs and every '
                 'checkpoint in it. Runs resumed later live in other version folders and stay.').classes('text-sm')

        def go() -> None:
            try:
                studio.tensorboard.delete_folder(runs_root, row.path)
            except (TensorBoardError, OSError) as e:
                ui.notify(str(e), type='negative')
                return
            dialog.close()
            ui.notify(f'Deleted {row.run}/{row.version}.', type='positive')
            refresh()

        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Keep it', on_click=dialog.close).props('flat')
            ui.button('Delete', icon='delete', on_click=go).props('unelevated color=negative').mark('confirm-delete')
    dialog.open()
