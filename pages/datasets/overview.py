"""Datasets: the project's folders of audio turned into RAVE training data (`rave preprocess`), the preprocessing
queue and the "New dataset" wizard. One dataset's page is pages/datasets/detail.py."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components.cards import Action, empty_state
from pages.datasets.cluster_places import register_dialog
from pages.datasets.library import library
from pages.datasets.wizard import wizard
from services.cluster import Cluster
from services.datasets import Datasets, DatasetView
from services.events import DatasetChanged, JobsChanged, Subscriber
from services.i18n import N_, _
from services.jobs import Jobs
from services.projects import ProjectView
from services.settings import Settings

ABOUT = N_('A dataset is the training material for a RAVE model: your recordings cut into short examples '
           'and stored in one fast database folder (LMDB). Pick folders of audio; the originals are never changed.')


def create(datasets: Datasets, settings: Settings, jobs: Jobs, events: Subscriber, project: ProjectView,
           cluster: Cluster) -> None:
    """The project's datasets, with a panel to make a new one (open at once with `?new`: the dashboard's "New
    dataset"); follows datasets and the preprocessing queue."""
    with ui.row().classes('w-full items-end gap-4'):
        with ui.column().classes('gap-0 grow'):
            ui.label(_('Datasets')).classes(theme.TITLE)
            ui.label(_('Training material of {project}').format(project=project.name)).classes(theme.SUBTITLE)
        ui.button(_('On the cluster…'), icon='dns', on_click=lambda: register_dialog(cluster, project)) \
            .props('flat color=primary no-caps').mark('register-cluster-dataset') \
            .tooltip(_('Register a dataset that lies on the cluster\'s file system'))
        new_button = ui.button(_('New dataset'), icon='add', on_click=lambda: _open_form()) \
            .props('unelevated color=primary').mark('new')
    form_slot = ui.column().classes('w-full')
    queued: set[int] = set()  # job ids of the builds the queue card shows
    listed: set[int] = set()  # ids of the project's datasets

    def _open_form() -> None:
        form_slot.clear()
        new_button.set_visibility(False)
        with form_slot:
            wizard(datasets, settings, jobs, events, project, on_close=_close_form, cluster=cluster)
        top.refresh()

    def _close_form() -> None:
        form_slot.clear()
        new_button.set_visibility(True)
        top.refresh()

    @ui.refreshable
    def top() -> None:
        """The preprocessing queue, and the empty state while there is nothing to list."""
        waiting, everything = datasets.queue(project.id), datasets.list(project.id)
        queued.clear()
        queued.update(d.job_id for d in waiting)
        listed.clear()
        listed.update(d.id for d in everything)
        _queue(datasets, waiting)
        if not everything and new_button.visible:  # an open wizard teaches the same thing
            _empty_state(_open_form)

    def _dataset_changed(event: DatasetChanged) -> None:
        if event.dataset_id in listed or datasets.get(event.dataset_id, project.id) is not None:
            top.refresh()

    def _jobs_changed(event: JobsChanged) -> None:
        if not event.job_ids or queued & set(event.job_ids):  # a waiting build started, moved or went
            top.refresh()

    top()
    if 'new' in ui.context.client.request.query_params:
        _open_form()
    library(datasets, jobs, events, project)
    events.on(DatasetChanged, _dataset_changed)
    events.on(JobsChanged, _jobs_changed)


# ---- queue and empty state ------------------------------------------------------------------------
def _empty_state(on_new) -> None:
    empty_state('library_music', _('No datasets yet'), _(ABOUT), [Action(_('New dataset'), 'add', on_new)],
                hint=_('A few minutes of audio is enough to try; an hour or more of one instrument or voice trains '
                       'a good model.'))


def _queue(datasets: Datasets, waiting: list[DatasetView]) -> None:
    """Builds waiting for their turn, in order, with buttons to change it."""
    if not waiting:
        return
    with ui.card().classes(theme.CARD + ' gap-2').mark('queue'):
        with ui.row().classes('w-full items-baseline gap-2'):
            ui.label(_('Waiting to preprocess')).classes(theme.SECTION)
            ui.label(_('{count} at a time (Settings → parallel preprocessing); the top one starts next.')
                     .format(count=datasets.parallel_builds())).classes(theme.HINT)
        for position, dataset in enumerate(waiting):
            with ui.row().classes('w-full items-center gap-2 no-wrap rounded-lg px-2 py-1 bg-gray-50 '
                                  'dark:bg-gray-900').mark(f'queued-{dataset.name}'):
                ui.label(f'{position + 1}').classes(f'w-6 {theme.HINT} {theme.NUMBER}')
                ui.label(dataset.name).classes('text-sm grow truncate')
                ui.button(icon='arrow_upward', on_click=lambda d=dataset, i=position: datasets.move(d.id, i - 1)) \
                    .props('flat round dense size=sm').tooltip(_('Earlier')).mark(f'earlier-{dataset.name}') \
                    .set_enabled(position > 0)
                ui.button(icon='arrow_downward', on_click=lambda d=dataset, i=position: datasets.move(d.id, i + 1)) \
                    .props('flat round dense size=sm').tooltip(_('Later')).mark(f'later-{dataset.name}') \
                    .set_enabled(position < len(waiting) - 1)
                ui.button(icon='close', on_click=lambda d=dataset: datasets.cancel(d.id)) \
                    .props('flat round dense size=sm color=negative').tooltip(_('Cancel')) \
                    .mark(f'unqueue-{dataset.name}')
