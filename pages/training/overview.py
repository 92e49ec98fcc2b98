"""Training: the project's runs and a live run page (a new run starts in pages/training_wizard)."""
from __future__ import annotations

from pathlib import Path

from nicegui import ui

from app import theme
from components.job_console import job_console
from components.status import status_chip
from pages.training import run_controls, run_monitor
from services.store import Run
from services.training.runs import spec_of

ABOUT = ('A run trains a RAVE model on one dataset with RAVE\'s own `rave train`. Every step is charted live; '
         'stopping saves a checkpoint you can resume or export.')


def create(studio, project) -> None:
    """The project's runs, newest first, or an empty state that explains what a run is."""
    with ui.row().classes('w-full items-end gap-4'):
        with ui.column().classes('gap-0 grow'):
            ui.label('Training').classes(theme.TITLE)
            ui.label(f'Runs of {project.name}').classes(theme.SUBTITLE)
        ui.button('TensorBoard', icon='insights', on_click=lambda: ui.navigate.to('/training/tensorboard')) \
            .props('outline color=primary').mark('tensorboard')
        ui.button('Configs', icon='menu_book', on_click=lambda: ui.navigate.to('/training/configs')) \
            .props('flat color=primary').mark('configs')
        ui.button('New training', icon='add', on_click=lambda: ui.navigate.to('/training/new')) \
            .props('unelevated color=primary').mark('new')

    @ui.refreshable
    def runs() -> None:
        rows = studio.training.list(project)
        run_controls.queue_panel(studio, project)
        if not rows:
            _empty_state()
        else:
            _runs_table(studio, rows)

    runs()
    seen = {'version': studio.jobs.version}

    def _tick() -> None:
        if seen['version'] != studio.jobs.version:
            seen['version'] = studio.jobs.version
            runs.refresh()

    ui.timer(1.0, _tick)


def run_page(studio, project, run_id: str) -> None:
    """One run: progress, live charts, console, checkpoints."""
    run = studio.training.get(run_id)
    if run is None or run.project_id != project.id:
        with ui.card().classes(theme.CARD + ' items-center gap-3 py-10'):
            ui.icon('search_off', color='grey-6').classes('text-5xl')
            ui.label('This run does not exist in the current project.').classes(theme.SECTION)
            ui.button('All runs', icon='arrow_back', on_click=lambda: ui.navigate.to('/training')).props('flat')
        return

    @ui.refreshable
    def header() -> None:
        _run_header(studio, studio.training.get(run.id))

    header()

    @ui.refreshable
    def checkpoints() -> None:
        with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-2 gap-4'):
            _checkpoints(studio, studio.training.get(run.id))
            run_controls.attempts_card(studio, studio.training.get(run.id))

    def console() -> None:
        if run.job_id:
            with ui.card().classes(theme.CARD):
                job_console(*studio.legacy_jobs(), run.job_id, height='h-96', controls=False)

    run_monitor.create(studio, run, tabs=[('Console', 'terminal', console), ('Checkpoints', 'save', checkpoints)])
    seen = {'job': run.job_id, 'now': None}

    def _tick() -> None:
        current = studio.training.get(run.id)
        if current is None:
            return
        if current.job_id != seen['job']:
            ui.navigate.reload()  # a resumed run has a new job and console
            return
        series = studio.training.metrics(current)
        now = (current.status, len(series.checkpoints), series.paused, studio.training.queue_position(current))
        if now != seen['now']:
            seen['now'] = now
            header.refresh()
            checkpoints.refresh()

    ui.timer(1.0, _tick)


# ---- list -------------------------------------------------------------------------------------------
def _empty_state() -> None:
    with ui.card().classes(theme.CARD + ' items-center text-center gap-3 py-12').mark('empty'):
        ui.icon('model_training', color='primary').classes('text-6xl opacity-80')
        ui.label('No training runs yet').classes('text-xl font-semibold')
        ui.label(ABOUT).classes('max-w-xl text-sm text-gray-600 dark:text-gray-300')
        ui.label('Try v2_small for a first model; on a CPU expect a few steps per second at most.') \
            .classes(theme.HINT + ' max-w-xl')
        ui.button('New training', icon='add', on_click=lambda: ui.navigate.to('/training/new')) \
            .props('unelevated color=primary').classes('mt-2')


def _runs_table(studio, rows: list[Run]) -> None:
    columns = 'grid-cols-[2fr_1.5fr_1fr_1.4fr_1fr_1.2fr]'
    with ui.card().classes(theme.CARD + ' p-0 gap-0').mark('runs'):
        with ui.element('div').classes(f'w-full grid {columns} gap-4 px-4 py-2 {theme.HINT} uppercase '
                                       'tracking-wide border-b border-gray-200 dark:border-gray-800'):
            for title in ('Run', 'Dataset', 'Config', 'Steps', 'Status', 'Created'):
                ui.label(title).classes('text-right' if title == 'Steps' else '')
        for run in rows:
            step, max_steps = _step(studio, run)
            with ui.element('div').classes(
                    f'w-full grid {columns} gap-4 px-4 py-3 items-center cursor-pointer text-sm '
                    'hover:bg-gray-50 dark:hover:bg-gray-900 border-b border-gray-100 dark:border-gray-900') \
                    .on('click', lambda r=run: ui.navigate.to(f'/training/runs/{r.id}')).mark(f'run-{run.name}'):
                ui.label(run.name).classes('font-medium truncate')
                ui.label(run.dataset.name if run.dataset else '—').classes('truncate text-gray-600 dark:text-gray-300')
                ui.label(' + '.join(run.configs)).classes(theme.MONO)
                ui.label(f'{_num(step)} / {_num(max_steps)}').classes(theme.NUMBER)
                with ui.row():
                    status_chip(run.status)
                ui.label(run.created.strftime('%d %b %Y, %H:%M')).classes('text-gray-500')


def _step(studio, run: Run) -> tuple[int, int]:
    series = studio.training.series.get(run.id)
    step = max(run.step, series.step if series else 0)
    return step, spec_of(run).max_steps


def _num(n: int | None) -> str:
    return '—' if n is None else f'{n:,}'.replace(',', ' ')


# ---- run page ---------------------------------------------------------------------------------------
def _run_header(studio, run: Run) -> None:
    dataset = run.dataset
    with ui.row().classes('w-full items-center gap-3'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to('/training')).props('flat round dense') \
            .tooltip('All runs')
        ui.label(run.name).classes(theme.TITLE).mark('run-name')
        status_chip(run.status)
        about = ' + '.join(run.configs)
        if dataset is not None:
            about += f' · {dataset.name} ({(dataset.sr or 44100) / 1000:g} kHz, ' \
                     f'{ {1: "mono", 2: "stereo"}.get(dataset.channels, "?") })'
        ui.label(about).classes(theme.SUBTITLE)
        ui.space()
        run_controls.action_bar(studio, run)
    run_controls.run_notes(studio, run)
    if run.params.get('stopped_at') is not None and run.status == 'done':
        ui.label(f'Stopped at step {_num(run.params["stopped_at"])} with a checkpoint: resume it to go on.') \
            .classes('text-sm text-gray-600 dark:text-gray-300')


def _checkpoints(studio, run: Run) -> None:
    rows = studio.training.checkpoints(run)
    with ui.card().classes(theme.CARD + ' gap-2').mark('checkpoints'):
        ui.label('Checkpoints').classes(theme.SECTION)
        if not rows:
            ui.label('None yet: RAVE writes one at each validation, and "Stop & save checkpoint" writes one too.') \
                .classes(theme.HINT)
        for ckpt in rows:
            with ui.row().classes('w-full items-center gap-3 no-wrap text-sm'):
                ui.icon({'best': 'star', 'stop': 'stop_circle'}.get(ckpt.kind, 'save'), color='primary')
                ui.label(ckpt.kind).classes('w-12 font-medium')
                ui.label(f'step {_num(ckpt.step)}' if ckpt.step is not None else 'step —') \
                    .classes(theme.NUMBER + ' w-24')
                ui.label(str(Path(ckpt.path).relative_to(Path(run.folder).parent)
                             if run.folder else ckpt.path)).classes(theme.MONO + ' grow truncate')
                if run.status not in ('running', 'paused', 'queued'):
                    ui.button('Resume…', icon='replay',
                              on_click=lambda c=ckpt: run_controls.resume_dialog(studio, run, c.path)) \
                        .props('flat dense color=primary no-caps').classes('whitespace-nowrap') \
                        .tooltip('Resume the run from this checkpoint')

