"""Datasets: folders of audio turned into RAVE training data (`rave preprocess`), and one dataset's page."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components.job_console import job_console
from components.status import fmt_bytes, fmt_duration, status_chip
from pages.dataset_detail import detail as dataset_detail
from pages.dataset_library import library
from pages.dataset_wizard import wizard
from services.datasets import example_seconds
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
        cards.refresh()

    def _close_form() -> None:
        form_slot.clear()
        new_button.set_visibility(True)
        cards.refresh()

    @ui.refreshable
    def cards() -> None:
        _queue(studio, project)
        datasets = studio.datasets.list(project)
        if not datasets:
            if new_button.visible:  # while the form is open it teaches the same thing
                _empty_state(_open_form)
            return

    cards()
    library(studio, project)  # A3: the list (search, filters, sort, tags, archive import) is pages/dataset_library
    seen = {'key': _list_key(studio, project)}

    def _tick() -> None:
        key = _list_key(studio, project)
        if key != seen['key']:
            seen['key'] = key
            cards.refresh()

    ui.timer(1.0, _tick)


def detail(studio, project, dataset_id: str) -> None:
    """One dataset: overview, statistics and validation tabs (A3: pages/dataset_detail)."""
    dataset_detail(studio, project, dataset_id)


# ---- list -------------------------------------------------------------------------------------------
def _list_key(studio, project) -> tuple:
    building = [d for d in studio.datasets.list(project) if d.status == 'building']
    return (tuple((d.id, d.status) for d in studio.datasets.list(project)),
            studio.jobs.version if building else 0, tuple(d.id for d in studio.datasets.queue(project)))


def _empty_state(on_new) -> None:
    with ui.card().classes(theme.CARD + ' items-center text-center gap-3 py-12').mark('empty'):
        ui.icon('library_music', color='primary').classes('text-6xl opacity-80')
        ui.label('No datasets yet').classes('text-xl font-semibold')
        ui.label(ABOUT).classes('max-w-xl text-sm text-gray-600 dark:text-gray-300')
        ui.label('A few minutes of audio is enough to try; an hour or more of one instrument or voice trains '
                 'a good model.').classes(theme.HINT + ' max-w-xl')
        ui.button('New dataset', icon='add', on_click=on_new).props('unelevated color=primary').classes('mt-2')


def _dataset_card(studio, dataset: Dataset) -> None:
    with ui.card().classes(theme.CARD + ' gap-3 cursor-pointer hover:shadow-md transition-shadow') \
            .on('click', lambda: ui.navigate.to(f'/datasets/{dataset.id}')).mark(f'dataset-{dataset.name}'):
        with ui.row().classes('w-full items-center gap-2 no-wrap'):
            ui.icon('library_music', color='primary').classes('text-xl')
            ui.label(dataset.name).classes('text-base font-semibold truncate grow')
            status_chip(dataset.status)
        if dataset.status == 'building':
            state = studio.jobs.states.get(dataset.job_id)
            progress = state.progress if state else None
            bar = ui.linear_progress(value=progress or 0, show_value=False).props('rounded size=6px')
            if progress is None:
                bar.props('indeterminate')
            ui.label(state.detail if state and state.detail else
                     'Starting RAVE…' if state and state.status == 'running' else 'Waiting in the queue…') \
                .classes(theme.HINT)
        elif dataset.status in ('failed', 'cancelled'):
            ui.label(dataset.params.get('message', '')).classes('text-xs text-negative line-clamp-2')
        _stats(dataset, compact=True)


def _stats(dataset: Dataset, compact: bool = False) -> None:
    params = dataset.params or {}
    rows = [
        ('Examples', f'{dataset.n_examples:,}'.replace(',', ' ') if dataset.n_examples is not None else '—'),
        ('Duration', fmt_duration(dataset.n_seconds)),
        ('Sampling rate', f'{dataset.sr / 1000:g} kHz' if dataset.sr else '—'),
        ('Channels', {1: 'mono', 2: 'stereo'}.get(dataset.channels, '—')),
        ('Size', fmt_bytes(dataset.size_bytes)),
        ('Mode', ('lazy' if dataset.lazy else 'regular') if compact else
         ('lazy (file references)' if dataset.lazy else 'regular (audio stored)')),
    ]
    if not compact:
        num_signal = params.get('num_signal', 131072)
        rows += [('Example length', f'{example_seconds(num_signal, dataset.sr or 44100):.2f} s '
                                    f'({2 * num_signal:,} samples)'.replace(',', ' ')),
                 ('Source files', f'{params.get("source_files", "—")} · {fmt_duration(params.get("source_seconds"))}'),
                 ('Created', dataset.created.strftime('%d %b %Y, %H:%M'))]
    else:
        rows.append(('Created', dataset.created.strftime('%d %b %Y')))
    cols = 'grid-cols-3' if compact else 'grid-cols-2 md:grid-cols-3'
    with ui.element('div').classes(f'w-full grid {cols} gap-x-4 gap-y-2'):
        for label, value in rows:
            with ui.column().classes('gap-0 min-w-0'):
                ui.label(label).classes(theme.HINT)
                ui.label(value).classes('text-sm font-medium tabular-nums truncate')


# ---- queue --------------------------------------------------------------------------------------------
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


# ---- detail -----------------------------------------------------------------------------------------
def _detail_body(studio, dataset: Dataset) -> None:
    with ui.row().classes('w-full items-center gap-3'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to('/datasets')).props('flat round dense') \
            .tooltip('All datasets')
        ui.label(dataset.name).classes(theme.TITLE)
        status_chip(dataset.status)
        ui.space()
        ui.button('Delete', icon='delete', on_click=lambda: _confirm_delete(studio, dataset)) \
            .props('outline color=negative').mark('delete')
    if dataset.status in ('failed', 'cancelled') and dataset.params.get('message'):
        with ui.card().classes(theme.CARD + ' bg-red-50 dark:bg-red-950/30 border-red-200 dark:border-red-900'), \
                ui.row().classes('items-start gap-2 no-wrap'):
            ui.icon('error', color='negative').classes('text-xl')
            ui.label(dataset.params['message']).classes('text-sm').mark('message')
    with ui.card().classes(theme.CARD + ' gap-3'):
        ui.label('Contents').classes(theme.SECTION)
        _stats(dataset)
    with ui.card().classes(theme.CARD + ' gap-2'):
        ui.label('Where it lives').classes(theme.SECTION)
        _path_row('Dataset folder', dataset.path)
        for source in dataset.sources:
            _path_row('Source folder', source)
        job = studio.jobs.states.get(dataset.job_id) if dataset.job_id else None
        if job and dataset.status == 'ready':
            ui.label('Made with (the same command works in a terminal)').classes(theme.HINT + ' mt-2')
            with ui.row().classes('w-full items-start gap-2 no-wrap rounded-lg p-3 bg-gray-100 dark:bg-gray-900'):
                ui.label(job.command).classes(f'{theme.MONO} break-words min-w-0 grow').mark('command')
                ui.button(icon='content_copy', on_click=lambda: ui.clipboard.write(job.command)) \
                    .props('flat round dense size=sm').tooltip('Copy command')
    if dataset.job_id and dataset.status != 'ready':
        with ui.card().classes(theme.CARD + ' gap-2'):
            ui.label('Preprocessing').classes(theme.SECTION)
            job_console(studio.jobs, dataset.job_id)


def _path_row(label: str, path: str) -> None:
    with ui.row().classes('w-full items-center gap-3 no-wrap'):
        ui.label(label).classes(theme.HINT + ' w-28 shrink-0')
        ui.label(path).classes(f'{theme.MONO} break-all grow')
        ui.button(icon='content_copy', on_click=lambda: ui.clipboard.write(path)).props('flat round dense size=sm') \
            .tooltip('Copy path')


def _confirm_delete(studio, dataset: Dataset) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-[480px] max-w-full gap-3 p-5').mark('confirm-delete'):
        ui.label(f'Delete "{dataset.name}"?').classes('text-lg font-semibold')
        ui.label('The dataset leaves this project. Your source audio is never touched.').classes('text-sm')
        remove = ui.checkbox(f'Also delete the dataset folder ({fmt_bytes(dataset.size_bytes)}) from disk') \
            .mark('remove-files')
        ui.label(dataset.path).classes(f'{theme.MONO} break-all text-gray-500')
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Keep it', on_click=dialog.close).props('flat')
            ui.button('Delete', icon='delete', on_click=lambda: _delete(remove.value)) \
                .props('unelevated color=negative').mark('confirm')

    def _delete(remove_files: bool) -> None:
        studio.datasets.delete(dataset, remove_files=remove_files)
        dialog.close()
        ui.notify(f'Deleted "{dataset.name}"' + (' and its folder.' if remove_files else '; its folder was kept.'),
                  type='positive')
        ui.navigate.to('/datasets')

    dialog.open()
