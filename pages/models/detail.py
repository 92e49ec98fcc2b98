"""One model (a run): its configuration, curves, the checkpoint browser (export, resume, delete, A/B), the
model's statistics and its architecture tree.

Statistics come from the model-stats worker (seconds, then kept next to the checkpoint); the page never loads
a model itself. Live by events: RunChanged of this run redraws the checkpoints (a new one, a deletion)."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components import cards
from components.metric_chart import MetricChart
from components.status import status_chip
from pages.models import checkpoint_browser, deletion, model_stats, prior_list
from pages.models.ab_listen import ABListening
from pages.training import run_details_report
from services import formatting
from services.events import RunChanged, Subscriber
from services.i18n import N_, _, pgettext
from services.models import Models
from services.models.play import Play
from services.models.testing import ModelTests
from services.projects import ProjectView
from services.training import RunView, Training
from services.training.experiments import Experiments

# the operative model values the configuration card shows, as a person reads them
OPERATIVE = {'SAMPLING_RATE': N_('Sampling rate (Hz)'), 'CAPACITY': N_('Capacity'), 'LATENT_SIZE': N_('Latent size'),
             'RATIOS': N_('Ratios'), 'N_BAND': N_('PQMF bands'), 'PHASE_1_DURATION': N_('Warm-up steps'),
             'NOISE_AUGMENTATION': N_('Noise augmentation')}
LOSS_KEYS = ('loss', 'fullband_spectral_distance', 'multiband_spectral_distance')


def create(models: Models, training: Training, experiments: Experiments, model_tests: ModelTests,
           events: Subscriber, project: ProjectView, run_id: str, play: Play) -> None:
    run = training.run(run_id, project.id)
    if run is None:
        cards.empty_state('search_off', _('No such model in this project'),
                          _('It may have been deleted, or it belongs to another project.'),
                          [cards.Action(_('All models'), 'inventory_2', '/models')])
        return
    _header(models, experiments, run)
    with ui.row().classes('w-full justify-end gap-2'):
        run_details_report.buttons(experiments, training, model_tests, [run.id], run.name)
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-2 gap-4'):
        _configuration(experiments, training, run)
        stats = model_stats.StatsCard(models, run)
    validation = _curves(training, run)
    listening = ABListening(model_tests, training, events, project, run)
    if validation is not None:
        validation.plot.on('plotly_click', listening.on_curve_click)

    @ui.refreshable
    def browser() -> None:
        checkpoint_browser.create(models, training, run, on_measure=stats.show, on_ab=listening.pick_next)

    browser()
    prior_list.create(play, events, project, run.id)  # the model's priors, and "Train a prior"
    stats.tree_area = ui.column().classes('w-full')
    stats.start()
    # the lab's comments card goes here, under the model's own sections
    events.on(RunChanged, lambda e: browser.refresh() if e.run_id == run.id else None)


def _header(models: Models, experiments: Experiments, run: RunView) -> None:
    found = experiments.operative(run.id) if run.folder else None
    with ui.row().classes('w-full items-center gap-3'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to('/models')).props('flat round dense') \
            .tooltip(_('All models'))
        with ui.column().classes('gap-0'):
            ui.label(run.name).classes(theme.TITLE).mark('model-name')
            ui.label(found.label if found else ' + '.join(run.configs)).classes(theme.SUBTITLE)
        status_chip(run.status)
        ui.space()
        ui.button(pgettext('verb', 'Test'), icon='fact_check',
                  on_click=lambda: ui.navigate.to(f'/models/test?run={run.id}')) \
            .props('unelevated color=primary')
        ui.button(pgettext('verb', 'Export'), icon='ios_share',
                  on_click=lambda: ui.navigate.to(f'/export?run={run.id}')) \
            .props('outline color=primary')
        ui.button(_('Run page'), icon='model_training',
                  on_click=lambda: ui.navigate.to(f'/training/runs/{run.id}')).props('flat color=primary')
        ui.button(icon='delete', on_click=lambda: deletion.delete_run(models, run.id, '/models')) \
            .props('flat round color=grey').tooltip(_('Delete…')).mark('delete-model')
    if run.spec.description:
        ui.label(run.spec.description).classes('text-sm text-gray-600 dark:text-gray-300')


def _configuration(experiments: Experiments, training: Training, run: RunView) -> None:
    found = experiments.operative(run.id) if run.folder else None
    spec = run.spec
    steps = max([run.step, *(c.step or 0 for c in training.checkpoints(run.id))])
    rows = [(_('Configs'), ' + '.join(run.configs) or '—'), (_('Dataset'), run.dataset_name or '—'),
            (_('Channels'), str(spec.channels)),
            ('n_signal', _('{count} samples').format(count=formatting.count(spec.n_signal))),
            (_('Batch'), str(spec.batch)),
            (_('Steps'), formatting.count(steps) if run.status == 'imported' else
             _('{done} of {total}').format(done=formatting.count(steps), total=formatting.count(spec.max_steps)))]
    if found is not None:
        rows += [(_(OPERATIVE[key]), str(value)) for key, value in found.values.items() if key in OPERATIVE]
    with ui.card().classes(theme.CARD + ' gap-2').mark('model-config'):
        ui.label(_('Configuration')).classes(theme.SECTION)
        with ui.element('div').classes('grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm'):
            for label, value in rows:
                ui.label(label).classes(theme.HINT)
                ui.label(value).classes(theme.MONO + ' break-all')
        ui.link(_('Full RunSpec, config.gin and command on the run page'), f'/training/runs/{run.id}') \
            .classes('text-sm')


def _curves(training: Training, run: RunView) -> MetricChart | None:
    """The validation and loss curves; the validation chart, whose clicks pick A/B checkpoints."""
    series = training.metrics(run.id)
    charts = {}
    with ui.element('div').classes('w-full grid grid-cols-1 xl:grid-cols-2 gap-4'):
        loss = next((k for k in LOSS_KEYS if k in series.traces), 'loss')
        for title, keys, smoothing in ((N_('Validation'), ['val/validation'], 0.0),
                                       (N_('Training loss'), [loss], 0.6)):
            with ui.card().classes(theme.CARD + ' gap-1').mark(f'curve-{keys[0]}'):
                ui.label(_(title)).classes(theme.SECTION)
                if not any(key in series.traces for key in keys):
                    ui.label(_('Nothing logged yet.')).classes(theme.HINT)
                    continue
                charts[title] = MetricChart(lambda: training.metrics(run.id), keys, smoothing=smoothing,
                                            height='h-56')
                if title == 'Validation':
                    ui.label(_('Click two points to A/B the checkpoints nearest to them (below).')) \
                        .classes(theme.HINT)
    return charts.get('Validation')
