"""The run dashboard under a run's header: progress with ETA, alerts, and the Metrics / Audio / System /
TensorBoard tabs (the run page adds its own tabs, such as Console and Checkpoints).

Live by events: RunMetrics of this run moves the figures and appends points to the charts (while the Metrics
tab is open; it catches up when it opens), RunChanged refreshes the status figures, and the system monitor's
SystemSample is the clock of the stall alert (no step for a while is not an event of its own).
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from nicegui import ui

from app import theme
from components.metric_chart import MetricChart, extend_all
from pages.training import run_audio, run_system, tensorboard
from services import formatting
from services.events import RunChanged, RunMetrics, Subscriber, SystemSample
from services.i18n import N_, _, ngettext
from services.system import System
from services.training import MetricsView, RunView, Training, metrics

SMOOTHING = 0.9  # per-step losses are noisy: stronger than TensorBoard's 0.6 for points every 50 steps
ALERT_CLASSES = {'negative': 'bg-red-50 text-red-700 dark:bg-red-950 dark:text-red-300',
                 'warning': 'bg-amber-50 text-amber-800 dark:bg-amber-950 dark:text-amber-300',
                 'info': 'bg-blue-50 text-blue-700 dark:bg-blue-950 dark:text-blue-300'}

# a tab the run page adds: (label, icon, build); build gets "is my tab open?" and may return what to do when
# it opens
Tab = tuple[str, str, Callable[[Callable[[], bool]], Callable[[], None] | None]]


async def create(training: Training, system: System, events: Subscriber, run: RunView,
                 tabs: list[Tab] = ()) -> None:
    """Summary + alerts + tabs; `tabs` are added after Metrics/Audio/System. Drawn in parts: the loop serves what
    waits between two of them."""
    monitor = _Monitor(training, run)
    monitor.summary()
    await asyncio.sleep(0)
    with ui.tabs().classes('w-full') \
        .props('align=left dense no-caps active-color=primary indicator-color=primary') \
            .mark('run-tabs') as bar:
        names = [('Metrics', _('Metrics'), 'show_chart'), ('Audio', _('Audio'), 'graphic_eq'),
                 ('System', _('System'), 'memory'), *((label, label, icon) for label, icon, _build in tabs),
                 ('TensorBoard', _('TensorBoard'), 'insights')]
        items = {name: ui.tab(name, label=label, icon=icon).mark(f'tab-{name.lower()}')
                 for name, label, icon in names}
    shown: dict[str, Callable[[], None]] = {'Metrics': monitor.tick}
    with ui.tab_panels(bar, value='Metrics').classes('w-full bg-transparent') as panels:
        with ui.tab_panel(items['Metrics']).classes('p-0 pt-2'):
            monitor.metrics_tab()
        await asyncio.sleep(0)
        with ui.tab_panel(items['Audio']).classes('p-0 pt-2'):
            audio = run_audio.AudioTab(training, run)
        with ui.tab_panel(items['System']).classes('p-0 pt-2') as system_panel:
            pass  # built when it first opens: a page nobody turns to its System tab follows no system sample
        for label, _icon, build in tabs:
            with ui.tab_panel(items[label]).classes('p-0 pt-2'):
                on_show = build(lambda label=label: panels.value == label)
                if on_show is not None:
                    shown[label] = on_show
        with ui.tab_panel(items['TensorBoard']).classes('p-0 pt-2') as tensorboard_panel:
            pass  # built when it first opens
    shown['Audio'] = lambda: None if audio.entries else audio.load()
    later = {'System': (system_panel, lambda: run_system.create(training, system, events, run,
                                                                  is_open=lambda: panels.value == 'System')),
             'TensorBoard': (tensorboard_panel, lambda: tensorboard.run_panel(training, run))}

    async def opened(e) -> None:
        if e.value in later:
            panel, build = later.pop(e.value)
            with panel:
                on_show = build()
            if on_show is not None:
                shown[e.value] = on_show
        result = shown.get(e.value, lambda: None)()
        if result is not None:
            await result

    panels.on_value_change(opened)
    monitor.is_open = lambda: panels.value == 'Metrics'
    events.on(RunMetrics, lambda e: e.run_id == run.id and monitor.tick())
    events.on(RunChanged, lambda e: e.run_id == run.id and monitor.changed())
    events.on(SystemSample, lambda e: monitor.clock(e.t))


class _Monitor:
    """The run's live figures and charts."""

    def __init__(self, training: Training, run: RunView) -> None:
        self.training = training
        self.run = run
        self.view = training.metrics(run.id)
        self.charts: list[MetricChart] = []
        self.smoothing = SMOOTHING
        self.version = -1
        self.groups: list = []
        self.gan_step: int | None = None
        # from the latest metrics; the stall alert is added by the clock
        self.health: list[metrics.Alert] = []
        self.shown_alerts: list[tuple[str, str]] | None = None
        self.is_open: Callable[[], bool] = lambda: True  # charts only take new points while on screen
        self.phase_1 = training.phase_1(run.id)

    def series(self) -> MetricsView:
        return self.view

    # ---- summary -------------------------------------------------------------------------------
    def summary(self) -> None:
        with ui.card().classes(theme.CARD + ' gap-3').mark('run-summary'):
            with ui.element('div').classes('w-full grid grid-cols-2 sm:grid-cols-3 lg:grid-cols-6 gap-4') \
                    .mark('figures'):
                self.cells = {key: _figure(label) for key, label in (
                    ('step', N_('Step')), ('epoch', N_('Epoch')), ('rate', N_('Speed')), ('eta', N_('Remaining')),
                    ('loss', N_('Loss')), ('val', N_('Validation')))}
            with ui.row().classes('w-full items-center gap-3 no-wrap'):
                self.bar = ui.linear_progress(value=0,
                                              show_value=False).props('rounded size=10px color=primary') \
                    .classes('grow').mark('run-progress')
                self.percent = ui.label('').classes(f'text-sm w-14 {theme.NUMBER}')
            self.phase = ui.label('').classes(theme.HINT).mark('run-phase')
            self.alert_box = ui.column().classes('w-full gap-2').mark('alerts')
        self._update_summary()

    def _update_summary(self) -> None:
        series, run = self.view, self.run
        max_steps = series.max_steps or run.max_steps
        step = max(series.step, run.step)
        active = run.status in ('running', 'paused')
        self.cells['step'].set_text(f'{_num(step)} / {_num(max_steps)}')
        self.cells['epoch'].set_text(_num(series.epoch))
        self.cells['rate'].set_text(f'{formatting.number(series.rate, 2)} it/s' if series.rate and active else '—')
        eta = (max_steps - step) / series.rate if series.rate and active and max_steps else None
        self.cells['eta'].set_text(formatting.duration(eta) if eta is not None else '—')
        loss, val = series.latest('loss'), series.latest('val/validation')
        self.cells['loss'].set_text(formatting.significant(loss))
        self.cells['val'].set_text(formatting.significant(val))
        fraction = min(1.0, step / max_steps) if max_steps else 0.0
        self.bar.set_value(fraction)
        self.percent.set_text(f'{formatting.number(fraction * 100, 1)} %')
        steps = series.steps
        gan = metrics.gan_start(steps, self.phase_1)
        if gan is None:
            self.phase.set_text(_('Phase: warm-up (the GAN switch is read from the config once the run starts).'))
        elif step >= gan:
            self.phase.set_text(_('Phase 2: adversarial training since step {step} (dashed line on the charts).')
                                .format(step=_num(gan)))
        else:
            left = ngettext('{steps} step', '{steps} steps', gan - step).format(steps=_num(gan - step))
            self.phase.set_text(_('Phase 1: warm-up, {steps} until adversarial training at step {step}.')
                                .format(steps=left, step=_num(gan)))
        self.gan_step = gan if gan is not None and gan <= max(max_steps, step) else None
        self.health = self.training.health(series, step)
        self.clock(time.time())

    def clock(self, now: float) -> None:
        """The alerts as of `now`: the health of the latest metrics, plus a stall if no step came for long."""
        stall = self.training.stall(self.view.last_time, self.run.status == 'running', now)
        found = self.health + stall
        key = [(a.kind, a.message) for a in found]
        if key == self.shown_alerts:
            return
        self.shown_alerts = key
        self.alert_box.clear()
        with self.alert_box:
            for alert in found:
                icon = {'negative': 'error', 'warning': 'warning'}.get(alert.level, 'info')
                with ui.row().classes('w-full items-start gap-2 no-wrap rounded-lg px-3 py-2 text-sm '
                                      + ALERT_CLASSES[alert.level]).mark(f'alert-{alert.kind}'):
                    ui.icon(icon).classes('mt-0.5')
                    ui.label(alert.message)

    # ---- metrics tab ---------------------------------------------------------------------------
    def metrics_tab(self) -> None:
        with ui.row().classes('w-full items-center gap-4 px-1'):
            ui.label(_('Smoothing')).classes('text-sm')
            slider = ui.slider(min=0, max=0.99, step=0.01, value=self.smoothing).classes('w-48') \
                .props('label color=primary').props(f'aria-label="{_("Smoothing")}"').mark('smoothing')
            ui.label(_('EMA weight over the faint raw curve; 0 shows every step raw. Steps on the x axis.')) \
                .classes(theme.HINT)
            ui.space()
            ui.label(_('Drag on a chart to zoom (finer detail loads); double-click to reset.')) \
                .classes(theme.HINT)
        slider.on('change', lambda e: self._set_smoothing(float(e.args)))
        self.grid = ui.element('div').classes('w-full grid grid-cols-1 xl:grid-cols-2 gap-4').mark('charts')
        self._build_charts()

    def _build_charts(self) -> None:
        self.groups = metrics.grouped(self.view.traces)
        self.version = self.view.version
        self.charts = []
        self.grid.clear()
        with self.grid:
            for title, keys, log, hint in self.groups:
                with ui.card().classes(theme.CARD + ' gap-1').mark(f'chart-{_slug(title)}'):
                    with ui.row().classes('w-full items-center gap-2 no-wrap'):
                        ui.label(_(title)).classes(theme.SECTION)
                        ui.space()
                        toggle = ui.checkbox(_('log'), value=log).props('dense size=xs').classes('text-xs') \
                            .mark(f'log-{_slug(title)}')
                    ui.label(_(hint)).classes(theme.HINT)
                    chart = MetricChart(self.series, keys, smoothing=self._smoothing_for(keys), log_y=log,
                                        gan_step=self.gan_step)
                    chart.log_toggle(toggle)
                    self.charts.append(chart)

    def _smoothing_for(self, keys: list[str]) -> float:
        """Validation, fidelity and learning rate are not noisy: only per-step losses are smoothed."""
        return 0.0 if all(k.startswith(('val/', 'lr_', 'beta')) for k in keys) else self.smoothing

    def _set_smoothing(self, weight: float) -> None:
        self.smoothing = weight
        for chart in self.charts:
            chart.set_smoothing(self._smoothing_for(chart.keys))

    # ---- live ----------------------------------------------------------------------------------
    def tick(self) -> None:
        """New metric lines (or the Metrics tab opened): figures, alerts, and the new points on every
        chart."""
        self.view = self.training.metrics(self.run.id)
        self._update_summary()
        if not self.is_open() or self.view.version == self.version:
            return
        self.version = self.view.version
        if [g[1] for g in metrics.grouped(self.view.traces)] != [g[1] for g in self.groups]:
            self._build_charts()  # a new kind of metric (validation, phase 2) appeared
            return
        for chart in self.charts:
            chart.set_gan_step(self.gan_step)
        extend_all(self.charts, self.view)  # every chart's new points in one message

    def changed(self) -> None:
        """The run's status moved (paused, finished, resumed): its figures follow."""
        self.run = self.training.run(self.run.id) or self.run
        self._update_summary()


def _figure(label: str) -> ui.label:
    with ui.column().classes('gap-0'):
        ui.label(_(label)).classes(theme.HINT)
        return ui.label('—').classes('text-xl font-semibold tabular-nums whitespace-nowrap') \
            .mark(f'figure-{label.lower()}')


def _num(n: int | None) -> str:
    return formatting.count(n)



def _slug(title: str) -> str:
    return ''.join(c if c.isalnum() else '-' for c in title.lower()).strip('-')
