"""The dataset library: every dataset of the project in one sortable, filterable table, and archive import.

`library(...)` is called by pages/datasets/overview.create under its header and wizard. It keeps its own filter
state and redraws only the rows when a dataset changes (so typing in the search box is never interrupted); the
progress bars of builds follow their jobs in place.
"""
from __future__ import annotations

from pathlib import Path

from nicegui import events, run, ui

from app import theme
from components.shortcuts import mark_search
from components.status import status_chip
from pages.datasets.cluster_places import places
from pages.datasets.progress import reporter
from services import formatting, i18n
from services.datasets import DatasetError, Datasets, DatasetView, UploadRefused
from services.events import DatasetChanged, JobsChanged, Subscriber
from services.i18n import N_, _, ngettext
from services.jobs import Jobs, JobView
from services.projects import ProjectView

SORT_LABELS = {'created': N_('Date'), 'name': N_('Name'), 'size': N_('Size on disk'), 'examples': N_('Examples'),
               'duration': N_('Duration'), 'sr': N_('Sample rate'), 'channels': N_('Channels')}
# narrow screens drop the last three columns (channels, format, date), which the detail page shows anyway
COLUMNS = ('grid-cols-[minmax(0,1fr)_4.5rem_5.5rem_4.5rem_4.5rem] '
           'lg:grid-cols-[minmax(0,1fr)_5.5rem_6rem_5rem_4.5rem_5.5rem_5rem_6.5rem]')
HEADINGS = (N_('Dataset'), N_('Examples'), N_('Duration'), N_('Rate'), N_('Size'), N_('Ch.'), N_('Format'),
            N_('Created'))
WIDE_ONLY = 'max-lg:hidden'  # not Quasar's .hidden, whose !important beats lg:block


def library(datasets: Datasets, jobs: Jobs, events: Subscriber, project: ProjectView) -> None:
    """Search, filters and sort on top; one row per dataset below (click: its page); "/" focuses search (the
    frame's shortcut)."""
    state = {'text': '', 'tags': [], 'sr': None, 'channels': None, 'sort': 'created', 'desc': True}
    with ui.column().classes('w-full gap-3').mark('library') as container:
        with ui.row().classes('w-full items-center gap-2'):
            search = mark_search(ui.input(placeholder=_('Search name, tag or folder'))
                                 .props('outlined dense clearable').classes('grow min-w-[11rem]').mark('search'))
            search.props['aria-label'] = _('Search name, tag or folder')
            search.tooltip(_('Press / to come here from anywhere on the page'))
            with search.add_slot('prepend'):
                ui.icon('search')
            with search.add_slot('append'):
                ui.label('/').classes('kbd text-xs rounded px-1.5 border border-gray-300 dark:border-gray-600 '
                                      'text-gray-500').tooltip(_('Press / to search'))
            tags = ui.select([], multiple=True, label=_('Tags'), clearable=True).props('outlined dense use-chips') \
                .classes('w-40').tooltip(_('Only datasets with every chosen tag')).mark('filter-tags')
            sr = ui.select({}, label=_('Sample rate'), clearable=True).props('outlined dense').classes('w-48') \
                .tooltip(_('Only datasets at this sampling rate')).mark('filter-sr')
            channels = ui.select({1: _('Mono'), 2: _('Stereo')}, label=_('Channels'), clearable=True) \
                .props('outlined dense').classes('w-32').tooltip(_('Only mono or only stereo datasets')) \
                .mark('filter-channels')
            sort = ui.select({k: _(v) for k, v in SORT_LABELS.items()}, value='created', label=_('Sort by')) \
                .props('outlined dense') \
                .classes('w-32').tooltip(_('The order of the list; the arrow beside it turns it round')).mark('sort')
            direction = ui.button(icon='south', on_click=lambda: _flip()).props('flat round dense') \
                .tooltip(_('Newest / largest first')).mark('sort-direction')
            ui.button(_('Import archive'), icon='unarchive', on_click=lambda: import_dialog(datasets, project)) \
                .props('flat color=primary no-caps').mark('import-archive').tooltip(_('Import dataset archive'))
        rows_slot = ui.column().classes('w-full gap-0')

    def _apply(key: str, value) -> None:
        state[key] = value or ([] if key == 'tags' else '' if key == 'text' else None)
        rows.refresh()

    def _flip() -> None:
        state['desc'] = not state['desc']
        direction.props(f'icon={"south" if state["desc"] else "north"}')
        rows.refresh()

    search.on_value_change(lambda e: _apply('text', e.value))
    tags.on_value_change(lambda e: _apply('tags', e.value))
    sr.on_value_change(lambda e: _apply('sr', e.value))
    channels.on_value_change(lambda e: _apply('channels', e.value))
    sort.on_value_change(lambda e: _apply('sort', e.value))

    bars: dict[int, ui.linear_progress] = {}  # job id -> the progress bar of a dataset being built
    listed: set[int] = set()  # ids of the project's datasets, shown or filtered out

    @ui.refreshable
    def rows() -> None:
        everything = datasets.list(project.id)
        listed.clear()
        listed.update(d.id for d in everything)
        container.set_visibility(bool(everything))  # an empty project shows the page's teaching empty state
        tags.set_options(datasets.all_tags(project.id), value=[t for t in state['tags']])
        sr.set_options({r: f'{formatting.number(r / 1000)} kHz' for r in sorted({d.sr for d in everything if d.sr})},
                       value=state['sr'])
        found = datasets.search(project.id, state['text'], state['tags'], state['sr'], state['channels'],
                                sort=state['sort'], descending=state['desc'])
        bars.clear()
        _table(jobs, found, len(everything), bars)

    def _progress(event: JobsChanged) -> None:
        for job_id in event.job_ids or tuple(bars):
            if job_id in bars:
                _show_progress(bars[job_id], jobs.get(job_id))

    with rows_slot:
        rows()
    def _dataset_changed(event: DatasetChanged) -> None:
        if event.dataset_id in listed or datasets.get(event.dataset_id, project.id) is not None:
            rows.refresh()  # one of this project's datasets appeared, changed or went

    events.on(DatasetChanged, _dataset_changed)
    events.on(JobsChanged, _progress)


def import_dialog(datasets: Datasets, project: ProjectView) -> None:
    """Upload a .ravedata.tar (or give its path on this machine) and add it to this project as a ready dataset."""
    max_mb = datasets.upload_limit_mb()
    with ui.dialog() as dialog, ui.card().classes('w-[560px] max-w-[95vw] gap-3 p-5').mark('import-dialog'):
        ui.label(_('Import a dataset archive')).classes('text-lg font-semibold')
        ui.label(_('A .ravedata.tar made by “Export archive” on this or another machine: the RAVE database, '
                   'its metadata and the studio\'s notes (tags, parameters, sources).')).classes(theme.SUBTITLE)

        async def received(e: events.UploadEventArguments) -> None:
            error.set_text('')
            try:
                sink = datasets.receive_archive(project.id, e.file.name, e.file.size())
                path.set_value(str(await sink.receive(e.file.iterate())))
            except (DatasetError, UploadRefused) as refused:
                error.set_text(str(refused))
        limit = _('Upload an archive (up to {size} MB)').format(size=max_mb) if max_mb else _('Upload an archive')
        ui.upload(label=limit,
                  auto_upload=True, on_upload=received, max_file_size=max_mb * 1024 * 1024 or None,
                  on_rejected=lambda: ui.notify(_('That file is larger than {size} MB. Give its path below '
                                                  'instead, or raise the limit in Settings.').format(size=max_mb),
                                                type='warning')) \
            .props('accept=.tar flat bordered').classes('w-full').mark('import-upload')
        path = ui.input(_('…or the path of an archive on this machine')).props('outlined dense clearable') \
            .classes('w-full').mark('import-path')
        ui.label(_('A file inside the folders this studio may browse (Settings → Browsable folders).')) \
            .classes(theme.HINT)
        name = ui.input(_('Name (optional)')).props('outlined dense').classes('w-full').mark('import-name')
        ui.label(_('Leave empty to keep the name stored in the archive; a taken name gets a number.')) \
            .classes(theme.HINT)
        bar = ui.linear_progress(value=0, show_value=False).props('rounded size=6px').classes('hidden')
        error = ui.label().classes('text-sm text-negative').mark('import-error')
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            go = ui.button(_('Import'), icon='unarchive', on_click=lambda: _go()).props('unelevated color=primary') \
                .mark('import-go')

    async def _go() -> None:
        error.set_text('')
        go.props('loading')
        bar.classes(remove='hidden')
        try:
            dataset = await run.io_bound(i18n.carrying(datasets.import_archive), project.id, path.value or '',
                                         name.value or '', reporter(bar))
        except DatasetError as e:
            error.set_text(str(e))
            return
        finally:
            go.props(remove='loading')
        dialog.close()
        ui.notify(_('Imported “{name}” ({count} examples).').format(name=dataset.name,
                                                                     count=formatting.count(dataset.n_examples)),
                  type='positive')
        ui.navigate.to(f'/datasets/{dataset.id}')

    dialog.open()


# ---- rows --------------------------------------------------------------------------------------------
def _table(jobs: Jobs, datasets: list[DatasetView], total: int, bars: dict) -> None:
    with ui.card().classes(theme.CARD.replace('p-4', 'p-0') + ' gap-0 overflow-hidden').mark('dataset-table'):
        with ui.element('div').classes(f'w-full grid {COLUMNS} gap-x-4 px-4 py-2 {theme.HINT} uppercase '
                                       'tracking-wide border-b border-gray-200 dark:border-gray-800'):
            for i, title in enumerate(HEADINGS):
                ui.label(_(title)).classes(('' if i == 0 else 'text-right ') + (WIDE_ONLY if i >= 5 else ''))
        if not datasets:
            with ui.column().classes('w-full items-center py-10 gap-1').mark('no-match'):
                ui.icon('filter_alt_off', color='grey-5').classes('text-4xl')
                ui.label(_('None of the {total} datasets match.').format(total=total)).classes('text-sm')
                ui.label(_('Clear the search or a filter to see them again.')).classes(theme.HINT)
            return
        for dataset in datasets:
            _row(jobs, dataset, bars)
    ui.label(ngettext('{shown} of {total} dataset', '{shown} of {total} datasets', total)
             .format(shown=len(datasets), total=total)) \
        .classes(theme.HINT + ' self-end').mark('count')


def _row(jobs: Jobs, dataset: DatasetView, bars: dict) -> None:
    params = dataset.params
    with ui.element('div').classes(f'w-full grid {COLUMNS} gap-x-4 px-4 py-3 items-center cursor-pointer '
                                   'border-b last:border-b-0 border-gray-100 dark:border-gray-800 '
                                   'hover:bg-gray-50 dark:hover:bg-gray-900 transition-colors') \
            .on('click', lambda: ui.navigate.to(f'/datasets/{dataset.id}')).mark(f'row-{dataset.name}'):
        with ui.column().classes('gap-1 min-w-0'):
            with ui.row().classes('items-center gap-x-2 gap-y-1 min-w-0'):
                ui.icon('library_music', color='primary').classes('text-lg')
                ui.label(dataset.name).classes('font-semibold truncate')
                if dataset.status != 'ready':
                    status_chip(dataset.status)
                if dataset.category:
                    ui.label(dataset.category).classes(theme.HINT + ' italic')
                for tag in dataset.tags:
                    ui.label(tag).classes('text-[11px] leading-4 px-2 rounded-full text-primary border '
                                          'border-current whitespace-nowrap')
            sources = ', '.join(Path(s).name or s for s in dataset.sources) or _('imported')
            made = f'num_signal {params["num_signal"]}' if params.get('num_signal') else ''
            ui.label(' · '.join(x for x in (sources, made, params.get('cloned_from') and
                                            _('clone of {name}').format(name=params['cloned_from'])) if x)) \
                .classes(theme.HINT + ' truncate').tooltip('\n'.join(dataset.sources) or _('no source folders'))
            places(jobs, dataset, bars)  # on the cluster, copies there
            if dataset.building and dataset.job_id:
                bars[dataset.job_id] = ui.linear_progress(value=0, show_value=False).props('rounded size=4px') \
                    .classes('max-w-sm')
                _show_progress(bars[dataset.job_id], jobs.get(dataset.job_id))
        for i, value in enumerate((
                formatting.count(dataset.n_examples),
                formatting.duration(dataset.n_seconds),
                f'{formatting.number(dataset.sr / 1000)} kHz' if dataset.sr else '—',
                formatting.size(dataset.size_bytes), {1: _('mono'), 2: _('stereo')}.get(dataset.channels, '—'),
                _('lazy') if dataset.lazy else _('regular'), formatting.day(dataset.created))):
            ui.label(value).classes(f'text-sm {theme.NUMBER} whitespace-nowrap {WIDE_ONLY if i >= 4 else ""}')


def _show_progress(bar: ui.linear_progress, job: JobView | None) -> None:
    """A build's bar: its fraction when known, indeterminate while it runs without one."""
    if job is None or job.progress is None:
        bar.props('indeterminate')
    else:
        bar.props(remove='indeterminate')
        bar.set_value(job.progress)
