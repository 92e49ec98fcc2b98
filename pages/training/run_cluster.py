"""A run on the SLURM cluster: its job's SLURM state in words on the run page (pending with the reason,
running on a node, completing, failed, timeout, preempted, out of memory) and the GPU-hours it used."""
from __future__ import annotations

from nicegui import run, ui

from app import theme
from services.cluster import Cluster
from services.jobs import Jobs
from services.training import RunView

TROUBLE = ('failed', 'out of memory', 'time limit', 'preempted', 'cancelled', 'without a result')


def state_line(jobs: Jobs, cluster: Cluster, current: RunView) -> None:
    """One line under the run's header while (or after) its job ran on the cluster."""
    job = jobs.get(current.job_id) if current.job_id else None
    if job is None or not job.where:
        return
    if any(word in job.where for word in TROUBLE):
        icon, color = 'error', 'text-negative'
    elif 'waiting' in job.where:
        icon, color = 'hourglass_top', 'text-warning'
    else:
        icon, color = 'dns', 'text-primary'
    with ui.row().classes(f'items-center gap-2 text-sm {color}').mark('slurm-state'):
        ui.icon(icon)
        ui.label(job.where)
        if not job.active:
            used = ui.label('').classes(theme.HINT).mark('slurm-usage')

            async def fill() -> None:  # sacct: off the event loop
                usage = await run.io_bound(cluster.run_usage, current.id)
                price = cluster.price()
                if usage.jobs:
                    used.set_text(f'{usage.gpu_hours:.2f} GPU-hours over {usage.jobs} SLURM job'
                                  f'{"s" if usage.jobs > 1 else ""}'
                                  + (f' · about {usage.cost(price):.2f}' if price and usage.gpu_hours else ''))
            ui.timer(0.05, fill, once=True)
