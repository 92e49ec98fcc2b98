"""Dashboard: what runs now, what the machine is doing, where to start, and the project's recent work."""
from __future__ import annotations

from pathlib import Path

from nicegui import ui

from app import theme
from components.status import fmt_bytes, fmt_duration, job_row, status_chip
from services.store import Dataset, Export, Project, Run

START = [  # (label, hint, icon, target)
    ('New dataset', 'Turn a folder of audio into a RAVE dataset', 'library_add', '/datasets'),
    ('New training', 'Teach a model your sounds', 'model_training', '/training/new'),
    ('Export a model', 'Make a .ts file for nn~ and the Explorer', 'ios_share', '/export'),
    ('Explore', 'Hear how a model rebuilds your audio', 'graphic_eq', '/explorer'),
]


def create(studio, project: Project) -> None:
    with ui.row().classes('w-full items-end gap-2'):
        ui.label(project.name).classes(theme.TITLE)
        ui.label(project.description).classes(theme.SUBTITLE + ' pb-1 truncate')
    with ui.grid().classes('w-full gap-4 grid-cols-1 md:grid-cols-2 xl:grid-cols-[2fr_1.3fr_1fr]'):
        _running(studio)
        _machine(studio)
        _start()
    _recent_runs(project)
    with ui.grid().classes('w-full gap-4 grid-cols-1 lg:grid-cols-2'):
        _recent_datasets(project)
        _recent_exports(project)


def _card(title: str, icon: str, *, classes: str = '') -> ui.card:
    card = ui.card().classes(f'{theme.CARD} gap-3 {classes}')
    with card, ui.row().classes('items-center gap-2'):
        ui.icon(icon, color='primary').classes('text-xl')
        ui.label(title).classes(theme.SECTION)
    return card


def _running(studio) -> None:
    jobs = studio.jobs
    with _card('Running', 'play_circle', classes='md:col-span-2 xl:col-span-1').mark('running'):
        box = ui.column().classes('w-full gap-2')
    seen = {'version': -1}

    def redraw() -> None:
        if seen['version'] == jobs.version:
            return
        seen['version'] = jobs.version
        box.clear()
        with box:
            active = jobs.active()
            if not active:
                ui.label('Nothing is running. Preprocessing, training and export jobs show their progress here.') \
                    .classes('text-sm text-gray-500')
            for state in active:
                job_row(state, jobs)
    redraw()
    ui.timer(1.0, redraw)


def _machine(studio) -> None:
    monitor = studio.monitor
    with _card('This machine', 'memory').mark('machine'):
        box = ui.column().classes('w-full gap-2')

    def redraw() -> None:
        now = monitor.now
        box.clear()
        with box:
            _meter('CPU · last 2 min', now.cpu / 100, f'{now.cpu:.0f} %', spark=list(monitor.cpu_history))
            ram = now.ram_used / now.ram_total if now.ram_total else 0
            _meter('RAM', ram, f'{fmt_bytes(now.ram_used)} / {fmt_bytes(now.ram_total)}')
            for gpu in now.gpus:
                mem = gpu.mem_used / gpu.mem_total if gpu.mem_total else 0
                _meter(f'GPU {gpu.index}', gpu.util / 100, f'{gpu.util:.0f} %', tip=gpu.name)
                _meter(f'GPU {gpu.index} memory', mem, f'{fmt_bytes(gpu.mem_used)} / {fmt_bytes(gpu.mem_total)}')
            if not now.gpus:
                with ui.row().classes('items-center gap-2 text-sm text-gray-500'):
                    ui.icon('info_outline')
                    ui.label('No GPU — jobs run on the CPU.').mark('no-gpu')
    redraw()
    ui.timer(2.0, redraw)


def _meter(label: str, fraction: float, figure: str, *, spark: list[float] | None = None, tip: str = '') -> None:
    """A label and its figure on one line, a bar (or the recent history as a sparkline) below."""
    with ui.column().classes('w-full gap-1'):
        with ui.row().classes('w-full items-baseline gap-2 no-wrap text-sm'):
            name = ui.label(label).classes('grow text-gray-500 truncate')
            if tip:
                name.tooltip(tip)
            ui.label(figure).classes(theme.NUMBER + ' font-medium')
        if spark:
            ui.html(_sparkline(spark)).classes('w-full h-7 text-primary')
        else:
            ui.linear_progress(value=max(0.0, min(1.0, fraction)), show_value=False) \
                .props('rounded size=8px').classes('w-full')


def _sparkline(values: list[float]) -> str:
    """An inline SVG of CPU % over the sampled history (0–100 on the y axis)."""
    if len(values) < 2:
        values = values * 2 or [0.0, 0.0]
    step = 100 / (len(values) - 1)
    points = ' '.join(f'{i * step:.1f},{27 - 25 * min(v, 100) / 100:.1f}' for i, v in enumerate(values))
    return (f'<svg viewBox="0 0 100 28" width="100%" height="28" preserveAspectRatio="none">'
            f'<polygon points="0,28 {points} 100,28" fill="currentColor" fill-opacity="0.12"/>'
            f'<polyline points="{points}" fill="none" stroke="currentColor" stroke-width="1.5" '
            f'vector-effect="non-scaling-stroke" stroke-linejoin="round"/></svg>')


def _start() -> None:
    with _card('Start', 'rocket_launch').mark('start'):
        for label, hint, icon, target in START:
            with ui.link(target=target).classes('w-full flex items-center gap-3 no-wrap no-underline text-inherit '
                                                'rounded-lg px-2 py-1 hover:bg-primary/10') \
                    .mark(f'start-{target.strip("/")}'):
                ui.icon(icon, color='primary').classes('text-xl')
                with ui.column().classes('gap-0'):
                    ui.label(label).classes('text-sm font-medium')
                    ui.label(hint).classes(theme.HINT)


def _empty(text: str, action: str, target: str) -> None:
    with ui.column().classes('w-full items-start gap-2 py-2'):
        ui.label(text).classes('text-sm text-gray-500')
        ui.button(action, icon='add', on_click=lambda: ui.navigate.to(target)).props('flat dense color=primary')


def _recent_runs(project: Project) -> None:
    runs = list(Run.select().where(Run.project == project).order_by(Run.created.desc()).limit(5))
    with _card('Recent runs', 'model_training').mark('recent-runs'):
        if not runs:
            _empty('No training yet. A run teaches a RAVE model to rebuild the sounds of a dataset; '
                   'it saves checkpoints you can export.', 'New training', '/training/new')
        for r in runs:
            with ui.link(target=f'/training/runs/{r.id}').classes(_ROW):
                ui.label(r.name).classes('font-medium grow truncate')
                ui.label(r.dataset.name if r.dataset else '—').classes('text-gray-500 max-sm:hidden w-32 truncate')
                ui.label(' + '.join(r.configs or []) or '—').classes('text-gray-500 max-sm:hidden w-32 truncate')
                ui.label(f'{r.step:,} steps'.replace(',', ' ')).classes(theme.NUMBER + ' w-28')
                _chip(r.status)


def _recent_datasets(project: Project) -> None:
    datasets = list(Dataset.select().where(Dataset.project == project).order_by(Dataset.created.desc()).limit(5))
    with _card('Recent datasets', 'library_music').mark('recent-datasets'):
        if not datasets:
            _empty('No dataset yet. A dataset is your audio, cut and packed by RAVE\'s preprocess into an LMDB '
                   'folder that training reads.', 'New dataset', '/datasets')
        for d in datasets:
            with ui.link(target=f'/datasets/{d.id}').classes(_ROW):
                ui.label(d.name).classes('font-medium grow truncate')
                ui.label(fmt_duration(d.n_seconds) if d.n_seconds else '—').classes(theme.NUMBER + ' w-24')
                ui.label(f'{d.sr / 1000:g} kHz' if d.sr else '').classes(theme.NUMBER + ' w-20 max-sm:hidden')
                _chip(d.status)


def _recent_exports(project: Project) -> None:
    exports = list(Export.select().where(Export.project == project).order_by(Export.created.desc()).limit(5))
    with _card('Recent exports', 'ios_share').mark('recent-exports'):
        if not exports:
            _empty('No export yet. Exporting turns a checkpoint into a TorchScript .ts file that the Explorer, '
                   'Max/MSP and Pure Data (nn~) can play.', 'Export a model', '/export')
        for e in exports:
            with ui.link(target='/explorer').classes(_ROW):
                ui.label(Path(e.path).name).classes('font-medium grow truncate')
                ui.label('streaming' if e.streaming else 'offline').classes('text-gray-500 w-20')
                ui.label(f'{e.created:%Y-%m-%d}').classes(theme.NUMBER + ' w-24 max-sm:hidden')
                _chip(e.status)


def _chip(status: str) -> None:
    with ui.element('div').classes('w-24 shrink-0 flex justify-end'):
        status_chip(status)


_ROW = ('w-full flex items-center gap-3 no-wrap px-2 py-1 rounded-lg no-underline text-inherit text-sm '
        'hover:bg-gray-100 dark:hover:bg-gray-800')
