"""The small areas: dashboard, projects, settings with its plugins page, and help."""
from __future__ import annotations

from pages import dashboard, diagnostics, help, plugins, projects, settings
from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/', 'Dashboard', dashboard.create),
        Route('/projects', 'Projects', projects.create),
        Route('/settings', 'Settings', settings.create),
        Route('/settings/plugins', 'Plugins', plugins.create),
        Route('/settings/plugins/guide', 'Plugin guide', plugins.guide),
        Route('/settings/diagnostics', 'Diagnostics', diagnostics.create),
        Route('/help', 'Help', help.create),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [
        NavEntry('/', 'Dashboard', 'space_dashboard', order=0),
        NavEntry('/settings', 'Settings', 'settings', order=80),
        NavEntry('/settings/plugins', 'Plugins', 'extension', parent='/settings'),
        NavEntry('/settings/diagnostics', 'Diagnostics', 'medical_services', parent='/settings'),
        NavEntry('/help', 'Help', 'help_outline', order=90),
    ]
