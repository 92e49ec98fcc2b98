"""Sweeps: the project's sweeps, and one sweep's page — its live trial table, the objective over trials, the
parallel coordinates and parameter importances, stop/resume, and the best trial's model for the export wizard.

Both follow events: SweepChanged (a trial queued, judged or ended) redraws; RunMetrics moves the steps of the
trials that train."""
from __future__ import annotations

from nicegui import run, ui

from app import theme
from components import cards
from pages.training import sweep_charts
from services import formatting
from services.access import Forbidden
from services.events import RunMetrics, Subscriber, SweepChanged
from services.i18n import N_, _, ngettext
from services.projects import ProjectView
from services.training.sweeps import METHODS, PRUNERS, SweepError, Sweeps, SweepView, TrialView, label

ABOUT = N_('A sweep trains many short runs of one base run, each with a few choices changed (capacity, learning '
           'rate, β…), and lets Optuna choose the next from the results so far. Bad trials are stopped early.')
# fixed meanings, like theme.STATUS: (Quasar colour, icon)
CHIPS = {'running': ('primary', 'play_circle'), 'complete': ('positive', 'check_circle'),
         'done': ('positive', 'check_circle'), 'pruned': ('warning', 'content_cut'),
         'failed': ('negative', 'error'), 'stopped': ('grey-7', 'stop_circle'),
         'interrupted': ('orange-8', 'report')}
STATES = (N_('running'), N_('complete'), N_('done'), N_('pruned'), N_('failed'), N_('stopped'),
          N_('interrupted'))  # a sweep's or a trial's state, as its chip says it (through _())


def create(sweeps: Sweeps, events: Subscriber, project: ProjectView) -> None:
    """The project's sweeps, newest first, or an empty state that explains what a sweep is."""
    with ui.row().classes('w-full items-end gap-4'):
        with ui.column().classes('gap-0 grow'):
            ui.label(_('Sweeps')).classes(theme.TITLE)
            ui.label(_('Hyper-parameter searches of {project}').format(project=project.name)).classes(theme.SUBTITLE)
        ui.button(_('New sweep'), icon='add', on_click=lambda: ui.navigate.to('/training/sweeps/new')) \
            .props('unelevated color=primary').mark('new-sweep')

    @ui.refreshable
    def listing() -> None:
        rows = sweeps.list(project.id)
        if not rows:
            cards.empty_state('tune', _('No sweep yet'), _(ABOUT),
                              [cards.Action(_('New sweep'), 'add', '/training/sweeps/new')], mark='no-sweeps')
            return
        with cards.section(_('All sweeps'), 'tune', gap='gap-1').mark('sweeps'):
            for view in rows:
                _sweep_row(view)

    listing()
    events.on(SweepChanged, lambda _e: listing.refresh())


def page(sweeps: Sweeps, events: Subscriber, project: ProjectView, sweep_id: str) -> None:
    """One sweep, live."""
    view = sweeps.sweep(sweep_id, project.id)
    if view is None:
        cards.empty_state('search_off', _('This sweep does not exist in the current project.'), '',
                          [cards.Action(_('All sweeps'), 'arrow_back', '/training/sweeps')], mark='no-sweep')
        return
    steps: dict[int, ui.label] = {}  # trial run id -> its step cell

    @ui.refreshable
    def body() -> None:
        current = sweeps.sweep(view.id) or view
        _header(sweeps, current, body.refresh)
        steps.clear()
        steps.update(_trials(current))
        sweep_charts.figures(sweeps.figures(view.id), current)

    body()
    importance = sweep_charts.importance_card()

    async def load_importance() -> None:
        try:
            found = await run.io_bound(sweeps.importance, view.id)
        except (SweepError, Forbidden) as e:
            found = {}
            ui.notify(str(e), type='warning')
        sweep_charts.draw_importance(importance, found)

    async def changed(event: SweepChanged) -> None:
        if event.sweep_id == view.id:
            body.refresh()
            await load_importance()

    def progressed(event: RunMetrics) -> None:
        if event.run_id in steps:
            steps[event.run_id].set_text(formatting.count(event.step))

    events.on(SweepChanged, changed)
    events.on(RunMetrics, progressed)
    ui.timer(0, load_importance, once=True)  # fANOVA off the event loop, after the page is shown


# ---- the list ---------------------------------------------------------------------------------------------
def _sweep_row(view: SweepView) -> None:
    best = view.best
    with ui.row().classes('w-full items-center gap-3 p-2 rounded-lg hover:bg-gray-50 dark:hover:bg-gray-900 '
                          'cursor-pointer').on('click', lambda: ui.navigate.to(f'/training/sweeps/{view.id}')) \
            .mark(f'sweep-{view.name}'):
        chip(view.status)
        with ui.column().classes('gap-0 grow'):
            ui.label(view.name).classes('font-semibold')
            ui.label('; '.join(p.describe() for p in view.spec.params)).classes(theme.HINT)
        ui.label(ngettext('{done} / {count} trial', '{done} / {count} trials', view.spec.trials)
                 .format(done=view.count('complete', 'pruned', 'failed'), count=view.spec.trials)).classes(theme.NUMBER)
        ui.label(_('best {value}').format(value=formatting.significant(best.value)) if best else _('no result yet')) \
            .classes(theme.NUMBER + ' w-32')


def chip(status: str) -> ui.chip:
    color, icon = CHIPS.get(status, ('grey-6', 'help'))
    return ui.chip(_(status) if status in STATES else status, icon=icon, color=color, text_color='white') \
        .props('dense square').classes('text-xs font-medium').mark(f'chip-{status}')


# ---- one sweep --------------------------------------------------------------------------------------------
def _header(sweeps: Sweeps, view: SweepView, redraw) -> None:
    with ui.row().classes('w-full items-center gap-3'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to('/training/sweeps')) \
            .props('flat round dense').tooltip(_('All sweeps'))
        with ui.column().classes('gap-0 grow'):
            with ui.row().classes('items-center gap-2'):
                ui.label(view.name).classes(theme.TITLE)
                chip(view.status)
            ui.label(_('{method} · {pruner} pruning · {objective}').format(
                method=_(METHODS[view.spec.method]).split(':')[0], pruner=_(PRUNERS[view.spec.pruner]).split(':')[0],
                objective=view.spec.objective.describe())).classes(theme.SUBTITLE)

        def act(what) -> None:
            try:
                what(view.id)
            except (SweepError, Forbidden) as e:
                ui.notify(str(e), type='negative')
            redraw()
        if view.open:
            ui.button(_('Stop sweep'), icon='stop', on_click=lambda: act(sweeps.stop)) \
                .props('outline color=negative').mark('stop-sweep')
        elif view.status != 'done' or view.count('complete', 'pruned', 'failed') < view.spec.trials:
            ui.button(_('Resume sweep'), icon='play_arrow', on_click=lambda: act(sweeps.resume)) \
                .props('outline color=primary').mark('resume-sweep')
        model = sweeps.best(view.id)
        ui.button(_('Export best model'), icon='ios_share',
                  on_click=lambda: ui.navigate.to(model.export_url) if model else None) \
            .props('unelevated color=primary' + ('' if model else ' disable')).mark('best-model') \
            .tooltip(_('Trial {number}: {checkpoint} at step {step}').format(
                number=model.trial.number, checkpoint=_where(model.checkpoint), step=formatting.count(model.step))
                if model else _('Once a trial completed and wrote a checkpoint.'))
    if view.message:
        with ui.row().classes('items-center gap-2 text-sm text-negative').mark('sweep-message'):
            ui.icon('error_outline')
            ui.label(view.message)
    best = view.best
    with ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-5 gap-3').mark('sweep-figures'):
        for title, value in ((_('Trials'), f'{view.count("complete", "pruned", "failed")} / {view.spec.trials}'),
                             (_('Training now'), str(view.count('running'))),
                             (_('Pruned'), str(view.count('pruned'))),
                             (_('Device-hours'), formatting.number(float(f'{view.device_hours:.2g}'))),
                             (_('Best'), _('{value} (trial {number})')
                              .format(value=formatting.significant(best.value), number=best.number)
                              if best else '—')):
            with ui.card().classes(theme.CARD + ' gap-0 p-3'):
                ui.label(title).classes(theme.HINT)
                ui.label(value).classes('text-lg font-semibold tabular-nums')


def _trials(view: SweepView) -> dict[int, ui.label]:
    """The trial table; returns the step cells of the trials that train, by run id."""
    keys = [p.key for p in view.spec.params]
    columns = f'grid-cols-[3rem_7rem_repeat({len(keys)},minmax(5rem,1fr))_6rem_6rem_minmax(6rem,1fr)]'
    best = view.best
    cells: dict[int, ui.label] = {}
    with cards.section(_('Trials'), 'view_list', gap='gap-1').classes('overflow-x-auto').mark('trials'):
        if not view.trials:
            ui.label(_('No trial yet: the first one is queued as soon as the sweep starts.')).classes(theme.HINT)
            return cells
        with ui.element('div').classes(f'w-full grid {columns} gap-x-3 gap-y-1 items-center text-sm min-w-max'):
            for title in ('#', N_('State'), *map(label, keys), N_('Objective'), N_('Step'), N_('Run')):
                align = ' text-right' if title not in ('#', 'State', 'Run') else ''
                ui.label(_(title)).classes('text-xs font-semibold text-gray-500' + align)
            for trial in view.trials:
                _trial_row(trial, keys, best, cells)
    return cells


def _trial_row(trial: TrialView, keys: list[str], best: TrialView | None, cells: dict[int, ui.label]) -> None:
    star = best is not None and trial.number == best.number
    ui.label(str(trial.number)).classes('tabular-nums' + (' font-bold text-primary' if star else ''))
    with ui.row().classes('gap-1 items-center'):
        chip(trial.status).mark(f'trial-{trial.number}-state')
        if trial.message:
            ui.icon('info', size='xs', color='grey-6').tooltip(trial.message)
    for key in keys:
        value = trial.params.get(key)
        ui.label(formatting.significant(value) if isinstance(value, float) else str(value)).classes(theme.NUMBER)
    ui.label(f'{formatting.significant(trial.value)}{" ★" if star else ""}' if trial.value is not None else '—') \
        .classes(theme.NUMBER).mark(f'trial-{trial.number}-value')
    cell = ui.label(formatting.count(trial.run_step)).classes(theme.NUMBER)
    if trial.run_id is not None:
        cells[trial.run_id] = cell
        ui.link(trial.run_name, f'/training/runs/{trial.run_id}').classes('truncate')
    else:
        ui.label('—')


def _where(path: str) -> str:
    return path.rsplit('/', 1)[-1]
