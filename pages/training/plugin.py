"""The training area: runs, the new-run wizard, the config catalogue, TensorBoard and one run's page."""
from __future__ import annotations

from pages.training import compare, configs, experiments, overview, tensorboard, wizard
from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/training', 'Training', overview.create),
        Route('/training/new', 'New training', wizard.create),
        Route('/training/configs', 'Configs', configs.create),
        Route('/training/tensorboard', 'TensorBoard', tensorboard.create),
        Route('/training/runs/{run_id}', 'Run', overview.run_page),
        Route('/experiments', 'Experiments', experiments.create),
        Route('/experiments/compare', 'Compare runs', compare.create),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [NavEntry('/training', 'Training', 'model_training', order=20),
            NavEntry('/experiments', 'Experiments', 'science', order=25)]
