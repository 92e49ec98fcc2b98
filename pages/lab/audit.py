"""The audit log (admins): every state-changing action once it has happened — done, failed (and why) or
refused — newest first, filtered by user, action, object, outcome and date."""
from __future__ import annotations

import datetime as dt
import json

from nicegui import ui

from app import theme
from components import cards
from services.i18n import N_, _
from services.lab import AuditLog, AuditView
from services.lab.audit import OUTCOMES, shown_object

COLUMNS = [
    {'name': 'time', 'label': N_('When'), 'field': 'time', 'align': 'left', 'sortable': True},
    {'name': 'user', 'label': N_('Who'), 'field': 'user', 'align': 'left', 'sortable': True},
    {'name': 'action', 'label': N_('Action'), 'field': 'action', 'align': 'left', 'sortable': True},
    {'name': 'object', 'label': N_('Object'), 'field': 'object', 'align': 'left'},
    {'name': 'outcome', 'label': N_('Outcome'), 'field': 'outcome', 'align': 'left', 'sortable': True},
    {'name': 'change', 'label': N_('Before → after'), 'field': 'change', 'align': 'left'},
]  # labels shown through _()
OUTCOME_WORDS = (N_('done'), N_('failed'), N_('refused'), N_('allowed'))  # shown through _()
OUTCOME_COLORS = {'done': 'positive', 'failed': 'negative', 'refused': 'warning'}  # older entries: 'allowed'
OUTCOME_SLOT = '''<q-td :props="props"><q-chip dense square text-color="white" :color="props.row.color"
  class="text-xs font-medium">{{ props.value }}</q-chip><div v-if="props.row.why" class="text-xs"
  style="max-width:22rem">{{ props.row.why }}</div></q-td>'''


def create(audit: AuditLog) -> None:
    with ui.column().classes('gap-0'):
        ui.label(_('Audit log')).classes(theme.TITLE)
        ui.label(_('Every action that changed something, once it happened — and every one that failed or was '
                   'refused: who, when, on what.')) \
            .classes(theme.SUBTITLE)
    if not audit.may_read():
        cards.empty_state('lock', _('Only admins read the audit log'), _('Ask an admin of this studio.'),
                          mark='audit-refused')
        return
    with cards.section(_('Filter'), 'filter_alt'), ui.row().classes('w-full items-end gap-3'):
        user = _hinted(ui.input(_('User')).props('outlined dense clearable').classes('w-36'), _('Part of a name')) \
            .mark('audit-user')
        action = _hinted(ui.input(_('Action'), placeholder=_('e.g. stop, delete')).props('outlined dense clearable'),
                         _('A method or a right')).classes('w-44').mark('audit-action')
        target = _hinted(ui.input(_('Object'), placeholder=_('e.g. run 12')).props('outlined dense clearable'),
                         _('What it acted on')).classes('w-44').mark('audit-object')
        outcome = _hinted(ui.select({'': _('Any'), **{o: _outcome(o) for o in OUTCOMES}}, value='', label=_('Outcome'))
                          .props('outlined dense'), _('How it ended')).classes('w-36').mark('audit-outcome')
        since = _hinted(ui.input(_('From'), placeholder=_('YYYY-MM-DD')).props('outlined dense clearable type=date'),
                        _('First day')).classes('w-40').mark('audit-since')
        until = _hinted(ui.input(_('To'), placeholder=_('YYYY-MM-DD')).props('outlined dense clearable type=date'),
                        _('Last day')).classes('w-40').mark('audit-until')
        problem = ui.label().classes('text-sm text-negative').mark('audit-problem')

    table = ui.table(columns=[_labelled(c) for c in COLUMNS], rows=[], row_key='id', pagination=25) \
        .props('flat dense wrap-cells').classes('w-full mt-4').mark('audit-table')
    table.add_slot('body-cell-outcome', OUTCOME_SLOT)

    def show() -> None:
        problem.set_text('')
        try:
            dates = [dt.date.fromisoformat(v.value) if v.value else None for v in (since, until)]
        except ValueError:
            problem.set_text(_('A date is YYYY-MM-DD, e.g. 2026-12-01.'))
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
            'action': entry.action + (f' ({entry.right})' if entry.right else ''), 'object': shown_object(entry.object),
            'outcome': _outcome(entry.outcome), 'why': entry.message,
            'color': OUTCOME_COLORS.get(entry.outcome, 'grey-7'), 'change': change}


def _short(value) -> str:
    if value is None:
        return '—'
    return value if isinstance(value, str) else json.dumps(value)[:120]


def _hinted(field, hint: str):
    """`field` with its hint below (a prop set as a value: a translated hint may hold any character)."""
    field.props['hint'] = hint
    return field


def _outcome(outcome: str) -> str:
    return _(outcome) if outcome in OUTCOME_WORDS else outcome


def _labelled(column: dict) -> dict:
    """A table column with its label in the page's language."""
    label = column['label']
    return {**column, 'label': _(label)}
