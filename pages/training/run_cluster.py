"""The run page's cluster line: its job's SLURM state in words (pending with the reason, running on a node,
completing, failed, timeout, preempted, out of memory), the GPU-hours it used, and pushing the run's folder to
the cloud store set in Settings."""
from __future__ import annotations

from nicegui import run, ui

from app import theme
from services import formatting
from services.access import Forbidden
from services.cluster import CloudError, Cluster
from services.i18n import _, ngettext
from services.jobs import Jobs
from services.training import RunView

TROUBLE = ('failed', 'out of memory', 'time limit', 'preempted', 'cancelled', 'without a result')


def state_line(jobs: Jobs, cluster: Cluster, current: RunView) -> None:
    """One line under the run's header while (or after) its job ran on the cluster; the cloud push of a run
    that is not training."""
    job = jobs.get(current.job_id) if current.job_id else None
    if not current.active and current.folder and cluster.store() is not None:
        _push_button(cluster, current)
    if job is None or not job.where:
        return
    if any(word in job.where for word in TROUBLE):
        icon, color = 'error', 'text-negative'
    elif job.status == 'queued':  # submitting, or pending in SLURM's queue (with the reason in words)
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
                if usage.unanswered:
                    used.set_text(_('GPU-hours unknown: {why}').format(why=usage.unanswered))
                elif usage.jobs:
                    hours = ngettext('{hours} GPU-hours over {count} SLURM job',
                                     '{hours} GPU-hours over {count} SLURM jobs', usage.jobs)
                    used.set_text(hours.format(hours=formatting.number(usage.gpu_hours, 2), count=usage.jobs)
                                  + (_(' · about {cost}').format(cost=formatting.number(usage.cost(price), 2))
                                     if price and usage.gpu_hours else ''))
            ui.timer(0.05, fill, once=True)


def _push_button(cluster: Cluster, current: RunView) -> None:
    def push() -> None:
        try:
            cluster.push_run(current.id)
        except (CloudError, Forbidden) as e:
            ui.notify(str(e), type='negative', multi_line=True)
            return
        ui.notify(_('Pushing {run} to {url}: the jobs panel shows its progress.')
                  .format(run=current.name, url=cluster.store().url), type='positive')
    with ui.row().classes('items-center gap-2'):
        ui.button(_('Push to cloud'), icon='cloud_upload', on_click=push).props('flat dense no-caps color=primary') \
            .mark('push-cloud').tooltip(_('Copy the run folder to the cloud store set in Settings (resumes)'))
