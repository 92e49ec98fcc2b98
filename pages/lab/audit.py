"""The audit log (admins): every state-changing action once it has happened — done, failed (and why) or
refused — newest first, filtered by user, action, object, outcome and date."""
from __future__ import annotations

import datetime as dt
import json

from nicegui import ui

from app import theme
from components import cards
from services.lab import AuditLog, AuditView
from services.lab.audit import OUTCOMES

COLUMNS = [
    {'name': 'time', 'label': 'When', 'field': 'time', 'align': 'left', 'sortable': True},
    {'name': 'user', 'label': 'Who', 'field': 'user', 'align': 'left', 'sortable': True},
    {'name': 'action', 'label': 'Action', 'field': 'action', 'align': 'left', 'sortable': True},
    {'name': 'object', 'label': 'Object', 'field': 'object', 'align': 'left'},
    {'name': 'outcome', 'label': 'Outcome', 'field': 'outcome', 'align': 'left', 'sortable': True},
    {'name': 'change', 'label': 'Before → after', 'field': 'change', 'align': 'left'},
]
OUTCOME_COLORS = {'done': 'positive', 'failed': 'negative', 'refused': 'warning'}  # older entries: 'allowed'
OUTCOME_SLOT = '''<q-td :props="props"><q-chip dense square text-color="white" :color="props.row.color"
  class="text-xs font-medium">{{ props.value }}</q-chip><div v-if="props.row.why" class="text-xs"
  style="max-width:22rem">{{ props.row.why }}</div></q-td>'''


def create(audit: AuditLog) -> None:
    with ui.column().classes('gap-0'):
        ui.label('Audit log').classes(theme.TITLE)
        ui.label('Every action that changed something, once it happened — and every one that failed or was '
                 'refused: who, when, on what.') \
            .classes(theme.SUBTITLE)
    if not audit.may_read():
        cards.empty_state('lock', 'Only admins read the audit log', 'Ask an admin of this studio.',
                          mark='audit-refused')
        return
    with cards.section('Filter', 'filter_alt'), ui.row().classes('w-full items-end gap-3'):
        user = ui.input('User').props('outlined dense clearable hint="Part of a name"').classes('w-36') \
            .mark('audit-user')
        action = ui.input('Action', placeholder='e.g. stop, delete') \
            .props('outlined dense clearable hint="A method or a right"').classes('w-44').mark('audit-action')
        target = ui.input('Object', placeholder='e.g. run 12') \
            .props('outlined dense clearable hint="What it acted on"').classes('w-44').mark('audit-object')
        outcome = ui.select({'': 'Any', **{o: o for o in OUTCOMES}}, value='', label='Outcome') \
            .props('outlined dense hint="How it ended"').classes('w-36').mark('audit-outcome')
        since = ui.input('From', placeholder='YYYY-MM-DD') \
            .props('outlined dense clearable type=date hint="First day"').classes('w-40').mark('audit-since')
        until = ui.input('To', placeholder='YYYY-MM-DD') \
            .props('outlined dense clearable type=date hint="Last day"').classes('w-40').mark('audit-until')
        problem = ui.label().classes('text-sm text-negative').mark('audit-problem')

    table = ui.table(columns=COLUMNS, rows=[], row_key='id', pagination=25) \
        .props('flat dense wrap-cells').classes('w-full mt-4').mark('audit-table')
    table.add_slot('body-cell-outcome', OUTCOME_SLOT)

    def show() -> None:
        problem.set_text('')
        try:
            dates = [dt.date.fromisoformat(v.value) if v.value else None for v in (since, until)]
        except ValueError:
            problem.set_text('A date is YYYY-MM-DD, e.g. 2026-12-01.')
            return
        found = audit.entries(user=user.value or '', action=action.value or '', object_=target.value or '',
                              outcome=outcome.value or '', since=dates[0], until=dates[1], limit=1000)
        table.rows = [_row(e) for e in found]
        table.update()

    for field in (user, action, target, outcome, since, until):
        field.on_value_change(show)
    show()


def _row(entry: AuditView) -> dict:
    change = '' if entry.before is None and entry.after is None else \
        f'{_short(entry.before)} → {_short(entry.after)}'
    return {'id': entry.id, 'time': f'{entry.time:%Y-%m-%d %H:%M:%S}', 'user': entry.user,
            'action': entry.action + (f' ({entry.right})' if entry.right else ''), 'object': entry.object,
            'outcome': entry.outcome, 'why': entry.message, 'color': OUTCOME_COLORS.get(entry.outcome, 'grey-7'),
            'change': change}


def _short(value) -> str:
    if value is None:
        return '—'
    return value if isinstance(value, str) else json.dumps(value)[:120]
