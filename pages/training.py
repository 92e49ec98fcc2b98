"""training page (stub)."""
from __future__ import annotations

from nicegui import ui

from app import theme


def create(studio, project) -> None:
    ui.label('Training').classes(theme.TITLE)


def new_run(studio, project) -> None:
    ui.label('New training').classes(theme.TITLE)


def run_page(studio, project, run_id: int) -> None:
    ui.label(f'Run {run_id}').classes(theme.TITLE)
