"""One dataset's page: Overview (facts, tags, sources, how it was made, clone/archive/delete), Statistics and
Validation tabs. It redraws when the dataset's status changes (a build ends, another client deletes it)."""
from __future__ import annotations

import threading

from nicegui import run, ui

from app import theme
from components.comments import comments_card
from components.icon_button import icon_button
from components.job_console import job_console
from components.status import status_chip
from pages.datasets.dataset_dialogs import clone_dialog, delete_dialog, export_dialog
from pages.datasets.progress import reporter
from pages.datasets.statistics import statistics
from pages.datasets.wizard import train_link
from services import formatting, i18n
from services.datasets import Datasets, DatasetView, IntegrityReport, example_seconds
from services.events import DatasetChanged, Subscriber
from services.i18n import N_, _, ngettext
from services.jobs import Jobs
from services.lab.comments import Comments
from services.projects import ProjectView

PARAM_LABELS = {'num_signal': N_('num_signal (samples)'), 'channels': N_('channels'),
                'sampling_rate': N_('sampling rate (Hz)'), 'ext': N_('file types'), 'lazy': N_('lazy'),
                'source_files': N_('source files'), 'source_seconds': N_('source audio (s)'),
                'cloned_from': N_('cloned from'), 'imported_from': N_('imported from')}


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
        ui.label(_('This dataset does not exist in the current project.')).classes(theme.SECTION)
        ui.button(_('All datasets'), icon='arrow_back', on_click=lambda: ui.navigate.to('/datasets')).props('flat')


def _header(datasets: Datasets, dataset: DatasetView) -> None:
    with ui.row().classes('w-full items-center gap-3'):
        icon_button('arrow_back', _('All datasets'), lambda: ui.navigate.to('/datasets'))
        with ui.column().classes('gap-0'):
            with ui.row().classes('items-center gap-3'):
                ui.label(dataset.name).classes(theme.TITLE).mark('title')
                status_chip(dataset.status)
            examples = ngettext('{count} example', '{count} examples', dataset.n_examples or 0) \
                .format(count=formatting.count(dataset.n_examples))
            facts = [examples if dataset.n_examples is not None else '',
                     formatting.duration(dataset.n_seconds) if dataset.n_seconds else '',
                     f'{formatting.number(dataset.sr / 1000)} kHz' if dataset.sr else '',
                     {1: _('mono'), 2: _('stereo')}.get(dataset.channels, ''), dataset.category]
            ui.label(' · '.join(f for f in facts if f)).classes(theme.SUBTITLE)
        ui.space()
        if dataset.ready:
            ui.button(_('Train a model on it'), icon='model_training',
                      on_click=lambda: ui.navigate.to(train_link(dataset.id))) \
                .props('unelevated color=primary no-caps').mark('train-on-it')
            ui.button(_('Browse examples'), icon='manage_search',
                      on_click=lambda: ui.navigate.to(f'/datasets/{dataset.id}/inspect')) \
                .props('flat color=primary no-caps').mark('inspect')
        ui.button(_('Clone'), icon='content_copy', on_click=lambda: clone_dialog(datasets, dataset)) \
            .props('flat color=primary no-caps').mark('clone').set_enabled(bool(dataset.sources))
        ui.button(_('Export archive'), icon='archive', on_click=lambda: export_dialog(datasets, dataset)) \
            .props('flat color=primary no-caps').mark('export-archive').set_enabled(dataset.ready)
        ui.button(_('Delete'), icon='delete', on_click=lambda: delete_dialog(datasets, dataset)) \
            .props('outline color=negative no-caps').mark('delete')


def _tabs(datasets: Datasets, jobs: Jobs, events: Subscriber, dataset: DatasetView) -> None:
    with ui.tabs().classes('w-full justify-start').props('align=left inline-label no-caps') as tabs:
        overview = ui.tab('Overview', label=_('Overview'), icon='info').mark('tab-overview')
        stats = ui.tab('Statistics', label=_('Statistics'), icon='insights').mark('tab-statistics')
        check = ui.tab('Validation', label=_('Validation'), icon='fact_check').mark('tab-validation')
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
            ui.label(_('Preprocessing')).classes(theme.SECTION)
            job_console(jobs, events, dataset.job_id)
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-3 gap-4'):
        with ui.card().classes(theme.CARD + ' gap-3 lg:col-span-2'):
            ui.label(_('Contents')).classes(theme.SECTION)
            _facts(dataset)
        with ui.card().classes(theme.CARD + ' gap-2'):
            ui.label(_('Tags and category')).classes(theme.SECTION)
            _tags_editor(datasets, dataset)
    with ui.card().classes(theme.CARD + ' gap-2'):
        ui.label(_('Where it lives')).classes(theme.SECTION)
        _path_row(_('Dataset folder'), dataset.path)
        for source in dataset.sources:
            _path_row(_('Source folder'), source)
        if not dataset.sources:
            ui.label(_('No source folders recorded (imported dataset): it cannot be cloned.')).classes(theme.HINT)
    with ui.card().classes(theme.CARD + ' gap-2'):
        ui.label(_('How it was made')).classes(theme.SECTION)
        _parameters(dataset)
        job = jobs.get(dataset.job_id) if dataset.job_id else None
        if job is not None:
            ui.label(_('Made with (the same command works in a terminal)')).classes(theme.HINT + ' mt-2')
            with ui.row().classes('w-full items-start gap-2 no-wrap rounded-lg p-3 bg-gray-100 dark:bg-gray-900'):
                ui.label(job.command).classes(f'{theme.MONO} break-words min-w-0 grow').mark('command')
                ui.button(icon='content_copy', on_click=lambda: ui.clipboard.write(job.command)) \
                    .props('flat round dense size=sm').tooltip(_('Copy the command'))


def _facts(dataset: DatasetView) -> None:
    params = dataset.params
    num_signal = params.get('num_signal')
    length = example_seconds(num_signal, dataset.sr or 44100) if num_signal else None
    rows = [(_('Examples'), formatting.count(dataset.n_examples)),
            (_('Total duration'), formatting.duration(dataset.n_seconds)),
            (_('Sample rate'), f'{formatting.count(dataset.sr)} Hz' if dataset.sr else '—'),
            (_('Channels'), {1: _('1 (mono)'), 2: _('2 (stereo)')}.get(dataset.channels, '—')),
            (_('Size on disk'), formatting.size(dataset.size_bytes)),
            (_('Format'), _('lazy (file references)') if dataset.lazy else _('regular (audio stored)')),
            (_('Example length'), f'{formatting.number(length, 2)} s' if length else '—'),
            (_('Source files'), f'{params.get("source_files", "—")} · '
                                f'{formatting.duration(params.get("source_seconds"))}'),
            (_('Created'), formatting.moment(dataset.created))]
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
                ui.label(_('No tags yet.')).classes(theme.HINT)
            for tag in tags:
                ui.chip(tag, removable=True, color='primary', text_color='white',
                        on_value_change=lambda _e, t=tag: _show(datasets.remove_tag(dataset.id, t))) \
                    .props('dense').mark(f'tag-{tag}')

    chips()
    suggestions = [t for t in datasets.all_tags(dataset.project_id) if t not in tags]
    new_tag = ui.input(_('Add a tag'), autocomplete=suggestions).props('outlined dense').classes('w-full') \
        .mark('tag-input').on('keydown.enter', lambda: _add())
    ui.label(_('Press Enter to add. Tags group datasets in the library (e.g. "drums", "take 2").')) \
        .classes(theme.HINT)
    category = ui.input(_('Category'), value=dataset.category).props('outlined dense').classes('w-full mt-2') \
        .mark('category').on('blur', lambda: _set_category()).on('keydown.enter', lambda: _set_category())
    ui.label(_('One word for what it is, e.g. voice, drums, field recording.')).classes(theme.HINT)

    def _show(stored: list[str]) -> None:
        tags[:] = stored
        chips.refresh()

    def _add() -> None:
        if (new_tag.value or '').strip():
            _show(datasets.add_tag(dataset.id, new_tag.value))
            new_tag.set_value('')

    def _set_category() -> None:
        if datasets.set_category(dataset.id, category.value or ''):
            ui.notify(_('Category saved.'), type='positive')


def _parameters(dataset: DatasetView) -> None:
    params = dataset.params
    shown = [(_(PARAM_LABELS[k]), _param_text(params[k])) for k in PARAM_LABELS
             if params.get(k) not in ('', None, [])]
    with ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-4 gap-x-6 gap-y-2').mark('parameters'):
        for label, value in shown:
            with ui.column().classes('gap-0 min-w-0'):
                ui.label(label).classes(theme.HINT)
                ui.label(value).classes(f'{theme.MONO} break-words')


def _param_text(value) -> str:
    if isinstance(value, bool):
        return _('yes') if value else _('no')
    return ', '.join(map(str, value)) if isinstance(value, list) else str(value)


def _path_row(label: str, path: str) -> None:
    with ui.row().classes('w-full items-center gap-3 no-wrap'):
        ui.label(label).classes(theme.HINT + ' w-28 shrink-0')
        ui.label(path).classes(f'{theme.MONO} break-all grow')
        ui.button(icon='content_copy', on_click=lambda: ui.clipboard.write(path)).props('flat round dense size=sm') \
            .tooltip(_('Copy path'))


# ---- validation --------------------------------------------------------------------------------------
def _validation(datasets: Datasets, dataset: DatasetView) -> None:
    """The integrity check (the same one the inspector runs), with the last report it kept."""
    with ui.card().classes(theme.CARD + ' gap-3').mark('validation'):
        with ui.row().classes('w-full items-center gap-3 no-wrap'):
            with ui.column().classes('gap-0 grow min-w-0'):
                ui.label(_('Validation')).classes(theme.SECTION)
                ui.label(_('Re-reads every entry of the database: keys 0…N−1 all present, every example decodes '
                           'and holds the same number of samples, lazy entries still find their source file.')) \
                    .classes(theme.HINT)
            start = ui.button(_('Check every entry'), icon='fact_check', on_click=lambda: _run()) \
                .props('unelevated color=primary no-caps').classes('shrink-0').mark('validate')
            stop_button = ui.button(_('Stop'), icon='stop', on_click=lambda: stop.set()).props('flat no-caps') \
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
            report = await run.io_bound(i18n.carrying(datasets.check), dataset.id, reporter(bar, line), stop)
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
    when, checked = formatting.moment(report.at), formatting.count(report.checked)
    if report.stopped:
        ui.label(_('Stopped after {checked} of {entries} entries ({when}).')
                 .format(checked=checked, entries=formatting.count(report.entries), when=when)) \
            .classes('text-sm').mark('validate-result')
    elif report.ok:
        with ui.row().classes('items-center gap-2 text-positive').mark('validate-result'):
            ui.icon('verified')
            ui.label(_('All {checked} entries are sound ({seconds} s, checked {when}).')
                     .format(checked=checked, seconds=formatting.number(report.seconds, 1), when=when)) \
                .classes('text-sm')
    else:
        with ui.row().classes('items-center gap-2 text-negative').mark('validate-result'):
            ui.icon('report')
            ui.label(_('{count} problem(s) in {checked} entries (checked {when}).')
                     .format(count=formatting.count(report.problem_count), checked=checked, when=when) + ' ' +
                     _('RAVE may crash or train on broken audio: rebuild the dataset (Clone) from its sources.')) \
                .classes('text-sm')
        with ui.scroll_area().classes('w-full max-h-72 rounded-lg bg-gray-50 dark:bg-gray-900'):
            for problem in report.problems:
                ui.label(str(problem)).classes(theme.MONO).mark('problem')
