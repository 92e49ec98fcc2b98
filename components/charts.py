"""What every Plotly chart of the studio starts from: the theme's chart styling, with the page's number
separators, so a hover writes 0,25 and 12 345 on a French page as the labels around it do."""
from __future__ import annotations

import copy

from app import theme
from services import formatting


def chart_layout() -> dict:
    """A fresh copy of the theme's chart layout with `separators` for the page's language (Plotly's decimal mark
    then its thousands separator, used by axis ticks and hover templates alike)."""
    return {**copy.deepcopy(theme.CHART_LAYOUT), 'separators': formatting.plotly_separators()}
