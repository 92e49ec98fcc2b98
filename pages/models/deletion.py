"""Deleting a run or one checkpoint: the dialog names everything that goes and asks for the run's name.

The rules (what may go, the typed name, the last checkpoint) are the Models facade's; these dialogs show its
plan and its sentences."""
from __future__ import annotations

from pathlib import Path

from nicegui import ui

from app import theme
from components import cards
from services import formatting
from services.access import Forbidden
from services.i18n import _, ngettext
from services.models import Models
from services.models.library import LastCheckpoint, LibraryError


def delete_run(models: Models, run_id: int, after: str | None = None, on_done=None) -> None:
    """The run's deletion plan, a "files too" switch and the typed name; `after` is where to go once gone."""
    try:
        plan = models.deletion(run_id)
    except (LibraryError, Forbidden) as e:
        ui.notify(str(e), type='warning')
        return
    with ui.dialog() as dialog, ui.card().classes('w-[520px] max-w-full gap-3').mark('delete-run-dialog'):
        with ui.row().classes('items-center gap-2 no-wrap'):
            ui.icon('delete', color='negative').classes('text-2xl')
            ui.label(_('Delete {name}?').format(name=plan.name)).classes(theme.SECTION)
        ui.label(_('This cannot be undone. It deletes from the studio:')).classes('text-sm')
        with ui.column().classes('w-full gap-0 rounded-lg bg-gray-50 dark:bg-gray-900 p-2 text-sm'):
            ui.label(f'• {plan.rows()}').mark('delete-rows')
            ui.label(_('• {checkpoints} and {exports}').format(
                checkpoints=ngettext('{count} checkpoint', '{count} checkpoints', plan.checkpoints).format(
                    count=plan.checkpoints),
                exports=ngettext('{count} export', '{count} exports', plan.exports).format(count=plan.exports)))
        files = ui.checkbox(_('Also delete the files')).mark('delete-files')
        with ui.column().classes('w-full gap-0 rounded-lg bg-gray-50 dark:bg-gray-900 p-2') \
                .bind_visibility_from(files, 'value'):
            if plan.folder:
                ui.label(f'{plan.folder}  ({formatting.size(plan.folder_bytes)})').classes(theme.MONO + ' break-all')
            for path in plan.export_files:
                ui.label(path).classes(theme.MONO + ' break-all')
            if not plan.folder and not plan.export_files:
                ui.label(_('No files.')).classes(theme.HINT)
        ui.label(_('Without files the run folder stays on disk: `rave train --ckpt` can resume it, and the Models '
                   'page can import it again.')).classes(theme.HINT)
        typed = ui.input(_('Type {name} to confirm').format(name=plan.name)).props('outlined dense').classes('w-full') \
            .mark('delete-confirm')
        if plan.active:
            ui.label(_('It is training or queued: stop it first.')).classes('text-sm text-negative')

        def go() -> None:
            try:
                models.delete_run(run_id, confirm=typed.value or '', files=bool(files.value))
            except (LibraryError, Forbidden) as e:
                ui.notify(str(e), type='warning', multi_line=True)
                return
            dialog.close()
            ui.notify((_('{name} deleted with its files.') if files.value else _('{name} deleted; its files stay.'))
                      .format(name=plan.name))
            if on_done is not None:
                on_done()
            if after:
                ui.navigate.to(after)
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat').mark('delete-no')
            ui.button(_('Delete'), icon='delete', on_click=go).props('unelevated color=negative') \
                .mark('delete-yes').bind_enabled_from(typed, 'value', lambda v: (v or '').strip() == plan.name)
    dialog.open()


async def delete_checkpoint(models: Models, run_id: int, path: str, on_done=None) -> None:
    """Ask, delete; the run's last checkpoint asks a second time, saying what is lost."""
    name = Path(path).name
    if not await cards.confirm(_('Delete {name}?').format(name=name), _('The checkpoint file is deleted from disk.'),
                               yes=_('Delete'),
                               details=[path], mark='delete-checkpoint'):
        return
    try:
        models.delete_checkpoint(run_id, path)
    except LastCheckpoint as e:
        if not await cards.confirm(_('Delete the last checkpoint?'), str(e), yes=_('Delete it anyway'),
                                   mark='delete-last'):
            return
        models.delete_checkpoint(run_id, path, last_confirmed=True)
    except (LibraryError, Forbidden) as e:
        ui.notify(str(e), type='warning')
        return
    ui.notify(_('{name} deleted.').format(name=name))
    if on_done is not None:
        on_done()
