"""The dataset inspector: page through the examples of a RAVE LMDB, hear and see one, check the whole database."""
from __future__ import annotations

import threading
from pathlib import Path

from nicegui import run, ui

from app import theme
from components.shortcuts import key
from components.spectrogram import show_spectrogram, spectrogram
from components.waveform import waveform
from pages.datasets.progress import reporter
from services import formatting, i18n
from services.datasets import (
    DatabaseInfo,
    DatasetError,
    Datasets,
    DatasetView,
    ExampleDetail,
    ExampleRow,
    IntegrityReport,
)
from services.datasets.lmdb_reader import MAX_LAZY_SECONDS
from services.i18n import _, ngettext
from services.projects import ProjectView

PAGE_SIZES = [10, 25, 50, 100]


async def create(datasets: Datasets, project: ProjectView, dataset_id: str) -> None:
    """Examples list with pagination, the selected example, and the integrity check."""
    dataset = datasets.get(dataset_id, project.id)
    if dataset is None:
        _missing(_('This dataset does not exist in the current project.'), '/datasets')
        return
    try:
        db = await run.io_bound(i18n.carrying(datasets.database), dataset.id)
    except DatasetError as e:
        _missing(str(e), f'/datasets/{dataset.id}')
        return
    count = db.span  # more than db.entries when keys are missing
    _header(dataset, db)
    state = {'start': 0, 'size': 25, 'selected': 0 if count else None}
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-5 gap-4 items-start'):
        with ui.card().classes(theme.CARD + ' gap-3 lg:col-span-2').mark('examples'):
            toolbar = ui.row().classes('w-full items-center gap-2 no-wrap')
            table = _examples_table(db.lazy)
            ui.label(_('← → change page · ↑ ↓ change example')).classes(theme.HINT)
        detail = ui.card().classes(theme.CARD + ' gap-3 lg:col-span-3 inspector-example').mark('example')
    example_view = _ExampleView(detail, datasets, dataset)
    _integrity_card(datasets, dataset)

    async def load(select: int | None = None) -> None:
        rows = await run.io_bound(datasets.examples, dataset.id, state['start'], state['size'])
        table.rows = [_row(r) for r in rows]
        if select is not None:
            state['selected'] = select
        table.selected = [r for r in table.rows if r['index'] == state['selected']]
        table.update()
        range_label.set_text(_('{first}–{last} of {count}').format(first=_n(state['start'] + 1),
                                                                   last=_n(state['start'] + len(rows)), count=_n(count))
                             if rows else _('0 of {count}').format(count=_n(count)))
        prev_button.set_enabled(state['start'] > 0)
        next_button.set_enabled(state['start'] + state['size'] < count)
        if select is not None:
            await show(select)

    async def show(index: int) -> None:
        state['selected'] = index
        table.selected = [r for r in table.rows if r['index'] == index]
        table.update()
        await example_view.show(index, lambda: state['selected'] == index)

    async def flip(pages: int) -> None:
        start = state['start'] + pages * state['size']
        if 0 <= start < count:
            state['start'] = start
            await load(select=start)

    async def jump(value) -> None:
        if value is None or not 1 <= int(value) <= count:
            ui.notify(_('Pick an example between 1 and {count}.').format(count=_n(count)), type='warning')
            return
        index = int(value) - 1
        state['start'] = index - index % state['size']
        await load(select=index)

    async def resize(size: int) -> None:
        state['size'] = size
        selected = state['selected'] or 0
        state['start'] = selected - selected % size
        await load()

    async def step(delta: int) -> None:
        index = (state['selected'] or 0) + delta
        if not 0 <= index < count:
            return
        if not state['start'] <= index < state['start'] + state['size']:
            state['start'] = index - index % state['size']
            await load(select=index)
        else:
            await show(index)

    with toolbar:
        prev_button = ui.button(icon='chevron_left', on_click=lambda: flip(-1)).props('flat round dense') \
            .tooltip(_('Previous page (←)')).mark('prev')
        range_label = ui.label().classes(f'text-sm font-medium {theme.NUMBER} whitespace-nowrap').mark('range')
        next_button = ui.button(icon='chevron_right', on_click=lambda: flip(1)).props('flat round dense') \
            .tooltip(_('Next page (→)')).mark('next')
        ui.space()
        ui.select(PAGE_SIZES, value=25, label=_('Per page'), on_change=lambda e: resize(e.value)) \
            .props('outlined dense options-dense').classes('w-28').mark('page-size') \
            .tooltip(_('How many examples one page lists'))
        go = ui.number(label=_('Go to #'), min=1, max=max(count, 1), format='%d').props('outlined dense') \
            .classes('w-28').mark('jump') \
            .tooltip(_('Example number, 1 to {count}; press Enter').format(count=_n(count)))
        go.on('keydown.enter', lambda: jump(go.value))
    table.on('pick', lambda e: show(int(e.args)))
    ui.keyboard(on_key=lambda e: _on_key(e, flip, step))
    if count:
        await load(select=0)
    else:
        with detail:
            ui.label(_('This dataset holds no examples.')).classes(theme.HINT)


# ---- header and list --------------------------------------------------------------------------------
def _missing(message: str, back: str) -> None:
    with ui.card().classes(theme.CARD + ' items-center gap-3 py-10').mark('inspector-missing'):
        ui.icon('search_off', color='grey-6').classes('text-5xl')
        ui.label(message).classes(theme.SECTION + ' text-center')
        ui.button(_('Back'), icon='arrow_back', on_click=lambda: ui.navigate.to(back)).props('flat')


def _header(dataset: DatasetView, db: DatabaseInfo) -> None:
    channels = {1: _('mono'), 2: _('stereo')}.get(db.channels) or _('{count} channels').format(count=db.channels)
    kind = _('lazy: references to source files') if db.lazy else _('regular: audio stored in the database')
    gaps = ' · ' + _('{count} missing').format(count=_n(db.span - db.entries)) if db.span > db.entries else ''
    with ui.row().classes('w-full items-center gap-3 no-wrap'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to(f'/datasets/{dataset.id}')) \
            .props('flat round dense').tooltip(_('Back to the dataset'))
        with ui.column().classes('gap-0 min-w-0'):
            ui.label(_('Inspect {name}').format(name=dataset.name)).classes(theme.TITLE + ' truncate')
            examples = ngettext('{count} example', '{count} examples', db.entries).format(count=_n(db.entries))
            rate = _('{rate} kHz {channels}').format(rate=formatting.number(db.sr / 1000), channels=channels)
            ui.label(f'{examples}{gaps} · {rate} · {kind}') \
                .classes(theme.SUBTITLE).mark('summary')


def _examples_table(lazy: bool) -> ui.table:
    columns = [{'name': 'number', 'label': '#', 'field': 'number', 'align': 'left'}]
    if lazy:
        columns += [{'name': 'source', 'label': _('Source file'), 'field': 'source', 'align': 'left',
                     'classes': 'ellipsis max-w-[12rem]'},
                    {'name': 'length', 'label': _('Length'), 'field': 'length', 'align': 'right'}]
    else:
        columns += [{'name': 'length', 'label': _('Length'), 'field': 'length', 'align': 'right'},
                    {'name': 'peak', 'label': _('Peak'), 'field': 'peak', 'align': 'right'},
                    {'name': 'rms', 'label': 'RMS', 'field': 'rms', 'align': 'right'}]
    table = ui.table(columns=columns, rows=[], row_key='index', selection='single') \
        .props('flat dense hide-bottom hide-selected-banner') \
        .classes('w-full max-h-[340px] lg:max-h-[600px] tabular-nums').mark('examples-table')
    table.add_slot('header', _HEADER)
    table.add_slot('body', _BODY)
    return table


_HEADER = '<q-tr :props="props"><q-th v-for="col in props.cols" :key="col.name" :props="props">{{ col.label }}' \
          '</q-th></q-tr>'
_BODY = ('<q-tr :props="props" class="cursor-pointer" @click="$parent.$emit(\'pick\', props.row.index)" '
         ':class="props.selected ? \'bg-primary/10 text-primary font-medium\' '
         ': props.row.problem ? \'text-negative\' : \'\'">'
         '<q-td v-for="col in props.cols" :key="col.name" :props="props">{{ col.value }}</q-td></q-tr>')


def _row(summary: ExampleRow) -> dict:
    if summary.problem:
        note = _('missing') if summary.problem == 'missing' else _('unreadable')
        return {'index': summary.index, 'number': _n(summary.index + 1), 'length': '—', 'peak': note, 'rms': '—',
                'source': note, 'problem': True}
    return {'index': summary.index, 'number': _n(summary.index + 1),
            'length': f'{formatting.number(summary.seconds, 2)} s',
            'peak': _db(summary.peak_db), 'rms': _db(summary.rms_db), 'source': Path(summary.source).name,
            'problem': False}


async def _on_key(event, flip, step) -> None:
    if not event.action.keydown:
        return
    moves = {key('inspector.previous-page'): (flip, -1), key('inspector.next-page'): (flip, 1),
             key('inspector.previous'): (step, -1), key('inspector.next'): (step, 1)}  # the shortcut registry's
    if event.key.name in moves:
        handler, delta = moves[event.key.name]
        await handler(delta)


# ---- one example ------------------------------------------------------------------------------------
class _ExampleView:
    """The selected example: built once, then updated in place (the spectrogram through Plotly.react)."""

    def __init__(self, card, datasets: Datasets, dataset: DatasetView) -> None:
        self.card, self.datasets, self.dataset = card, datasets, dataset
        self.index, self.url, self.plot = 0, '', None

    async def show(self, index: int, still_wanted) -> None:
        try:
            view = await run.io_bound(i18n.carrying(self.datasets.example), self.dataset.id, index)
        except (OSError, ValueError, IndexError) as e:
            if still_wanted():
                self._error(index, e)
            return
        if not still_wanted():  # another example was picked while this one loaded
            return
        self.index, self.url = index, f'/media/data/{view.wav}'
        if self.plot is None:
            self._build(view)
        else:
            self.title.set_text(_example(index))
            self.key.set_text(_key(index))
            self.player.set_source(self.url)
            self.wave.refresh(view)
            show_spectrogram(self.plot, view.spectrogram)
            self.details.refresh(view)

    def _build(self, view: ExampleDetail) -> None:
        self.card.clear()
        with self.card:
            with ui.row().classes('w-full items-center gap-2 no-wrap'):
                self.title = ui.label(_example(self.index)).classes(theme.SECTION).mark('example-title')
                self.key = ui.label(_key(self.index)).classes(f'{theme.MONO} text-gray-500')
                ui.space()
                ui.button(_('Export as WAV'), icon='download', on_click=self._export) \
                    .props('outline color=primary no-caps').mark('export-wav')
            self.player = ui.audio(self.url).classes('w-full').mark('player')
            self.wave = ui.refreshable(lambda v: waveform(v.envelope, v.seconds, height=88))
            self.wave(view)
            self.plot = spectrogram(view.spectrogram, height='h-52')
            self.details = ui.refreshable(_metadata)
            self.details(view)

    def _export(self) -> None:
        ui.download.from_url(self.url, f'{self.dataset.name}_{self.index:08d}.wav')

    def _error(self, index: int, error: Exception) -> None:
        self.plot = None
        self.card.clear()
        with self.card, ui.row().classes('items-start gap-2 no-wrap text-negative'):
            ui.icon('error_outline').classes('mt-0.5')
            ui.label(_('Example {number} cannot be shown: {error}. Run the integrity check below to see what '
                       'else is damaged.').format(number=_n(index + 1), error=error)) \
                .classes('text-sm').mark('example-error')


def _metadata(view: ExampleDetail) -> None:
    clipping = ' · ' + _('clipping') if (view.peak_db or -1) >= -0.01 else ''
    rows = [(_('Length'), _('{seconds} s · {count} samples').format(seconds=formatting.number(view.seconds, 3),
                                                                     count=_n(view.samples))),
            (_('Peak'), _db(view.peak_db) + clipping),
            ('RMS', _db(view.rms_db)),
            (_('Format'), _('{rate} kHz · {channels} ch · 16-bit').format(rate=formatting.number(view.sr / 1000),
                                                                          channels=view.channels))]
    if view.lazy:
        rows += [(_('Source length'), f'{formatting.number(view.source_seconds, 2)} s'),
                 (_('Stored'), _('a reference (lazy)'))]
    else:
        rows.append((_('Stored'), formatting.size(view.size_bytes)))
    with ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-3 gap-x-4 gap-y-2').mark('metadata'):
        for label, value in rows:
            with ui.column().classes('gap-0 min-w-0'):
                ui.label(label).classes(theme.HINT)
                ui.label(value).classes('text-sm font-medium tabular-nums truncate')
    if view.lazy:
        with ui.column().classes('w-full gap-0'):
            ui.label(_('Source file')).classes(theme.HINT)
            ui.label(view.source).classes(f'{theme.MONO} break-all').mark('source')
        if view.source_seconds > MAX_LAZY_SECONDS:
            ui.label(_('Only the first {minutes} minutes are shown and played.')
                     .format(minutes=f'{MAX_LAZY_SECONDS / 60:.0f}')) \
                .classes(theme.HINT)


# ---- integrity --------------------------------------------------------------------------------------
def _integrity_card(datasets: Datasets, dataset: DatasetView) -> None:
    """The integrity check (the same one the dataset's Validation tab runs), with the last report it kept."""
    with ui.card().classes(theme.CARD + ' gap-3').mark('integrity'):
        with ui.row().classes('w-full items-center gap-3'):
            with ui.column().classes('gap-0 grow'):
                ui.label(_('Integrity check')).classes(theme.SECTION)
                ui.label(_('Reads every entry once: keys present and in order, every example decodes, all the '
                           'same length, lazy source files still there.')).classes(theme.HINT)
            start_button = ui.button(_('Check the whole database'), icon='fact_check', on_click=lambda: start()) \
                .props('unelevated color=primary no-caps').mark('check')
            stop_button = ui.button(_('Stop'), icon='stop', on_click=lambda: cancel.set()) \
                .props('flat color=negative no-caps').mark('check-stop')
            stop_button.set_visibility(False)
        bar = ui.linear_progress(value=0, show_value=False).props('rounded size=8px').mark('check-progress')
        bar.set_visibility(False)
        status = ui.label().classes(f'text-sm {theme.NUMBER} text-left').mark('check-status')
        status.bind_visibility_from(status, 'text', backward=bool)
        results = ui.column().classes('w-full gap-1').mark('check-results')
    cancel = threading.Event()

    def render(report: IntegrityReport) -> None:
        results.clear()
        ok = report.ok and report.checked == report.entries
        figures = {'entries': _n(report.entries), 'checked': _n(report.checked), 'count': _n(report.problem_count)}
        verdict = (_('All {entries} examples are present and readable') if ok else
                   _('Stopped after {checked} of {entries} entries') if report.stopped else
                   _('{count} problem(s) in {checked} of {entries} entries checked'))
        status.set_text(verdict.format(**figures) + ' · ' + _('checked {when} in {duration}').format(
            when=formatting.moment(report.at), duration=formatting.duration(report.seconds) or '0 s'))
        status.classes(replace=f'text-sm {"text-positive" if ok else "text-negative"}')
        with results:
            for line in report.problems[:50]:
                with ui.row().classes('items-start gap-2 no-wrap text-sm'):
                    ui.icon('error_outline', color='negative').classes('mt-0.5')
                    ui.label(str(line)).classes('break-all')
            if report.problem_count > 50:
                ui.label(_('…and {count} more.').format(count=_n(report.problem_count - 50))).classes(theme.HINT)

    async def start() -> None:
        cancel.clear()
        results.clear()
        start_button.set_visibility(False)
        stop_button.set_visibility(True)
        bar.set_visibility(True)
        status.classes(replace=f'text-sm {theme.NUMBER} text-left')
        try:
            report = await run.io_bound(i18n.carrying(datasets.check), dataset.id, reporter(bar, status), cancel)
        finally:
            start_button.set_visibility(True)
            stop_button.set_visibility(False)
            bar.set_visibility(False)
        render(report)

    ui.context.client.on_disconnect(cancel.set)
    last = datasets.last_check(dataset.id)
    if last is not None:
        render(last)


def _example(index: int) -> str:
    return _('Example {number}').format(number=_n(index + 1))


def _key(index: int) -> str:
    return _('key {key}').format(key=f'{index:08d}')


def _n(value: int) -> str:
    return formatting.count(value)


def _db(value: float | None) -> str:
    return '—' if value is None else f'{formatting.number(value, 1)} dBFS'
