"""The shortcut registry: key sequences resolve to one shortcut each, every "go to" shortcut leads to a route,
and the sheet and Help's list are made from the registry, so they list every shortcut it holds."""
from __future__ import annotations

from nicegui.testing import User

from components.shortcuts import SEQUENCE_S, SHORTCUTS, Sequence, key
from pages import ROUTES


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_key_sequences_resolve_to_their_shortcut() -> None:
    clock = Clock()
    typed = Sequence(clock=clock)
    assert typed.press('g') is None
    assert typed.press('d').id == 'go.datasets'
    assert [typed.press(k) for k in ('g', 'x')][-1].id == 'go.explorer'
    assert typed.press('/').id == 'search' and typed.press('?').id == 'sheet'
    assert typed.press('Escape').id == 'close'
    assert typed.press('g') is None and typed.press('?').id == 'sheet'  # a one-key shortcut ends a sequence
    assert typed.press('q') is None and typed.press('d') is None  # not a shortcut, and d alone is none
    typed.press('g')
    clock.now += SEQUENCE_S + 0.1
    assert typed.press('d') is None  # too late: the g was forgotten


def test_the_registry_is_consistent() -> None:
    everywhere = [s for s in SHORTCUTS if s.where == 'Everywhere']
    assert len({s.keys for s in everywhere}) == len(everywhere)
    singles = {s.keys[0] for s in everywhere if len(s.keys) == 1}
    assert not [s for s in everywhere if len(s.keys) > 1 and s.keys[0] in singles]  # no prefix is a shortcut
    assert len({s.id for s in SHORTCUTS}) == len(SHORTCUTS)
    assert {s.target for s in SHORTCUTS if s.target} <= set(ROUTES)
    assert {s.keys for s in SHORTCUTS if s.id.startswith('go.')} >= {('g', k) for k in 'dtmex'}
    assert key('inspector.next') == 'ArrowDown'


async def test_the_sheet_and_help_list_every_shortcut(user: User) -> None:
    await user.open('/datasets')
    user.find(marker='shortcuts').click()
    for shortcut in SHORTCUTS:
        await user.should_see(marker=f'shortcut-{shortcut.id}')
    await user.open('/help?keyboard')
    assert len(user.find(marker='shortcut-table').elements) == 1  # Help's: a page builds the sheet once asked
    user.find(marker='shortcuts').click()
    tables = user.find(marker='shortcut-table').elements
    assert len(tables) == 2  # the sheet's and Help's
    for table in tables:
        listed = {m for e in table.descendants() for m in e._markers if m.startswith('shortcut-')}
        assert listed == {f'shortcut-{s.id}' for s in SHORTCUTS}
