"""The models area: runs with their checkpoints and exports, the export pages, the Play pages (generate,
explore, transfer); and the built-in export targets (nn~, RAVE VST, Neutone, ONNX, Explorer, custom),
registered as a plugin's are."""
from __future__ import annotations

from pages.models import detail, library, test_page
from pages.models.export import guide, viewer, wizard
from pages.models.export import library as exports
from pages.models.play import explorer, generate, transfer
from services.models.targets import BUILTIN
from services.plugins import ExportTarget, NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/models', 'Models', library.create),
        Route('/models/test', 'Test a model', test_page.create),
        Route('/models/{run_id}', 'Model', detail.create),
        Route('/export', 'Export', wizard.create),
        Route('/export/library', 'Exports', exports.create),
        Route('/export/view/{export_id}', 'Export', viewer.create),
        Route('/export/guide/{export_id}', 'Deployment guide', guide.create),
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


@hookimpl
def register_export_targets() -> list[ExportTarget]:
    return list(BUILTIN)
