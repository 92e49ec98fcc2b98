"""datasets page (stub)."""
from __future__ import annotations

from nicegui import ui

from app import theme


def create(studio, project) -> None:
    ui.label('Datasets').classes(theme.TITLE)


def detail(studio, project, dataset_id: int) -> None:
    ui.label(f'Dataset {dataset_id}').classes(theme.TITLE)
