"""The models area: runs with their checkpoints and exports, the export pages, the Play pages (generate,
explore, transfer); and the built-in export targets (nn~, RAVE VST, Neutone, ONNX, Explorer, custom),
registered as a plugin's are."""
from __future__ import annotations

from services.i18n import N_
from services.models.targets import BUILTIN
from services.plugins import ExportTarget, NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/models', N_('Models'), 'pages.models.library:create'),
        Route('/models/test', N_('Test a model'), 'pages.models.test_page:create'),
        Route('/models/{run_id}', N_('Model'), 'pages.models.detail:create'),
        Route('/models/{run_id}/priors/{prior}', N_('Prior'), 'pages.models.prior_page:create'),
        Route('/export', N_('Export'), 'pages.models.export.wizard:create'),
        Route('/export/library', N_('Exports'), 'pages.models.export.library:create'),
        Route('/export/view/{export_id}', N_('Export'), 'pages.models.export.viewer:create'),
        Route('/export/guide/{export_id}', N_('Deployment guide'), 'pages.models.export.guide:create'),
        Route('/generate', N_('Generate'), 'pages.models.play.generate:create'),
        Route('/explorer', N_('Explorer'), 'pages.models.play.explorer:create'),
        Route('/transfer', N_('Transfer'), 'pages.models.play.transfer:create'),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [
        NavEntry('/models', N_('Models'), 'inventory_2', order=30),
        NavEntry('/export', N_('Export'), 'ios_share', order=40),
        NavEntry('/explorer', N_('Explorer'), 'graphic_eq', order=50),
        NavEntry('/generate', N_('Generate'), 'auto_awesome', order=51, parent='/explorer'),
        NavEntry('/transfer', N_('Transfer'), 'swap_horiz', order=52, parent='/explorer'),
    ]


@hookimpl
def register_export_targets() -> list[ExportTarget]:
    return list(BUILTIN)
