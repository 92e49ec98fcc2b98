"""The sweep wizard's search space: one row per varied parameter — which one, range or choices, its bounds or
its list — kept as typed text until the step is checked (`Space.params`, `Space.errors`)."""
from __future__ import annotations

from dataclasses import dataclass

from nicegui import ui

from app import theme
from services.i18n import N_, _
from services.training.sweeps import Param, choices_of, parameters

KINDS = {'float': N_('Range'), 'int': N_('Whole numbers'), 'choice': N_('Choices')}  # through _()


@dataclass
class Row:
    key: str = 'lr'
    kind: str = 'float'
    low: float | None = 0.0001
    high: float | None = 0.01
    log: bool = True
    choices: str = ''

    def param(self) -> Param:
        if self.kind == 'choice':
            return Param(self.key, 'choice', choices=choices_of(self.key, self.choices or ''))
        return Param(self.key, self.kind, _number(self.low), _number(self.high), bool(self.log))


class Space:
    def __init__(self) -> None:
        self.rows: list[Row] = [Row()]
        self.box: ui.column | None = None

    def params(self) -> tuple[Param, ...]:
        return tuple(row.param() for row in self.rows)

    def errors(self) -> list[str]:
        if not self.rows:
            return [_('Add at least one parameter to vary.')]
        return [e for row in self.rows for e in row.param().errors()]

    def draw(self) -> None:
        self.box = ui.column().classes('w-full gap-2').mark('space')
        self._rows()
        ui.button(_('Add a parameter'), icon='add', on_click=self._add).props('flat color=primary').mark('add-param')

    def _rows(self) -> None:
        self.box.clear()
        options = parameters()
        with self.box:
            for n, row in enumerate(self.rows):
                with ui.row().classes('w-full items-start gap-2 no-wrap').mark(f'param-{n}'):
                    _hinted(ui.select(options, value=row.key, label=_('Parameter'), with_input=True,
                                      on_change=lambda e, r=row: setattr(r, 'key', e.value)).props('outlined dense'),
                            _('A training choice or a model value.')).classes('w-56').mark(f'param-{n}-key')
                    _hinted(ui.select({k: _(v) for k, v in KINDS.items()}, value=row.kind, label=_('Kind'),
                                      on_change=lambda e, r=row: self._kind(r, e.value)).props('outlined dense'),
                            _('A range or a list.')).classes('w-40').mark(f'param-{n}-kind')
                    if row.kind == 'choice':
                        _hinted(ui.input(_('Choices'), value=row.choices, placeholder=_('e.g. 16, 32, 64'),
                                         on_change=lambda e, r=row: setattr(r, 'choices', e.value))
                                .props('outlined dense'), _('Separated by commas; a list in brackets is one choice.')) \
                            .classes('grow').mark(f'param-{n}-choices')
                    else:
                        _hinted(ui.number(_('Lowest'), value=row.low, format='%.6g',
                                          on_change=lambda e, r=row: setattr(r, 'low', e.value))
                                .props('outlined dense'), _('Included.')).classes('w-32').mark(f'param-{n}-low')
                        _hinted(ui.number(_('Highest'), value=row.high, format='%.6g',
                                          on_change=lambda e, r=row: setattr(r, 'high', e.value))
                                .props('outlined dense'), _('Included.')).classes('w-32').mark(f'param-{n}-high')
                        ui.checkbox(_('Log scale'), value=row.log,
                                    on_change=lambda e, r=row: setattr(r, 'log', e.value)).mark(f'param-{n}-log') \
                            .tooltip(_('Draw evenly in orders of magnitude (learning rates, β).'))
                        ui.space()
                    ui.button(icon='delete_outline', on_click=lambda r=row: self._remove(r)) \
                        .props('flat round dense').tooltip(_('Remove this parameter')).mark(f'param-{n}-remove')
            if not self.rows:
                ui.label(_('Nothing varies yet: add a parameter.')).classes(theme.HINT)

    def _kind(self, row: Row, kind: str) -> None:
        row.kind = kind
        self._rows()

    def _add(self) -> None:
        self.rows.append(Row(key='CAPACITY', kind='choice', choices='', low=None, high=None, log=False))
        self._rows()

    def _remove(self, row: Row) -> None:
        self.rows.remove(row)
        self._rows()


def _number(value) -> float | None:
    return float(value) if value not in (None, '') else None


def _hinted(field, hint: str):
    """`field` with its hint below (set as a value: a translated hint may hold any character)."""
    field.props['hint'] = hint
    return field
