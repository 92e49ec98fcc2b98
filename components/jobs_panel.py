"""The header's jobs indicator: a count of active jobs and a panel with each job's progress and controls."""
from __future__ import annotations

from nicegui import ui

from components.status import job_row
from services.events import JobsChanged, Subscriber
from services.jobs import Jobs


def jobs_panel(jobs: Jobs, events: Subscriber) -> None:
    with ui.button(icon='work_history').props('flat round dense').tooltip('Jobs').mark('jobs-indicator') as button:
        badge = ui.badge('', color='primary').props('floating rounded')
        with ui.menu().props('anchor="bottom right" self="top right"').classes('w-[420px] max-w-[95vw] p-2') as menu:
            content = ui.column().classes('w-full gap-2')

    def count() -> None:
        active = jobs.active()
        badge.set_text(str(len(active)))
        badge.set_visibility(bool(active))
        label = f'Jobs: {len(active)} active'
        if button.props.get('aria-label') != label:  # props() always sends an update: only on a change
            button.props(f'aria-label="{label}"')
        if menu.value:
            fill()

    def fill() -> None:
        """The panel's rows, built only while it is open (closed panels cost nothing per tick)."""
        content.clear()
        with content:
            active = jobs.active()
            if not active:
                ui.label('No job is running or queued.').classes('text-sm text-gray-500 p-2')
            for state in active:
                job_row(state, jobs)

    menu.on_value_change(lambda e: fill() if e.value else None)
    count()
    events.on(JobsChanged, lambda _: count())
