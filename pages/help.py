"""help page (stub)."""
from __future__ import annotations

from nicegui import ui

from app import theme


def create(studio, project) -> None:
    ui.label('Help').classes(theme.TITLE)
