"""The team view: the lab's activity, what runs on which device for whom, and each member's projects; it
redraws when jobs change or someone comments."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components import cards
from components.status import status_chip
from services.events import CommentsChanged, JobsChanged, ProjectsChanged, Subscriber
from services.i18n import N_, _
from services.lab.audit import shown_object
from services.lab.team import Team

ROLES = (N_('read'), N_('edit'), N_('manage'), N_('owner'))  # a member's role in a project, as chips say it


def create(team: Team, events: Subscriber) -> None:
    with ui.column().classes('gap-0'):
        ui.label(_('Team')).classes(theme.TITLE)
        ui.label(_('Who did what lately, what runs where for whom, and who works in which project.')) \
            .classes(theme.SUBTITLE)

    @ui.refreshable
    def running() -> None:
        jobs = team.running()
        if not jobs:
            ui.label(_('Nothing runs or waits now.')).classes('text-sm italic text-gray-500').mark('team-idle')
        by_device: dict[str, list] = {}
        for job in jobs:
            by_device.setdefault(job.device, []).append(job)
        for device, shown in by_device.items():
            ui.label(device.upper()).classes('text-xs font-semibold text-gray-500 mt-1')
            for job in shown:
                with ui.row().classes('w-full items-center gap-2 no-wrap').mark(f'team-job-{job.job_id}'):
                    status_chip(job.status)
                    ui.label(job.title).classes('text-sm truncate grow')
                    ui.label(f'{job.owner} · {job.project}').classes(theme.HINT)

    @ui.refreshable
    def activity() -> None:
        feed = team.activity()
        if not feed:
            ui.label(_('No activity yet.')).classes('text-sm italic text-gray-500')
        for item in feed:
            with ui.row().classes('w-full items-baseline gap-2 no-wrap').mark('team-activity'):
                ui.label(f'{item.time:%m-%d %H:%M}').classes(theme.HINT + ' ' + theme.NUMBER + ' w-20 shrink-0')
                ui.label(item.user).classes('text-sm font-medium shrink-0')
                where = _('in {project}').format(project=item.project) if item.project else ''
                ui.label(' · '.join(x for x in (_(item.what), shown_object(item.object), where) if x)) \
                    .classes('text-sm text-gray-600 dark:text-gray-300 truncate')

    @ui.refreshable
    def members() -> None:
        for member in team.members():
            with ui.row().classes('w-full items-center gap-3 no-wrap py-1').mark(f'team-member-{member.name}'):
                ui.icon('admin_panel_settings' if member.admin else 'person',
                        color='primary' if member.admin else None).classes('text-xl')
                ui.label(member.name + (_(' (disabled)') if member.disabled else '')) \
                    .classes('text-sm font-medium w-40 shrink-0').props(f'id={member.name}')
                with ui.row().classes('gap-1 grow'):
                    if member.admin:
                        ui.chip(_('admin: every project'), color='primary', text_color='white') \
                            .props('dense square').classes('text-xs')
                    for project, role in member.projects:
                        ui.chip(f'{project} · {_(role) if role in ROLES else role}') \
                            .props('dense square outline').classes('text-xs')
                    if not member.admin and not member.projects:
                        ui.label(_('only what the lab may read or edit')).classes(theme.HINT)

    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-2 gap-4 mt-2'):
        with cards.section(_('Running'), 'memory'):
            running()
        with cards.section(_('Activity'), 'timeline'):
            activity()
    with cards.section(_('Members'), 'groups', classes='mt-4'):
        members()

    events.on(JobsChanged, lambda _e: (running.refresh(), activity.refresh()))
    events.on(CommentsChanged, lambda _e: activity.refresh())
    events.on(ProjectsChanged, lambda _e: members.refresh())
