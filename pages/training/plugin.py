"""The training area: runs, the new-run wizard, the config catalogue, TensorBoard and one run's page."""
from __future__ import annotations

from services.i18n import N_
from services.plugins import NavEntry, Route, hookimpl


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route('/training', N_('Training'), 'pages.training.overview:create'),
        Route('/training/new', N_('New training'), 'pages.training.wizard:create'),
        Route('/training/configs', N_('Configs'), 'pages.training.configs:create'),
        Route('/training/tensorboard', N_('TensorBoard'), 'pages.training.tensorboard:create'),
        Route('/training/runs/{run_id}', N_('Run'), 'pages.training.overview:run_page'),
        Route('/training/sweeps', N_('Sweeps'), 'pages.training.sweeps:create'),
        Route('/training/sweeps/new', N_('New sweep'), 'pages.training.sweep_wizard:create'),
        Route('/training/sweeps/{sweep_id}', N_('Sweep'), 'pages.training.sweeps:page'),
        Route('/experiments', N_('Experiments'), 'pages.training.experiments:create'),
        Route('/experiments/compare', N_('Compare runs'), 'pages.training.compare:create'),
    ]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [NavEntry('/training', N_('Training'), 'model_training', order=20),
            NavEntry('/training/sweeps', N_('Sweeps'), 'tune', order=21, parent='/training'),
            NavEntry('/experiments', N_('Experiments'), 'science', order=25)]
