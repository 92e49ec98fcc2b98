"""TensorBoard inside the studio: the project's log folders (sizes, open, delete old versions) and an
embedded, proxied TensorBoard for the whole project or one run; `run_panel` is the run page's TensorBoard
tab."""
from __future__ import annotations

from nicegui import run as background
from nicegui import ui

from app import theme
from components import cards
from services import formatting
from services.i18n import N_, _, ngettext
from services.projects import ProjectView
from services.training import BoardView, LogFolder, RunView, TensorBoardError, Training


def create(training: Training, project: ProjectView) -> None:
    """The log-folder manager and the embedded TensorBoard of the current project."""
    with ui.row().classes('w-full items-end gap-4'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to('/training')).props('flat round dense') \
            .tooltip(_('All runs'))
        with ui.column().classes('gap-0 grow'):
            ui.label(_('TensorBoard')).classes(theme.TITLE)
            ui.label(_("Log folders of {project}'s runs; TensorBoard runs inside the studio, behind its login.")
                     .format(project=project.name)) \
                .classes(theme.SUBTITLE)
        ui.button(_('Open all runs'), icon='insights', on_click=lambda: frame.open(project.id)) \
            .props('unelevated color=primary').mark('tb-all')

    box = ui.column().classes('w-full')
    frame = _Embedded(training)

    @ui.refreshable
    def folders() -> None:
        _folders(training, project, frame, folders.refresh)

    with box:
        folders()


def run_panel(training: Training, run: RunView) -> None:
    """The run page's tab: TensorBoard on this run's folder (all its versions)."""
    frame = _Embedded(training, compact=True)
    with frame.toolbar:
        ui.button(_('Open TensorBoard for this run'), icon='insights',
                  on_click=lambda: frame.open(run.project_id, run_id=run.id)) \
            .props('unelevated color=primary no-caps').mark('tb-run')
        ui.button(_('All log folders'), icon='folder_open',
                  on_click=lambda: ui.navigate.to('/training/tensorboard')) \
            .props('flat no-caps color=primary')
    board = training.board(f'run-{run.id}')
    if board is not None:
        frame.show(board)


class _Embedded:
    """A toolbar and the proxied TensorBoard iframe."""

    def __init__(self, training: Training, compact: bool = False) -> None:
        self.training = training
        with ui.card().classes(theme.CARD + ' gap-3').mark('tb-frame'):
            with ui.row().classes('w-full items-center gap-2') as self.toolbar:
                self.title = ui.label(_('TensorBoard is not running.')).classes(theme.SECTION + ' grow')
                self.actions = ui.row().classes('items-center gap-1')
            self.hint = ui.label(_("TensorBoard reads RAVE's event files (scalars, validation audio, config). "
                                   "It starts as a child process of the studio and stops with it.")) \
                .classes(theme.HINT)
            self.slot = ui.element('div').classes('w-full')
        self.height = '640px' if compact else '760px'

    async def open(self, project_id: int, *, run_id: int | None = None, folder: str | None = None) -> None:
        self.title.set_text(_('Starting TensorBoard…'))
        try:
            board = await background.io_bound(lambda: self.training.open_board(project_id, run_id=run_id,
                                                                                folder=folder))
        except TensorBoardError as e:
            self.title.set_text(_('TensorBoard is not running.'))
            ui.notify(str(e), type='negative', multi_line=True)
            return
        self.show(board)

    def show(self, board: BoardView) -> None:
        self.title.set_text(f'TensorBoard · {board.title}')
        self.actions.clear()
        with self.actions:
            ui.button(icon='open_in_new', on_click=lambda: ui.navigate.to(board.url, new_tab=True)) \
                .props('flat round dense').tooltip(_('Open in a new tab'))
            ui.button(_('Stop'), icon='stop', on_click=lambda: self._stop(board.id)) \
                .props('flat dense no-caps color=negative').mark('tb-stop')
        self.slot.clear()
        with self.slot:
            ui.element('iframe').props(f'src="{board.url}"').classes('w-full rounded-lg border-0') \
                .style(f'height:{self.height}').mark('tb-iframe')

    async def _stop(self, key: str) -> None:
        await background.io_bound(self.training.stop_board, key)
        self.slot.clear()
        self.actions.clear()
        self.title.set_text(_('TensorBoard is not running.'))


def _folders(training: Training, project: ProjectView, frame: _Embedded, refresh) -> None:
    rows = training.log_folders(project.id)
    runs_root = training.runs_folder(project.id)
    columns = 'grid-cols-[2fr_1fr_1fr_1fr_1.4fr_auto]'
    with ui.card().classes(theme.CARD + ' p-0 gap-0').mark('log-folders'):
        with ui.row().classes('w-full items-center px-4 pt-3 pb-2'):
            ui.label(_('Log folders')).classes(theme.SECTION)
            ui.label(ngettext('{count} version folder · {size} under {folder}',
                          '{count} version folders · {size} under {folder}', len(rows))
                 .format(count=len(rows), size=formatting.size(sum(r.size for r in rows)), folder=runs_root)) \
                .classes(theme.HINT + ' grow')
        if not rows:
            ui.label(_('No run has written logs yet. Each run writes <name>_<hash>/version_N folders here.')) \
                .classes(theme.HINT + ' px-4 pb-4')
            return
        with ui.element('div') \
            .classes(f'w-full grid {columns} gap-4 px-4 py-2 {theme.HINT} uppercase tracking-wide '
                                       'border-y border-gray-200 dark:border-gray-800'):
            for title in (N_('Run folder'), N_('Version'), N_('Size'), N_('Event files'), N_('Modified'), ''):
                ui.label(_(title)).classes('text-right' if title in ('Size', 'Event files') else '')
        for row in rows:
            with ui.element('div').classes(f'w-full grid {columns} gap-4 px-4 py-2 items-center text-sm '
                                           'border-b border-gray-100 dark:border-gray-900') \
                    .mark(f'logdir-{row.run}-{row.version}'):
                ui.label(row.run).classes(theme.MONO + ' truncate')
                ui.label(row.version).classes(theme.MONO)
                ui.label(formatting.size(row.size)).classes(theme.NUMBER)
                ui.label(str(row.events)).classes(theme.NUMBER)
                ui.label(formatting.moment(row.modified))
                with ui.row().classes('gap-1 no-wrap'):
                    ui.button(icon='insights', on_click=lambda r=row: frame.open(project.id, folder=r.path)) \
                        .props('flat round dense color=primary').tooltip(_('Open in TensorBoard'))
                    ui.button(icon='delete_outline',
                              on_click=lambda r=row: _confirm_delete(training, project, r, refresh)) \
                        .props('flat round dense color=negative').tooltip(_('Delete this version')) \
                            .mark(f'delete-{row.run}-{row.version}')


async def _confirm_delete(training: Training, project: ProjectView, row: LogFolder, refresh) -> None:
    text = _('This removes the folder {folder} ({size}): its TensorBoard logs and every checkpoint in it. Runs '
             'resumed later live in other version folders and stay.')
    text = text.format(folder=row.path, size=formatting.size(row.size))
    if not await cards.confirm(_('Delete {folder}?').format(folder=f'{row.run}/{row.version}'), text, yes=_('Delete'),
                               no=_('Keep it'),
                               mark='delete-logs'):
        return
    try:
        training.delete_log_folder(project.id, row.path)
    except (TensorBoardError, OSError, PermissionError) as e:
        ui.notify(str(e), type='negative')
        return
    ui.notify(_('Deleted {folder}.').format(folder=f'{row.run}/{row.version}'), type='positive')
    refresh()
