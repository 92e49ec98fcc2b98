"""The explorer's map of a dataset's encodings: one dot per latent frame (an even sample of at most SHOWN),
coloured by source file or by time, hover for file and time, click to pick one.

Traces, in order: the dots, the path being drawn, the A and B of an interpolation, the picked dot. Only the
last three change after the map is drawn, and they change with Plotly.restyle (the dots are sent once).
"""
from __future__ import annotations

import inspect
from collections.abc import Callable

from nicegui import ui

from app import theme
from components.charts import chart_layout
from services import lazy
from services.i18n import N_
from services.models.play import MapView

np = lazy.module('numpy')

SHOWN = 3000  # dots drawn (SVG stays quick; the map itself holds up to 10 000 frames)
COLOURS = {'file': N_('source file'), 'time': N_('time in the file')}  # translated where shown


class LatentMapChart:
    def __init__(self, view: MapView, on_pick: Callable[[int], object], *, colour: str = 'file') -> None:
        self.view, self.on_pick, self.colour = view, on_pick, colour
        self.plot = ui.plotly(self._figure()).classes('w-full h-96').props('data-testid=latent-map') \
            .mark('latent-map')
        self.plot.on('plotly_click', self._clicked)

    def redraw(self, view: MapView | None = None, colour: str | None = None) -> None:
        self.view = view or self.view
        self.colour = colour or self.colour
        self.plot.update_figure(self._figure())

    def mark(self, point: int | None) -> None:
        """Ring the picked point (None: none)."""
        self._restyle(3, [] if point is None else [int(point)])

    def path(self, places: list[list[float]]) -> None:
        self._restyle_places(1, places)

    def ends(self, a: int | None, b: int | None) -> None:
        self._restyle(2, [p for p in (a, b) if p is not None], text=[t for p, t in ((a, 'A'), (b, 'B'))
                                                                    if p is not None])

    def _restyle(self, trace: int, points: list[int], text: list[str] | None = None) -> None:
        self._restyle_places(trace, [self.view.coords[p].tolist() for p in points], text)

    def _restyle_places(self, trace: int, places: list[list[float]], text: list[str] | None = None) -> None:
        axes = ('x', 'y', 'z')[:self.view.dims]
        update = {axis: [[float(p[i]) for p in places]] for i, axis in enumerate(axes)}
        if text is not None:
            update['text'] = [text]
        for axis, values in update.items():
            self.plot.figure['data'][trace][axis] = values[0]
        self.plot.run_plot_method('restyle', update, [trace])

    async def _clicked(self, event) -> None:
        points = (event.args or {}).get('points') or []
        dot = next((p for p in points if p.get('curveNumber') == 0 and p.get('customdata') is not None), None)
        if dot is not None:
            data = dot['customdata']
            picked = self.on_pick(int(data[0] if isinstance(data, list) else data))
            if inspect.isawaitable(picked):
                await picked

    def _figure(self) -> dict:
        view = self.view
        shown = _sample(view.points)
        coords = view.coords[shown]
        lm = view.latent_map
        names = [lm.names[int(f)] for f in lm.file_index[shown]]
        colour = lm.file_index[shown] if self.colour == 'file' else lm.time_s[shown]
        three = view.dims == 3
        kind = 'scatter3d' if three else 'scatter'
        axes = ('x', 'y', 'z')[:view.dims]

        def trace(**extra) -> dict:
            return {'type': kind, **{a: [] for a in axes}, **extra}
        dots = trace(mode='markers', name='frames',
                     marker={'size': 3 if three else 5, 'color': colour.tolist(), 'colorscale': 'Viridis',
                             'opacity': 0.75, 'showscale': self.colour == 'time',
                             'colorbar': {'title': {'text': 's'}, 'thickness': 8, 'outlinewidth': 0}},
                     customdata=[[int(i), n, float(t)] for i, n, t in zip(shown, names, lm.time_s[shown])],
                     hovertemplate='%{customdata[1]} · %{customdata[2]:.2f} s<extra></extra>')
        for i, a in enumerate(axes):
            dots[a] = coords[:, i].round(4).tolist()
        path = trace(mode='lines+markers', name='path', hoverinfo='skip',
                     line={'color': theme.COLORS['warning'], 'width': 3}, marker={'size': 6})
        ends = trace(mode='markers+text', name='A · B', text=[], textposition='top center', hoverinfo='skip',
                     marker={'size': 12, 'color': theme.COLORS['accent'], 'symbol': 'diamond'})
        picked = trace(mode='markers', name='picked', hoverinfo='skip',
                       marker={'size': 14, 'color': 'rgba(0,0,0,0)', 'line': {'color': theme.ACCENT, 'width': 3}})
        layout = chart_layout()
        layout.update(margin={'l': 36, 'r': 8, 't': 8, 'b': 32}, showlegend=False, hovermode='closest',
                      dragmode='pan' if not three else 'orbit', uirevision=view.key)
        labels = [f'{view.method.upper()} {i + 1}' + (f' ({lm.explained[i]:.0%})' if i < len(lm.explained) else '')
                  for i in range(view.dims)]
        if three:
            layout['scene'] = {f'{a}axis': {'title': {'text': t}} for a, t in zip(axes, labels)}
        else:
            # automargin: Plotly widens the margin to fit the tick labels, so the title never sits on them
            layout['xaxis'] = {**layout['xaxis'], 'title': {'text': labels[0], 'standoff': 6}, 'automargin': True}
            layout['yaxis'] = {**layout['yaxis'], 'title': {'text': labels[1], 'standoff': 6}, 'automargin': True}
        return {'data': [dots, path, ends, picked], 'layout': layout,
                'config': {'displaylogo': False, 'responsive': True, 'displayModeBar': False}}


def _sample(n: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, SHOWN)).round().astype(int)) if n else np.zeros(0, int)
