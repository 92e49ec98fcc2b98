"""A live Plotly chart of training metrics: downsampled history once, then only new points (extendTraces).

Smoothing is TensorBoard's debiased EMA, drawn over the faint raw curve; zooming re-fetches the points in
view at full detail (min/max-preserving downsampling); the warm-up → GAN switch is a dashed vertical line.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable

from nicegui import context, events, ui
from nicegui.element import Element

from app import theme
from components.charts import chart_layout
from services.i18n import _
from services.training import MetricsView, metrics

BUCKETS = 400  # per trace on screen: ≤ ~800 points (a chart is ~600 px wide), min and max of each bucket kept
RAW_BUCKETS = 200  # the faint unsmoothed curve behind a smoothed one
RESEND_AFTER = 4000  # live points appended before the figure is downsampled and sent again
# Browser side of live points: every tick's points are queued per chart, and a chart is redrawn (extendTraces,
# a full Plotly replot) only when they change what it shows: the line's end moves by a pixel or more, a value
# leaves the y range or is a gap (NaN). With 100 000 steps on ~600 px that is once per ~170 steps, a fresh
# short run redraws on every tick. Charts off screen, not drawn yet or in a hidden browser tab catch up when
# they are seen.
CLIENT_HELPER = '''<script>
window.studioCharts = window.studioCharts || (() => {
  const pending = new Map();
  const observer = new IntersectionObserver(
    (entries) => entries.forEach((e) => e.isIntersecting && check(e.target)));
  const ready = (el) => el && el._fullLayout && getElement(el) && getElement(el).Plotly;
  const onScreen = (el) => {
    const r = el.getBoundingClientRect();
    return r.width && r.bottom > 0 && r.top < innerHeight;
  };
  function changes(el, queued) {
    const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
    const low = Math.min(...ya.range), high = Math.max(...ya.range);
    for (const [t, q] of Object.entries(queued)) {
      const x = el.data[t] && el.data[t].x;
      if (!x || !x.length) return true;
      const end = xa.l2p(x[x.length - 1]);
      if (!xa.autorange && end > xa._length) continue;  // zoomed into the past: new points are off screen
      if (Math.abs(xa.l2p(q.x[q.x.length - 1]) - end) >= 1) return true;
      for (const y of q.y) {
        const l = y === null ? NaN : ya.d2l(y);
        if (!(l >= low && l <= high)) return true;
      }
    }
    return false;
  }
  function check(el, force) {
    const queued = pending.get(el.id);
    if (!queued || !ready(el) || document.hidden || !onScreen(el)) return;
    if (!force && !changes(el, queued)) return;
    pending.delete(el.id);
    const indices = Object.keys(queued).map(Number);
    const update = {x: indices.map((i) => queued[i].x), y: indices.map((i) => queued[i].y)};
    getElement(el).Plotly.extendTraces(el, update, indices);
  }
  document.addEventListener('visibilitychange', () => pending.forEach((_, id) => {
    const el = document.getElementById(id);
    el ? check(el) : pending.delete(id);
  }));
  return {
    extend(id, update, indices) {
      const el = document.getElementById('c' + id);
      if (!el) return;
      const queued = pending.get(el.id) || {};
      indices.forEach((t, k) => {
        const q = queued[t] || (queued[t] = {x: [], y: []});
        q.x.push(...update.x[k]);
        q.y.push(...update.y[k]);
      });
      pending.set(el.id, queued);
      if (!el.__observed) { observer.observe(el); el.__observed = true; }
      check(el);
    },
    extendAll(batch) {  // [[id, update, indices, aria-label], ...]: every chart of a page in one message
      for (const [id, update, indices, label] of batch) {
        const el = document.getElementById('c' + id);
        if (el && label) el.setAttribute('aria-label', label);
        this.extend(id, update, indices);
      }
    },
    flush(id) { const el = document.getElementById('c' + id); if (el) check(el, true); },
    reset(id) { pending.delete('c' + id); },
  };
})();
</script>'''


class MetricChart:
    """One card's chart: `keys` of the run's metrics, with smoothing and log scale set by the caller.

    The page feeds it: `extend(view)` when its RunMetrics event arrives; `get_series` gives the current
    snapshot when the whole figure is drawn again (zoom, smoothing)."""

    def __init__(self, get_series: Callable[[], MetricsView], keys: list[str], *, smoothing: float = 0.0,
                 log_y: bool = False, height: str = 'h-64', gan_step: int | None = None) -> None:
        self.get_series = get_series
        self.keys = keys
        self.smoothing = smoothing
        self.log_y = log_y
        self.gan_step = gan_step
        self.view: tuple[float, float] | None = None  # zoomed x range
        self.sent = [0] * len(keys)  # raw points of each key already on screen
        self.appended = 0
        self.drawn_sparse = False
        self.plot = _Plot(self._figure()).classes(f'w-full {height}').props('role=figure')
        self._describe(get_series())
        self.plot.on('plotly_relayout', self._on_relayout)
        _install_client_helper()

    # ---- whole figure ---------------------------------------------------------------------------
    def _figure(self) -> dict:
        series = self.get_series()
        data = []
        lo, hi = self.view or (None, None)
        for i, key in enumerate(self.keys):
            trace = series.traces.get(key)
            x = trace.steps if trace is not None else []
            y = [] if trace is None else trace if self.smoothing else trace.values  # a Trace keeps its EMA
            raw_x, raw_y = metrics.display(x, trace.values, 0.0, RAW_BUCKETS, lo, hi) \
                if self.smoothing and trace is not None else ([], [])
            xs, ys = metrics.display(x, y, self.smoothing, BUCKETS, lo, hi)
            color = theme.CHART_LAYOUT['colorway'][i % len(theme.CHART_LAYOUT['colorway'])]
            sparse = len(x) < 40 or key.startswith('val/')
            data.append({'type': 'scatter', 'mode': 'lines', 'x': raw_x, 'y': raw_y, 'showlegend': False,
                         'hoverinfo': 'skip', 'line': {'width': 1, 'color': color}, 'opacity': 0.25})
            data.append({'type': 'scatter', 'mode': 'lines+markers' if sparse else 'lines',
                         'name': _label(key),
                         'x': xs, 'y': ys, 'line': {'width': 1.8, 'color': color}, 'marker': {'size': 5}})
            self.sent[i] = len(x)
        self.appended = 0
        layout = chart_layout()
        layout.update(margin={'l': 52, 'r': 12, 't': 8, 'b': 32}, showlegend=len(self.keys) > 1,
                      legend={'orientation': 'h', 'y': -0.14, 'x': 0}, hovermode='x unified',
                      uirevision=str(self.view))
        layout['xaxis'].update(autorange=self.view is None,
                               **({'range': list(self.view)} if self.view else {}))
        layout['yaxis'].update(type='log' if self.log_y else 'linear', exponentformat='power')
        most = max(self.sent, default=0)
        self.drawn_sparse = most <= 1 and self.view is None  # redrawn whole when its second point comes
        if most == 0:  # an empty frame of axes says nothing: say what is awaited
            layout['xaxis'].update(visible=False)
            layout['yaxis'].update(visible=False)
            validation = any(k.startswith('val/') for k in self.keys)
            layout['annotations'] = [{'text': _('No validation yet') if validation else _('Nothing logged yet'),
                                      'xref': 'paper', 'yref': 'paper', 'x': 0.5, 'y': 0.5, 'showarrow': False,
                                      'font': {'size': 13}, 'opacity': 0.7}]
        elif most == 1:  # one point: from step 0 to it, not a lone dot in the middle of ±1
            last = max((float(t.steps[-1]) for k in self.keys if (t := series.traces.get(k)) is not None and len(t)),
                       default=1.0)
            layout['xaxis'].update(autorange=False, range=[0, last * 1.05 or 1])
        if self.gan_step is not None:
            layout['shapes'] = [{'type': 'line', 'x0': self.gan_step, 'x1': self.gan_step, 'yref': 'paper',
                                 'y0': 0,
                                 'y1': 1,
                                 'line': {'dash': 'dash', 'width': 1.2, 'color': theme.COLORS['warning']}}]
            layout['annotations'] = [*layout.get('annotations', []),
                                     {'x': self.gan_step, 'y': 1, 'yref': 'paper', 'text': 'GAN', 'showarrow': False,
                                      'xanchor': 'left', 'yanchor': 'top',
                                      'font': {'color': theme.COLORS['warning']}}]
        return {'data': data, 'layout': layout,
                'config': {'displaylogo': False, 'responsive': False,  # see _Plot
                                                           'modeBarButtonsToRemove': ['lasso2d', 'select2d']}}

    def _describe(self, series: MetricsView) -> None:
        label = self._description(series)
        if self.plot.props.get('aria-label') != label:
            self.plot.props['aria-label'] = label
            self.plot.update()

    def _description(self, series: MetricsView) -> str:
        """The chart in words for screen readers: per curve, how far it goes, its latest and its lowest value."""
        said = []
        for key in self.keys:
            trace = series.traces.get(key)
            finite = [float(v) for v in trace.values if math.isfinite(v)] if trace is not None else []
            if not finite:
                said.append(_('{curve}: nothing logged yet.').format(curve=_label(key)))
                continue
            said.append(_('{curve}: {count} points up to step {step}, latest {latest}, lowest {lowest}.').format(
                curve=_label(key), count=len(trace), step=int(trace.steps[-1]), latest=f'{finite[-1]:.4g}',
                lowest=f'{min(finite):.4g}'))
        return ' '.join(said)

    def redraw(self) -> None:
        with self.plot:
            # the new figure has them
            ui.run_javascript(f'window.studioCharts && studioCharts.reset({self.plot.id})')
        figure = self._figure()
        dict.__setitem__(self.plot._props, 'aria-label', self._description(self.get_series()))  # sent with it
        self.plot.update_figure(figure)

    def set_smoothing(self, weight: float) -> None:
        self.smoothing = weight
        self.redraw()

    def set_log(self, log_y: bool, *, drawn: bool = False) -> None:
        """Log or linear y axis; `drawn` when the browser already relaid the chart out (see `log_toggle`)."""
        self.log_y = log_y
        self.plot.figure['layout']['yaxis']['type'] = 'log' if log_y else 'linear'
        if not drawn:
            self.plot.run_plot_method('relayout', {'yaxis.type': 'log' if log_y else 'linear'})

    def log_toggle(self, checkbox: ui.checkbox) -> None:
        """Let `checkbox` switch the scale in the browser at once (no server round trip), then tell the
        server."""
        checkbox.on('update:model-value', js_handler=(
            f'(v) => {{ const el = document.getElementById("c{self.plot.id}"); const c = getElement(el); '
            'if (c && c.Plotly && el._fullLayout) c.Plotly.relayout(el, '
            f'{{"yaxis.type": v ? "log" : "linear"}}); }}'))
        checkbox.on_value_change(lambda e: self.set_log(bool(e.value), drawn=True))  # the server's copy

    def set_gan_step(self, step: int | None) -> None:
        if step != self.gan_step:
            self.gan_step = step
            self.redraw()

    # ---- live -----------------------------------------------------------------------------------
    def extend(self, series: MetricsView) -> int:
        """Send the points logged since the last call; returns 1 if the chart grew, else 0."""
        return extend_all([self], series)

    def _extension(self, series: MetricsView) -> list | None:
        """[chart id, new points, trace indices, aria-label] of the points logged since the last call (the
        server's copy of the figure extended too), or None: nothing new, or the chart redrawn whole instead."""
        if self.appended > RESEND_AFTER or (self.drawn_sparse and any(
                (t := series.traces.get(k)) is not None and len(t) > self.sent[i] for i, k in enumerate(self.keys))):
            self.redraw()  # (also an empty or one-point frame: axes and their range back to the curve's)
            return None
        update: dict = {'x': [], 'y': []}
        indices = []
        figure = self.plot.figure['data']
        for i, key in enumerate(self.keys):
            trace = series.traces.get(key)
            if trace is None or len(trace) <= self.sent[i]:
                continue
            start, self.sent[i] = self.sent[i], len(trace)
            xs = trace.steps[start:].tolist()
            raw = trace.values[start:].tolist()
            ys = trace.smoothed(self.smoothing)[start:].tolist() if self.smoothing else raw
            ys = [v if math.isfinite(v) else None for v in ys]
            pairs = [(2 * i + 1, ys)] + ([(2 * i, [v if math.isfinite(v) else None for v in raw])]
                                         if self.smoothing else [])
            for trace, values_out in pairs:
                update['x'].append(xs)
                update['y'].append(values_out)
                indices.append(trace)
                # the server's copy stays whole for a reconnect, without resending it
                figure[trace]['x'].extend(xs)
                figure[trace]['y'].extend(values_out)
            self.appended += len(xs)
        if not indices:
            return None
        # the words for screen readers follow in the same message; the server's props keep them for a redraw
        # (an update() of the element would send the whole figure again, every point of every trace)
        label = self._description(series)
        dict.__setitem__(self.plot._props, 'aria-label', label)
        return [self.plot.id, update, indices, label]

    def _on_relayout(self, e: events.GenericEventArguments) -> None:
        args = e.args or {}
        if args.get('xaxis.autorange'):
            if self.view is not None:
                self.view = None
                self.redraw()
            return
        low, high = args.get('xaxis.range[0]'), args.get('xaxis.range[1]')
        if low is None and isinstance(args.get('xaxis.range'), list):
            low, high = args['xaxis.range']
        if low is None or high is None:
            return  # a y-axis or layout change: nothing to fetch
        self.view = (float(low), float(high))
        self.redraw()  # the points in view at full detail


def extend_all(charts: list[MetricChart], series: MetricsView) -> int:
    """The points logged since the last call on every chart of a page, sent in one message (a run page has
    seven charts: one message per chart and per metric line was most of what 25 open run pages cost); returns
    how many charts grew."""
    batch = [found for chart in charts if (found := chart._extension(series)) is not None]
    if batch:
        ui.run_javascript(f'studioCharts.extendAll({json.dumps(batch)})')
    return len(batch)


class _Plot(ui.plotly, component='metric_plot.js'):
    """`ui.plotly` with a lighter page open (metric_plot.js: charts drawn in one batch after the first
    frame, on-screen first, CSS containment, resized only on a real size change). Its figure goes into the
    props as it is: NiceGUI's observable props would copy it and wrap every number of every trace (~75 000
    calls, half of a run page's build). Changes are pushed by `update()` anyway, and the points `extend`
    adds to `figure` are then what a reconnecting browser gets."""

    def update(self) -> None:
        dict.__setitem__(self._props, 'options', self.figure)
        Element.update(self)


def _install_client_helper() -> None:
    client = context.client
    if not getattr(client, 'studio_charts', False):
        client.studio_charts = True
        ui.add_head_html(CLIENT_HELPER)


def _label(key: str) -> str:
    key = key.removeprefix('val/')
    return {'loss': _('loss (sum)'), 'lr_gen': _('generator'), 'lr_dis': _('discriminator')}.get(
        key, key.replace('_spectral_distance', '').replace('_', ' ').replace('fidelity ', ''))
