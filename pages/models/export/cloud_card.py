"""The Cloud card of the export library: what the store set in Settings holds of the studio's (exports and run
folders pushed there), each with its size and date, pulled back into the project with a progress bar — whole or
not at all (services/cluster/cloud.py) — and the push of one export."""
from __future__ import annotations

from nicegui import run, ui

from app import theme
from components import cards
from services import formatting
from services.access import Forbidden
from services.cluster import CloudError, Cluster, Remote
from services.events import JobsChanged, Subscriber
from services.i18n import _
from services.jobs import Jobs
from services.projects import ProjectView

KIND_ICONS = {'runs': 'model_training', 'exports': 'ios_share'}


def create(cluster: Cluster, jobs: Jobs, events: Subscriber, project: ProjectView, exports: dict[int, str]) -> None:
    """The card: a hint without a store; else the push of one of `exports` (id → file name), the store's
    listing (read off the event loop) and a Pull per complete folder, its job's bar moving in place."""
    store = cluster.store()
    with cards.section(_('Cloud'), 'cloud').mark('cloud-card'):
        if store is None:
            ui.label(_('No cloud store is set. Write its s3:// location in Settings (Where trainings run) to push '
                       'exports and run folders there and pull them back here.')).classes(theme.HINT)
            return
        with ui.row().classes('w-full items-center gap-2'):
            ui.label(store.url).classes(theme.MONO + ' grow truncate').tooltip(store.endpoint or 'AWS S3')
            if exports:
                chosen = ui.select(exports, label=_('Export to push'), value=next(iter(exports))) \
                    .props('outlined dense').classes('w-56').mark('cloud-export')
                ui.button(_('Push'), icon='cloud_upload', on_click=lambda: _push(cluster, chosen.value, exports)) \
                    .props('flat dense no-caps color=primary').mark('push-export')
            ui.button(_('Refresh'), icon='refresh', on_click=lambda: fill()).props('flat dense no-caps') \
                .mark('cloud-refresh')
        listing = ui.column().classes('w-full gap-1').mark('cloud-listing')
    bars: dict[int, ui.linear_progress] = {}  # pull job id -> its bar

    async def fill() -> None:
        listing.clear()
        with listing:
            ui.label(_('Asking the store…')).classes(theme.HINT)
        try:
            remotes = await run.io_bound(cluster.remotes)
        except (CloudError, Forbidden, OSError) as e:
            _say(listing, _('The store did not answer: {reason}').format(reason=e), 'text-negative')
            return
        listing.clear()
        with listing:
            if not remotes:
                ui.label(_('Nothing pushed yet: "Push to cloud" on a run page or an export sends it here.')) \
                    .classes(theme.HINT).mark('cloud-empty')
            for remote in remotes:
                _row(cluster, project, remote, bars)

    def moved(event: JobsChanged) -> None:
        for job_id in event.job_ids:
            if job_id in bars:
                job = jobs.get(job_id)
                bars[job_id].set_value(job.progress or 0 if job else 0)
                if job is not None and not job.active:
                    bars.pop(job_id)
                    ui.notify(_('{title}: {status}.').format(title=job.title, status=_(job.status)),
                              type='positive' if job.status == 'done' else 'negative', multi_line=True)

    events.on(JobsChanged, moved)
    ui.timer(0.05, fill, once=True)


def _push(cluster: Cluster, export_id: int | None, exports: dict[int, str]) -> None:
    try:
        if export_id is None:
            raise CloudError(_('Choose an export to push.'))
        cluster.push_export(export_id)
    except (CloudError, Forbidden) as e:
        ui.notify(str(e), type='negative', multi_line=True)
        return
    ui.notify(_('Pushing {name}: the jobs panel shows its progress; Refresh lists it once whole.')
              .format(name=exports[export_id]), type='positive')


def _row(cluster: Cluster, project: ProjectView, remote: Remote, bars: dict) -> None:
    with ui.column().classes('w-full gap-1 px-2 py-1 rounded-lg hover:bg-gray-50 dark:hover:bg-gray-900') \
            .mark(f'cloud-{remote.name}'):
        with ui.row().classes('w-full items-center gap-2 no-wrap text-sm'):
            ui.icon(KIND_ICONS.get(remote.kind, 'folder'), color='primary').classes('text-lg')
            ui.label(remote.name).classes('grow truncate font-medium')
            if not remote.complete:
                ui.label(_('incomplete: its push did not finish (push again, it resumes)')) \
                    .classes('text-xs text-warning')
                return
            ui.label(formatting.size(remote.size)).classes(theme.NUMBER + ' w-20')
            ui.label(formatting.moment(remote.modified) if remote.modified else '—').classes(theme.HINT + ' w-28')
            button = ui.button(_('Pull'), icon='cloud_download').props('flat dense no-caps color=primary') \
                .mark(f'pull-{remote.name}')
        slot = ui.column().classes('w-full gap-0')

    def pull() -> None:
        try:
            job_id = cluster.pull(project.id, remote.name)
        except (CloudError, Forbidden) as e:
            ui.notify(str(e), type='negative', multi_line=True)
            return
        button.disable()
        with slot:
            ui.label(_('Pulling into this project\'s {kind} folder: it appears whole when every file arrived.')
                     .format(kind=remote.kind or 'runs')).classes(theme.HINT)
            bars[job_id] = ui.linear_progress(value=0, show_value=False).props('rounded size=6px') \
                .mark(f'pull-progress-{remote.name}')
    button.on_click(pull)


def _say(box: ui.column, text: str, color: str) -> None:
    box.clear()
    with box:
        ui.label(text).classes(f'text-sm {color}')
