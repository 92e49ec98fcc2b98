"""A visually hidden aria-live="polite" region that tells a screen reader how the jobs go: when one starts,
crosses a tenth of its way, and ends. Every tick would be noise, so only those moments are said."""
from __future__ import annotations

from nicegui import ui

from services.events import JobsChanged, Subscriber
from services.i18n import _
from services.jobs import Jobs


def announcer(jobs: Jobs, events: Subscriber) -> ui.label:
    region = ui.label().classes('sr-only').props('aria-live=polite aria-atomic=true role=status') \
        .mark('job-announcer')
    said: dict[int, tuple[str, int]] = {v.id: _moment(v.status, v.progress) for v in jobs.active()}

    def changed(event: JobsChanged) -> None:
        lines = []
        for job_id in event.job_ids or tuple(said):
            view = jobs.get(job_id)
            if view is None:
                continue
            moment = _moment(view.status, view.progress)
            if said.get(job_id) == moment:
                continue
            said[job_id] = moment
            percent = f', {moment[1] * 10} %' if view.status == 'running' and moment[1] else ''
            lines.append(_('{job}: {status}{percent}.').format(job=view.title, status=_(view.status),
                                                                 percent=percent))
            if not view.active:
                said.pop(job_id, None)
        if lines:
            region.set_text(' '.join(lines))

    events.on(JobsChanged, changed)
    return region


def _moment(status: str, progress: float | None) -> tuple[str, int]:
    """What is worth saying of a job: its status and the tenth of its way it has reached."""
    return status, int((progress or 0) * 10)
