"""Accounts (admins): every member with their rank and state; add with an invite link or an initial password,
disable, reset, promote, demote, delete."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components import cards
from services.access import Forbidden
from services.i18n import _
from services.lab import AccountError, Accounts, AccountView, Invitation


def create(accounts: Accounts) -> None:
    with ui.column().classes('gap-0'):
        ui.label(_('Accounts')).classes(theme.TITLE)
        ui.label(_("Who may sign in to this shared studio. Roles per project are given in each project's Sharing "
                   "dialog (Projects page).")).classes(theme.SUBTITLE)
    if not accounts.may_manage():
        cards.empty_state('lock', _('Only admins manage accounts'),
                          _('Ask an admin of this studio to add someone, reset a password or change a rank.'),
                          mark='users-refused')
        return

    @ui.refreshable
    def table() -> None:
        for account in accounts.list():
            _row(accounts, account, table.refresh)

    with cards.section(_('Add a member'), 'person_add'):
        with ui.row().classes('w-full items-start gap-3'):
            name = ui.input(_('Name'), placeholder=_('e.g. ada')).props('outlined dense').classes('w-56') \
                .mark('new-user-name')
            how = ui.toggle({'invite': _('Invite link'), 'password': _('Initial password')}, value='invite') \
                .props('no-caps').mark('new-user-how')
            how.props['aria-label'] = _('How they first sign in')
            password = ui.input(_('Initial password'), password=True, password_toggle_button=True) \
                .props('outlined dense').classes('w-56').mark('new-user-password') \
                .bind_visibility_from(how, 'value', value='password')
            admin = ui.checkbox(_('Admin')).mark('new-user-admin')
            ui.button(_('Add'), icon='person_add', on_click=lambda: add()).props('unelevated').mark('new-user-add')
        ui.label(_('An invite link lets them choose their own password (once, within 7 days); an initial password '
                   'must be changed at their first sign-in.')).classes(theme.HINT)

    def add() -> None:
        try:
            if how.value == 'invite':
                _show_invite(accounts.invite(name.value, admin=admin.value))
            else:
                accounts.add(name.value, password.value or '', admin=admin.value)
                ui.notify(_('Added {name}: they change the password at their first sign-in.')
                          .format(name=name.value.strip()), type='positive')
        except (AccountError, Forbidden) as e:
            ui.notify(str(e), type='negative')
            return
        name.set_value('')
        password.set_value('')
        table.refresh()

    with cards.section(_('Members'), 'group', classes='mt-4'):
        table()


def _row(accounts: Accounts, account: AccountView, changed) -> None:
    state = _('disabled') if account.disabled else _('invited') if account.invited else \
        _('must change password') if account.must_change else _('active')
    with ui.row().classes('w-full items-center gap-3 no-wrap border-b border-gray-100 dark:border-gray-800 py-1') \
            .mark(f'user-{account.name}'):
        ui.icon('admin_panel_settings' if account.admin else 'person',
                color='primary' if account.admin else None).classes('text-xl')
        with ui.column().classes('gap-0 grow'):
            ui.label(account.name).classes('font-medium')
            ui.label(_('{rank} · {state} · since {day}').format(rank=_('admin') if account.admin else _('member'),
                                                                 state=state, day=account.created)) \
                .classes(theme.HINT).mark(f'user-state-{account.name}')

        def act(change, done: str) -> None:
            try:
                change(account.name)
            except (AccountError, Forbidden) as e:
                ui.notify(str(e), type='negative')
                return
            ui.notify(_('{name}: {done}.').format(name=account.name, done=done), type='positive')
            changed()

        if account.invited:
            ui.button(icon='link', on_click=lambda: _show_invite(accounts.reinvite(account.name))) \
                .props('flat round dense').tooltip(_('A new invite link')).mark(f'user-reinvite-{account.name}')
        ui.button(icon='lock_reset', on_click=lambda: _reset(accounts, account, changed)) \
            .props('flat round dense').tooltip(_('Reset the password')).mark(f'user-reset-{account.name}')
        if account.admin:
            ui.button(icon='arrow_downward', on_click=lambda: act(accounts.demote, _('now a member'))) \
                .props('flat round dense').tooltip(_('Demote to member')).mark(f'user-demote-{account.name}')
        else:
            ui.button(icon='arrow_upward', on_click=lambda: act(accounts.promote, _('now an admin'))) \
                .props('flat round dense').tooltip(_('Promote to admin')).mark(f'user-promote-{account.name}')
        if account.disabled:
            ui.button(icon='play_circle', on_click=lambda: act(accounts.enable, _('may sign in again'))) \
                .props('flat round dense').tooltip(_('Enable')).mark(f'user-enable-{account.name}')
        else:
            ui.button(icon='block', on_click=lambda: act(accounts.disable, _('disabled, signed out'))) \
                .props('flat round dense').tooltip(_('Disable (signs them out)')).mark(f'user-disable-{account.name}')

        async def delete() -> None:
            if await cards.confirm(_('Delete {name}?').format(name=account.name),
                                   _('Their account goes; the runs, datasets and exports they made stay with their '
                                     'projects.'), yes=_('Delete'), mark='user-delete'):
                act(accounts.delete, _('deleted'))

        ui.button(icon='delete_outline', on_click=delete).props('flat round dense color=negative') \
            .tooltip(_('Delete the account')).mark(f'user-delete-{account.name}')


def _reset(accounts: Accounts, account: AccountView, changed) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-[420px] max-w-[95vw]').mark('reset-dialog'):
        ui.label(_('Reset the password of {name}').format(name=account.name)).classes('text-lg font-semibold')
        password = ui.input(_('Initial password'), password=True, password_toggle_button=True) \
            .props('outlined dense autofocus').classes('w-full').mark('reset-password')
        ui.label(_('They sign in with it once and then choose their own; their open sessions end now.')) \
            .classes(theme.HINT)

        def go() -> None:
            try:
                accounts.reset(account.name, password.value or '')
            except (AccountError, Forbidden) as e:
                ui.notify(str(e), type='negative')
                return
            ui.notify(_('{name}: password reset.').format(name=account.name), type='positive')
            dialog.close()
            changed()

        with ui.row().classes('w-full justify-end'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            ui.button(_('Reset'), on_click=go).props('unelevated').mark('reset-go')
    dialog.open()


def _show_invite(invitation: Invitation) -> None:
    request = ui.context.client.request
    link = invitation.link(str(request.base_url).rstrip('/') if request is not None else '')
    with ui.dialog() as dialog, ui.card().classes('w-[560px] max-w-[95vw]').mark('invite-dialog'):
        ui.label(_('Invite link for {name}').format(name=invitation.account.name)).classes('text-lg font-semibold')
        ui.label(_('Send it to them; it works once, for 7 days. It is shown only now.')).classes(theme.HINT)
        ui.input(value=link).props('outlined dense readonly').classes('w-full ' + theme.MONO).mark('invite-link')
        with ui.row().classes('w-full justify-end'):
            ui.button(_('Copy'), icon='content_copy', on_click=lambda: ui.clipboard.write(link)).props('flat')
            ui.button(_('Done'), on_click=dialog.close).props('unelevated').mark('invite-done')
    dialog.open()
