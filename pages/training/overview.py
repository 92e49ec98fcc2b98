"""Training: the project's runs and a live run page (a new run starts in pages/training/wizard).

Both follow events: a run's status (RunChanged) redraws its row or header, its metrics (RunMetrics) move its
step count, job changes (JobsChanged) move the device queue."""
from __future__ import annotations

import asyncio
from urllib.parse import quote

from nicegui import ui

from app import theme
from components import cards
from components.comments import comments_card
from components.icon_button import icon_button
from components.job_console import JobConsole
from components.status import status_chip
from pages.training import run_cluster, run_controls, run_details, run_monitor
from services import formatting
from services.cluster import Cluster
from services.events import JobsChanged, RunChanged, RunMetrics, Subscriber
from services.i18n import N_, _
from services.jobs import Jobs
from services.lab.comments import Comments
from services.models import Models
from services.projects import ProjectView
from services.system import System
from services.training import RunView, Training, TrainingError
from services.training.experiments import Experiments

ABOUT = N_('A run trains a RAVE model on one dataset with RAVE\'s own `rave train`. Every step is charted '
           'live; stopping saves a checkpoint you can resume or export.')
COLUMNS = 'grid-cols-[2fr_1.5fr_1fr_1.4fr_1fr_1.2fr]'


def create(training: Training, jobs: Jobs, system: System, events: Subscriber, project: ProjectView) -> None:
    """The project's runs, newest first, or an empty state that explains what a run is."""
    with ui.row().classes('w-full items-end gap-4'):
        with ui.column().classes('gap-0 grow'):
            ui.label(_('Training')).classes(theme.TITLE)
            ui.label(_('Runs of {project}').format(project=project.name)).classes(theme.SUBTITLE)
        ui.button(_('TensorBoard'), icon='insights', on_click=lambda: ui.navigate.to('/training/tensorboard')) \
            .props('outline color=primary').mark('tensorboard')
        ui.button(_('Configs'), icon='menu_book', on_click=lambda: ui.navigate.to('/training/configs')) \
            .props('flat color=primary').mark('configs')
        ui.button(_('New training'), icon='add', on_click=lambda: ui.navigate.to('/training/new')) \
            .props('unelevated color=primary').mark('new')
    steps: dict[int, tuple[ui.label, int]] = {}  # run id -> its step cell and max steps, moved by RunMetrics
    waiting: set[int] = set()  # the jobs the queue panel shows

    @ui.refreshable
    def queue() -> None:
        waiting.clear()
        waiting.update(run_controls.queue_panel(training, jobs, system, queue.refresh))

    @ui.refreshable
    def runs() -> None:
        rows = training.runs(project.id)
        steps.clear()
        if not rows:
            _empty_state()
        else:
            steps.update(_runs_table(rows, jobs))

    queue()
    runs()

    def changed(event: RunChanged) -> None:
        runs.refresh()
        queue.refresh()

    def progressed(event: RunMetrics) -> None:
        if event.run_id in steps:
            cell, max_steps = steps[event.run_id]
            cell.set_text(f'{_num(event.step)} / {_num(max_steps)}')

    def jobs_changed(event: JobsChanged) -> None:
        if waiting & set(event.job_ids) or any(_queued_training(jobs, i) for i in event.job_ids):
            queue.refresh()  # one joined the queue, moved in it or left it

    events.on(RunChanged, changed)
    events.on(RunMetrics, progressed)
    events.on(JobsChanged, jobs_changed)


async def run_page(training: Training, experiments: Experiments, models: Models, jobs: Jobs, system: System,
                   comments: Comments, events: Subscriber, project: ProjectView, cluster: Cluster,
                   run_id: str) -> None:
    """One run: progress, live charts, console, checkpoints. Drawn in parts, the loop serving what waits between
    two of them (25 people opening it at once: app/turns.py)."""
    run = training.run(run_id, project.id)
    if run is None:
        with ui.card().classes(theme.CARD + ' items-center gap-3 py-10'):
            ui.icon('search_off', color='grey-6').classes('text-5xl')
            ui.label(_('This run does not exist in the current project.')).classes(theme.SECTION)
            ui.button(_('All runs'), icon='arrow_back',
                      on_click=lambda: ui.navigate.to('/training')).props('flat')
        return

    shown: dict = {}  # what the header was last drawn from: the run's status, its job's state and place

    def job_state() -> tuple | None:
        job = jobs.get(run.job_id) if run.job_id else None  # the engine's memory while it runs: no query
        return (job.status, job.where) if job is not None else None

    @ui.refreshable
    def header() -> None:
        current = training.run(run.id) or run
        shown.update(status=current.status, job=job_state())
        _run_header(training, system, current, _waits(jobs, current))
        if current.folder_gone:
            ui.label(_('The run folder {folder} is gone (moved or deleted outside the studio): its curves, '
                       'audio and checkpoints cannot be read, and it cannot be resumed. Put the folder back, or '
                       'delete this run.').format(folder=current.folder)) \
                .classes('text-sm text-negative break-words').mark('run-folder-gone')
        run_cluster.state_line(jobs, cluster, current)
        _made_elsewhere(training, experiments, current, header.refresh)

    header()

    @ui.refreshable
    def checkpoints() -> None:
        current = training.run(run.id) or run
        with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-2 gap-4'):
            _checkpoints(training, current)
            run_controls.attempts_card(training, current)

    def console(is_open):
        """Built when its tab first opens: a hidden console reads no log."""
        if not run.job_id:
            return None
        card = ui.card().classes(theme.CARD)
        opened: list[JobConsole] = []

        def show() -> None:
            if opened:
                opened[0].show()
                return
            with card:
                opened.append(JobConsole(jobs, events, run.job_id, height='h-96', controls=False,
                                         is_open=is_open))
        return show

    def build_checkpoints(is_open):
        checkpoints()

    def changed(event: RunChanged) -> None:
        if event.run_id != run.id:
            return
        current = training.run(run.id)
        if current is not None and current.job_id != run.job_id:
            ui.navigate.reload()  # a resumed run has a new job and console
            return
        header.refresh()
        checkpoints.refresh()

    def jobs_changed(event: JobsChanged) -> None:
        """Its place in the queue, or its job's state: a running job changes at every metric line (its
        progress), which the summary shows already — the header is redrawn only when what it shows moved."""
        if shown.get('status') == 'queued' or (run.job_id in event.job_ids and job_state() != shown.get('job')):
            header.refresh()

    events.on(RunChanged, changed)
    events.on(JobsChanged, jobs_changed)
    await asyncio.sleep(0)
    await run_monitor.create(training, system, events, run,
                             tabs=[(_('Console'), 'terminal', console), (_('Checkpoints'), 'save', build_checkpoints),
                                   (_('Details'), 'info', run_details.tab(training, experiments, models, run))])
    await asyncio.sleep(0)
    comments_card(comments, events, 'run', run.id)


# ---- list -------------------------------------------------------------------------------------------
def _empty_state() -> None:
    cards.empty_state('model_training', _('No training runs yet'), _(ABOUT),
                      [cards.Action(_('New training'), 'add', '/training/new')],
                      hint=_('Try v2_small for a first model; on a CPU expect a few steps per second at most.'))


def _queued_training(jobs: Jobs, job_id: int) -> bool:
    job = jobs.get(job_id)
    return job is not None and job.kind == 'train' and job.status == 'queued'


def _runs_table(rows: list[RunView], jobs: Jobs) -> dict[int, tuple[ui.label, int]]:
    cells = {}
    with ui.card().classes(theme.CARD + ' p-0 gap-0').mark('runs'):
        with ui.element('div').classes(f'w-full grid {COLUMNS} gap-4 px-4 py-2 {theme.HINT} uppercase '
                                       'tracking-wide border-b border-gray-200 dark:border-gray-800'):
            for title in (N_('Run'), N_('Dataset'), N_('Config'), N_('Steps'), N_('Status'), N_('Created')):
                ui.label(_(title)).classes('text-right' if title == 'Steps' else '')
        for run in rows:
            with ui.element('div').classes(
                    f'w-full grid {COLUMNS} gap-4 px-4 py-3 items-center cursor-pointer text-sm '
                    'hover:bg-gray-50 dark:hover:bg-gray-900 border-b border-gray-100 dark:border-gray-900') \
                    .on('click',
                        lambda r=run: ui.navigate.to(f'/training/runs/{r.id}')).mark(f'run-{run.name}'):
                ui.label(run.name).classes('font-medium truncate')
                ui.label(run.dataset_name or '—').classes('truncate text-gray-600 dark:text-gray-300')
                ui.label(' + '.join(run.configs)).classes(theme.MONO)
                cells[run.id] = (ui.label(f'{_num(run.step)} / {_num(run.max_steps)}').classes(theme.NUMBER),
                                 run.max_steps)
                with ui.row():
                    status_chip(run.status, _waits(jobs, run))
                ui.label(formatting.moment(run.created)).classes('text-gray-500')
    return cells


def _waits(jobs: Jobs, run: RunView) -> str:
    """Why a queued run has not started, where its job's place says it (SLURM's queue and its reason)."""
    job = jobs.get(run.job_id) if run.status == 'queued' and run.job_id else None
    return job.where if job is not None else ''


def _num(n: int | None) -> str:
    return formatting.count(n)


# ---- run page ---------------------------------------------------------------------------------------
def _run_header(training: Training, system: System, run: RunView, waits: str) -> None:
    with ui.row().classes('w-full items-center gap-3'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to('/training')).props('flat round dense') \
            .tooltip(_('All runs'))
        ui.label(run.name).classes(theme.TITLE).mark('run-name')
        status_chip(run.status, waits).mark('run-status')
        about = ' + '.join(run.configs)
        if run.dataset_name:
            channels = {1: _('mono'), 2: _('stereo')}.get(run.dataset_channels, '?')
            about += ' · ' + _('{dataset} ({rate} kHz, {channels})').format(
                dataset=run.dataset_name, rate=formatting.number((run.dataset_sr or 44100) / 1000), channels=channels)
        ui.label(about).classes(theme.SUBTITLE)
        ui.space()
        run_controls.action_bar(training, system, run)
    if run.spec.description:
        ui.label(run.spec.description).classes('text-sm text-gray-600 dark:text-gray-300')
    run_controls.run_notes(training, run)
    if run.stopped_at is not None and run.status == 'done':
        ui.label(_('Stopped at step {step} with a checkpoint: resume it to go on.').format(step=_num(run.stopped_at))) \
            .classes('text-sm text-gray-600 dark:text-gray-300')


def _made_elsewhere(training: Training, experiments: Experiments, run: RunView, changed) -> None:
    """What a run has in its operative config.gin (all an imported run says of itself), its tags and notes
    (edited on the Experiments page), and for a run that does not record its dataset, the choice of one to
    continue training on."""
    found = experiments.operative(run.id) if run.folder else None
    if found is not None:
        ui.label(_('Operative config: {config}').format(config=found.label)).classes(theme.HINT).mark('operative')
    record = next(iter(experiments.table_rows([run.id])), None)
    if record is not None and (record.tags or record.notes):
        with ui.row().classes('items-center gap-1').mark('run-tags'):
            for tag in record.tags:
                ui.chip(tag).props('dense outline color=primary').classes('text-xs')
        if record.notes:
            ui.markdown(record.notes).classes('text-sm').mark('run-notes')
    if run.dataset_id is not None or not run.folder:
        return
    datasets = {d.id: d.name for d in training.datasets(run.project_id)}
    with ui.row().classes('items-center gap-2').mark('choose-dataset'):
        ui.label(_('It does not record its dataset: choose the one to resume on.')).classes('text-sm')
        pick = ui.select(datasets, label=_('Dataset')).props('dense outlined options-dense').classes('w-56') \
            .mark('run-dataset').tooltip(_('Its crop length and channels follow the dataset'))

        def use() -> None:
            try:
                experiments.set_dataset(run.id, pick.value)
            except TrainingError as e:
                ui.notify(str(e), type='warning')
                return
            changed()
        ui.button(_('Use it'), on_click=use).props('flat color=primary').bind_enabled_from(pick, 'value')


def _checkpoints(training: Training, run: RunView) -> None:
    rows = training.checkpoints(run.id)
    with ui.card().classes(theme.CARD + ' gap-2').mark('checkpoints'):
        ui.label(_('Checkpoints')).classes(theme.SECTION)
        if not rows:
            ui.label(_('None yet: RAVE writes one at each validation, and “Stop & save checkpoint” writes one '
                       'too.')) \
                .classes(theme.HINT)
            return
        with ui.element('div') \
            .classes('w-full grid grid-cols-[auto_auto_auto_auto_minmax(0,1fr)_auto] gap-x-4 '
                                       'gap-y-1 items-center text-sm'):
            for title in (N_('Kind'), N_('Step'), N_('Validation'), N_('Size'), N_('File'), ''):
                ui.label(_(title) if title else '').classes(theme.HINT + ' uppercase tracking-wide' +
                                        (' text-right' if title in ('Step', 'Validation', 'Size') else ''))
            for ckpt in rows:
                with ui.row().classes('items-center gap-2 no-wrap'):
                    ui.icon({'best': 'star', 'stop': 'stop_circle'}.get(ckpt.kind, 'save'), color='primary')
                    ui.label(_(ckpt.kind)).classes('font-medium')
                ui.label(_num(ckpt.step)).classes(theme.NUMBER + ' whitespace-nowrap')
                ui.label(formatting.significant(ckpt.validation)) \
                    .classes(theme.NUMBER + ' text-gray-500') \
                        .tooltip(_('Validation at that step (lower is better)'))
                ui.label(formatting.size(ckpt.size) if ckpt.exists else _('gone')) \
                    .classes(theme.NUMBER + ' whitespace-nowrap')
                ui.label(ckpt.where).classes(theme.MONO + ' truncate').tooltip(ckpt.path)
                with ui.row().classes('justify-end gap-0 no-wrap'):
                    if ckpt.exists:  # the natural next step: export it, this checkpoint chosen
                        icon_button('ios_share', _('Export this checkpoint'), lambda c=ckpt: ui.navigate.to(
                            f'/export?run={run.id}&checkpoint={quote(c.path)}'),
                                    props='flat dense round color=primary').mark('checkpoint-export')
                    if not run.active and ckpt.exists:
                        ui.button(icon='replay', on_click=lambda c=ckpt: run_controls.resume_dialog(
                            training, run.id, c.path)).props('flat dense round color=primary') \
                            .tooltip(_('Resume the run from this checkpoint'))
