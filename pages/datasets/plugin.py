"""The datasets area: the library, one dataset, and its LMDB inspector."""
from __future__ import annotations

from services.i18n import N_
from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/datasets', N_('Datasets'), 'pages.datasets.overview:create'),
        Route('/datasets/{dataset_id}', N_('Dataset'), 'pages.datasets.detail:create'),
        Route('/datasets/{dataset_id}/inspect', N_('Inspect dataset'), 'pages.datasets.inspector:create'),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [NavEntry('/datasets', N_('Datasets'), 'library_music', order=10)]
