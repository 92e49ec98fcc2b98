"""The frame every page shares: header with project switcher and jobs indicator, navigation drawer."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import app, ui

from app import auth, theme
from app.studio import Studio
from components.jobs_panel import jobs_panel
from services.plugins import current_entry
from services.events import ProjectsChanged
from services.projects import Projects, ProjectView
from services.session import Session
from services.store import Project


def current_project(projects: Projects) -> ProjectView:
    """The project this browser works in (remembered per user)."""
    project = projects.current(app.storage.user.get('project'))
    app.storage.user['project'] = project.id
    return project


@contextmanager
def frame(studio: Studio, session: Session, path: str, title: str) -> Iterator[Project]:
    """The header, the drawer and the content column; yields the current project's row for the route wrapper
    (which hands new-style builders a `ProjectView` of it, and pages not moved to the facades the row)."""
    ui.colors(**theme.COLORS)
    ui.add_css(theme.CSS)
    dark = ui.dark_mode().bind_value(app.storage.user, 'dark')
    project = current_project(session.projects)
    ui.page_title(f'{title} · RAVE Studio')

    with ui.header().classes('items-center gap-3 px-4 py-2 bg-[#ffffff] dark:bg-[#111318] text-gray-900 '
                             'dark:text-gray-100 border-b border-gray-200 dark:border-gray-800'):
        ui.button(icon='menu', on_click=lambda: drawer.toggle()).props('flat round dense').mark('menu')
        with ui.link(target='/').classes('flex items-center gap-2 no-underline text-inherit'):
            ui.icon('graphic_eq', color='primary').classes('text-2xl')
            ui.label('RAVE Studio').classes('text-lg font-semibold tracking-tight max-sm:hidden')
        ui.separator().props('vertical')
        _project_switcher(session, project)
        ui.space()
        jobs_panel(session.jobs, session.events)
        ui.button(icon='dark_mode', on_click=lambda: dark.set_value(not dark.value)) \
            .props('flat round dense').tooltip('Light / dark theme').mark('theme')
        auth.account_menu()

    # below 1100 px the drawer shrinks to icons (mini) so 800 px screens keep their width for content
    with ui.left_drawer(value=True, bordered=True) \
            .props('width=220 breakpoint=640 mini-width=64 :mini="window.innerWidth < 1100"') \
            .classes('bg-gray-50 dark:bg-[#0F1014] p-2') as drawer:
        entries = studio.plugins.navigation()  # registered by the areas and plugins through their hooks
        current = current_entry(entries, path)
        for entry in entries:
            with ui.link(target=entry.path).classes(
                    'flex items-center gap-3 px-3 py-2 rounded-lg no-underline text-sm '
                    + ('bg-primary/10 text-primary font-semibold' if entry is current else
                       'text-gray-700 dark:text-gray-300 hover:bg-gray-200/60 dark:hover:bg-gray-800')) \
                    .props(f'aria-label="{entry.label}"'):
                if entry.parent:  # indented under its parent, except in the icons-only drawer
                    ui.element('span').classes('w-1 q-mini-drawer-hide')
                ui.icon(entry.icon).classes('text-lg' if entry.parent else 'text-xl').tooltip(entry.label)
                ui.label(entry.label).classes('q-mini-drawer-hide')

    with ui.column().classes(theme.PAGE):
        yield studio.projects.get(project.id)


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
            .tooltip('Current project').mark('project-switcher')
        ui.button(icon='tune', on_click=lambda: ui.navigate.to('/projects')).props('flat round dense size=sm') \
            .tooltip('Manage projects')
    session.events.on(ProjectsChanged, changed)
