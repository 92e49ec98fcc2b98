"""The models area: runs with their checkpoints and exports, the export page and the explorer."""
from __future__ import annotations

from pages.models import explorer, export, library
from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/models', 'Models', library.create),
        Route('/export', 'Export', export.create),
        Route('/explorer', 'Explorer', explorer.create),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [
        NavEntry('/models', 'Models', 'inventory_2', order=30),
        NavEntry('/export', 'Export', 'ios_share', order=40),
        NavEntry('/explorer', 'Explorer', 'graphic_eq', order=50),
    ]
