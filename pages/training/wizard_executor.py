"""The new-run wizard's choice of where the run trains (this machine or the SLURM cluster; it starts as the
project's choice) and, in the review, that choice with the run's GPU-hours and cost estimated beforehand."""
from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import run, ui

from app import theme
from components.executor_form import executor_form
from services.cluster import ExecutorSettings
from services.i18n import _

if TYPE_CHECKING:
    from pages.training.wizard import Wizard


def executor_choice(wizard: Wizard) -> None:
    """The Parameters step's 'Where it trains' section."""
    ui.label(_('Where it trains')).classes(theme.SECTION + ' pt-2')
    _fit_devices(wizard)

    def changed() -> None:
        wizard.executor = read()
        _fit_devices(wizard)

    with ui.column().classes('w-full gap-2').mark('wizard-executor'):
        read = executor_form(wizard.executor, wizard.partitions, changed)
    ui.label(_('On the cluster the run trains on the GPUs SLURM gives the job (all of them: --gpu 0 … N-1), or '
               'its CPUs with 0 GPUs per node.')).classes(theme.HINT)


def _fit_devices(wizard: Wizard) -> None:
    """On the cluster the run uses the GPUs SLURM gives the job, as RAVE's --gpu indices (or its CPUs)."""
    if wizard.executor.on_cluster:
        wizard.set(devices=tuple(f'gpu:{i}' for i in range(wizard.executor.gpus_per_node)) or ('cpu',))


def problems(wizard: Wizard) -> list[str]:
    return wizard.executor.errors()


def review_line(wizard: Wizard) -> None:
    """The review's line about where it trains and what it will cost (from a run that measured its speed)."""
    executor: ExecutorSettings = wizard.executor
    with ui.column().classes('gap-1').mark('review-executor'):
        ui.label(_('Where it trains')).classes(theme.SECTION)
        ui.label(executor.summary()).classes('text-sm font-medium')
        estimate = ui.label(_("Estimating the run's time from this project's runs…")).classes(theme.HINT) \
            .mark('review-estimate')

    async def fill() -> None:
        spec = wizard.current()
        gpus = executor.gpus_per_node if executor.on_cluster else sum(d.startswith('gpu') for d in spec.devices)
        guess = await run.io_bound(wizard.cluster.estimate, wizard.project.id, spec.base, spec.max_steps, gpus)
        none = _('No estimate yet: no run of this project has measured its speed.')
        estimate.set_text(_('Estimate: {estimate}.').format(estimate=guess.words(wizard.cluster.price()))
                          if guess is not None else none)
    ui.timer(0.05, fill, once=True)
