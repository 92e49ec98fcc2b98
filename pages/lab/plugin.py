"""The lab area: accounts, the team view and the audit log, registered as a plugin's pages are."""
from __future__ import annotations

from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/team', 'Team', 'pages.lab.team:create'),
        Route('/users', 'Accounts', 'pages.lab.users:create'),
        Route('/audit', 'Audit log', 'pages.lab.audit:create'),
        Route('/history', 'History', 'pages.lab.history:create'),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [
        NavEntry('/team', 'Team', 'groups', order=75),
        NavEntry('/users', 'Accounts', 'manage_accounts', order=76, parent='/team'),
        NavEntry('/audit', 'Audit log', 'history_edu', order=77, parent='/team'),
        NavEntry('/history', 'History', 'history', order=25),
    ]
