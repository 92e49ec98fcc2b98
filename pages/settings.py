"""Settings: data folder, browsable folders, default device, the Python that runs RAVE, limits, password."""
from __future__ import annotations

import sys

from nicegui import app, run, ui

from app import theme
from components import cards
from pages import settings_cluster
from services import i18n, logs, users
from services.access import Forbidden
from services.cluster import Cluster
from services.i18n import N_, _
from services.lab import VISIBILITY
from services.settings import DOCS, Settings, SettingsError, SettingsView
from services.system import System

HINTS = {d.key: d.hint for d in DOCS}


def create(settings: Settings, system: System, cluster: Cluster) -> None:
    values = settings.values()
    with ui.column().classes('gap-0'):
        ui.label(_('Settings')).classes(theme.TITLE)
        ui.label(_('Studio-wide choices, kept in this data folder.')).classes(theme.SUBTITLE)

    with cards.section(_('Data folder'), 'storage'):
        ui.label(str(settings.data_dir)).classes(theme.MONO + ' break-all').mark('data-dir')
        ui.label(_('Holds the database, job logs and (by default) every project. To use another one, start the '
                   'studio with  rave-studio --data-dir /path/to/folder.')).classes(theme.HINT)

    with cards.section(_('Folders users may browse'), 'folder_open'):
        roots = list(values.browse_roots)
        root_list = ui.column().classes('w-full gap-1').mark('setting-browse_roots')
        with ui.row().classes('w-full items-start gap-2 no-wrap'):
            new_root = ui.input(_('Add a folder'), placeholder='/home/me/samples').props('outlined dense') \
                .classes('grow').mark('new-root')
            ui.button(_('Add'), icon='add', on_click=lambda: add_root()).props('flat').mark('add-root')
        ui.label(_hint('browse_roots')).classes(theme.HINT)
        home = ui.switch(_('Home folder'), value=values.browse_home).mark('setting-browse_home')
        ui.label(_hint('browse_home')).classes(theme.HINT)
        visibility = ui.select({k: _(v) for k, v in VISIBILITY.items()}, value=values.default_visibility,
                               label=_('New projects on a shared studio')) \
            .props('outlined dense').classes('w-full sm:w-80').mark('setting-default_visibility')
        ui.label(_hint('default_visibility')).classes(theme.HINT)

    with cards.section(_('Jobs'), 'memory'):
        devices = dict(system.devices())
        devices.setdefault(values.default_device, _('{device} (not present now)').format(device=values.default_device))
        device = ui.select(devices, value=values.default_device, label=_('Default device')) \
            .props('outlined dense').classes('w-full sm:w-80').mark('setting-default_device')
        ui.label(_hint('default_device')).classes(theme.HINT)
        python = ui.input(_('Python interpreter'), value=values.python, placeholder=sys.executable) \
            .props('outlined dense').classes('w-full').mark('setting-python')
        ui.label(_('{hint} The studio\'s own is {python}.').format(hint=_hint('python'), python=sys.executable)) \
            .classes(theme.HINT + ' break-all')
        python_error = ui.label().classes('text-sm text-negative').mark('python-error')
        with ui.row().classes('w-full gap-4'):
            with ui.column().classes('gap-0'):
                parallel = ui.number(_('Parallel preprocessing jobs'), value=values.parallel_preprocess, min=1,
                                     max=16, step=1, format='%d').props('outlined dense') \
                    .classes('w-64').mark('setting-parallel_preprocess')
                ui.label(_hint('parallel_preprocess')).classes(theme.HINT)
            with ui.column().classes('gap-0'):
                upload = ui.number(_('Max upload size'), value=values.max_upload_mb, min=1, step=1, format='%d',
                                   suffix=_('MB')).props('outlined dense').classes('w-64').mark('setting-max_upload_mb')
                ui.label(_hint('max_upload_mb')).classes(theme.HINT)

    with cards.section(_('Playing models'), 'graphic_eq'):
        ui.label(_('The Generate, Explorer and Transfer pages keep the models they use loaded, so a slider '
                   'answers at once.')).classes(theme.HINT)
        with ui.row().classes('w-full gap-4'):
            play_fields = {}
            for key, label, suffix, low, step in (('model_server_idle_min', N_('Unload after idle'), 'min', 1, 1),
                                                  ('model_servers_max', N_('Models loaded at once'), '', 1, 1),
                                                  ('model_server_memory_gb', N_('Memory for models'), N_('GB'), 0.5,
                                                   0.5)):
                with ui.column().classes('gap-0 w-64'):
                    play_fields[key] = ui.number(_(label), value=getattr(values, key), min=low, step=step,
                                                 suffix=_(suffix) if suffix else None).props('outlined dense') \
                        .classes('w-64').mark(f'setting-{key}')
                    ui.label(_hint(key)).classes(theme.HINT)

    with cards.section(_('Studio log'), 'receipt_long'):
        log_level = ui.select(list(logs.LEVELS), value=values.log_level, label=_('Log level')) \
            .props('outlined dense').classes('w-full sm:w-80').mark('setting-log_level')
        ui.label(_hint('log_level')).classes(theme.HINT)
        with ui.row().classes('items-center gap-2'):
            ui.link(_('Diagnostics: the install doctor, the error history and a bundle for a bug report'),
                    '/settings/diagnostics').classes('text-sm')

    with ui.row().classes('w-full justify-end'):
        save_button = ui.button(_('Save settings'), icon='save', on_click=lambda: save()) \
            .props('unelevated').mark('save-settings')
    if not settings.may_change:
        ui.label(_('Only an administrator can change studio settings on a shared server.')).classes(theme.HINT)
        for element in (new_root, home, device, python, parallel, upload, *play_fields.values(), log_level,
                        save_button):
            element.disable()

    _appearance_card()
    if settings.actor.shared and settings.actor.name:
        _password_card(settings.actor.name)
    settings_cluster.card(cluster)

    def draw_roots() -> None:
        root_list.clear()
        with root_list:
            if not roots:
                ui.label(_('Only the data folder for now.')).classes('text-sm text-gray-500')
            for root in roots:
                with ui.row().classes('w-full items-center gap-2 no-wrap px-2 py-1 rounded-lg '
                                      'bg-gray-50 dark:bg-gray-900'):
                    ui.icon('folder', color='primary')
                    ui.label(root).classes(theme.MONO + ' grow break-all')
                    ui.button(icon='close', on_click=lambda r=root: remove_root(r)) \
                        .props('flat round dense size=sm').tooltip(_('Remove')).set_enabled(settings.may_change)

    def add_root() -> None:
        try:
            folder = settings.folder(new_root.value)
        except SettingsError as e:
            ui.notify(str(e), type='negative')
            return
        if folder not in roots:
            roots.append(folder)
        new_root.set_value('')
        draw_roots()

    def remove_root(root: str) -> None:
        roots.remove(root)
        draw_roots()

    async def save() -> None:
        python_error.set_text('')
        chosen = SettingsView(tuple(roots), bool(home.value), device.value, python.value or '',
                              int(parallel.value or 1), int(upload.value or 1),
                              int(play_fields['model_server_idle_min'].value or 1),
                              int(play_fields['model_servers_max'].value or 1),
                              float(play_fields['model_server_memory_gb'].value or 1), visibility.value,
                              log_level=log_level.value or 'INFO')
        save_button.props('loading')
        try:
            await run.io_bound(settings.save, chosen)
        except (SettingsError, Forbidden) as e:
            if getattr(e, 'key', '') == 'python':
                python_error.set_text(str(e))
            ui.notify(_('Not saved: {reason}').format(reason=e), type='negative', multi_line=True)
            return
        finally:
            save_button.props(remove='loading')
        ui.notify(_('Settings saved.'), type='positive')

    draw_roots()


def _appearance_card() -> None:
    """The theme, the text size and the language: this user's own, applied at once (no Save needed)."""
    name, scale = theme.appearance(app.storage.user)

    def pick_theme(e) -> None:
        theme.choose(app.storage.user, e.value)
        ui.navigate.reload()

    def pick_scale(e) -> None:
        app.storage.user['font_scale'] = int(e.value)
        ui.navigate.reload()

    def pick_language(e) -> None:
        if e.value in i18n.LANGUAGES:
            app.storage.user[i18n.CHOICE] = e.value
        else:
            app.storage.user.pop(i18n.CHOICE, None)
        ui.navigate.reload()

    with cards.section(_('Appearance'), 'contrast').mark('appearance'):
        ui.label(_('Your own choices, remembered for you on this studio; they apply at once.')).classes(theme.HINT)
        with ui.row().classes('w-full gap-6 items-start'):
            with ui.column().classes('gap-0'):
                ui.radio({k: _(v) for k, v in theme.THEMES.items()}, value=name, on_change=pick_theme) \
                    .props('inline').mark('setting-theme').props['aria-label'] = _('Theme')
                ui.label(_('High contrast: black on white, every colour at 7:1 or more.')).classes(theme.HINT)
            with ui.column().classes('gap-0'):
                ui.select({p: f'{p} %' for p in theme.FONT_SCALES}, value=scale, label=_('Text size'),
                          on_change=pick_scale).props('outlined dense').classes('w-40').mark('setting-font_scale')
                ui.label(_('Larger text for every page; the layout follows up to 200 %.')).classes(theme.HINT)
            with ui.column().classes('gap-0'):
                chosen = app.storage.user.get(i18n.CHOICE, '')
                ui.select({'': _('Follow the browser'), **i18n.LANGUAGES}, value=chosen, label=_('Language'),
                          on_change=pick_language).props('outlined dense').classes('w-48').mark('setting-language')
                ui.label(_('The words of every page, and how numbers and dates are written.')).classes(theme.HINT)


def _password_card(name: str) -> None:
    with cards.section(_('Change my password'), 'key'):
        current = ui.input(_('Current password'), password=True).props('outlined dense').classes('w-full sm:w-80') \
            .mark('password-current')
        new = ui.input(_('New password'), password=True, password_toggle_button=True).props('outlined dense') \
            .classes('w-full sm:w-80').mark('password-new')
        ui.label(_('At least 8 characters.')).classes(theme.HINT)
        again = ui.input(_('New password again'), password=True).props('outlined dense').classes('w-full sm:w-80') \
            .mark('password-again')

        async def change() -> None:
            if await run.io_bound(users.check, name, current.value or '') is None:
                ui.notify(_('The current password is wrong.'), type='negative')
            elif new.value != again.value:
                ui.notify(_('The two new passwords differ; type them again.'), type='negative')
            else:
                try:
                    await run.io_bound(users.set_password, name, new.value or '')
                except ValueError as e:
                    ui.notify(str(e), type='negative')
                    return
                for field in (current, new, again):
                    field.set_value('')
                ui.notify(_('Password changed.'), type='positive')
        ui.button(_('Change password'), icon='key', on_click=change).props('flat').mark('password-change')


def _hint(key: str) -> str:
    """A setting's documented hint (services/settings.DOCS), in the page's language."""
    return _(HINTS[key])
