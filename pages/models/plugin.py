"""The models area: runs with their checkpoints and exports, the export page, and the Play pages (generate,
explore, transfer)."""
from __future__ import annotations

from pages.models import export, library
from pages.models.play import explorer, generate, transfer
from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/models', 'Models', library.create),
        Route('/export', 'Export', export.create),
        Route('/generate', 'Generate', generate.create),
        Route('/explorer', 'Explorer', explorer.create),
        Route('/transfer', 'Transfer', transfer.create),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [
        NavEntry('/models', 'Models', 'inventory_2', order=30),
        NavEntry('/export', 'Export', 'ios_share', order=40),
        NavEntry('/explorer', 'Explorer', 'graphic_eq', order=50),
        NavEntry('/generate', 'Generate', 'auto_awesome', order=51, parent='/explorer'),
        NavEntry('/transfer', 'Transfer', 'swap_horiz', order=52, parent='/explorer'),
    ]
