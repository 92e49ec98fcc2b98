"""The small areas: dashboard, projects, settings with its plugins page, and help."""
from __future__ import annotations

from services.i18n import N_
from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/', N_('Dashboard'), 'pages.dashboard:create'),
        Route('/projects', N_('Projects'), 'pages.projects:create'),
        Route('/settings', N_('Settings'), 'pages.settings:create'),
        Route('/settings/plugins', N_('Plugins'), 'pages.plugins:create'),
        Route('/settings/plugins/guide', N_('Plugin guide'), 'pages.plugins:guide'),
        Route('/settings/diagnostics', N_('Diagnostics'), 'pages.diagnostics:create'),
        Route('/help', N_('Help'), 'pages.help:create'),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [
        NavEntry('/', N_('Dashboard'), 'space_dashboard', order=0),
        NavEntry('/settings', N_('Settings'), 'settings', order=80),
        NavEntry('/settings/plugins', N_('Plugins'), 'extension', parent='/settings'),
        NavEntry('/settings/diagnostics', N_('Diagnostics'), 'medical_services', parent='/settings'),
        NavEntry('/help', N_('Help'), 'help_outline', order=90),
    ]
