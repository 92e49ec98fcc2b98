"""One dataset's page: Overview (facts, tags, sources, how it was made, clone/archive/delete), Statistics and
Validation tabs. It redraws when the dataset's status changes (a build ends, another client deletes it)."""
from __future__ import annotations

import threading
import time

from nicegui import run, ui

from app import theme
from components.comments import comments_card
from components.icon_button import icon_button
from components.job_console import job_console
from components.status import status_chip
from pages.datasets.progress import reporter
from pages.datasets.statistics import statistics
from pages.datasets.wizard import train_link
from services import formatting
from services.datasets import (
    SAMPLING_RATES,
    DatasetError,
    Datasets,
    DatasetView,
    IntegrityReport,
    example_seconds,
)
from services.events import DatasetChanged, Subscriber
from services.jobs import Jobs
from services.lab.comments import Comments
from services.projects import ProjectView

PARAM_LABELS = {'num_signal': 'num_signal (samples)', 'channels': 'channels', 'sampling_rate': 'sampling rate (Hz)',
                'ext': 'file types', 'lazy': 'lazy', 'source_files': 'source files',
                'source_seconds': 'source audio (s)', 'cloned_from': 'cloned from', 'imported_from': 'imported from'}


def create(datasets: Datasets, jobs: Jobs, comments: Comments, events: Subscriber, project: ProjectView,
           dataset_id: str) -> None:
    """Header with actions, then tabs."""
    dataset = datasets.get(dataset_id, project.id)
    if dataset is None:
        _missing()
        return
    shown = {'status': dataset.status}

    @ui.refreshable
    def body() -> None:
        current = datasets.get(dataset.id, project.id)
        if current is None:
            _missing()
            return
        shown['status'] = current.status
        _header(datasets, current)
        _tabs(datasets, jobs, events, current)

    def _changed(event: DatasetChanged) -> None:
        if event.dataset_id == dataset.id and event.status != shown['status']:
            body.refresh()

    body()
    events.on(DatasetChanged, _changed)
    comments_card(comments, events, 'dataset', dataset.id)


def _missing() -> None:
    with ui.card().classes(theme.CARD + ' items-center gap-3 py-10').mark('missing'):
        ui.icon('search_off', color='grey-6').classes('text-5xl')
        ui.label('This dataset does not exist in the current project.').classes(theme.SECTION)
        ui.button('All datasets', icon='arrow_back', on_click=lambda: ui.navigate.to('/datasets')).props('flat')


def _header(datasets: Datasets, dataset: DatasetView) -> None:
    with ui.row().classes('w-full items-center gap-3'):
        icon_button('arrow_back', 'All datasets', lambda: ui.navigate.to('/datasets'))
        with ui.column().classes('gap-0'):
            with ui.row().classes('items-center gap-3'):
                ui.label(dataset.name).classes(theme.TITLE).mark('title')
                status_chip(dataset.status)
            facts = [f'{dataset.n_examples} examples' if dataset.n_examples is not None else '',
                     formatting.duration(dataset.n_seconds) if dataset.n_seconds else '',
                     f'{dataset.sr / 1000:g} kHz' if dataset.sr else '',
                     {1: 'mono', 2: 'stereo'}.get(dataset.channels, ''), dataset.category]
            ui.label(' · '.join(f for f in facts if f)).classes(theme.SUBTITLE)
        ui.space()
        if dataset.ready:
            ui.button('Train a model on it', icon='model_training',
                      on_click=lambda: ui.navigate.to(train_link(dataset.id))) \
                .props('unelevated color=primary no-caps').mark('train-on-it')
            ui.button('Browse examples', icon='manage_search',
                      on_click=lambda: ui.navigate.to(f'/datasets/{dataset.id}/inspect')) \
                .props('flat color=primary no-caps').mark('inspect')
        ui.button('Clone', icon='content_copy', on_click=lambda: _clone_dialog(datasets, dataset)) \
            .props('flat color=primary no-caps').mark('clone').set_enabled(bool(dataset.sources))
        ui.button('Export archive', icon='archive', on_click=lambda: _export_dialog(datasets, dataset)) \
            .props('flat color=primary no-caps').mark('export-archive').set_enabled(dataset.ready)
        ui.button('Delete', icon='delete', on_click=lambda: _delete_dialog(datasets, dataset)) \
            .props('outline color=negative no-caps').mark('delete')


def _tabs(datasets: Datasets, jobs: Jobs, events: Subscriber, dataset: DatasetView) -> None:
    with ui.tabs().classes('w-full justify-start').props('align=left inline-label no-caps') as tabs:
        overview = ui.tab('Overview', icon='info').mark('tab-overview')
        stats = ui.tab('Statistics', icon='insights').mark('tab-statistics')
        check = ui.tab('Validation', icon='fact_check').mark('tab-validation')
    with ui.tab_panels(tabs, value=overview).classes('w-full bg-transparent').props('keep-alive animated=false'):
        with ui.tab_panel(overview).classes('p-0 gap-4'):
            _overview(datasets, jobs, events, dataset)
        with ui.tab_panel(stats).classes('p-0 gap-4'):
            statistics(datasets, jobs, events, dataset)
        with ui.tab_panel(check).classes('p-0 gap-4'):
            _validation(datasets, dataset)


# ---- overview ----------------------------------------------------------------------------------------
def _overview(datasets: Datasets, jobs: Jobs, events: Subscriber, dataset: DatasetView) -> None:
    if dataset.message:
        with ui.card().classes(theme.CARD + ' bg-red-50 dark:bg-red-950/30'), \
                ui.row().classes('items-start gap-2 no-wrap'):
            ui.icon('error', color='negative').classes('text-xl')
            ui.label(dataset.message).classes('text-sm').mark('message')
    if dataset.job_id and dataset.building:
        with ui.card().classes(theme.CARD + ' gap-2'):
            ui.label('Preprocessing').classes(theme.SECTION)
            job_console(jobs, events, dataset.job_id)
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-3 gap-4'):
        with ui.card().classes(theme.CARD + ' gap-3 lg:col-span-2'):
            ui.label('Contents').classes(theme.SECTION)
            _facts(dataset)
        with ui.card().classes(theme.CARD + ' gap-2'):
            ui.label('Tags and category').classes(theme.SECTION)
            _tags_editor(datasets, dataset)
    with ui.card().classes(theme.CARD + ' gap-2'):
        ui.label('Where it lives').classes(theme.SECTION)
        _path_row('Dataset folder', dataset.path)
        for source in dataset.sources:
            _path_row('Source folder', source)
        if not dataset.sources:
            ui.label('No source folders recorded (imported dataset): it cannot be cloned.').classes(theme.HINT)
    with ui.card().classes(theme.CARD + ' gap-2'):
        ui.label('How it was made').classes(theme.SECTION)
        _parameters(dataset)
        job = jobs.get(dataset.job_id) if dataset.job_id else None
        if job is not None:
            ui.label('Made with (the same command works in a terminal)').classes(theme.HINT + ' mt-2')
            with ui.row().classes('w-full items-start gap-2 no-wrap rounded-lg p-3 bg-gray-100 dark:bg-gray-900'):
                ui.label(job.command).classes(f'{theme.MONO} break-words min-w-0 grow').mark('command')
                ui.button(icon='content_copy', on_click=lambda: ui.clipboard.write(job.command)) \
                    .props('flat round dense size=sm').tooltip('Copy command')


def _facts(dataset: DatasetView) -> None:
    params = dataset.params
    num_signal = params.get('num_signal')
    rows = [('Examples', f'{dataset.n_examples:,}'.replace(',', ' ') if dataset.n_examples is not None else '—'),
            ('Total duration', formatting.duration(dataset.n_seconds)),
            ('Sample rate', f'{dataset.sr:,} Hz'.replace(',', ' ') if dataset.sr else '—'),
            ('Channels', {1: '1 (mono)', 2: '2 (stereo)'}.get(dataset.channels, '—')),
            ('Size on disk', formatting.size(dataset.size_bytes)),
            ('Format', 'lazy (file references)' if dataset.lazy else 'regular (audio stored)'),
            ('Example length', f'{example_seconds(num_signal, dataset.sr or 44100):.2f} s' if num_signal else '—'),
            ('Source files', f'{params.get("source_files", "—")} · '
                             f'{formatting.duration(params.get("source_seconds"))}'),
            ('Created', dataset.created.strftime('%d %b %Y, %H:%M'))]
    with ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-3 gap-x-6 gap-y-3').mark('facts'):
        for label, value in rows:
            with ui.column().classes('gap-0 min-w-0'):
                ui.label(label).classes(theme.HINT)
                ui.label(value).classes('text-sm font-medium tabular-nums truncate')


def _tags_editor(datasets: Datasets, dataset: DatasetView) -> None:
    tags = list(dataset.tags)

    @ui.refreshable
    def chips() -> None:
        with ui.row().classes('w-full gap-1 min-h-8 items-center').mark('tags'):
            if not tags:
                ui.label('No tags yet.').classes(theme.HINT)
            for tag in tags:
                ui.chip(tag, removable=True, color='primary', text_color='white',
                        on_value_change=lambda _e, t=tag: _show(datasets.remove_tag(dataset.id, t))) \
                    .props('dense').mark(f'tag-{tag}')

    chips()
    suggestions = [t for t in datasets.all_tags(dataset.project_id) if t not in tags]
    new_tag = ui.input('Add a tag', autocomplete=suggestions).props('outlined dense').classes('w-full') \
        .mark('tag-input').on('keydown.enter', lambda: _add())
    ui.label('Press Enter to add. Tags group datasets in the library (e.g. "drums", "take 2").').classes(theme.HINT)
    category = ui.input('Category', value=dataset.category).props('outlined dense').classes('w-full mt-2') \
        .mark('category').on('blur', lambda: _set_category()).on('keydown.enter', lambda: _set_category())
    ui.label('One word for what it is, e.g. voice, drums, field recording.').classes(theme.HINT)

    def _show(stored: list[str]) -> None:
        tags[:] = stored
        chips.refresh()

    def _add() -> None:
        if (new_tag.value or '').strip():
            _show(datasets.add_tag(dataset.id, new_tag.value))
            new_tag.set_value('')

    def _set_category() -> None:
        if datasets.set_category(dataset.id, category.value or ''):
            ui.notify('Category saved.', type='positive')


def _parameters(dataset: DatasetView) -> None:
    params = dataset.params
    shown = [(PARAM_LABELS[k], _param_text(params[k])) for k in PARAM_LABELS if params.get(k) not in ('', None, [])]
    with ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-4 gap-x-6 gap-y-2').mark('parameters'):
        for label, value in shown:
            with ui.column().classes('gap-0 min-w-0'):
                ui.label(label).classes(theme.HINT)
                ui.label(value).classes(f'{theme.MONO} break-words')


def _param_text(value) -> str:
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return ', '.join(map(str, value)) if isinstance(value, list) else str(value)


def _path_row(label: str, path: str) -> None:
    with ui.row().classes('w-full items-center gap-3 no-wrap'):
        ui.label(label).classes(theme.HINT + ' w-28 shrink-0')
        ui.label(path).classes(f'{theme.MONO} break-all grow')
        ui.button(icon='content_copy', on_click=lambda: ui.clipboard.write(path)).props('flat round dense size=sm') \
            .tooltip('Copy path')


# ---- dialogs -----------------------------------------------------------------------------------------
def _clone_dialog(datasets: Datasets, dataset: DatasetView) -> None:
    params = dataset.params
    with ui.dialog() as dialog, ui.card().classes('w-[520px] max-w-[95vw] gap-3 p-5').mark('clone-dialog'):
        ui.label(f'Clone "{dataset.name}"').classes('text-lg font-semibold')
        ui.label('RAVE preprocesses the same source folders again with the values below, into a new dataset. '
                 'This one stays as it is.').classes(theme.SUBTITLE)
        name = ui.input('Name', value=f'{dataset.name} copy').props('outlined dense').classes('w-full') \
            .mark('clone-name')
        ui.label('The new dataset\'s name; it also names its folder.').classes(theme.HINT)
        with ui.row().classes('w-full gap-3 no-wrap'):
            sr = ui.select({r: f'{r / 1000:g} kHz' for r in SAMPLING_RATES}, value=dataset.sr or 44100,
                           label='Sample rate').props('outlined dense').classes('grow').mark('clone-sr')
            channels = ui.select({1: 'Mono', 2: 'Stereo'}, value=dataset.channels or 1, label='Channels') \
                .props('outlined dense').classes('grow').mark('clone-channels')
        ui.label('Audio is resampled and mixed to these; a model trains at its dataset\'s rate.').classes(theme.HINT)
        num_signal = ui.number('Example length (num_signal)', value=params.get('num_signal', 131072), min=16384,
                               step=16384, format='%d', suffix='samples').props('outlined dense').classes('w-full') \
            .mark('clone-num-signal')
        ui.label('Each example holds 2 × num_signal samples.').classes(theme.HINT)
        lazy = ui.switch('Lazy: store references, not audio', value=dataset.lazy).mark('clone-lazy')
        error = ui.label().classes('text-sm text-negative').mark('clone-error')
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Cancel', on_click=dialog.close).props('flat')
            go = ui.button('Start preprocessing', icon='play_arrow', on_click=lambda: _go()) \
                .props('unelevated color=primary').mark('clone-go')

    async def _go() -> None:
        go.props('loading')
        error.set_text('')
        try:
            clone = await run.io_bound(datasets.clone, dataset.id, (name.value or '').strip(), sr=sr.value,
                                       channels=channels.value, num_signal=int(num_signal.value or 0) or None,
                                       lazy=lazy.value)
        except DatasetError as e:
            error.set_text(str(e))
            return
        finally:
            go.props(remove='loading')
        dialog.close()
        ui.notify(f'Preprocessing "{clone.name}" started.', type='positive')
        ui.navigate.to(f'/datasets/{clone.id}')

    dialog.open()


def _export_dialog(datasets: Datasets, dataset: DatasetView) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-[520px] max-w-[95vw] gap-3 p-5').mark('export-dialog'):
        ui.label(f'Export "{dataset.name}" as an archive').classes('text-lg font-semibold')
        ui.label(f'One .ravedata.tar file ({formatting.size(dataset.size_bytes)}) holding the RAVE database, its '
                 'metadata and the studio\'s notes. Import it in any project with "Import archive".') \
            .classes(theme.SUBTITLE)
        bar = ui.linear_progress(value=0, show_value=False).props('rounded size=6px')
        status = ui.label('').classes(theme.HINT + ' break-all').mark('export-status')
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Close', on_click=dialog.close).props('flat')
            download = ui.button('Download', icon='download').props('unelevated color=primary') \
                .mark('export-download')
            download.set_visibility(False)
    dialog.open()

    async def _export() -> None:
        status.set_text('Packing…')
        try:
            path = await run.io_bound(datasets.export_archive, dataset.id, reporter(bar))
        except (DatasetError, OSError) as e:
            status.set_text(f'The archive could not be written: {e}. Check free disk space and try again.')
            status.classes(replace='text-sm text-negative')
            return
        bar.set_value(1.0)
        status.set_text(f'Written to {path}')
        download.on_click(lambda: ui.download.file(path))
        download.set_visibility(True)

    ui.timer(0.05, _export, once=True)  # after the dialog is drawn


def _delete_dialog(datasets: Datasets, dataset: DatasetView) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-[500px] max-w-[95vw] gap-3 p-5').mark('delete-dialog'):
        ui.label(f'Delete "{dataset.name}"?').classes('text-lg font-semibold')
        ui.label('The dataset leaves this project. Runs trained on it keep their checkpoints. '
                 'Your source audio is never touched.').classes('text-sm')
        remove = ui.checkbox(f'Also delete the dataset folder from disk ({formatting.size(dataset.size_bytes)}: '
                             'data.mdb, metadata.yaml and cached statistics)').mark('remove-files')
        ui.label(dataset.path).classes(f'{theme.MONO} break-all text-gray-500')
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Keep it', on_click=dialog.close).props('flat')
            ui.button('Delete', icon='delete', on_click=lambda: _delete()).props('unelevated color=negative') \
                .mark('confirm')

    def _delete() -> None:
        datasets.delete(dataset.id, remove_files=remove.value)
        dialog.close()
        ui.notify(f'Deleted "{dataset.name}"' + (' and its folder.' if remove.value else '; its folder was kept.'),
                  type='positive')
        ui.navigate.to('/datasets')

    dialog.open()


# ---- validation --------------------------------------------------------------------------------------
def _validation(datasets: Datasets, dataset: DatasetView) -> None:
    """The integrity check (the same one the inspector runs), with the last report it kept."""
    with ui.card().classes(theme.CARD + ' gap-3').mark('validation'):
        with ui.row().classes('w-full items-center gap-3 no-wrap'):
            with ui.column().classes('gap-0 grow min-w-0'):
                ui.label('Validation').classes(theme.SECTION)
                ui.label('Re-reads every entry of the database: keys 0…N−1 all present, every example decodes '
                         'and holds the same number of samples, lazy entries still find their source file.') \
                    .classes(theme.HINT)
            start = ui.button('Check every entry', icon='fact_check', on_click=lambda: _run()) \
                .props('unelevated color=primary no-caps').classes('shrink-0').mark('validate')
            stop_button = ui.button('Stop', icon='stop', on_click=lambda: stop.set()).props('flat no-caps') \
                .mark('validate-stop')
            stop_button.set_visibility(False)
        bar = ui.linear_progress(value=0, show_value=False).props('rounded size=6px')
        bar.set_visibility(False)
        line = ui.label('').classes(theme.HINT).mark('validate-progress')
        result = ui.column().classes('w-full gap-1')
    start.set_enabled(dataset.ready)
    stop = threading.Event()
    ui.context.client.on_disconnect(stop.set)

    async def _run() -> None:
        stop.clear()
        result.clear()
        start.props('loading')
        stop_button.set_visibility(True)
        bar.set_visibility(True)
        try:
            report = await run.io_bound(datasets.check, dataset.id, reporter(bar, line), stop)
        finally:
            start.props(remove='loading')
            stop_button.set_visibility(False)
        with result:
            _report(report)

    last = datasets.last_check(dataset.id) if dataset.ready else None
    if last is not None:
        with result:
            _report(last)


def _report(report: IntegrityReport) -> None:
    when = time.strftime('%d %b %Y, %H:%M', time.localtime(report.at))
    if report.stopped:
        ui.label(f'Stopped after {report.checked:,} of {report.entries:,} entries ({when}).').classes('text-sm') \
            .mark('validate-result')
    elif report.ok:
        with ui.row().classes('items-center gap-2 text-positive').mark('validate-result'):
            ui.icon('verified')
            ui.label(f'All {report.checked:,} entries are sound ({report.seconds:.1f} s, checked {when}).') \
                .classes('text-sm')
    else:
        with ui.row().classes('items-center gap-2 text-negative').mark('validate-result'):
            ui.icon('report')
            ui.label(f'{report.problem_count} problem(s) in {report.checked:,} entries (checked {when}). RAVE may '
                     'crash or train on broken audio: rebuild the dataset (Clone) from its sources.') \
                .classes('text-sm')
        with ui.scroll_area().classes('w-full max-h-72 rounded-lg bg-gray-50 dark:bg-gray-900'):
            for problem in report.problems:
                ui.label(problem).classes(theme.MONO).mark('problem')
