"""Accounts (admins): every member with their rank and state; add with an invite link or an initial password,
disable, reset, promote, demote, delete."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components import cards
from services.access import Forbidden
from services.lab import AccountError, Accounts, AccountView, Invitation


def create(accounts: Accounts) -> None:
    with ui.column().classes('gap-0'):
        ui.label('Accounts').classes(theme.TITLE)
        ui.label('Who may sign in to this shared studio. Roles per project are given in each project\'s Sharing '
                 'dialog (Projects page).').classes(theme.SUBTITLE)
    if not accounts.may_manage():
        cards.empty_state('lock', 'Only admins manage accounts',
                          'Ask an admin of this studio to add someone, reset a password or change a rank.',
                          mark='users-refused')
        return

    @ui.refreshable
    def table() -> None:
        for account in accounts.list():
            _row(accounts, account, table.refresh)

    with cards.section('Add a member', 'person_add'):
        with ui.row().classes('w-full items-start gap-3'):
            name = ui.input('Name', placeholder='e.g. ada').props('outlined dense').classes('w-56') \
                .mark('new-user-name')
            how = ui.toggle({'invite': 'Invite link', 'password': 'Initial password'}, value='invite') \
                .props('no-caps aria-label="How they first sign in"').mark('new-user-how')
            password = ui.input('Initial password', password=True, password_toggle_button=True) \
                .props('outlined dense').classes('w-56').mark('new-user-password') \
                .bind_visibility_from(how, 'value', value='password')
            admin = ui.checkbox('Admin').mark('new-user-admin')
            ui.button('Add', icon='person_add', on_click=lambda: add()).props('unelevated').mark('new-user-add')
        ui.label('An invite link lets them choose their own password (once, within 7 days); an initial password '
                 'must be changed at their first sign-in.').classes(theme.HINT)

    def add() -> None:
        try:
            if how.value == 'invite':
                _show_invite(accounts.invite(name.value, admin=admin.value))
            else:
                accounts.add(name.value, password.value or '', admin=admin.value)
                ui.notify(f'Added {name.value.strip()}: they change the password at their first sign-in.',
                          type='positive')
        except (AccountError, Forbidden) as e:
            ui.notify(str(e), type='negative')
            return
        name.set_value('')
        password.set_value('')
        table.refresh()

    with cards.section('Members', 'group', classes='mt-4'):
        table()


def _row(accounts: Accounts, account: AccountView, changed) -> None:
    state = 'disabled' if account.disabled else 'invited' if account.invited else \
        'must change password' if account.must_change else 'active'
    with ui.row().classes('w-full items-center gap-3 no-wrap border-b border-gray-100 dark:border-gray-800 py-1') \
            .mark(f'user-{account.name}'):
        ui.icon('admin_panel_settings' if account.admin else 'person',
                color='primary' if account.admin else None).classes('text-xl')
        with ui.column().classes('gap-0 grow'):
            ui.label(account.name).classes('font-medium')
            ui.label(f'{"admin" if account.admin else "member"} · {state} · since {account.created}') \
                .classes(theme.HINT).mark(f'user-state-{account.name}')

        def act(change, done: str) -> None:
            try:
                change(account.name)
            except (AccountError, Forbidden) as e:
                ui.notify(str(e), type='negative')
                return
            ui.notify(f'{account.name}: {done}.', type='positive')
            changed()

        if account.invited:
            ui.button(icon='link', on_click=lambda: _show_invite(accounts.reinvite(account.name))) \
                .props('flat round dense').tooltip('A new invite link').mark(f'user-reinvite-{account.name}')
        ui.button(icon='lock_reset', on_click=lambda: _reset(accounts, account, changed)) \
            .props('flat round dense').tooltip('Reset the password').mark(f'user-reset-{account.name}')
        if account.admin:
            ui.button(icon='arrow_downward', on_click=lambda: act(accounts.demote, 'now a member')) \
                .props('flat round dense').tooltip('Demote to member').mark(f'user-demote-{account.name}')
        else:
            ui.button(icon='arrow_upward', on_click=lambda: act(accounts.promote, 'now an admin')) \
                .props('flat round dense').tooltip('Promote to admin').mark(f'user-promote-{account.name}')
        if account.disabled:
            ui.button(icon='play_circle', on_click=lambda: act(accounts.enable, 'may sign in again')) \
                .props('flat round dense').tooltip('Enable').mark(f'user-enable-{account.name}')
        else:
            ui.button(icon='block', on_click=lambda: act(accounts.disable, 'disabled, signed out')) \
                .props('flat round dense').tooltip('Disable (signs them out)').mark(f'user-disable-{account.name}')

        async def delete() -> None:
            if await cards.confirm(f'Delete {account.name}?', 'Their account goes; the runs, datasets and exports '
                                   'they made stay with their projects.', yes='Delete', mark='user-delete'):
                act(accounts.delete, 'deleted')

        ui.button(icon='delete_outline', on_click=delete).props('flat round dense color=negative') \
            .tooltip('Delete the account').mark(f'user-delete-{account.name}')


def _reset(accounts: Accounts, account: AccountView, changed) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-[420px] max-w-[95vw]').mark('reset-dialog'):
        ui.label(f'Reset the password of {account.name}').classes('text-lg font-semibold')
        password = ui.input('Initial password', password=True, password_toggle_button=True) \
            .props('outlined dense autofocus').classes('w-full').mark('reset-password')
        ui.label('They sign in with it once and then choose their own; their open sessions end now.') \
            .classes(theme.HINT)

        def go() -> None:
            try:
                accounts.reset(account.name, password.value or '')
            except (AccountError, Forbidden) as e:
                ui.notify(str(e), type='negative')
                return
            ui.notify(f'{account.name}: password reset.', type='positive')
            dialog.close()
            changed()

        with ui.row().classes('w-full justify-end'):
            ui.button('Cancel', on_click=dialog.close).props('flat')
            ui.button('Reset', on_click=go).props('unelevated').mark('reset-go')
    dialog.open()


def _show_invite(invitation: Invitation) -> None:
    request = ui.context.client.request
    link = invitation.link(str(request.base_url).rstrip('/') if request is not None else '')
    with ui.dialog() as dialog, ui.card().classes('w-[560px] max-w-[95vw]').mark('invite-dialog'):
        ui.label(f'Invite link for {invitation.account.name}').classes('text-lg font-semibold')
        ui.label('Send it to them; it works once, for 7 days. It is shown only now.').classes(theme.HINT)
        ui.input(value=link).props('outlined dense readonly').classes('w-full ' + theme.MONO).mark('invite-link')
        with ui.row().classes('w-full justify-end'):
            ui.button('Copy', icon='content_copy', on_click=lambda: ui.clipboard.write(link)).props('flat')
            ui.button('Done', on_click=dialog.close).props('unelevated').mark('invite-done')
    dialog.open()
