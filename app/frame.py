"""The frame every page shares: header with project switcher and jobs indicator, navigation drawer."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nicegui import app, ui

from app import auth, theme, turns
from app.studio import Studio
from components import shortcuts
from components.announcer import announcer
from components.cards import OnDemand
from components.icon_button import icon_button
from components.jobs_panel import jobs_panel
from components.tour import Tour, should_open, start_example
from services.events import AccessChanged, ProjectsChanged
from services.i18n import _
from services.plugins import current_entry
from services.projects import Projects, ProjectView
from services.session import Session


def current_project(projects: Projects) -> ProjectView:
    """The project this browser works in (remembered per user)."""
    project = projects.current(app.storage.user.get('project'))
    app.storage.user['project'] = project.id
    return project


@asynccontextmanager
async def frame(studio: Studio, session: Session, path: str, title: str) -> AsyncIterator[ProjectView]:
    """The header, the drawer and the content column; yields the current project for the page builder. Drawn in
    two parts, the loop serving what waits in between (app/turns.py)."""
    dark, scale = _appearance()
    project = current_project(session.projects)
    ui.page_title(_('{page} · RAVE Studio').format(page=_(title)))

    with ui.header().classes('items-center gap-3 px-4 py-2 bg-[#ffffff] dark:bg-[#111318] text-gray-900 '
                             'dark:text-gray-100 border-b border-gray-200 dark:border-gray-800'):
        icon_button('menu', _('Show or fold the navigation'), lambda: drawer.toggle()).mark('menu')
        with ui.link(target='/').classes('flex items-center gap-2 no-underline text-inherit'):
            ui.icon('graphic_eq', color='primary').classes('text-2xl')
            ui.label('RAVE Studio').classes('text-lg font-semibold tracking-tight max-sm:hidden')
        ui.separator().props('vertical')
        _project_switcher(session, project)
        ui.space()
        jobs_panel(session.jobs, session.events)
        icon_button('keyboard', _('Keyboard shortcuts (?)'), lambda: sheet().open()).mark('shortcuts')
        icon_button('dark_mode', _('Light / dark theme'), lambda: _flip_dark(dark)).mark('theme')
        role = session.sharing.role(project.id)
        auth.account_menu(role)
        _follow_rights(session, project, role)

    # below 1100 px (of text at its normal size) the drawer shrinks to icons (mini), so 800 px screens and large
    # text keep their width for content
    with ui.left_drawer(value=True, bordered=True) \
            .props(f'width={220 * scale // 100} breakpoint=640 mini-width={64 * scale // 100} '
                   f':mini="window.innerWidth < {1100 * scale // 100}"') \
            .classes('bg-gray-50 dark:bg-[#0F1014] p-2') as drawer:
        entries = studio.plugins.navigation()  # registered by the areas and plugins through their hooks
        current = current_entry(entries, path)
        for entry in entries:
            label = _(entry.label)  # the areas register English words, marked for the catalogue
            with ui.link(target=entry.path).classes(
                    'flex items-center gap-3 px-3 py-2 rounded-lg no-underline text-sm '
                    + ('bg-primary/10 text-primary font-semibold' if entry is current else
                       'text-gray-700 dark:text-gray-300 hover:bg-gray-200/60 dark:hover:bg-gray-800')) \
                    .props(f'aria-label="{label}"'):
                if entry.parent:  # indented under its parent, except in the icons-only drawer
                    ui.element('span').classes('w-1 q-mini-drawer-hide')
                ui.icon(entry.icon).classes('text-lg' if entry.parent else 'text-xl').tooltip(label)
                ui.label(label).classes('q-mini-drawer-hide')

    await turns.PAGES.breathe()
    sheet = OnDemand(shortcuts.sheet)
    guide = _tour(session, path)
    shortcuts.install(lambda done: _shortcut(done, sheet, guide))

    announcer(session.jobs, session.events)
    with ui.column().classes(theme.PAGE):  # inside Quasar's <main>, the page's one main landmark
        yield studio.projects.get(project.id)
    _name_controls(ui.context.client)


def _name_controls(client) -> None:
    """Give screen readers a name where a page drew none (axe: button-name, aria-progressbar-name): an icon-only
    button is named by its tooltip, a progress bar says what it measures in the words around it."""
    elements = list(client.elements.values())
    by_id = {f'#{e.html_id}': e for e in elements}
    for element in elements:
        target = by_id.get(element.props.get('target', '')) if isinstance(element, ui.tooltip) else None
        if isinstance(target, ui.button) and not target.text and 'aria-label' not in target.props:
            target.props['aria-label'] = element.text
        elif isinstance(element, ui.linear_progress) and 'aria-label' not in element.props:
            element.props['aria-label'] = _('Progress')


def _follow_rights(session: Session, project: ProjectView, drawn_as: str) -> None:
    """A page shows what its user may do as they were when it was built: when their role here changes while it
    is open (demoted, removed from the project, made an admin) it is drawn again with their new rights (the
    services refuse what they lost at once, with a sentence)."""
    def changed(_: AccessChanged) -> None:
        if session.sharing.role(project.id) != drawn_as:
            ui.navigate.reload()
    session.events.on(AccessChanged, changed)


def _appearance() -> tuple[ui.dark_mode, int]:
    """The user's theme (light, dark, high contrast or the system's) and text size (%), as Settings keeps them."""
    name, scale = theme.appearance(app.storage.user)
    contrast = name == 'contrast'
    ui.colors(**(theme.CONTRAST_COLORS if contrast else theme.COLORS))
    ui.add_css(theme.CSS + theme.CONTRAST_CSS + theme.font_css(scale))
    ui.add_head_html(theme.A11Y_SCRIPT)
    if scale != 100:
        ui.query('html').classes('studio-scaled')
    if contrast:
        ui.query('body').classes('studio-contrast')
        return ui.dark_mode(False), scale
    return ui.dark_mode().bind_value(app.storage.user, 'dark'), scale


def _flip_dark(dark: ui.dark_mode) -> None:
    """The header's switch: light ⇄ dark; from high contrast it goes to dark."""
    if app.storage.user.get('contrast'):
        theme.choose(app.storage.user, 'dark')
        ui.navigate.reload()
    else:
        dark.set_value(not dark.value)


def _shortcut(done: shortcuts.Shortcut, sheet: OnDemand[ui.dialog], guide: OnDemand[Tour]) -> None:
    """What a studio-wide shortcut does (the registry in components/shortcuts.py says which keys)."""
    if done.target:
        ui.navigate.to(done.target)
    elif done.id == 'search':
        shortcuts.focus_search()
    elif done.id == 'sheet':
        sheet().open()
    elif done.id == 'close':  # Quasar closes a modal dialog itself; the sheet and the tour are closed here
        if sheet.made:
            sheet().close()
        if guide.made:
            guide().dialog.close()


def _tour(session: Session, path: str) -> OnDemand[Tour]:
    """The first-run tour: opened by itself on the dashboard of an empty studio for a user who has not seen
    it, and by `?tour` on any page (Help → Take the tour); built only then."""
    def seen() -> None:
        app.storage.user['tour'] = 'seen'

    def empty() -> bool:
        return all(s.datasets == s.runs == s.exports == 0 for s in session.projects.summaries())

    guide = OnDemand(lambda: Tour(on_done=seen, on_example=lambda: start_example(session.example,
                                                                                session.projects)))
    asked = 'tour' in ui.context.client.request.query_params
    if asked or (path == '/' and should_open(app.storage.user.get('tour') == 'seen', empty)):
        guide().open()
    return guide


def _project_switcher(session: Session, project: ProjectView) -> None:
    projects = session.projects

    def switch(e) -> None:
        if e.value and e.value != app.storage.user.get('project'):
            app.storage.user['project'] = e.value
            projects.open(e.value)
            ui.navigate.reload()

    def names() -> dict[int, str]:
        return {p.id: p.name for p in projects.all()}

    def changed(_: ProjectsChanged) -> None:
        """Renamed, added or removed elsewhere: the list follows (a deleted current project stays listed until
        the page reloads)."""
        options = names()
        if select.value not in options:
            options[select.value] = project.name
        select.set_options(options, value=select.value)

    with ui.row().classes('items-center gap-1 no-wrap'):
        ui.icon('folder_special', color='primary')
        select = ui.select(names(), value=project.id, on_change=switch) \
            .props('dense borderless options-dense').classes('min-w-[140px] font-medium') \
            .tooltip(_('Current project')).mark('project-switcher')
        select.props['aria-label'] = _('Current project')
        icon_button('tune', _('Manage projects'), lambda: ui.navigate.to('/projects'), props='flat round dense size=sm')
    session.events.on(ProjectsChanged, changed)
