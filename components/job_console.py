"""A job's live console: the tail of its log, the equivalent RAVE command, progress and controls."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components.status import fmt_duration, status_chip
from services.jobs import JobService


def job_console(jobs: JobService, job_id: int, *, height: str = 'h-64', stop_label: str | None = None,
                controls: bool = True) -> None:
    """Live view of one job; refreshed by a timer only while this element is on screen.

    `stop_label` adds a graceful-stop button (e.g. 'Stop & save checkpoint') next to Cancel; `controls=False`
    leaves the buttons to the page (the run page has its own).
    """
    state = jobs.states.get(job_id)
    with ui.column().classes('w-full gap-2').mark(f'console-{job_id}'):
        with ui.row().classes('w-full items-center gap-2'):
            chip_slot = ui.row().classes('items-center')
            detail = ui.label().classes('text-sm grow')
            eta = ui.label().classes(f'text-sm {theme.NUMBER} text-gray-500')
            buttons = ui.row().classes('gap-1')
        bar = ui.linear_progress(show_value=False).props('rounded size=8px')
        message = ui.label().classes('text-sm text-negative whitespace-pre-wrap')
        with ui.expansion('Equivalent RAVE command', icon='terminal').classes('w-full text-sm'):
            ui.code(state.command if state else '', language='bash').classes('w-full text-xs')
        log = ui.log(max_lines=400).classes(f'w-full {height} {theme.MONO} bg-gray-950 text-gray-100 rounded-lg '
                                            'studio-console')
    seen = {'version': -1, 'offset': jobs.log_size(job_id) - 20000}

    def refresh() -> None:
        current = jobs.states.get(job_id)
        if current is None:
            return
        if seen['version'] != jobs.version:
            seen['version'] = jobs.version
            chip_slot.clear()
            with chip_slot:
                status_chip(current.status)
            detail.set_text(current.detail)
            eta.set_text(f'ETA {fmt_duration(current.eta_s)}' if current.eta_s is not None else '')
            if current.progress is None and current.status == 'running':
                bar.props('indeterminate')
            else:
                bar.props(remove='indeterminate')
                bar.set_value(current.progress or 0)
            message.set_text(current.message if current.status in ('failed', 'interrupted', 'cancelled') else '')
            buttons.clear()
            if controls:
                with buttons:
                    _controls(jobs, current.id, current.status, stop_label)
        text, seen['offset'] = jobs.read_log(job_id, seen['offset'])
        for line in text.splitlines():
            if line.strip():
                log.push(line)

    refresh()
    ui.timer(1.0, refresh)


def _controls(jobs: JobService, job_id: int, status: str, stop_label: str | None) -> None:
    if status not in ('running', 'paused', 'queued'):
        return
    if stop_label and status != 'queued':
        ui.button(stop_label, icon='stop_circle', on_click=lambda: jobs.request_stop(job_id)) \
            .props('outline dense color=primary').mark('stop')
    ui.button('Cancel', icon='close', on_click=lambda: jobs.cancel(job_id)) \
        .props('outline dense color=negative').mark('cancel')
