"""The header's jobs indicator: a count of active jobs and a panel with each job's progress and controls."""
from __future__ import annotations

from nicegui import ui

from components.status import job_row
from services.jobs import JobService


def jobs_panel(jobs: JobService) -> None:
    with ui.button(icon='work_history').props('flat round dense').tooltip('Jobs').mark('jobs-indicator'):
        badge = ui.badge('', color='primary').props('floating rounded')
        with ui.menu().props('anchor="bottom right" self="top right"').classes('w-[420px] max-w-[95vw] p-2'):
            content = ui.column().classes('w-full gap-2')
    seen = {'version': -1}

    def refresh() -> None:
        if seen['version'] == jobs.version:
            return
        seen['version'] = jobs.version
        active = jobs.active()
        badge.set_text(str(len(active)))
        badge.set_visibility(bool(active))
        content.clear()
        with content:
            if not active:
                ui.label('No job is running or queued.').classes('text-sm text-gray-500 p-2')
            for state in active:
                job_row(state, jobs)

    refresh()
    ui.timer(1.0, refresh)
