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
        Route('/training/sweeps', 'Sweeps', 'pages.training.sweeps:create'),
        Route('/training/sweeps/new', 'New sweep', 'pages.training.sweep_wizard:create'),
        Route('/training/sweeps/{sweep_id}', 'Sweep', 'pages.training.sweeps:page'),
        Route('/experiments', 'Experiments', 'pages.training.experiments:create'),
        Route('/experiments/compare', 'Compare runs', 'pages.training.compare:create'),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [NavEntry('/training', 'Training', 'model_training', order=20),
            NavEntry('/training/sweeps', 'Sweeps', 'tune', order=21, parent='/training'),
            NavEntry('/experiments', 'Experiments', 'science', order=25)]
