"""The frame every page shares: header with project switcher and jobs indicator, navigation drawer."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import app, ui

from app import auth, theme
from app.studio import Studio
from components.jobs_panel import jobs_panel
from services.session import Session
from services.store import Project


def current_project(studio: Studio) -> Project:
    """The project this browser works in (remembered per user)."""
    project = studio.projects.current(app.storage.user.get('project'))
    app.storage.user['project'] = project.id
    return project


@contextmanager
def frame(studio: Studio, session: Session, path: str, title: str) -> Iterator[Project]:
    ui.colors(**theme.COLORS)
    ui.add_css(theme.CSS)
    dark = ui.dark_mode().bind_value(app.storage.user, 'dark')
    project = current_project(studio)
    ui.page_title(f'{title} · RAVE Studio')

    with ui.header().classes('items-center gap-3 px-4 py-2 bg-[#ffffff] dark:bg-[#111318] text-gray-900 '
                             'dark:text-gray-100 border-b border-gray-200 dark:border-gray-800'):
        ui.button(icon='menu', on_click=lambda: drawer.toggle()).props('flat round dense').mark('menu')
        with ui.link(target='/').classes('flex items-center gap-2 no-underline text-inherit'):
            ui.icon('graphic_eq', color='primary').classes('text-2xl')
            ui.label('RAVE Studio').classes('text-lg font-semibold tracking-tight max-sm:hidden')
        ui.separator().props('vertical')
        _project_switcher(studio, project)
        ui.space()
        jobs_panel(session.jobs, session.events)
        ui.button(icon='dark_mode', on_click=lambda: dark.set_value(not dark.value)) \
            .props('flat round dense').tooltip('Light / dark theme').mark('theme')
        auth.account_menu()

    # below 1100 px the drawer shrinks to icons (mini) so 800 px screens keep their width for content
    with ui.left_drawer(value=True, bordered=True) \
            .props('width=220 breakpoint=640 mini-width=64 :mini="window.innerWidth < 1100"') \
            .classes('bg-gray-50 dark:bg-[#0F1014] p-2') as drawer:
        for target, label, icon in theme.NAV:
            active = path == target or (target != '/' and path.startswith(target))
            with ui.link(target=target).classes(
                    'flex items-center gap-3 px-3 py-2 rounded-lg no-underline text-sm '
                    + ('bg-primary/10 text-primary font-semibold' if active else
                       'text-gray-700 dark:text-gray-300 hover:bg-gray-200/60 dark:hover:bg-gray-800')) \
                    .props(f'aria-label="{label}"'):
                ui.icon(icon).classes('text-xl').tooltip(label)
                ui.label(label).classes('q-mini-drawer-hide')

    with ui.column().classes(theme.PAGE):
        yield project


def _project_switcher(studio: Studio, project: Project) -> None:
    options = {p.id: p.name for p in studio.projects.all()}

    def switch(e) -> None:
        if e.value and e.value != app.storage.user.get('project'):
            app.storage.user['project'] = e.value
            studio.projects.touch(studio.projects.get(e.value))
            ui.navigate.reload()

    with ui.row().classes('items-center gap-1 no-wrap'):
        ui.icon('folder_special', color='primary')
        ui.select(options, value=project.id, on_change=switch).props('dense borderless options-dense') \
            .classes('min-w-[140px] font-medium').tooltip('Current project').mark('project-switcher')
        ui.button(icon='tune', on_click=lambda: ui.navigate.to('/projects')).props('flat round dense size=sm') \
            .tooltip('Manage projects')
