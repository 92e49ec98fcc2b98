"""The run's System tab: CPU, RAM and GPU of this machine, and the training process itself, as live charts.

It is built when the tab first opens (the run page's other viewers follow no sample), then follows the system
monitor's SystemSample events (the global poller samples every 2 s); while the tab is hidden again the figures
still move but the charts only keep their points, sent when the tab opens."""
from __future__ import annotations

import datetime
from collections.abc import Callable

from nicegui import ui

from app import theme
from components.charts import chart_layout
from services import formatting
from services.events import Subscriber, SystemSample
from services.i18n import N_, _
from services.system import System
from services.training import RunView, Training

GB = 1024 ** 3
KEEP = 900  # points per chart (30 min at one sample every 2 s)


def create(training: Training, system: System, events: Subscriber, run: RunView,
           is_open: Callable[[], bool] = lambda: True) -> Callable[[], None]:
    """Small live charts from the studio's system monitor; returns what to do when the tab opens."""
    with ui.card().classes(theme.CARD), ui.element('div') \
        .classes('w-full grid grid-cols-2 md:grid-cols-4 gap-4'):
        figures = {key: _cell(label) for key, label in (
            ('cpu', N_('CPU (machine)')), ('ram', N_('RAM (machine)')), ('proc_cpu', N_('Training process CPU')),
            ('proc_ram', N_('Training process memory')))}
    gpus = system.now.gpus
    specs = [('cpu', 'CPU', '%', lambda f: f.cpu), ('ram', _('RAM'), _('GB'), lambda f: f.ram_used / GB)]
    for gpu in gpus:
        specs += [(f'gpu{gpu.index}', _('GPU {index} utilisation · {name}').format(index=gpu.index, name=gpu.name), '%',
                   lambda f, i=gpu.index: _gpu(f, i, 'util')),
                  (f'gpumem{gpu.index}', _('GPU {index} memory').format(index=gpu.index), _('GB'),
                   lambda f, i=gpu.index: _gpu(f, i, 'mem_used') / GB)]
    history = system.history()
    with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-2 gap-4').mark('system-charts'):
        charts = {key: _chart(title, unit, history, value) for key, title, unit, value in specs}
    if not gpus:
        ui.label(system.gpu_error or _('No GPU found: training runs on the CPU.')) \
            .classes(theme.HINT + ' px-1') \
            .mark('no-gpu')
    sent = {'t': history[-1][0] if history else 0.0, 'pending': 0}  # samples the browser has not drawn yet

    def sample(_event: SystemSample | None = None) -> None:
        now = system.now
        figures['cpu'].set_text(f'{now.cpu:.0f} %')
        figures['ram'].set_text(_('{used} / {total} GB').format(used=formatting.number(now.ram_used / GB, 1),
                                                                 total=formatting.number(now.ram_total / GB, 1)))
        pid = training.pid(run.id)
        proc = system.process(pid) if pid else None  # psutil reads no pid as this very process
        figures['proc_cpu'].set_text(f'{proc.cpu:.0f} %' if proc else '—')
        figures['proc_ram'].set_text(_('{size} GB').format(size=formatting.number(proc.rss / GB, 2)) if proc else '—')
        new = system.history(since=sent['t'])
        if new:
            sent['t'], sent['pending'] = new[-1][0], sent['pending'] + len(new)
            for key, _title, _unit, value in specs:
                trace = charts[key].figure['data'][0]  # the server's copy, whole when the tab (re)opens
                trace['x'] = (trace['x'] + [_clock(t) for t, _ in new])[-KEEP:]
                trace['y'] = (trace['y'] + [value(f) for _, f in new])[-KEEP:]
        if is_open():
            shown()

    def shown() -> None:
        """Send the browser what it has not drawn yet."""
        waiting, sent['pending'] = min(sent['pending'], KEEP), 0
        if not waiting:
            return
        for key, *_rest in specs:
            trace = charts[key].figure['data'][0]
            charts[key].run_plot_method('extendTraces',
                                        {'x': [trace['x'][-waiting:]], 'y': [trace['y'][-waiting:]]},
                                        [0], KEEP)

    events.on(SystemSample, sample)
    sample()
    return shown


def _cell(label: str) -> ui.label:
    with ui.column().classes('gap-0'):
        ui.label(_(label)).classes(theme.HINT)
        return ui.label('—').classes('text-lg font-semibold tabular-nums') \
            .mark(f'sys-{label.split()[0].lower()}')


def _chart(title: str, unit: str, history, value) -> ui.plotly:
    layout = chart_layout()
    layout.update(margin={'l': 44, 'r': 8, 't': 4, 'b': 28}, showlegend=False)
    layout['yaxis'].update(rangemode='tozero', ticksuffix=f' {unit}' if unit != '%' else ' %',
                           **({'range': [0, 100]} if unit == '%' else {}))
    data = [{'type': 'scatter', 'mode': 'lines', 'fill': 'tozeroy',
             'line': {'width': 1.5, 'color': theme.ACCENT},
             'x': [_clock(t) for t, _ in history][-KEEP:], 'y': [value(f) for _, f in history][-KEEP:]}]
    with ui.card().classes(theme.CARD + ' gap-1'):
        ui.label(title).classes(theme.SECTION)
        return ui.plotly({'data': data, 'layout': layout,
                          'config': {'displayModeBar': False, 'responsive': True}}) \
            .classes('w-full h-40')


def _gpu(figures, index: int, field: str) -> float:
    gpu = next((g for g in figures.gpus if g.index == index), None)
    return float(getattr(gpu, field)) if gpu else 0.0


def _clock(t: float) -> str:
    return datetime.datetime.fromtimestamp(t).strftime('%Y-%m-%d %H:%M:%S')
