"""Settings → Plugins: the installed plugins and the built-in areas, their hooks, switches and load errors."""
from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from app import theme
from components import cards
from services.access import Forbidden
from services.i18n import N_, _
from services.plugins import Plugins, PluginView, SettingView

GUIDE_PATH = '/settings/plugins/guide'
BUILT_IN = {  # the studio's own areas, as this page describes them (their modules' docstrings are for developers)
    'pages.plugin': N_('The small areas: dashboard, projects, settings with its plugins page, and help.'),
    'pages.datasets.plugin': N_('The datasets area: the library, one dataset, and its LMDB inspector.'),
    'pages.training.plugin': N_("The training area: runs, the new-run wizard, the config catalogue, TensorBoard and "
                                "one run's page."),
    'pages.models.plugin': N_('The models area: runs with their checkpoints and exports, the export pages and the '
                              'Play pages (generate, explore, transfer), with the built-in export targets.'),
    'pages.lab.plugin': N_("The lab area: accounts, the team view and the audit log, registered as a plugin's pages "
                           'are.'),
    'services.builtin': N_("The studio's own job kinds (preprocess, dataset statistics, train, export, reconstruct) "
                           'and run alerts.'),
}
GUIDE_CSS = """
.studio-guide h1 { font-size: 1.6rem; line-height: 2rem; font-weight: 600; margin: 0 0 .75rem; }
.studio-guide h2 { font-size: 1.25rem; line-height: 1.75rem; font-weight: 600; margin: 1.75rem 0 .5rem; }
.studio-guide h3 { font-size: 1.05rem; line-height: 1.5rem; font-weight: 600; margin: 1.5rem 0 .4rem; }
.studio-guide p, .studio-guide li { line-height: 1.6; }
.studio-guide ul { list-style: disc; padding-left: 1.25rem; margin: .25rem 0 .75rem; }
.studio-guide pre { background: rgba(128, 128, 128, .08); border-radius: .5rem; padding: .75rem 1rem;
                    overflow-x: auto; font-size: .8rem; margin: .5rem 0 1rem; }
.studio-guide code { font-size: .85em; background: rgba(128, 128, 128, .12); padding: 0 .25rem; border-radius: .25rem; }
.studio-guide pre code { background: none; padding: 0; }
"""  # Markdown's own elements: the guide is rendered HTML, so its headings and code blocks get styled here


def create(plugins: Plugins) -> None:
    with ui.row().classes('w-full items-end gap-4'):
        with ui.column().classes('gap-0 grow'):
            ui.label(_('Plugins')).classes(theme.TITLE)
            ui.label(_('What the studio is made of: its own areas and the plugins installed beside it. Switching '
                       'a plugin on or off takes effect at the next start of the studio.')).classes(theme.SUBTITLE)
        ui.button(_('How to write a plugin'), icon='menu_book', on_click=lambda: ui.navigate.to(GUIDE_PATH)) \
            .props('flat').mark('plugin-guide')
    if not plugins.may_change():
        ui.label(_('Only an administrator can switch plugins or change their settings on a shared server.')) \
            .classes(theme.HINT)
    body = ui.column().classes('w-full gap-4')

    def draw() -> None:
        body.clear()
        with body:
            _plugin_list(plugins, draw)
    draw()


def guide(plugins: Plugins) -> None:
    text = plugins.guide()
    ui.add_css(GUIDE_CSS)
    with ui.card().classes(theme.CARD + ' max-w-4xl'):
        if text:
            ui.markdown(text).classes('studio-guide w-full min-w-0').mark('guide')
        else:
            ui.label(_('The plugin guide is not installed with this copy of the studio: read docs/plugins.md in '
                       'the RAVE Studio repository.')).classes('text-sm')


def _plugin_list(plugins: Plugins, redraw: Callable[[], None]) -> None:
    views = plugins.list()
    installed = [v for v in views if not v.builtin]
    ui.label(_('Installed plugins')).classes(theme.SECTION + ' mt-2')
    if not installed:
        _empty_state()
    for view in installed:
        _plugin_card(plugins, view, redraw)
    ui.label(_('Built into the studio')).classes(theme.SECTION + ' mt-4')
    ui.label(_("The studio's own areas register their pages and menu entries through the same hooks.")) \
        .classes(theme.HINT)
    for view in views:
        if view.builtin:
            _plugin_card(plugins, view, redraw)


def _empty_state() -> None:
    cards.empty_state('extension', _('No plugins installed yet'),
                      _('A plugin is a Python package with a "rave_studio" entry point: it can add pages, dataset '
                        "checks, run alerts, export targets and job kinds. Install one with pip into the studio's "
                        'environment and start the studio again.'),
                      [cards.Action(_('Read the plugin guide'), 'menu_book', GUIDE_PATH, primary=False)],
                      mark='no-plugins')


def _plugin_card(plugins: Plugins, view: PluginView, redraw: Callable[[], None]) -> None:
    with ui.card().classes(theme.CARD + ' gap-2').mark(f'plugin-{view.name}'):
        with ui.row().classes('w-full items-center gap-2 no-wrap'):
            ui.icon('widgets' if view.builtin else 'extension',
                    color='negative' if view.errors else 'primary').classes('text-xl')
            with ui.column().classes('gap-0 grow min-w-0'):
                with ui.row().classes('items-center gap-2'):
                    ui.label(view.name).classes('font-semibold break-all')
                    if view.version:
                        ui.label(view.version).classes(theme.MONO + ' text-gray-500')
                    _state_chip(view)
                described = _(BUILT_IN[view.name]) if view.name in BUILT_IN else view.description
                ui.label(described or _origin(view)).classes(theme.HINT)
                if view.description and not view.builtin:
                    ui.label(_origin(view)).classes(theme.HINT)
            _switch(plugins, view, redraw)
        for error in view.errors:
            with ui.row().classes('w-full items-start gap-2 no-wrap text-negative text-sm'):
                ui.icon('error').classes('text-base mt-[2px]')
                ui.label(error).classes('break-words min-w-0')
        if view.contributions:
            with ui.row().classes('gap-1 flex-wrap'):
                for contribution in view.contributions:
                    ui.chip(contribution).props('dense square outline').classes('text-xs')
        if view.hooks:
            ui.label(_('Hooks: {hooks}').format(hooks=' · '.join(view.hooks))) \
                .classes(theme.MONO + ' text-gray-500 break-all')
        for setting in view.settings:
            _setting_field(plugins, view, setting)


def _state_chip(view: PluginView) -> None:
    if view.loaded and not view.enabled:
        text, color = N_('off from the next start'), 'warning'
    elif not view.loaded and view.enabled and not view.errors:
        text, color = N_('on from the next start'), 'info'
    elif view.errors and not view.loaded:
        text, color = N_('failed to load'), 'negative'
    elif view.loaded:
        text, color = N_('on'), 'positive'
    else:
        text, color = N_('off'), 'grey-7'
    ui.badge(_(text), color=color).props('outline').mark(f'state-{view.name}')


def _switch(plugins: Plugins, view: PluginView, redraw: Callable[[], None]) -> None:
    if view.builtin:
        ui.switch(value=True).props(f'dense aria-label="{view.name}"').tooltip(_('Part of the studio: always on')) \
            .disable()
        return

    def toggle(e) -> None:
        try:
            plugins.set_enabled(view.name, e.value)
        except (Forbidden, ValueError) as error:
            ui.notify(str(error), type='negative')
        else:
            ui.notify((_('{name} will be on from the next start of the studio.') if e.value else
                       _('{name} will be off from the next start of the studio.')).format(name=view.name))
        redraw()

    switch = ui.switch(value=view.enabled, on_change=toggle).props(f'dense aria-label="{view.name}"') \
        .mark(f'switch-{view.name}')
    switch.tooltip(_('On or off from the next start'))
    if not plugins.may_change():
        switch.disable()


def _setting_field(plugins: Plugins, view: PluginView, setting: SettingView) -> None:
    def save(value) -> None:
        try:
            plugins.set_setting(view.name, setting.key, value)
        except (Forbidden, ValueError) as error:
            ui.notify(str(error), type='negative')
            return
        ui.notify(_('{key} saved; {name} uses it from its next check.').format(key=setting.key, name=view.name),
                  type='positive')

    with ui.column().classes('w-full gap-0'):
        if isinstance(setting.default, bool):
            field = ui.switch(setting.key, value=setting.value, on_change=lambda e: save(e.value))
        elif isinstance(setting.default, (int, float)):
            field = ui.number(setting.key, value=setting.value).props('outlined dense').classes('w-64')
            field.on('change', lambda: save(field.value))
        else:
            field = ui.input(setting.key, value=setting.value).props('outlined dense').classes('w-full sm:w-96')
            field.on('change', lambda: save(field.value))
        field.mark(f'setting-{view.name}-{setting.key}')
        if not plugins.may_change():
            field.disable()
        ui.label(_('{hint} Default: {default}.').format(hint=setting.hint, default=setting.default)).classes(theme.HINT)


def _origin(view: PluginView) -> str:
    if view.builtin:
        return _('Built in: {module}').format(module=view.module)
    return _('Installed from {package} ({module})').format(package=view.distribution or _('an unnamed package'),
                                                           module=view.module)
