"""Status chips and job rows, with the fixed status meanings from the theme."""
from __future__ import annotations

from nicegui import ui

from app import theme
from services.jobs import Jobs, JobView


def status_chip(status: str) -> ui.chip:
    color, icon = theme.STATUS.get(status, ('grey-6', 'help'))
    return ui.chip(status, icon=icon, color=color, text_color='white').props('dense square') \
        .classes('text-xs font-medium')


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return '—'
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f'{h} h {m:02d} min'
    if m:
        return f'{m} min {s:02d} s'
    return f'{s} s'


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return '—'
    for unit in ('B', 'KB', 'MB', 'GB', 'TB'):
        if abs(n) < 1024 or unit == 'TB':
            return f'{n:.0f} {unit}' if unit == 'B' else f'{n:.1f} {unit}'
        n /= 1024
    return f'{n:.1f} TB'


def job_row(state: JobView, jobs: Jobs, *, controls: bool = True) -> None:
    """One job: title, chip, progress bar, detail line, ETA and its controls."""
    with ui.column().classes('w-full gap-1 p-2 rounded-lg bg-gray-50 dark:bg-gray-900').mark(f'job-{state.id}'):
        with ui.row().classes('w-full items-center gap-2 no-wrap'):
            ui.label(state.title).classes('font-medium text-sm truncate grow')
            status_chip(state.status)
        if state.progress is None:
            ui.linear_progress(show_value=False).props('indeterminate rounded size=6px') \
                .set_visibility(state.status == 'running')
        else:
            ui.linear_progress(value=state.progress, show_value=False).props('rounded size=6px')
        with ui.row().classes('w-full items-center gap-2 text-xs text-gray-500'):
            ui.label(state.detail or state.message or state.kind).classes('grow truncate')
            if state.eta_s is not None:
                ui.label(f'ETA {fmt_duration(state.eta_s)}').classes(theme.NUMBER)
            if controls and state.status in ('running', 'paused', 'queued'):
                if state.status == 'running':
                    ui.button(icon='pause', on_click=lambda: jobs.pause(state.id)) \
                        .props('flat dense round size=sm').tooltip('Pause')
                elif state.status == 'paused':
                    ui.button(icon='play_arrow', on_click=lambda: jobs.resume(state.id)) \
                        .props('flat dense round size=sm').tooltip('Resume')
                ui.button(icon='close', on_click=lambda: jobs.cancel(state.id)) \
                    .props('flat dense round size=sm color=negative').tooltip('Cancel')
