"""The datasets area: the library, one dataset, and its LMDB inspector."""
from __future__ import annotations

from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/datasets', 'Datasets', 'pages.datasets.overview:create'),
        Route('/datasets/{dataset_id}', 'Dataset', 'pages.datasets.detail:create'),
        Route('/datasets/{dataset_id}/inspect', 'Inspect dataset', 'pages.datasets.inspector:create'),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [NavEntry('/datasets', 'Datasets', 'library_music', order=10)]
