"""The training area: runs, the new-run wizard, the config catalogue, TensorBoard and one run's page."""
from __future__ import annotations

from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/training', 'Training', 'pages.training.overview:create'),
        Route('/training/new', 'New training', 'pages.training.wizard:create'),
        Route('/training/configs', 'Configs', 'pages.training.configs:create'),
        Route('/training/tensorboard', 'TensorBoard', 'pages.training.tensorboard:create'),
        Route('/training/runs/{run_id}', 'Run', 'pages.training.overview:run_page'),
        Route('/experiments', 'Experiments', 'pages.training.experiments:create'),
        Route('/experiments/compare', 'Compare runs', 'pages.training.compare:create'),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [NavEntry('/training', 'Training', 'model_training', order=20),
            NavEntry('/experiments', 'Experiments', 'science', order=25)]
