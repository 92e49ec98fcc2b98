"""Status chips and job rows, with the fixed status meanings from the theme."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components.icon_button import icon_button
from services import formatting
from services.i18n import _
from services.jobs import Jobs, JobView


def status_chip(status: str, hint: str = '') -> ui.chip:
    """The status's chip; `hint` (e.g. why a cluster job waits) is its tooltip, else what the status means."""
    color, icon = theme.STATUS.get(status, ('grey-6', 'help'))
    chip = ui.chip(_(status), icon=icon, color=color, text_color='white').props('dense square') \
        .classes('text-xs font-medium')
    if hint or status in theme.STATUS_HINT:
        chip.tooltip(hint or _(theme.STATUS_HINT[status]))
    return chip


class JobRow:
    """One job: title, chip, progress bar, detail line, ETA and its controls, updated in place."""

    def __init__(self, view: JobView, jobs: Jobs, *, controls: bool = True) -> None:
        self.jobs, self.controls, self.status, self.indeterminate = jobs, controls, None, None
        with ui.column().classes('w-full gap-1 p-2 rounded-lg bg-gray-50 dark:bg-gray-900') \
                .mark(f'job-{view.id}') as self.element:
            with ui.row().classes('w-full items-center gap-2 no-wrap'):
                self.title = ui.label().classes('font-medium text-sm truncate grow')
                self.chip = ui.row().classes('items-center')
            self.bar = ui.linear_progress(value=0, show_value=False).props('rounded size=6px')
            self.bar.props['aria-label'] = _('Progress of {title}').format(title=view.title)
            with ui.row().classes('w-full items-center gap-2 text-xs text-gray-500 no-wrap'):
                self.detail = ui.label().classes('grow truncate')
                self.eta = ui.label().classes(theme.NUMBER)
                self.buttons = ui.row().classes('items-center gap-0 no-wrap')
        self.update(view)

    def update(self, view: JobView) -> None:
        """Show the job's latest state; only what changed reaches the browser."""
        self.title.set_text(view.title + (f' · {view.owner}' if view.owner and self.jobs.actor.shared else ''))
        waits = view.where if view.status == 'queued' else ''  # e.g. why SLURM has not started it
        self.detail.set_text(waits or view.detail or view.message or view.kind)
        self.eta.set_text(_('ETA {duration}').format(duration=formatting.duration(view.eta_s))
                          if view.eta_s is not None else '')
        indeterminate = view.progress is None
        if indeterminate != self.indeterminate:  # props() always sends: only on a change
            self.indeterminate = indeterminate
            self.bar.props(add='indeterminate' if indeterminate else None,
                           remove=None if indeterminate else 'indeterminate')
        self.bar.set_value(view.progress or 0)
        self.bar.set_visibility(not indeterminate or view.status == 'running')
        if view.status != self.status:
            self.status = view.status
            self.chip.clear()
            with self.chip:
                status_chip(view.status, waits)
            self.buttons.clear()
            if self.controls and self.jobs.may_control(view):  # one's own jobs, or a managed project's
                with self.buttons:
                    _job_controls(self.jobs, view)


class JobList:
    """Rows of the active jobs: rebuilt when jobs come or go, each row updated in place otherwise."""

    def __init__(self, jobs: Jobs, empty: str, *, controls: bool = True) -> None:
        self.jobs, self.empty, self.controls = jobs, empty, controls
        self.rows: dict[int, JobRow] | None = None  # None: not drawn yet
        self.element = ui.column().classes('w-full gap-2')
        self.update()

    def update(self) -> None:
        active = self.jobs.active()
        if self.rows is None or [v.id for v in active] != list(self.rows):
            self.element.clear()
            self.rows = {}
            with self.element:
                if not active:
                    ui.label(self.empty).classes('text-sm text-gray-500')
                for view in active:
                    self.rows[view.id] = JobRow(view, self.jobs, controls=self.controls)
            return
        for view in active:
            self.rows[view.id].update(view)


def _job_controls(jobs: Jobs, view: JobView) -> None:
    if view.status == 'running':
        icon_button('pause', _('Pause {title}').format(title=view.title), lambda: jobs.pause(view.id),
                    props='flat dense round size=sm')
    elif view.status == 'paused':
        icon_button('play_arrow', _('Resume {title}').format(title=view.title), lambda: jobs.resume(view.id),
                    props='flat dense round size=sm')
    if view.status in ('running', 'paused', 'queued'):
        icon_button('close', _('Cancel {title}').format(title=view.title), lambda: jobs.cancel(view.id),
                    props='flat dense round size=sm color=negative')
