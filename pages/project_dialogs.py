"""The projects page's dialogs: new-project wizard, edit, restore from a backup, delete with its safeguard."""
from __future__ import annotations

from pathlib import Path

from nicegui import app, run, ui

from app import theme
from services.projects import ProjectError
from services.store import Project


def wizard(studio) -> None:
    """New project in four steps: name → description → data location → review."""
    with ui.dialog() as dialog, ui.card().classes('w-[560px] max-w-[95vw] p-0'), \
            ui.stepper().props('vertical flat animated').classes('w-full') as stepper:
        with ui.step('Name', icon='badge'):
            name = ui.input('Project name', validation=_NAME_RULES) \
                .props('autofocus outlined dense').classes('w-full').mark('wizard-name')
            ui.label('Short and unique, e.g. "Drum machines" or "Choir 2026".').classes(theme.HINT)
            with ui.stepper_navigation():
                ui.button('Next', on_click=lambda: name.validate() and stepper.next()) \
                    .props('unelevated').mark('wizard-next-1')
                ui.button('Cancel', on_click=dialog.close).props('flat')
        with ui.step('Description', icon='notes'):
            description = ui.textarea('Description (optional)').props('outlined autogrow') \
                .classes('w-full').mark('wizard-description')
            ui.label('What the sounds are and what you want the model to do.').classes(theme.HINT)
            with ui.stepper_navigation():
                ui.button('Next', on_click=stepper.next).props('unelevated').mark('wizard-next-2')
                ui.button('Back', on_click=stepper.previous).props('flat')
        with ui.step('Data location', icon='folder'):
            location = ui.input('Folder').props('outlined dense').classes('w-full').mark('wizard-location')
            ui.label().classes(theme.HINT).bind_text_from(
                name, 'value', lambda v: f'Leave empty for {studio.projects.default_location(v or "project")}. '
                                         'Datasets, runs, exports and uploads go there.')
            with ui.stepper_navigation():
                ui.button('Next', on_click=stepper.next).props('unelevated').mark('wizard-next-3')
                ui.button('Back', on_click=stepper.previous).props('flat')
        with ui.step('Review', icon='task_alt'):
            review = ui.column().classes('gap-1 text-sm')
            stepper.on_value_change(lambda: _review(review, studio, name.value, description.value, location.value))
            error = ui.label().classes('text-sm text-negative')
            with ui.stepper_navigation():
                ui.button('Create project', icon='check', on_click=lambda: _create()) \
                    .props('unelevated').mark('wizard-create')
                ui.button('Back', on_click=stepper.previous).props('flat')

    def _create() -> None:
        folder = location.value.strip() or None
        if folder and _shared() and not studio.settings.within_roots(folder):
            error.set_text(f'{folder} is outside the folders this studio may use. Leave it empty or add it in '
                           'Settings → Folders.')
            return
        try:
            created = studio.projects.create(name.value, description.value, folder)
        except ProjectError as e:
            error.set_text(str(e))
            return
        dialog.close()
        app.storage.user['project'] = created.id
        ui.notify(f'Project "{created.name}" created — it is now your current project.', type='positive')
        ui.navigate.reload()
    dialog.open()


def edit(studio, p: Project, changed) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-[480px] max-w-[95vw]'):
        ui.label(f'Edit {p.name}').classes(theme.SECTION)
        name = ui.input('Name', value=p.name).props('outlined dense').classes('w-full').mark('edit-name')
        ui.label('Must stay unique; the folder keeps its place.').classes(theme.HINT)
        description = ui.textarea('Description', value=p.description).props('outlined autogrow') \
            .classes('w-full').mark('edit-description')
        ui.label(f'Folder: {p.location}').classes(theme.HINT + ' break-all')
        error = ui.label().classes('text-sm text-negative')

        def save() -> None:
            try:
                studio.projects.update(p, name.value, description.value)
            except ProjectError as e:
                error.set_text(str(e))
                return
            dialog.close()
            ui.notify('Project saved.', type='positive')
            changed()
        with ui.row().classes('w-full justify-end'):
            ui.button('Cancel', on_click=dialog.close).props('flat')
            ui.button('Save', on_click=save).props('unelevated').mark('edit-save')
    dialog.open()


def restore(studio) -> None:
    """Restore a backup zip, uploaded or by path, into a new project on this data folder."""
    inbox = studio.data_dir / 'backups' / 'incoming'
    max_mb = int(studio.settings.get('max_upload_mb') or 512)
    with ui.dialog() as dialog, ui.card().classes('w-[560px] max-w-[95vw]'):
        ui.label('Restore a project').classes(theme.SECTION)
        ui.label('From a .zip made by "Back up" — on this or another machine.').classes(theme.SUBTITLE)

        async def received(e) -> None:
            inbox.mkdir(parents=True, exist_ok=True)
            target = inbox / Path(e.file.name).name
            await e.file.save(target)
            path.set_value(str(target))
        ui.upload(label=f'Upload a backup (up to {max_mb} MB)', auto_upload=True, on_upload=received,
                  max_file_size=max_mb * 1024 * 1024,
                  on_rejected=lambda: ui.notify(f'That file is larger than {max_mb} MB. Give its path below '
                                                'instead, or raise the limit in Settings.', type='warning')) \
            .props('accept=.zip flat bordered').classes('w-full').mark('restore-upload')
        path = ui.input('…or the path of a backup on this machine').props('outlined dense') \
            .classes('w-full').mark('restore-path')
        ui.label('A file inside the folders this studio may browse (Settings → Folders).').classes(theme.HINT)
        name = ui.input('Name (optional)').props('outlined dense').classes('w-full').mark('restore-name')
        ui.label('Leave empty to keep the name stored in the backup.').classes(theme.HINT)
        location = ui.input('Folder (optional)').props('outlined dense').classes('w-full').mark('restore-location')
        ui.label(f'Leave empty for {studio.data_dir / "projects"}/<name>; a folder you give must be empty.') \
            .classes(theme.HINT)
        error = ui.label().classes('text-sm text-negative').mark('restore-error')

        async def go() -> None:
            source = path.value.strip()
            if not source:
                error.set_text('Upload a backup or give its path first.')
                return
            if not studio.settings.within_roots(source):
                error.set_text(f'{source} is outside the folders this studio may browse. Add its folder in '
                               'Settings → Folders, or upload the file.')
                return
            button.props('loading')
            try:
                restored = await run.io_bound(studio.projects.restore, source, name.value.strip() or None,
                                              location.value.strip() or None)
            except (ProjectError, OSError) as e:
                error.set_text(str(e))
                if getattr(e, 'suggestion', ''):
                    name.set_value(e.suggestion)
                return
            finally:
                button.props(remove='loading')
            dialog.close()
            app.storage.user['project'] = restored.id
            ui.notify(f'Restored "{restored.name}" — it is now your current project.', type='positive')
            ui.navigate.reload()
        with ui.row().classes('w-full justify-end'):
            ui.button('Cancel', on_click=dialog.close).props('flat')
            button = ui.button('Restore', icon='settings_backup_restore', on_click=go) \
                .props('unelevated').mark('restore-go')
    dialog.open()


def delete(studio, p: Project, *, current: bool) -> None:
    counts = studio.projects.counts(p)
    checkpoints = sum(r.checkpoints.count() for r in p.runs)
    external = studio.projects.external_datasets(p)
    with ui.dialog() as dialog, ui.card().classes('w-[520px] max-w-[95vw]'):
        with ui.row().classes('items-center gap-2'):
            ui.icon('warning', color='negative').classes('text-2xl')
            ui.label(f'Delete "{p.name}"?').classes(theme.SECTION)
        ui.label('This removes from the studio:').classes('text-sm')
        with ui.column().classes('gap-0 pl-4 text-sm'):
            ui.label('• the project and its settings')
            ui.label(f'• {counts["datasets"]} dataset(s), {counts["runs"]} run(s) with {checkpoints} checkpoint(s), '
                     f'{counts["exports"]} export(s)')
        files = ui.checkbox(f'Also delete the files in {p.location}').mark('delete-files')
        note = ui.label().classes('text-sm')
        note.bind_text_from(files, 'value', lambda on: (
            'The folder and everything in it (LMDB datasets, runs, checkpoints, exports, uploads) is deleted '
            'for good.' if on else 'Files are kept: the folder stays on disk and can be imported again.'))
        if external:
            ui.label('Never touched: datasets outside the project folder (' +
                     ', '.join(d.path for d in external) + ').').classes(theme.HINT + ' break-all')
        confirm = ui.input(f'Type {p.name} to confirm').props('outlined dense').classes('w-full') \
            .mark('delete-confirm')
        error = ui.label().classes('text-sm text-negative')

        def go() -> None:
            try:
                studio.projects.delete(p, confirm.value, remove_files=files.value)
            except ProjectError as e:
                error.set_text(str(e))
                return
            dialog.close()
            if current:
                app.storage.user.pop('project', None)
            ui.notify(f'Deleted "{p.name}"' + (' and its files.' if files.value else '; its files are kept.'),
                      type='positive')
            ui.navigate.reload()
        with ui.row().classes('w-full justify-end'):
            ui.button('Cancel', on_click=dialog.close).props('flat')
            ui.button('Delete', icon='delete', on_click=go).props('unelevated color=negative') \
                .bind_enabled_from(confirm, 'value', lambda v: v == p.name).mark('delete-go')
    dialog.open()


_NAME_RULES = {
    'Give the project a name.': lambda v: bool((v or '').strip()),
    'A project with this name exists already.': lambda v: not Project.get_or_none(Project.name == (v or '').strip()),
}


def _review(box: ui.column, studio, name: str, description: str, location: str) -> None:
    box.clear()
    with box:
        for label, value in (('Name', name), ('Description', description or '—'),
                             ('Folder', location.strip() or str(studio.projects.default_location(name or 'project')))):
            with ui.row().classes('gap-2 no-wrap'):
                ui.label(label).classes('w-24 text-gray-500 shrink-0')
                ui.label(value).classes('break-all')


def _shared() -> bool:
    return bool(app.storage.user.get('user'))
