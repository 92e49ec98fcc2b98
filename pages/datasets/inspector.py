"""The dataset inspector: page through the examples of a RAVE LMDB, hear and see one, check the whole database."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from nicegui import run, ui

from app import theme
from components.shortcuts import key
from components.spectrogram import show_spectrogram, spectrogram
from components.waveform import waveform
from pages.datasets.progress import reporter
from services import formatting
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
from services.projects import ProjectView

PAGE_SIZES = [10, 25, 50, 100]


async def create(datasets: Datasets, project: ProjectView, dataset_id: str) -> None:
    """Examples list with pagination, the selected example, and the integrity check."""
    dataset = datasets.get(dataset_id, project.id)
    if dataset is None:
        _missing('This dataset does not exist in the current project.', '/datasets')
        return
    try:
        db = await run.io_bound(datasets.database, dataset.id)
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
            ui.label('← → change page · ↑ ↓ change example').classes(theme.HINT)
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
        range_label.set_text(f'{_n(state["start"] + 1)}–{_n(state["start"] + len(rows))} of {_n(count)}'
                             if rows else f'0 of {_n(count)}')
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
            ui.notify(f'Pick an example between 1 and {_n(count)}.', type='warning')
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
            .tooltip('Previous page (←)').mark('prev')
        range_label = ui.label().classes(f'text-sm font-medium {theme.NUMBER} whitespace-nowrap').mark('range')
        next_button = ui.button(icon='chevron_right', on_click=lambda: flip(1)).props('flat round dense') \
            .tooltip('Next page (→)').mark('next')
        ui.space()
        ui.select(PAGE_SIZES, value=25, label='Per page', on_change=lambda e: resize(e.value)) \
            .props('outlined dense options-dense').classes('w-28').mark('page-size') \
            .tooltip('How many examples one page lists')
        go = ui.number(label='Go to #', min=1, max=max(count, 1), format='%d').props('outlined dense') \
            .classes('w-28').mark('jump').tooltip(f'Example number, 1 to {_n(count)}; press Enter')
        go.on('keydown.enter', lambda: jump(go.value))
    table.on('pick', lambda e: show(int(e.args)))
    ui.keyboard(on_key=lambda e: _on_key(e, flip, step))
    if count:
        await load(select=0)
    else:
        with detail:
            ui.label('This dataset holds no examples.').classes(theme.HINT)


# ---- header and list --------------------------------------------------------------------------------
def _missing(message: str, back: str) -> None:
    with ui.card().classes(theme.CARD + ' items-center gap-3 py-10').mark('inspector-missing'):
        ui.icon('search_off', color='grey-6').classes('text-5xl')
        ui.label(message).classes(theme.SECTION + ' text-center')
        ui.button('Back', icon='arrow_back', on_click=lambda: ui.navigate.to(back)).props('flat')


def _header(dataset: DatasetView, db: DatabaseInfo) -> None:
    channels = {1: 'mono', 2: 'stereo'}.get(db.channels, f'{db.channels} channels')
    kind = 'lazy: references to source files' if db.lazy else 'regular: audio stored in the database'
    gaps = f' · {_n(db.span - db.entries)} missing' if db.span > db.entries else ''
    with ui.row().classes('w-full items-center gap-3 no-wrap'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to(f'/datasets/{dataset.id}')) \
            .props('flat round dense').tooltip('Back to the dataset')
        with ui.column().classes('gap-0 min-w-0'):
            ui.label(f'Inspect {dataset.name}').classes(theme.TITLE + ' truncate')
            ui.label(f'{_n(db.entries)} examples{gaps} · {db.sr / 1000:g} kHz {channels} · {kind}') \
                .classes(theme.SUBTITLE).mark('summary')


def _examples_table(lazy: bool) -> ui.table:
    columns = [{'name': 'number', 'label': '#', 'field': 'number', 'align': 'left'}]
    if lazy:
        columns += [{'name': 'source', 'label': 'Source file', 'field': 'source', 'align': 'left',
                     'classes': 'ellipsis max-w-[12rem]'},
                    {'name': 'length', 'label': 'Length', 'field': 'length', 'align': 'right'}]
    else:
        columns += [{'name': 'length', 'label': 'Length', 'field': 'length', 'align': 'right'},
                    {'name': 'peak', 'label': 'Peak', 'field': 'peak', 'align': 'right'},
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
        note = 'missing' if summary.problem == 'missing' else 'unreadable'
        return {'index': summary.index, 'number': _n(summary.index + 1), 'length': '—', 'peak': note, 'rms': '—',
                'source': note, 'problem': True}
    return {'index': summary.index, 'number': _n(summary.index + 1), 'length': f'{summary.seconds:.2f} s',
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
            view = await run.io_bound(self.datasets.example, self.dataset.id, index)
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
            self.title.set_text(f'Example {_n(index + 1)}')
            self.key.set_text(f'key {index:08d}')
            self.player.set_source(self.url)
            self.wave.refresh(view)
            show_spectrogram(self.plot, view.spectrogram)
            self.details.refresh(view)

    def _build(self, view: ExampleDetail) -> None:
        self.card.clear()
        with self.card:
            with ui.row().classes('w-full items-center gap-2 no-wrap'):
                self.title = ui.label(f'Example {_n(self.index + 1)}').classes(theme.SECTION).mark('example-title')
                self.key = ui.label(f'key {self.index:08d}').classes(f'{theme.MONO} text-gray-500')
                ui.space()
                ui.button('Export as WAV', icon='download', on_click=self._export) \
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
            ui.label(f'Example {index + 1} cannot be shown: {error}. Run the integrity check below to see '
                     'what else is damaged.').classes('text-sm').mark('example-error')


def _metadata(view: ExampleDetail) -> None:
    rows = [('Length', f'{view.seconds:.3f} s · {_n(view.samples)} samples'),
            ('Peak', _db(view.peak_db) + ('  · clipping' if (view.peak_db or -1) >= -0.01 else '')),
            ('RMS', _db(view.rms_db)),
            ('Format', f'{view.sr / 1000:g} kHz · {view.channels} ch · 16-bit')]
    if view.lazy:
        rows += [('Source length', f'{view.source_seconds:.2f} s'),
                 ('Stored', 'a reference (lazy)')]
    else:
        rows.append(('Stored', formatting.size(view.size_bytes)))
    with ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-3 gap-x-4 gap-y-2').mark('metadata'):
        for label, value in rows:
            with ui.column().classes('gap-0 min-w-0'):
                ui.label(label).classes(theme.HINT)
                ui.label(value).classes('text-sm font-medium tabular-nums truncate')
    if view.lazy:
        with ui.column().classes('w-full gap-0'):
            ui.label('Source file').classes(theme.HINT)
            ui.label(view.source).classes(f'{theme.MONO} break-all').mark('source')
        if view.source_seconds > MAX_LAZY_SECONDS:
            ui.label(f'Only the first {MAX_LAZY_SECONDS / 60:.0f} minutes are shown and played.') \
                .classes(theme.HINT)


# ---- integrity --------------------------------------------------------------------------------------
def _integrity_card(datasets: Datasets, dataset: DatasetView) -> None:
    """The integrity check (the same one the dataset's Validation tab runs), with the last report it kept."""
    with ui.card().classes(theme.CARD + ' gap-3').mark('integrity'):
        with ui.row().classes('w-full items-center gap-3'):
            with ui.column().classes('gap-0 grow'):
                ui.label('Integrity check').classes(theme.SECTION)
                ui.label('Reads every entry once: keys present and in order, every example decodes, all the same '
                         'length, lazy source files still there.').classes(theme.HINT)
            start_button = ui.button('Check the whole database', icon='fact_check', on_click=lambda: start()) \
                .props('unelevated color=primary no-caps').mark('check')
            stop_button = ui.button('Stop', icon='stop', on_click=lambda: cancel.set()) \
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
        when = time.strftime('%d %b %Y, %H:%M', time.localtime(report.at))
        verdict = (f'All {_n(report.entries)} examples are present and readable' if ok else
                   f'Stopped after {_n(report.checked)} of {_n(report.entries)} entries' if report.stopped else
                   f'{_n(report.problem_count)} problem(s) in {_n(report.checked)} of {_n(report.entries)} '
                   'entries checked')
        status.set_text(f'{verdict} · checked {when} in {formatting.duration(report.seconds) or "0 s"}')
        status.classes(replace=f'text-sm {"text-positive" if ok else "text-negative"}')
        with results:
            for line in report.problems[:50]:
                with ui.row().classes('items-start gap-2 no-wrap text-sm'):
                    ui.icon('error_outline', color='negative').classes('mt-0.5')
                    ui.label(line).classes('break-all')
            if report.problem_count > 50:
                ui.label(f'…and {_n(report.problem_count - 50)} more.').classes(theme.HINT)

    async def start() -> None:
        cancel.clear()
        results.clear()
        start_button.set_visibility(False)
        stop_button.set_visibility(True)
        bar.set_visibility(True)
        status.classes(replace=f'text-sm {theme.NUMBER} text-left')
        try:
            report = await run.io_bound(datasets.check, dataset.id, reporter(bar, status), cancel)
        finally:
            start_button.set_visibility(True)
            stop_button.set_visibility(False)
            bar.set_visibility(False)
        render(report)

    ui.context.client.on_disconnect(cancel.set)
    last = datasets.last_check(dataset.id)
    if last is not None:
        render(last)


def _n(value: int) -> str:
    return f'{value:,}'.replace(',', ' ')


def _db(value: float | None) -> str:
    return '—' if value is None else f'{value:.1f} dBFS'
