"""A spectrogram as a Plotly heatmap, drawn from a precomputed STFT (services/audio.spectrogram)."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components.charts import chart_layout
from services.i18n import _

# dark-to-accent scale: quiet bins fade into the card, loud ones glow in the studio's accent colour
COLORSCALE = [[0.0, 'rgba(17,19,24,0.04)'], [0.35, '#2D2A5A'], [0.65, theme.ACCENT], [0.85, '#C9A7FF'],
              [1.0, '#FFF3B0']]


def spectrogram(spec: dict, *, height: str = 'h-56', floor_db: float = -90.0) -> ui.plotly:
    """`spec` holds `db` (bins × frames, dBFS), `times` (s) and `freqs` (Hz)."""
    return ui.plotly(_figure(spec, floor_db)).classes(f'w-full {height}')


def show_spectrogram(plot: ui.plotly, spec: dict, *, floor_db: float = -90.0) -> None:
    """Draw another STFT in an existing chart (Plotly.react in the browser, no new plot)."""
    plot.figure = _figure(spec, floor_db)
    plot.update()


def _figure(spec: dict, floor_db: float) -> dict:
    layout = chart_layout()
    layout['margin'] = {'l': 52, 'r': 8, 't': 6, 'b': 38}
    layout['xaxis'].update(title={'text': _('time (s)'), 'standoff': 4}, showgrid=False)
    # a log frequency axis gives pitch its musical spacing; bin 0 (DC) has no place on it
    layout['yaxis'].update(title={'text': _('frequency (Hz)'), 'standoff': 4}, showgrid=False, type='log',
                           tickvals=[50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000],
                           ticktext=['50', '100', '200', '500', '1k', '2k', '5k', '10k', '20k'])
    trace = {'type': 'heatmap', 'z': spec['db'][1:], 'x': spec['times'], 'y': spec['freqs'][1:],
             'zmin': floor_db, 'zmax': 0, 'colorscale': COLORSCALE, 'zsmooth': 'fast',
             'colorbar': {'title': {'text': 'dBFS', 'side': 'right'}, 'thickness': 10, 'outlinewidth': 0},
             'hovertemplate': '%{x:.2f} s · %{y:.0f} Hz · %{z} dBFS<extra></extra>'}
    return {'data': [trace], 'layout': layout,
            'config': {'displaylogo': False, 'responsive': True, 'displayModeBar': False}}
