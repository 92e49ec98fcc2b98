"""An icon-only button that says what it does: its accessible name and its tooltip are one sentence."""
from __future__ import annotations

from collections.abc import Callable

from nicegui import ui


def icon_button(icon: str, name: str, on_click: Callable | None = None, *,
                props: str = 'flat round dense') -> ui.button:
    """A round icon button named `name` for screen readers and shown as its tooltip."""
    button = ui.button(icon=icon, on_click=on_click).props(props)
    button.props['aria-label'] = name
    return button.tooltip(name)
