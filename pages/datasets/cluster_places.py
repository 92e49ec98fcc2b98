"""Where a dataset lies beyond this machine, for the dataset library: on the cluster's file system (registered
there, or preprocessed as a SLURM job), and its copies there (rsync) with their state; and the dialog that
registers a dataset lying on the cluster; the dataset wizard's switch that preprocesses as a SLURM job."""
from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from app import theme
from services.access import Forbidden
from services.cluster import CloudError, Cluster
from services.datasets import DatasetView
from services.files import PathRefused
from services.i18n import _
from services.jobs import Jobs
from services.projects import ProjectView


def places(jobs: Jobs, dataset: DatasetView, bars: dict) -> None:
    """One line per place: 'on the cluster · /scratch/…', each whole copy, each copy under way (its bar in
    `bars`, moved by the library's JobsChanged handler) or cut short (why, and that copying again resumes)."""
    if dataset.on_cluster:
        _line('dns', _('on the cluster · {path}').format(path=dataset.path),
              _('For runs on the SLURM cluster only: this machine does not read it'), f'{dataset.name}-on-cluster')
    for target in dataset.copies:
        _line('file_copy', _('copy on the cluster · {path}').format(path=target), _('A whole copy (rsync)'),
              f'{dataset.name}-copy')
    for target, job_id in dataset.copying.items():
        job = jobs.get(job_id)
        if job is not None and job.active:
            _line('sync', _('copying to {path}').format(path=target), job.detail, f'{dataset.name}-copying')
            bars[job_id] = ui.linear_progress(value=job.progress or 0, show_value=False) \
                .props('rounded size=4px').classes('max-w-sm')
        elif job is not None:
            _line('sync_problem', _('copy to {path} {status}: copy again to resume').format(path=target,
                                                                                          status=_(job.status)),
                  job.message, f'{dataset.name}-copy-{job.status}', 'text-negative')


def register_dialog(cluster: Cluster, project: ProjectView, done: Callable[[], None] = lambda: None) -> None:
    """Ask for the folder of a RAVE dataset on the cluster's file system (and a name), and index it."""
    with ui.dialog() as dialog, ui.card().classes('w-[34rem] max-w-[95vw] gap-3').mark('register-cluster'):
        ui.label(_('A dataset on the cluster')).classes(theme.SECTION)
        ui.label(_('A RAVE dataset folder (data.mdb and metadata.yaml) on the file system the compute nodes '
                   'share, inside a browsable folder (Settings). Runs on the SLURM cluster train on it where it '
                   'is; a run on this machine cannot.')).classes(theme.HINT)
        path = ui.input(_('Folder on the cluster'), placeholder='/scratch/me/drums').props('outlined dense') \
            .classes('w-full').mark('cluster-dataset-path')
        name = ui.input(_('Name'), placeholder=_('empty: the folder\'s name')).props('outlined dense') \
            .classes('w-full').mark('cluster-dataset-name')
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            ui.button(_('Register'), icon='dns', on_click=lambda: register()).props('unelevated color=primary') \
                .mark('cluster-dataset-register')

    def register() -> None:
        try:
            cluster.register_dataset(project.id, (path.value or '').strip(), name.value or '')
        except (CloudError, PathRefused, Forbidden) as e:
            ui.notify(str(e), type='negative', multi_line=True)
            return
        dialog.close()
        ui.notify(_('Registered: runs on the SLURM cluster can train on it.'), type='positive')
        done()
    dialog.open()


def cluster_switch(cluster: Cluster | None, project: ProjectView) -> ui.switch | None:
    """The dataset wizard's choice to preprocess as a SLURM job (None where no cluster is offered: no SLURM
    here and the project trains on this machine); on by default when the project trains on the cluster."""
    if cluster is None or not cluster.offers_preprocessing(project.id):
        return None
    with ui.column().classes('gap-1'):
        switch = ui.switch(_('Preprocess on the cluster (a SLURM job)'),
                           value=cluster.project_choice(project.id).on_cluster).mark('preprocess-on-cluster')
        ui.label(_('RAVE\'s preprocess runs in a SLURM allocation with the SLURM options of Settings (on its CPUs); '
                   'the dataset then lives on the cluster\'s file system, for runs on the cluster only.')) \
            .classes(theme.HINT)
    return switch


def on_cluster(controls: dict) -> bool:
    """Whether the wizard's cluster switch (controls['cluster']) is there and on."""
    return controls.get('cluster') is not None and bool(controls['cluster'].value)


def _line(icon: str, text: str, tip: str, mark: str, color: str = 'text-gray-600 dark:text-gray-300') -> None:
    with ui.row().classes(f'items-center gap-1 no-wrap min-w-0 text-xs {color}').mark(mark):
        ui.icon(icon).classes('text-sm')
        label = ui.label(text).classes('truncate')
        if tip:
            label.tooltip(tip)
