"""The datasets area: the library, one dataset, and its LMDB inspector."""
from __future__ import annotations

from pages.datasets import detail, inspector, overview
from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/datasets', 'Datasets', overview.create),
        Route('/datasets/{dataset_id}', 'Dataset', detail.create),
        Route('/datasets/{dataset_id}/inspect', 'Inspect dataset', inspector.create),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [NavEntry('/datasets', 'Datasets', 'library_music', order=10)]
