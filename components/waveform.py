"""A waveform drawn as SVG from a precomputed min/max envelope (no audio is read in the UI)."""
from __future__ import annotations

from nicegui import ui

from app import theme
from services import formatting


def waveform(envelope: dict, duration_s: float, *, color: str = theme.ACCENT, height: int = 96) -> ui.html:
    """Min/max envelope as a filled shape, with a time axis under it."""
    lows, highs = envelope.get('min') or [0.0], envelope.get('max') or [0.0]
    n = len(highs)
    top = ' '.join(f'{i},{50 - 48 * min(max(v, -1.0), 1.0):.1f}' for i, v in enumerate(highs))
    bottom = ' '.join(f'{i},{50 - 48 * min(max(v, -1.0), 1.0):.1f}' for i, v in reversed(list(enumerate(lows))))
    svg = (f'<svg viewBox="0 0 {max(n - 1, 1)} 100" preserveAspectRatio="none" '
           f'style="width:100%;height:{height}px;display:block">'
           f'<line x1="0" y1="50" x2="{n}" y2="50" stroke="rgba(128,128,128,0.35)" stroke-width="0.6" '
           f'vector-effect="non-scaling-stroke"/>'
           f'<polygon points="{top} {bottom}" fill="{color}" fill-opacity="0.85" stroke="{color}" '
           f'stroke-width="0.8" vector-effect="non-scaling-stroke"/></svg>')
    with ui.column().classes('w-full gap-0'):
        element = ui.html(svg, sanitize=False).classes('w-full rounded-md bg-gray-50 dark:bg-gray-900')
        with ui.row().classes(f'w-full justify-between {theme.HINT} {theme.NUMBER}'):
            for i in range(5):
                ui.label(f'{formatting.number(duration_s * i / 4, 1)} s')
    return element
