"""Projects: every project as a card, with the new-project wizard, switching, editing, back-up and restore."""
from __future__ import annotations

from nicegui import app, run, ui

from app import theme
from pages import project_dialogs
from services.projects import ProjectError, slug
from services.store import Project, now


def create(studio, project: Project) -> None:
    @ui.refreshable
    def cards() -> None:
        projects = studio.projects.all()
        with ui.grid().classes('w-full gap-4 grid-cols-1 md:grid-cols-2 2xl:grid-cols-3'):
            for p in projects:
                _card(studio, p, current=p.id == project.id, changed=cards.refresh)

    with ui.row().classes('w-full items-end gap-3'):
        with ui.column().classes('gap-0 grow'):
            ui.label('Projects').classes(theme.TITLE)
            ui.label('A project owns its datasets, training runs and exports, in one folder you can back up.') \
                .classes(theme.SUBTITLE)
        ui.button('Restore', icon='settings_backup_restore',
                  on_click=lambda: project_dialogs.restore(studio)).props('flat').mark('restore')
        ui.button('New project', icon='add', on_click=lambda: project_dialogs.wizard(studio)) \
            .props('unelevated').mark('new-project')
    cards()


def switch_to(studio, project: Project) -> None:
    """Make `project` this user's current project and show it."""
    app.storage.user['project'] = project.id
    studio.projects.touch(project)
    ui.navigate.reload()


def _card(studio, p: Project, *, current: bool, changed) -> None:
    counts = studio.projects.counts(p)
    with ui.card().classes(theme.CARD + (f' ring-2 ring-[{theme.ACCENT}]' if current else '')).mark(f'project-{p.id}'):
        with ui.row().classes('w-full items-center gap-2 no-wrap'):
            ui.icon('folder_special', color='primary').classes('text-2xl')
            ui.label(p.name).classes('text-lg font-semibold truncate grow')
            if current:
                ui.chip('current', icon='check', color='primary', text_color='white').props('dense square') \
                    .classes('text-xs')
        ui.label(p.description or 'No description yet.') \
            .classes('text-sm ' + ('' if p.description else 'italic text-gray-400'))
        ui.label(p.location).classes(theme.MONO + ' text-gray-500 break-all').tooltip('Project folder')
        with ui.row().classes('w-full gap-6'):
            for key, icon in (('datasets', 'library_music'), ('runs', 'model_training'), ('exports', 'ios_share')):
                with ui.row().classes('items-center gap-1 text-sm'):
                    ui.icon(icon).classes('text-gray-400')
                    ui.label(f'{counts[key]}').classes(theme.NUMBER + ' font-semibold')
                    ui.label(key if counts[key] != 1 else key[:-1]).classes('text-gray-500')
        ui.label(f'Created {p.created:%Y-%m-%d} · opened {p.opened:%Y-%m-%d %H:%M}').classes(theme.HINT)
        ui.separator()
        with ui.row().classes('w-full items-center gap-1'):
            if not current:
                ui.button('Open', icon='login', on_click=lambda: switch_to(studio, p)) \
                    .props('flat dense color=primary').mark(f'switch-{p.id}')
            ui.space()
            ui.button(icon='edit', on_click=lambda: project_dialogs.edit(studio, p, changed)) \
                .props('flat round dense').tooltip('Edit name and description').mark(f'edit-{p.id}')
            ui.button(icon='archive', on_click=lambda: _backup(studio, p)) \
                .props('flat round dense').tooltip('Back up to one .zip').mark(f'backup-{p.id}')
            ui.button(icon='delete_outline', on_click=lambda: project_dialogs.delete(studio, p, current=current)) \
                .props('flat round dense color=negative').tooltip('Delete…').mark(f'delete-{p.id}')


async def _backup(studio, p: Project) -> None:
    """Write the zip under <data>/backups/ off the event loop, showing progress, then download it."""
    dest = studio.data_dir / 'backups' / f'{slug(p.name)}-{now():%Y%m%d-%H%M%S}.zip'
    figures = {'done': 0, 'total': 0}
    note = ui.notification(f'Backing up {p.name}…', spinner=True, timeout=None)

    def show() -> None:
        if figures['total']:
            note.message = f'Backing up {p.name}… {100 * figures["done"] / figures["total"]:.0f} %'
    timer = ui.timer(0.5, show)
    try:
        await run.io_bound(studio.projects.backup, p, dest, lambda d, t: figures.update(done=d, total=t))
    except (OSError, ProjectError) as e:
        ui.notify(f'Back-up failed: {e}. Check free disk space in {dest.parent}.', type='negative')
        return
    finally:
        timer.cancel()
        note.dismiss()
    external = studio.projects.external_datasets(p)
    if external:
        names = ', '.join(d.name for d in external)
        ui.notify(f'Saved {dest.name}. Datasets outside the project folder are referenced, not copied: {names}.',
                  type='warning', multi_line=True, timeout=10000)
    else:
        ui.notify(f'Saved {dest} — downloading it now.', type='positive')
    ui.download.file(dest)
