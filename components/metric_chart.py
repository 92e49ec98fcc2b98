"""A live Plotly chart of training metrics: drawn once from the series, then extended with new points only."""
from __future__ import annotations

import copy
import math
from collections.abc import Callable

from nicegui import ui

from app import theme
from services.training import Series

MAX_POINTS = 1500  # per trace on screen; longer series are thinned with a fixed stride


def metric_chart(get_series: Callable[[], Series], traces: list[tuple[str, str]], title: str, *,
                 mode: str = 'lines', height: str = 'h-72', log_y: bool = False) -> ui.plotly:
    """`traces` is a list of (series key, legend label); the chart polls the series once a second.

    New points go to the browser through Plotly.extendTraces, never by resending the figure.
    """
    series = get_series()
    strides = [max(1, math.ceil(len(series.steps.get(key, [])) / MAX_POINTS)) for key, _ in traces]
    sent = [0] * len(traces)  # next raw index of each trace not yet on screen
    data = []
    for i, (key, label) in enumerate(traces):
        xs, ys, sent[i] = _thin(series, key, 0, strides[i])
        data.append({'type': 'scatter', 'mode': mode, 'name': label, 'x': xs, 'y': ys,
                     'line': {'width': 1.6}, 'marker': {'size': 4}})
    layout = copy.deepcopy(theme.CHART_LAYOUT)
    layout['margin'] = {**layout['margin'], 't': 8}
    layout['legend'] = {**layout['legend'], 'y': -0.25}
    layout['xaxis']['title'] = {'text': 'step'}
    if log_y:
        layout['yaxis']['type'] = 'log'
    figure = {'data': data, 'layout': layout, 'config': {'displaylogo': False, 'responsive': True}}
    ui.label(title).classes(theme.SECTION)
    plot = ui.plotly(figure).classes(f'w-full {height}')
    seen = {'version': series.version}

    def extend() -> None:
        current = get_series()
        if current.version == seen['version']:
            return
        seen['version'] = current.version
        update = {'x': [], 'y': []}
        indices = []
        for i, (key, _) in enumerate(traces):
            xs, ys, sent[i] = _thin(current, key, sent[i], strides[i])
            if xs:
                update['x'].append(xs)
                update['y'].append(ys)
                indices.append(i)
                data[i]['x'].extend(xs)  # keep the server's copy whole for a reconnect, without sending it
                data[i]['y'].extend(ys)
        if indices:
            plot.run_plot_method('extendTraces', update, indices)

    ui.timer(1.0, extend)
    return plot


def _thin(series: Series, key: str, start: int, stride: int) -> tuple[list, list, int]:
    """Points of `key` from raw index `start`, every `stride`-th; and the next index to send."""
    steps, values = series.steps.get(key, []), series.values.get(key, [])
    indices = range(start, len(steps), stride)
    xs = [steps[i] for i in indices]
    ys = [values[i] for i in indices]
    return xs, ys, (indices[-1] + stride if xs else start)
