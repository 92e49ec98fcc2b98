"""A folder outside the browsable ones, refused by the file policy: why, and "Allow this folder" in place for
whoever may change the settings, so the wizard keeps everything the user chose."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from app import theme
from services.access import Forbidden
from services.datasets import FolderRefused
from services.i18n import _
from services.settings import Settings, SettingsError


def offer_allow(settings: Settings, refused: FolderRefused, on_allowed: Callable[[], Awaitable[None]]) -> None:
    """Say why the folder was refused and, for whoever may change the settings, allow it here: the wizard
    stays where it is."""
    async def _allow() -> None:
        try:
            settings.allow_folder(refused.path)
        except (SettingsError, Forbidden) as e:
            ui.notify(str(e), type='negative')
            return
        ui.notify(_('{folder} is now a browsable folder (Settings → browsable folders).').format(folder=refused.path),
                  type='positive')
        await on_allowed()

    with ui.row().classes('w-full items-start gap-2 no-wrap rounded-lg p-2 bg-amber-50 dark:bg-amber-950/30'):
        ui.icon('lock', color='warning').classes('text-lg mt-0.5')
        with ui.column().classes('gap-1 grow min-w-0'):
            ui.label(str(refused)).classes('text-sm break-all').mark('refused-why')
            if settings.may_change:
                ui.button(_('Allow this folder'), icon='lock_open', on_click=_allow) \
                    .props('unelevated dense color=primary no-caps').mark('allow-folder')
                ui.label(_('It is added to Settings → browsable folders; you can remove it there.')).classes(theme.HINT)
            else:
                ui.label(_('Only an admin may allow it (Settings → browsable folders): ask one, or pick a folder '
                           'inside the browsable ones.')).classes(theme.HINT).mark('ask-admin')
