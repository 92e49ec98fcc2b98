"""The header's jobs indicator: a count of active jobs and a panel with each job's progress and controls."""
from __future__ import annotations

from nicegui import ui

from components.status import JobList
from services.events import JobsChanged, Subscriber
from services.i18n import N_, _, ngettext
from services.jobs import Jobs

EMPTY = N_('No job is running or queued.')


def jobs_panel(jobs: Jobs, events: Subscriber) -> None:
    with ui.button(icon='work_history').props('flat round dense').tooltip(_('Jobs')).mark('jobs-indicator') as button:
        badge = ui.badge('', color='primary').props('floating rounded')
        with ui.menu().props('anchor="bottom right" self="top right"').classes('w-[420px] max-w-[95vw] p-2') as menu:
            content = ui.column().classes('w-full gap-2')
    shown: dict[str, JobList] = {}

    def count() -> None:
        active = jobs.active()
        badge.set_text(str(len(active)))
        badge.set_visibility(bool(active))
        label = ngettext('Jobs: {count} active', 'Jobs: {count} active', len(active)).format(count=len(active))
        if button.props.get('aria-label') != label:
            button.props(f'aria-label="{label}"')
        if menu.value and 'list' in shown:
            shown['list'].update()

    def opened(open_: bool) -> None:
        """The panel's rows exist only while it is open (a closed panel costs nothing per event)."""
        content.clear()
        shown.clear()
        if open_:
            with content:
                shown['list'] = JobList(jobs, _(EMPTY))

    menu.on_value_change(lambda e: opened(e.value))
    count()
    events.on(JobsChanged, lambda _: count())
