"""Projects: every project as a card, with the new-project wizard, switching, editing, back-up and restore."""
from __future__ import annotations

import asyncio

from nicegui import app, run, ui

from app import theme
from pages import project_dialogs
from services import formatting
from services.access import Forbidden
from services.events import ProjectsChanged, Subscriber
from services.i18n import _, ngettext
from services.lab import ProjectSharing
from services.projects import ProjectError, Projects, ProjectSummary, ProjectView, shown_description


def create(projects: Projects, sharing: ProjectSharing, events: Subscriber, project: ProjectView) -> None:
    @ui.refreshable
    def cards() -> None:
        with ui.grid().classes('w-full gap-4 grid-cols-1 md:grid-cols-2 2xl:grid-cols-3'):
            for summary in projects.summaries():
                _card(projects, sharing, summary, current=summary.project.id == project.id, changed=cards.refresh)

    with ui.row().classes('w-full items-end gap-3'):
        with ui.column().classes('gap-0 grow'):
            ui.label(_('Projects')).classes(theme.TITLE)
            ui.label(_('A project owns its datasets, training runs and exports, in one folder you can back up.')) \
                .classes(theme.SUBTITLE)
        ui.button(_('Restore'), icon='settings_backup_restore',
                  on_click=lambda: project_dialogs.restore(projects)).props('flat').mark('restore')
        ui.button(_('New project'), icon='add', on_click=lambda: project_dialogs.wizard(projects)) \
            .props('unelevated').mark('new-project')
    cards()
    events.on(ProjectsChanged, lambda _: cards.refresh())


def switch_to(projects: Projects, project_id: int) -> None:
    """Make the project this user's current one and show it."""
    projects.open(project_id)
    app.storage.user['project'] = project_id
    ui.navigate.reload()


def _card(projects: Projects, sharing: ProjectSharing, summary: ProjectSummary, *, current: bool, changed) -> None:
    p = summary.project
    counts = {'datasets': summary.datasets, 'runs': summary.runs, 'exports': summary.exports}
    words = {'datasets': ngettext('dataset', 'datasets', summary.datasets),
             'runs': ngettext('run', 'runs', summary.runs), 'exports': ngettext('export', 'exports', summary.exports)}
    with ui.card().classes(theme.CARD + (f' ring-2 ring-[{theme.ACCENT}]' if current else '')).mark(f'project-{p.id}'):
        with ui.row().classes('w-full items-center gap-2 no-wrap'):
            ui.icon('folder_special', color='primary').classes('text-2xl')
            ui.label(p.name).classes('text-lg font-semibold truncate grow')
            if current:
                ui.chip(_('current'), icon='check', color='primary', text_color='white').props('dense square') \
                    .classes('text-xs')
        ui.label(shown_description(p) or _('No description yet.')) \
            .classes('text-sm ' + ('' if p.description else 'italic text-gray-400'))
        ui.label(p.location).classes(theme.MONO + ' text-gray-500 break-all').tooltip(_('Project folder'))
        with ui.row().classes('w-full gap-6'):
            for key, icon in (('datasets', 'library_music'), ('runs', 'model_training'), ('exports', 'ios_share')):
                with ui.row().classes('items-center gap-1 text-sm'):
                    ui.icon(icon).classes('text-gray-400')
                    ui.label(formatting.count(counts[key])).classes(theme.NUMBER + ' font-semibold')
                    ui.label(words[key]).classes('text-gray-500')
        ui.label(_('Created {created} · opened {opened}').format(created=formatting.day(p.created),
                                                                 opened=formatting.moment(p.opened))).classes(theme.HINT)
        ui.separator()
        with ui.row().classes('w-full items-center gap-1'):
            if not current:
                ui.button(_('Open'), icon='login', on_click=lambda: switch_to(projects, p.id)) \
                    .props('flat dense color=primary').mark(f'switch-{p.id}')
            ui.space()
            ui.button(icon='edit', on_click=lambda: project_dialogs.edit(projects, p, changed)) \
                .props('flat round dense').tooltip(_('Edit name and description')).mark(f'edit-{p.id}')
            ui.button(icon='group', on_click=lambda: project_dialogs.share(sharing, p)).props('flat round dense') \
                .tooltip(_('Share: who may see and change it')).mark(f'share-{p.id}').set_visibility(sharing.shared)
            ui.button(icon='archive', on_click=lambda: _backup(projects, summary)) \
                .props('flat round dense').tooltip(_('Back up to one .zip')).mark(f'backup-{p.id}')
            ui.button(icon='delete_outline',
                      on_click=lambda: project_dialogs.delete(projects, summary, current=current)) \
                .props('flat round dense color=negative').tooltip(_('Delete…')).mark(f'delete-{p.id}')


async def _backup(projects: Projects, summary: ProjectSummary) -> None:
    """Write the zip under <data>/backups/ off the event loop, showing progress, then download it."""
    name = summary.project.name
    note = ui.notification(_('Backing up {name}…').format(name=name), spinner=True, timeout=None)
    loop = asyncio.get_running_loop()
    shown = {'percent': -1}

    def show(done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        if percent != shown['percent']:  # called per file, from the worker thread: only on a change
            shown['percent'] = percent
            loop.call_soon_threadsafe(lambda: setattr(note, 'message', progress.format(name=name, percent=percent)))
    progress = _('Backing up {name}… {percent} %')  # translated here: show() is called from the worker thread
    try:
        dest = await run.io_bound(projects.backup, summary.project.id, show)
    except (OSError, ProjectError, Forbidden) as e:
        ui.notify(_('Back-up failed: {error}. Check the free disk space of the data folder.').format(error=e),
                  type='negative')
        return
    finally:
        note.dismiss()
    if summary.external:
        ui.notify(_('Saved {file}. Datasets outside the project folder are referenced, not copied: {datasets}.')
                  .format(file=dest.name, datasets=', '.join(summary.external)), type='warning', multi_line=True,
                  timeout=10000)
    else:
        ui.notify(_('Saved {file} — downloading it now.').format(file=dest), type='positive')
    ui.download.file(dest)
