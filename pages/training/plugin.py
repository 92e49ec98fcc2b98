"""The training area: runs, the new-run wizard, the config catalogue, TensorBoard and one run's page."""
from __future__ import annotations

from pages.training import compare, configs, experiments, overview, sweep_wizard, sweeps, tensorboard, wizard
from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/training', 'Training', overview.create),
        Route('/training/new', 'New training', wizard.create),
        Route('/training/configs', 'Configs', configs.create),
        Route('/training/tensorboard', 'TensorBoard', tensorboard.create),
        Route('/training/runs/{run_id}', 'Run', overview.run_page),
        Route('/training/sweeps', 'Sweeps', sweeps.create),
        Route('/training/sweeps/new', 'New sweep', sweep_wizard.create),
        Route('/training/sweeps/{sweep_id}', 'Sweep', sweeps.page),
        Route('/experiments', 'Experiments', experiments.create),
        Route('/experiments/compare', 'Compare runs', compare.create),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [NavEntry('/training', 'Training', 'model_training', order=20),
            NavEntry('/training/sweeps', 'Sweeps', 'tune', order=21, parent='/training'),
            NavEntry('/experiments', 'Experiments', 'science', order=25)]
