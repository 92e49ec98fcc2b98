"""The lab area: accounts, the team view and the audit log, registered as a plugin's pages are."""
from __future__ import annotations

from services.i18n import N_
from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/team', N_('Team'), 'pages.lab.team:create'),
        Route('/users', N_('Accounts'), 'pages.lab.users:create'),
        Route('/audit', N_('Audit log'), 'pages.lab.audit:create'),
        Route('/history', N_('History'), 'pages.lab.history:create'),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [
        NavEntry('/team', N_('Team'), 'groups', order=75),
        NavEntry('/users', N_('Accounts'), 'manage_accounts', order=76, parent='/team'),
        NavEntry('/audit', N_('Audit log'), 'history_edu', order=77, parent='/team'),
        NavEntry('/history', N_('History'), 'history', order=25),
    ]
