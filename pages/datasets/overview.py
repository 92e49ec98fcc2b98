"""Datasets: folders of audio turned into RAVE training data (`rave preprocess`), and one dataset's page."""
from __future__ import annotations

from nicegui import ui

from app import theme
from pages.datasets.detail import detail as dataset_detail
from pages.datasets.library import library
from pages.datasets.wizard import wizard
from services.store import Dataset

ABOUT = ('A dataset is the training material for a RAVE model: your recordings cut into short examples '
         'and stored in one fast database folder (LMDB). Pick folders of audio; the originals are never changed.')


def create(studio, project) -> None:
    """The project's datasets, with a panel to make a new one."""
    with ui.row().classes('w-full items-end gap-4'):
        with ui.column().classes('gap-0 grow'):
            ui.label('Datasets').classes(theme.TITLE)
            ui.label(f'Training material of {project.name}').classes(theme.SUBTITLE)
        new_button = ui.button('New dataset', icon='add', on_click=lambda: _open_form()) \
            .props('unelevated color=primary').mark('new')
    form_slot = ui.column().classes('w-full')

    def _open_form() -> None:
        form_slot.clear()
        new_button.set_visibility(False)
        with form_slot:
            wizard(studio, project, on_close=_close_form)
        top.refresh()

    def _close_form() -> None:
        form_slot.clear()
        new_button.set_visibility(True)
        top.refresh()

    @ui.refreshable
    def top() -> None:
        """The preprocessing queue, and the empty state while there is nothing to list."""
        _queue(studio, project)
        if not studio.datasets.list(project) and new_button.visible:  # an open wizard teaches the same thing
            _empty_state(_open_form)

    top()
    library(studio, project)  # A3: the list (search, filters, sort, tags, archive import) is pages/dataset_library
    seen = {'key': _list_key(studio, project)}

    def _tick() -> None:
        key = _list_key(studio, project)
        if key != seen['key']:
            seen['key'] = key
            top.refresh()

    ui.timer(1.0, _tick)


def detail(studio, project, dataset_id: str) -> None:
    """One dataset: overview, statistics and validation tabs (A3: pages/dataset_detail)."""
    dataset_detail(studio, project, dataset_id)


# ---- queue and empty state ------------------------------------------------------------------------
def _list_key(studio, project) -> tuple:
    """Changes when a dataset appears, goes or changes status, or the queue changes."""
    return (tuple((d.id, d.status) for d in studio.datasets.list(project)),
            tuple(d.id for d in studio.datasets.queue(project)))


def _empty_state(on_new) -> None:
    with ui.card().classes(theme.CARD + ' items-center text-center gap-3 py-12').mark('empty'):
        ui.icon('library_music', color='primary').classes('text-6xl opacity-80')
        ui.label('No datasets yet').classes('text-xl font-semibold')
        ui.label(ABOUT).classes('max-w-xl text-sm text-gray-600 dark:text-gray-300')
        ui.label('A few minutes of audio is enough to try; an hour or more of one instrument or voice trains '
                 'a good model.').classes(theme.HINT + ' max-w-xl')
        ui.button('New dataset', icon='add', on_click=on_new).props('unelevated color=primary').classes('mt-2')


def _queue(studio, project) -> None:
    """Builds waiting for their turn, in order, with buttons to change it."""
    waiting = studio.datasets.queue(project)
    if not waiting:
        return
    with ui.card().classes(theme.CARD + ' gap-2').mark('queue'):
        with ui.row().classes('w-full items-baseline gap-2'):
            ui.label('Waiting to preprocess').classes(theme.SECTION)
            limit = int(studio.settings.get('parallel_preprocess') or 1)
            ui.label(f'{limit} at a time (Settings → parallel preprocessing); the top one starts next.') \
                .classes(theme.HINT)
        for position, dataset in enumerate(waiting):
            with ui.row().classes('w-full items-center gap-2 no-wrap rounded-lg px-2 py-1 bg-gray-50 '
                                  'dark:bg-gray-900').mark(f'queued-{dataset.name}'):
                ui.label(f'{position + 1}').classes(f'w-6 {theme.HINT} {theme.NUMBER}')
                ui.label(dataset.name).classes('text-sm grow truncate')
                ui.button(icon='arrow_upward', on_click=lambda d=dataset, i=position: _move(studio, d, i - 1)) \
                    .props('flat round dense size=sm').tooltip('Earlier').mark(f'earlier-{dataset.name}') \
                    .set_enabled(position > 0)
                ui.button(icon='arrow_downward', on_click=lambda d=dataset, i=position: _move(studio, d, i + 1)) \
                    .props('flat round dense size=sm').tooltip('Later').mark(f'later-{dataset.name}') \
                    .set_enabled(position < len(waiting) - 1)
                ui.button(icon='close', on_click=lambda d=dataset: studio.datasets.cancel(d)) \
                    .props('flat round dense size=sm color=negative').tooltip('Cancel').mark(f'unqueue-{dataset.name}')


def _move(studio, dataset: Dataset, position: int) -> None:
    studio.datasets.move(dataset, position)
