"""The lab area: accounts, the team view and the audit log, registered as a plugin's pages are."""
from __future__ import annotations

from pages.lab import audit, history, users
from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/users', 'Accounts', users.create),
        Route('/audit', 'Audit log', audit.create),
        Route('/history', 'Version history', history.create),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [
        NavEntry('/users', 'Accounts', 'manage_accounts', order=85),
        NavEntry('/audit', 'Audit log', 'history_edu', order=86, parent='/users'),
        NavEntry('/history', 'History', 'history', order=25),
    ]
