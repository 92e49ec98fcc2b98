"""The projects page's dialogs: new-project wizard, edit, restore from a backup, delete with its safeguard,
sharing."""
from __future__ import annotations

from nicegui import app, run, ui

from app import theme
from services import i18n
from services.access import Forbidden
from services.files import UploadRefused
from services.i18n import _, ngettext, pgettext
from services.lab import VISIBILITY, ProjectSharing, SharingError, roles
from services.projects import ProjectError, Projects, ProjectSummary, ProjectView, shown_description


def wizard(projects: Projects) -> None:
    """New project in four steps: name → description → data location → review."""
    rules = {_('Give the project a name.'): lambda v: bool((v or '').strip()),
             _('A project with this name exists already.'): lambda v: not projects.name_taken(v)}
    leave_empty = _('Leave empty for {folder}. Datasets, runs, exports and uploads go there.')  # said in a binding
    with ui.dialog() as dialog, ui.card().classes('w-[560px] max-w-[95vw] p-0'), \
            ui.stepper().props('vertical flat animated').classes('w-full') as stepper:
        with ui.step(_('Name'), icon='badge'):
            name = ui.input(_('Project name'), validation=rules) \
                .props('autofocus outlined dense').classes('w-full').mark('wizard-name')
            ui.label(_('Short and unique, e.g. "Drum machines" or "Choir 2026".')).classes(theme.HINT)
            with ui.stepper_navigation():
                ui.button(_('Next'), on_click=lambda: name.validate() and stepper.next()) \
                    .props('unelevated').mark('wizard-next-1')
                ui.button(_('Cancel'), on_click=dialog.close).props('flat')
        with ui.step(_('Description'), icon='notes'):
            description = ui.textarea(_('Description (optional)')).props('outlined autogrow') \
                .classes('w-full').mark('wizard-description')
            ui.label(_('What the sounds are and what you want the model to do.')).classes(theme.HINT)
            with ui.stepper_navigation():
                ui.button(_('Next'), on_click=stepper.next).props('unelevated').mark('wizard-next-2')
                ui.button(_('Back'), on_click=stepper.previous).props('flat')
        with ui.step(_('Data location'), icon='folder'):
            location = ui.input(_('Folder')).props('outlined dense').classes('w-full').mark('wizard-location')
            ui.label().classes(theme.HINT).bind_text_from(
                name, 'value', lambda v: leave_empty.format(folder=projects.default_location(v)))
            with ui.stepper_navigation():
                ui.button(_('Next'), on_click=stepper.next).props('unelevated').mark('wizard-next-3')
                ui.button(_('Back'), on_click=stepper.previous).props('flat')
        with ui.step(_('Review'), icon='task_alt'):
            review = ui.column().classes('gap-1 text-sm')
            stepper.on_value_change(lambda: _review(review, projects, name.value, description.value,
                                                    location.value))
            error = ui.label().classes('text-sm text-negative')
            with ui.stepper_navigation():
                ui.button(_('Create project'), icon='check', on_click=lambda: _create()) \
                    .props('unelevated').mark('wizard-create')
                ui.button(_('Back'), on_click=stepper.previous).props('flat')

    def _create() -> None:
        try:
            created = projects.create(name.value, description.value, location.value)
        except (ProjectError, Forbidden) as e:
            error.set_text(str(e))
            return
        dialog.close()
        app.storage.user['project'] = created.id
        ui.notify(_('Project "{name}" created — it is now your current project.').format(name=created.name),
                  type='positive')
        ui.navigate.reload()
    dialog.open()


def edit(projects: Projects, p: ProjectView, changed) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-[480px] max-w-[95vw]'):
        ui.label(_('Edit {name}').format(name=p.name)).classes(theme.SECTION)
        name = ui.input(_('Name'), value=p.name).props('outlined dense').classes('w-full').mark('edit-name')
        ui.label(_('Must stay unique; the folder keeps its place.')).classes(theme.HINT)
        description = ui.textarea(_('Description'), value=shown_description(p)).props('outlined autogrow') \
            .classes('w-full').mark('edit-description')
        ui.label(_('Folder: {folder}').format(folder=p.location)).classes(theme.HINT + ' break-all')
        error = ui.label().classes('text-sm text-negative')

        def save() -> None:
            try:
                unchanged = description.value == shown_description(p)  # the studio's default stays its own
                projects.update(p.id, name.value, p.description if unchanged else description.value)
            except (ProjectError, Forbidden) as e:
                error.set_text(str(e))
                return
            dialog.close()
            ui.notify(_('Project saved.'), type='positive')
            changed()
        with ui.row().classes('w-full justify-end'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            ui.button(_('Save'), on_click=save).props('unelevated').mark('edit-save')
    dialog.open()


def restore(projects: Projects) -> None:
    """Restore a backup zip, uploaded or by path, into a new project on this data folder."""
    max_mb = projects.upload_limit_mb()
    with ui.dialog() as dialog, ui.card().classes('w-[560px] max-w-[95vw]'):
        ui.label(_('Restore a project')).classes(theme.SECTION)
        ui.label(_('From a .zip made by "Back up" — on this or another machine.')).classes(theme.SUBTITLE)

        async def received(e) -> None:
            try:
                sink = projects.receive_backup(e.file.name, e.file.size())
                target = await sink.receive(e.file.iterate())
            except (UploadRefused, Forbidden) as refused:
                error.set_text(str(refused))
                return
            path.set_value(str(target))
        too_large = _('That file is larger than {size} MB. Give its path below instead, or raise the limit in '
                      'Settings.').format(size=max_mb)
        ui.upload(label=_('Upload a backup (up to {size} MB)').format(size=max_mb), auto_upload=True,
                  on_upload=received, max_file_size=max_mb * 1024 * 1024 or None,
                  on_rejected=lambda: ui.notify(too_large, type='warning')) \
            .props('accept=.zip flat bordered').classes('w-full').mark('restore-upload')
        path = ui.input(_('…or the path of a backup on this machine')).props('outlined dense') \
            .classes('w-full').mark('restore-path')
        ui.label(_('A file inside the folders this studio may browse (Settings → Folders).')).classes(theme.HINT)
        name = ui.input(_('Name (optional)')).props('outlined dense').classes('w-full').mark('restore-name')
        ui.label(_('Leave empty to keep the name stored in the backup.')).classes(theme.HINT)
        location = ui.input(_('Folder (optional)')).props('outlined dense').classes('w-full').mark('restore-location')
        ui.label(_('Leave empty for {folder}/<name>; a folder you give must be empty.')
                 .format(folder=projects.default_location('').parent)).classes(theme.HINT)
        error = ui.label().classes('text-sm text-negative').mark('restore-error')

        async def go() -> None:
            button.props('loading')
            try:
                restored = await run.io_bound(i18n.carrying(projects.restore), path.value, name.value.strip() or None,
                                              location.value)
            except (ProjectError, Forbidden, OSError) as e:
                error.set_text(str(e))
                if getattr(e, 'suggestion', ''):
                    name.set_value(e.suggestion)
                return
            finally:
                button.props(remove='loading')
            dialog.close()
            app.storage.user['project'] = restored.id
            ui.notify(_('Restored "{name}" — it is now your current project.').format(name=restored.name),
                      type='positive')
            ui.navigate.reload()
        with ui.row().classes('w-full justify-end'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            button = ui.button(_('Restore'), icon='settings_backup_restore', on_click=go) \
                .props('unelevated').mark('restore-go')
    dialog.open()


def delete(projects: Projects, summary: ProjectSummary, *, current: bool) -> None:
    p = summary.project
    with ui.dialog() as dialog, ui.card().classes('w-[520px] max-w-[95vw]'):
        with ui.row().classes('items-center gap-2'):
            ui.icon('warning', color='negative').classes('text-2xl')
            ui.label(_('Delete "{name}"?').format(name=p.name)).classes(theme.SECTION)
        ui.label(_('This removes from the studio:')).classes('text-sm')
        with ui.column().classes('gap-0 pl-4 text-sm'):
            ui.label('• ' + _('the project and its settings'))
            ui.label('• ' + _('{datasets}, {runs} with {checkpoints}, {exports}').format(
                datasets=ngettext('{count} dataset', '{count} datasets', summary.datasets)
                .format(count=summary.datasets),
                runs=ngettext('{count} run', '{count} runs', summary.runs).format(count=summary.runs),
                checkpoints=ngettext('{count} checkpoint', '{count} checkpoints', summary.checkpoints)
                .format(count=summary.checkpoints),
                exports=ngettext('{count} export', '{count} exports', summary.exports).format(count=summary.exports)))
        files = ui.checkbox(_('Also delete the files in {folder}').format(folder=p.location)).mark('delete-files')
        note = ui.label().classes('text-sm')
        gone, kept = (_('The folder and everything in it (LMDB datasets, runs, checkpoints, exports, uploads) is '
                        'deleted for good.'),
                      _('Files are kept: the folder stays on disk and can be imported again.'))
        note.bind_text_from(files, 'value', lambda on: gone if on else kept)
        if summary.external:
            ui.label(_('Never touched: datasets outside the project folder ({datasets}).')
                     .format(datasets=', '.join(summary.external))).classes(theme.HINT + ' break-all')
        confirm = ui.input(_('Type {name} to confirm').format(name=p.name)).props('outlined dense').classes('w-full') \
            .mark('delete-confirm')
        error = ui.label().classes('text-sm text-negative')

        def go() -> None:
            try:
                projects.delete(p.id, confirm.value, remove_files=files.value)
            except (ProjectError, Forbidden) as e:
                error.set_text(str(e))
                return
            dialog.close()
            if current:
                app.storage.user.pop('project', None)
            ui.notify((_('Deleted "{name}" and its files.') if files.value else
                       _('Deleted "{name}"; its files are kept.')).format(name=p.name), type='positive')
            ui.navigate.reload()
        with ui.row().classes('w-full justify-end'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            ui.button(_('Delete'), icon='delete', on_click=go).props('unelevated color=negative') \
                .bind_enabled_from(confirm, 'value', lambda v: v == p.name).mark('delete-go')
    dialog.open()


def _review(box: ui.column, projects: Projects, name: str, description: str, location: str) -> None:
    box.clear()
    with box:
        for label, value in ((_('Name'), name), (_('Description'), description or '—'),
                             (_('Folder'), location.strip() or str(projects.default_location(name)))):
            with ui.row().classes('gap-2 no-wrap'):
                ui.label(label).classes('w-24 text-gray-500 shrink-0')
                ui.label(value).classes('break-all')



def share(sharing: ProjectSharing, p: ProjectView) -> None:
    """Who may see and change the project: its visibility to the lab and its members with their roles."""
    with ui.dialog() as dialog, ui.card().classes('w-[560px] max-w-[95vw] gap-3').mark('share-dialog'):
        ui.label(_('Share {name}').format(name=p.name)).classes('text-lg font-semibold')

        choices = {'read': pgettext('role', 'Read'), 'edit': pgettext('role', 'Edit'),  # a member may be given
                   'manage': pgettext('role', 'Manage')}

        @ui.refreshable
        def body() -> None:
            view = sharing.of(p.id)
            ui.label(_('Owner: {owner} · your role here: {role}').format(
                owner=view.owner or _('nobody (admins manage it)'), role=roles.said(view.role))) \
                .classes(theme.HINT)
            if not view.may_manage:
                ui.label(_('Only its owner, its managers and admins change who may use this project.')) \
                    .classes('text-sm').mark('share-readonly')
            ui.radio({k: _(v) for k, v in VISIBILITY.items()}, value=view.visibility,
                     on_change=lambda e: _apply(lambda: sharing.set_visibility(p.id, e.value), body)) \
                .props('' if view.may_manage else 'disable').mark('share-visibility')
            ui.label(_('Members keep their own role whatever the visibility; admins may do everything.')) \
                .classes(theme.HINT)
            ui.separator()
            ui.label(_('Members')).classes('font-medium')
            if not view.members:
                ui.label(_('No members yet: add someone below.')).classes('text-sm italic text-gray-500')
            for member in view.members:
                with ui.row().classes('w-full items-center gap-2 no-wrap').mark(f'member-{member.name}'):
                    ui.icon('person').classes('text-gray-400')
                    ui.label(member.name).classes('grow')
                    ui.select(choices, value=member.role,
                              on_change=lambda e, m=member: _apply(lambda: sharing.set_role(p.id, m.name, e.value),
                                                                   body)) \
                        .props('outlined dense' + ('' if view.may_manage else ' disable')).classes('w-40') \
                        .mark(f'member-role-{member.name}')
                    if view.may_manage:
                        ui.button(icon='person_remove', on_click=lambda m=member: _apply(
                            lambda: sharing.set_role(p.id, m.name, 'none'), body)) \
                            .props('flat round dense color=negative').tooltip(_('Remove from the project')) \
                            .mark(f'member-remove-{member.name}')
            if view.may_manage:
                taken = {m.name for m in view.members} | {view.owner}
                with ui.row().classes('w-full items-center gap-2 no-wrap'):
                    who = ui.select([n for n in sharing.people() if n not in taken], label=_('Add a member'),
                                    with_input=True).props('outlined dense').classes('grow').mark('member-new')
                    role = ui.select(choices, value='edit').props('outlined dense').classes('w-40') \
                        .mark('member-new-role')
                    ui.button(_('Add'), icon='person_add', on_click=lambda: who.value and _apply(
                        lambda: sharing.set_role(p.id, who.value, role.value), body)) \
                        .props('unelevated').mark('member-add')

        body()
        with ui.row().classes('w-full justify-end'):
            ui.button(_('Done'), on_click=dialog.close).props('flat').mark('share-done')
    dialog.open()


def _apply(change, body) -> None:
    try:
        change()
    except (SharingError, Forbidden) as e:
        ui.notify(str(e), type='negative')
    body.refresh()
