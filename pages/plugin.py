"""The small areas: dashboard, projects, settings with its plugins page, and help."""
from __future__ import annotations

from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/', 'Dashboard', 'pages.dashboard:create'),
        Route('/projects', 'Projects', 'pages.projects:create'),
        Route('/settings', 'Settings', 'pages.settings:create'),
        Route('/settings/plugins', 'Plugins', 'pages.plugins:create'),
        Route('/settings/plugins/guide', 'Plugin guide', 'pages.plugins:guide'),
        Route('/settings/diagnostics', 'Diagnostics', 'pages.diagnostics:create'),
        Route('/help', 'Help', 'pages.help:create'),
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
