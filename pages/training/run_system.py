"""The run's System tab: CPU, RAM and GPU of this machine, and the training process itself, as live charts."""
from __future__ import annotations

import copy
import datetime
from collections.abc import Callable

from nicegui import ui

from app import theme
from services.store import Run

GB = 1024 ** 3


def create(studio, run: Run, is_open: Callable[[], bool] = lambda: True) -> None:
    """Small live charts from the studio's system monitor (sampled every 2 s by the global poller)."""
    monitor = studio.monitor
    with ui.card().classes(theme.CARD), ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-4 gap-4'):
        figures = {key: _cell(label) for key, label in (
            ('cpu', 'CPU (machine)'), ('ram', 'RAM (machine)'), ('proc_cpu', 'Training process CPU'),
            ('proc_ram', 'Training process memory'))}
    gpus = monitor.now.gpus
    specs = [('cpu', 'CPU', '%', lambda f: f.cpu), ('ram', 'RAM', 'GB', lambda f: f.ram_used / GB)]
    for gpu in gpus:
        specs += [(f'gpu{gpu.index}', f'GPU {gpu.index} utilisation · {gpu.name}', '%',
                   lambda f, i=gpu.index: _gpu(f, i, 'util')),
                  (f'gpumem{gpu.index}', f'GPU {gpu.index} memory', 'GB',
                   lambda f, i=gpu.index: _gpu(f, i, 'mem_used') / GB)]
    with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-2 gap-4').mark('system-charts'):
        charts = {key: _chart(title, unit, monitor.history, value) for key, title, unit, value in specs}
    if not gpus:
        ui.label(monitor.gpu_error or 'No GPU found: training runs on the CPU.').classes(theme.HINT + ' px-1') \
            .mark('no-gpu')
    seen = {'t': monitor.history[-1][0] if monitor.history else 0.0}

    def tick() -> None:
        now = monitor.now
        figures['cpu'].set_text(f'{now.cpu:.0f} %')
        figures['ram'].set_text(f'{now.ram_used / GB:.1f} / {now.ram_total / GB:.1f} GB')
        current = studio.training.get(run.id)
        job = current.job if current is not None and current.job_id else None
        proc = monitor.process(job.pid) if job is not None and job.pid and job.status in ('running', 'paused') \
            else None
        figures['proc_cpu'].set_text(f'{proc[0]:.0f} %' if proc else '—')
        figures['proc_ram'].set_text(f'{proc[1] / GB:.2f} GB' if proc else '—')
        new = [(t, f) for t, f in monitor.history if t > seen['t']]
        if not new:
            return
        seen['t'] = new[-1][0]
        x = [_clock(t) for t, _ in new]
        for key, _, _, value in specs:
            y = [value(f) for _, f in new]
            trace = charts[key].figure['data'][0]
            trace['x'] = (trace['x'] + x)[-900:]  # the server's copy, drawn when the tab (re)opens
            trace['y'] = (trace['y'] + y)[-900:]
            if is_open():
                charts[key].run_plot_method('extendTraces', {'x': [x], 'y': [y]}, [0], 900)

    ui.timer(2.0, tick)
    tick()


def _cell(label: str) -> ui.label:
    with ui.column().classes('gap-0'):
        ui.label(label).classes(theme.HINT)
        return ui.label('—').classes('text-lg font-semibold tabular-nums').mark(f'sys-{label.split()[0].lower()}')


def _chart(title: str, unit: str, history, value) -> ui.plotly:
    layout = copy.deepcopy(theme.CHART_LAYOUT)
    layout.update(margin={'l': 44, 'r': 8, 't': 4, 'b': 28}, showlegend=False)
    layout['yaxis'].update(rangemode='tozero', ticksuffix=f' {unit}' if unit != '%' else ' %',
                           **({'range': [0, 100]} if unit == '%' else {}))
    data = [{'type': 'scatter', 'mode': 'lines', 'fill': 'tozeroy', 'line': {'width': 1.5, 'color': theme.ACCENT},
             'x': [_clock(t) for t, _ in history], 'y': [value(f) for _, f in history]}]
    with ui.card().classes(theme.CARD + ' gap-1'):
        ui.label(title).classes(theme.SECTION)
        return ui.plotly({'data': data, 'layout': layout, 'config': {'displayModeBar': False, 'responsive': True}}) \
            .classes('w-full h-40')


def _gpu(figures, index: int, field: str) -> float:
    gpu = next((g for g in figures.gpus if g.index == index), None)
    return float(getattr(gpu, field)) if gpu else 0.0


def _clock(t: float) -> str:
    return datetime.datetime.fromtimestamp(t).strftime('%Y-%m-%d %H:%M:%S')
