"""Compare 2–20 runs (`/experiments/compare?runs=1,2,3`): the parameters that differ (or all of them), each
metric overlaid on a shared step or wall-time axis with smoothing and log scale (hovering a step shows every
run's value), the best and last value of every metric, and the runs' training speed."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components import cards
from components.charts import chart_layout
from pages.training import run_details_report
from services import formatting
from services.i18n import _
from services.models.testing import ModelTests
from services.projects import ProjectView
from services.training import Training
from services.training.compare import Comparison
from services.training.experiments import Experiments
from services.training.runs import TrainingError

COLORS = (*theme.CHART_LAYOUT['colorway'], '#0984E3', '#FD79A8', '#00CEC9', '#6D214F', '#B33771', '#3B3B98')


def create(experiments: Experiments, training: Training, model_tests: ModelTests, project: ProjectView,
           runs: str = '') -> None:
    """The comparison of the runs the table picked (their ids in `runs`)."""
    picked = [int(i) for i in runs.split(',') if i.strip().isdigit()]
    with ui.row().classes('w-full items-end gap-4'):
        with ui.column().classes('gap-0 grow'):
            ui.label(_('Compare runs')).classes(theme.TITLE)
            ui.label(_('Parameters that differ, metrics on one step axis')).classes(theme.SUBTITLE)
        if 2 <= len(picked) <= 20:
            run_details_report.buttons(experiments, training, model_tests, picked, 'comparison')
        ui.button(_('Experiments'), icon='arrow_back', on_click=lambda: ui.navigate.to('/experiments')) \
            .props('flat color=primary').mark('back')
    try:
        comparison = experiments.compare(picked)
    except TrainingError as e:
        cards.empty_state('compare_arrows', _('Nothing to compare'),
                          _('{problem} Tick them in the experiments table.').format(problem=e),
                          [cards.Action(_('Experiments'), 'science', '/experiments')])
        return
    ids = [r.id for r in comparison.runs]
    _legend(comparison)
    _parameters(comparison)
    _overlay(experiments, comparison, ids)
    _figures(comparison)


def _legend(comparison: Comparison) -> None:
    with ui.row().classes('w-full gap-2').mark('runs'):
        for i, run in enumerate(comparison.runs):
            with ui.row().classes('items-center gap-1 px-2 py-1 rounded-md border border-gray-200 '
                                  'dark:border-gray-700'):
                ui.element('span').classes('inline-block w-3 h-3 rounded-full') \
                    .style(f'background:{COLORS[i % len(COLORS)]}')
                ui.link(run.name, f'/training/runs/{run.id}').classes('text-sm font-medium')
                ui.label(_(run.status)).classes(theme.HINT)


def _parameters(comparison: Comparison) -> None:
    with cards.section(_('Parameters'), 'tune').mark('parameters'):
        show_all = ui.switch(_('Show every parameter')).mark('show-all') \
            .tooltip(_('Off: only the parameters that differ between these runs'))

        @ui.refreshable
        def table() -> None:
            rows = comparison.parameters if show_all.value else comparison.differing()
            if not rows:
                ui.label(_('These runs were trained with the same parameters.')).classes(theme.HINT)
                return
            columns = [{'name': 'label', 'label': _('Parameter'), 'field': 'label', 'align': 'left'}] + \
                [{'name': f'r{i}', 'label': r.name, 'field': f'r{i}', 'align': 'left'}
                 for i, r in enumerate(comparison.runs)]
            data = [{'label': _(p.label), **{f'r{i}': v for i, v in enumerate(p.values)},
                     'differs': p.differs} for p in rows]
            ui.table(columns=columns, rows=data, row_key='label').props('flat dense wrap-cells') \
                .classes('w-full').mark('parameter-table')
        table()
        show_all.on_value_change(table.refresh)


def _overlay(experiments: Experiments, comparison: Comparison, ids: list[int]) -> None:
    keys = list(comparison.keys)
    with cards.section(_('Metrics'), 'show_chart').mark('overlay'):
        if not keys:
            ui.label(_('None of these runs has logged a metric yet.')).classes(theme.HINT)
            return
        with ui.row().classes('w-full items-center gap-4'):
            metric = ui.select(keys, value=keys[0], label=_('Metric')).props('dense outlined options-dense') \
                .classes('w-64').mark('metric').tooltip(_('The scalar every run is drawn for'))
            ui.label(_('Smoothing')).classes('text-sm')
            smoothing = ui.slider(min=0, max=0.99, step=0.01, value=0.6).props('label').classes('w-48') \
                .mark('smoothing').tooltip(_("TensorBoard's moving average (validations are drawn as logged)"))
            log = ui.switch(_('Log scale')).mark('log-scale').tooltip(_('A logarithmic value axis'))
            axis = ui.toggle({'step': _('Step'), 'time': _('Wall time')}, value='step').props('dense no-caps') \
                .mark('axis').tooltip(_("Steps, or hours of wall-clock time since each run's first step"))
        plot = ui.plotly(_figure(experiments, ids, keys[0], 0.6, False, comparison)).classes('w-full h-96') \
            .mark('overlay-chart')

        def redraw() -> None:
            plot.update_figure(_figure(experiments, ids, metric.value, smoothing.value, log.value, comparison,
                                       axis.value))
        metric.on_value_change(redraw)
        smoothing.on('change', redraw)  # on release, not on every pixel of the drag
        log.on_value_change(redraw)
        axis.on_value_change(redraw)


def _figure(experiments: Experiments, ids: list[int], key: str, smoothing: float, log: bool,
            comparison: Comparison, axis: str = 'step') -> dict:
    order = {r.id: i for i, r in enumerate(comparison.runs)}
    data = [{'type': 'scattergl', 'mode': 'lines+markers' if len(t.steps) < 40 else 'lines', 'name': t.name,
             'x': t.steps, 'y': t.values, 'line': {'width': 1.6, 'color': COLORS[order[t.run_id] % len(COLORS)]},
             'marker': {'size': 5}, 'hovertemplate': '%{y:.4g}'}
            for t in experiments.overlay(ids, key, smoothing if not key.startswith('val/') else 0.0, axis)]
    layout = chart_layout()
    layout.update(hovermode='x unified', margin={'l': 56, 'r': 12, 't': 8, 'b': 36},
                  legend={'orientation': 'h', 'y': -0.16, 'x': 0})
    layout['xaxis'].update(title={'text': _('wall time (h)') if axis == 'time' else _('step')})
    layout['yaxis'].update(type='log' if log else 'linear', exponentformat='power')
    return {'data': data, 'layout': layout, 'config': {'displaylogo': False}}


def _figures(comparison: Comparison) -> None:
    with cards.section(_('Best and last values'), 'leaderboard').mark('figures'):
        columns = [{'name': 'metric', 'label': _('Metric'), 'field': 'metric', 'align': 'left'}] + \
            [{'name': f'r{i}', 'label': r.name, 'field': f'r{i}'} for i, r in enumerate(comparison.runs)]
        rows = [{'metric': _('steps per second'),
                 **{f'r{i}': formatting.number(v, 2) if v else '—' for i, v in enumerate(comparison.steps_per_second)}},
                {'metric': _('steps · training time'),
                 **{f'r{i}': f'{formatting.count(r.steps)} · {formatting.duration(r.seconds) if r.seconds else "—"}'
                    for i, r in enumerate(comparison.runs)}}]
        for m in comparison.metrics:
            best_value = [v for v in m.best if v is not None]
            winner = (min if m.lower_is_better else max)(best_value) if len(set(best_value)) > 1 else None
            label = _('{metric} (best {arrow} / last)').format(metric=m.key, arrow='↓' if m.lower_is_better else '↑')
            rows.append({'metric': label,
                         **{f'r{i}': f'{"★ " if b is not None and b == winner else ""}{_n(b)} / {_n(last)}'
                            for i, (b, last) in enumerate(zip(m.best, m.last, strict=True))}})
        ui.table(columns=columns, rows=rows, row_key='metric').props('flat dense').classes('w-full') \
            .mark('figure-table')


def _n(value: float | None) -> str:
    return formatting.significant(value)
