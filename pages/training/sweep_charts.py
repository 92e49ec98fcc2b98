"""The sweep page's charts, drawn from what the service computed (services/training/sweeps/plots.py): the
objective of each trial with the best so far, the parallel coordinates of the trials, the importances."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components import cards
from services.i18n import _
from services.training.sweeps import SweepView
from services.training.sweeps.plots import Figures

COLOURS = {'complete': theme.COLORS['positive'], 'pruned': theme.COLORS['warning'],
           'failed': theme.COLORS['negative'], 'running': theme.ACCENT, 'stopped': '#9CA3AF'}


def figures(found: Figures, view: SweepView) -> None:
    with ui.element('div').classes('w-full grid grid-cols-1 xl:grid-cols-2 gap-4'):
        with cards.section(_('Objective over trials'), 'show_chart').mark('history'):
            if not found.numbers:
                ui.label(_("Each trial's objective appears here once it reported one.")).classes(theme.HINT)
            else:
                ui.plotly(_history(found, view)).classes('w-full h-72')
        with cards.section(_('Parallel coordinates'), 'stacked_line_chart').mark('parallel'):
            if len(found.numbers) < 2:
                ui.label(_('Drawn once two trials reported a value: each line is a trial, from its parameters '
                           'to its objective.')).classes(theme.HINT)
            else:
                ui.plotly(_parallel(found)).classes('w-full h-72')


def importance_card() -> ui.column:
    with cards.section(_('Parameter importance'), 'bar_chart').mark('importance'):
        box = ui.column().classes('w-full')
        with box:
            ui.label(_('Working it out…')).classes(theme.HINT)
    return box


def draw_importance(box: ui.column, found: dict[str, float]) -> None:
    box.clear()
    with box:
        if not found:
            ui.label(_("Shown once two trials with different parameters completed (Optuna's PED-ANOVA over "
                       "the complete trials).")).classes(theme.HINT)
            return
        names = list(found)[::-1]
        layout = {**theme.CHART_LAYOUT, 'height': 60 + 32 * len(names), 'margin': {'l': 140, 'r': 16, 't': 8, 'b': 30},
                  'xaxis': {**theme.CHART_LAYOUT['xaxis'], 'title': _('importance'), 'range': [0, 1]}}
        ui.plotly({'data': [{'type': 'bar', 'orientation': 'h', 'x': [found[n] for n in names], 'y': names,
                             'marker': {'color': theme.ACCENT}}], 'layout': layout}).classes('w-full')


def _history(found: Figures, view: SweepView) -> dict:
    data = []
    for status in ('complete', 'pruned', 'failed', 'running', 'stopped'):
        picked = [i for i, s in enumerate(found.statuses) if s == status]
        if picked:
            data.append({'type': 'scatter', 'mode': 'markers', 'name': _(status),
                         'x': [found.numbers[i] for i in picked], 'y': [found.values[i] for i in picked],
                         'marker': {'color': COLOURS[status], 'size': 9,
                                    'symbol': 'x' if status == 'pruned' else 'circle'}})
    data.append({'type': 'scatter', 'mode': 'lines', 'name': _('best so far'),
                 'line': {'shape': 'hv', 'color': theme.ACCENT},
                 'x': list(found.numbers), 'y': list(found.best_so_far)})
    layout = {**theme.CHART_LAYOUT, 'xaxis': {**theme.CHART_LAYOUT['xaxis'], 'title': _('trial'), 'dtick': 1},
              'yaxis': {**theme.CHART_LAYOUT['yaxis'], 'title': view.spec.objective.metric,
                        'type': 'log' if min(found.values) > 0 and max(found.values) > 20 * min(found.values)
                        else 'linear'}}
    return {'data': data, 'layout': layout}


def _parallel(found: Figures) -> dict:
    dimensions = []
    for axis in found.axes:
        dimension = {'label': axis.label, 'values': list(axis.values)}
        if axis.ticks:
            dimension.update(tickvals=list(range(len(axis.ticks))), ticktext=list(axis.ticks))
        dimensions.append(dimension)
    colours = [1.0 if s == 'pruned' else 0.0 for s in found.statuses]
    line = {'color': colours, 'colorscale': [[0, theme.ACCENT], [1, theme.COLORS['warning']]], 'cmin': 0, 'cmax': 1}
    return {'data': [{'type': 'parcoords', 'line': line, 'dimensions': dimensions}],
            'layout': {**theme.CHART_LAYOUT, 'margin': {'l': 60, 'r': 60, 't': 40, 'b': 20}}}
