"""The models area: runs with their checkpoints and exports, the export pages, the Play pages (generate,
explore, transfer); and the built-in export targets (nn~, RAVE VST, Neutone, ONNX, Explorer, custom),
registered as a plugin's are."""
from __future__ import annotations

from services.models.targets import BUILTIN
from services.plugins import ExportTarget, NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/models', 'Models', 'pages.models.library:create'),
        Route('/models/test', 'Test a model', 'pages.models.test_page:create'),
        Route('/models/{run_id}', 'Model', 'pages.models.detail:create'),
        Route('/models/{run_id}/priors/{prior}', 'Prior', 'pages.models.prior_page:create'),
        Route('/export', 'Export', 'pages.models.export.wizard:create'),
        Route('/export/library', 'Exports', 'pages.models.export.library:create'),
        Route('/export/view/{export_id}', 'Export', 'pages.models.export.viewer:create'),
        Route('/export/guide/{export_id}', 'Deployment guide', 'pages.models.export.guide:create'),
        Route('/generate', 'Generate', 'pages.models.play.generate:create'),
        Route('/explorer', 'Explorer', 'pages.models.play.explorer:create'),
        Route('/transfer', 'Transfer', 'pages.models.play.transfer:create'),
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
