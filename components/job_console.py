"""A job's live console: the tail of its log, the equivalent RAVE command, progress and controls.

It follows the job through events (JobsChanged for its state, JobLog for new lines), never a timer. A console
on a hidden tab passes `is_open`: it skips log reads while closed and catches up when `show()` is called.
"""
from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from app import theme
from components.status import status_chip
from services import formatting
from services.events import JobLog, JobsChanged, Subscriber
from services.i18n import _
from services.jobs import Jobs, JobView

TAIL_BYTES = 20000


class JobConsole:
    def __init__(self, jobs: Jobs, events: Subscriber, job_id: int, *, height: str = 'h-64',
                 stop_label: str | None = None, controls: bool = True,
                 is_open: Callable[[], bool] = lambda: True) -> None:
        self.jobs, self.job_id, self.stop_label = jobs, job_id, stop_label
        self.controls, self.is_open = controls, is_open
        self.offset = -TAIL_BYTES
        view = jobs.get(job_id)
        with ui.column().classes('w-full gap-2').mark(f'console-{job_id}'):
            with ui.row().classes('w-full items-center gap-2'):
                self.chip_slot = ui.row().classes('items-center')
                self.detail = ui.label().classes('text-sm grow')
                self.eta = ui.label().classes(f'text-sm {theme.NUMBER} text-gray-500')
                self.buttons = ui.row().classes('gap-1')
            self.bar = ui.linear_progress(show_value=False).props('rounded size=8px')
            self.message = ui.label().classes('text-sm text-negative whitespace-pre-wrap')
            command = view.command if view else ''
            with ui.expansion(_('Equivalent RAVE command'), icon='terminal').classes('w-full text-sm'), \
                    ui.row().classes('w-full items-start gap-2 no-wrap'):
                ui.label(command).classes(f'{theme.MONO} grow break-all whitespace-pre-wrap').mark('command')
                ui.button(icon='content_copy', on_click=lambda: ui.clipboard.write(command)) \
                    .props('flat dense round size=sm aria-label="%s"' % _('Copy the command')).tooltip(_('Copy'))
            self.log = ui.log(max_lines=400).classes(
                f'w-full {height} {theme.MONO} bg-gray-950 text-gray-100 rounded-lg studio-console')
        self.state(view)
        self.show()
        events.on(JobsChanged, self._changed)
        events.on(JobLog, self._grew)

    def show(self) -> None:
        """Read what the log gained since it was last read (call when a hidden console becomes visible)."""
        text, self.offset = self.jobs.read_log(self.job_id, self.offset)
        for line in text.splitlines():
            if line.strip():
                self.log.push(line)

    def state(self, view: JobView | None) -> None:
        if view is None:
            return
        self.chip_slot.clear()
        with self.chip_slot:
            status_chip(view.status)
        self.detail.set_text(view.detail)
        self.eta.set_text(_('ETA {duration}').format(duration=formatting.duration(view.eta_s))
                         if view.eta_s is not None else '')
        if view.progress is None and view.status == 'running':
            self.bar.props('indeterminate')
        else:
            self.bar.props(remove='indeterminate')
            self.bar.set_value(view.progress or 0)
        self.message.set_text(view.message if view.status in ('failed', 'interrupted', 'cancelled') else '')
        self.buttons.clear()
        if self.controls:
            with self.buttons:
                _controls(self.jobs, view, self.stop_label)

    def _changed(self, event: JobsChanged) -> None:
        if not event.job_ids or self.job_id in event.job_ids:
            self.state(self.jobs.get(self.job_id))

    def _grew(self, event: JobLog) -> None:
        if event.job_id == self.job_id and self.is_open():
            self.show()


def job_console(jobs: Jobs, events: Subscriber, job_id: int, **options) -> JobConsole:
    """Live view of one job (see JobConsole for the options)."""
    return JobConsole(jobs, events, job_id, **options)


def _controls(jobs: Jobs, view: JobView, stop_label: str | None) -> None:
    if view.status not in ('running', 'paused', 'queued'):
        return
    if stop_label and view.status != 'queued':
        ui.button(stop_label, icon='stop_circle', on_click=lambda: jobs.request_stop(view.id)) \
            .props('outline dense color=primary').mark('stop')
    ui.button(_('Cancel'), icon='close', on_click=lambda: jobs.cancel(view.id)) \
        .props('outline dense color=negative').mark('cancel')
