"""Who acts on a page, and signing in to a shared studio (`--share`).

A local studio has one user (`services.access.local()`), proven by the launch token (app/security.py). A shared
studio replaces the token by accounts: `/login` is a plain form (no websocket before sign-in) whose POST checks
the password off the event loop, behind the throttle of services/sessions.py, and answers an unknown name as
slowly as a wrong password. Success opens a fresh session (the one the browser came with ends: no fixation) in
an HttpOnly, SameSite=Strict cookie, Secure over HTTPS. The account menu signs out here or everywhere.
"""
from __future__ import annotations

import asyncio
import getpass
import math
import os
import secrets
from dataclasses import dataclass
from html import escape

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import app, ui

from app import plain, security
from app.studio import Studio
from services import access, sessions, users
from services.i18n import _
from services.lab import accounts, roles
from services.store import User

OPEN_PATHS = ('/login', '/login/change', '/invite', '/favicon.ico')  # served without a session on a shared studio
CHECKS_AT_ONCE = 2  # scrypt needs 16 MB and ~50 ms per check: a flood of sign-ins queues here
SWEEP_S = 60.0  # how often sessions past their idle timeout or lifetime are ended

throttle = sessions.Throttle()
_state: dict = {'shared': False, 'launch': None, 'checks': None}


def actor() -> access.Actor:
    """Who acts on the current page: the identity the guard found for its request. Without a guard (NiceGUI's
    simulated user in tests) a local studio's user; tests of a shared studio put the user in app.storage.user."""
    identity = _identity()
    if identity is not None:
        return identity.actor
    if _state['launch'] is not None:
        return access.Actor('', shared=True)  # no identity behind the guard: nobody, who may do nothing
    if not _state['shared']:
        return access.local()
    user = app.storage.user
    return access.Actor(user.get('user') or '', admin=bool(user.get('admin')), shared=True)


def install(studio: Studio, *, share: bool, launch: security.Launch | None) -> None:
    """The sign-in routes of a shared studio (`launch` is the guard's; None only in NiceGUI's own tests)."""
    _state.update(shared=share, launch=launch)
    if not share:
        return
    if launch is None:
        raise ValueError('A shared studio needs the request guard (app/security.py): start it with rave-studio.')
    app.timer(SWEEP_S, sessions.sweep)

    @app.get('/login', include_in_schema=False)
    @plain.in_browser_language
    def login_page(request: Request, redirect_to: str = '/', ended: str = '') -> Response:
        if security.identity_of(request) is not None:
            return RedirectResponse(security.same_origin_path(redirect_to), status_code=303)
        return _form(request, redirect_to, note=_('Your session ended: sign in again.') if ended else '')

    @app.post('/login', include_in_schema=False)
    @plain.in_browser_language
    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get('name') or '').strip(), str(form.get('password') or '')
        target = security.same_origin_path(str(form.get('redirect_to') or '/'))
        address = request.client.host if request.client else ''
        user, refusal = await _checked(name, password, address)
        if refusal is not None:
            return _form(request, target, name, error=refusal.error, status=refusal.status,
                         headers=refusal.headers)
        if user.must_change:  # an initial password an admin chose: its user picks their own first
            return _change_form(request, target, name)
        return _signed_in(request, user, target)

    @app.post('/login/change', include_in_schema=False)
    @plain.in_browser_language
    async def change(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get('name') or '').strip(), str(form.get('password') or '')
        new, again = str(form.get('new') or ''), str(form.get('again') or '')
        target = security.same_origin_path(str(form.get('redirect_to') or '/'))
        user, refusal = await _checked(name, password, request.client.host if request.client else '')
        if refusal is not None:
            return _form(request, target, name, error=refusal.error, status=refusal.status,
                         headers=refusal.headers)
        problem = _new_password_problem(new, again, old=password)
        if problem:
            return _change_form(request, target, name, error=problem, status=400)
        await asyncio.to_thread(users.set_password, name, new)
        return _signed_in(request, User.get_by_id(user.id), target)

    @app.get('/invite', include_in_schema=False)
    @plain.in_browser_language
    def invite_page(request: Request, token: str = '') -> Response:
        name = accounts.invite_user(token)
        if name is None:
            return _invite_refused(_('This invite link is not valid any more (used, expired or replaced): ask an '
                                     'admin for a new one.'))
        return _invite_form(token, name)

    @app.post('/invite', include_in_schema=False)
    @plain.in_browser_language
    async def invite(request: Request) -> Response:
        form = await request.form()
        token, new, again = (str(form.get(k) or '') for k in ('token', 'new', 'again'))
        name = accounts.invite_user(token)
        problem = _new_password_problem(new, again)
        if name is not None and problem:
            return _invite_form(token, name, error=problem, status=400)
        try:
            user = await asyncio.to_thread(accounts.redeem, token, new)
        except accounts.AccountError as e:
            return _invite_refused(str(e))
        return _signed_in(request, user, '/')


@dataclass(frozen=True)
class _Refusal:
    error: str
    status: int
    headers: dict | None = None


async def _checked(name: str, password: str, address: str) -> tuple[User | None, _Refusal | None]:
    """The account a name and password sign in, behind the throttle, or why not."""
    if _state['checks'] is None:
        _state['checks'] = asyncio.Semaphore(CHECKS_AT_ONCE)
    async with _state['checks']:
        wait = throttle.wait(name, address)
        if wait > 0:
            seconds = math.ceil(wait)
            return None, _Refusal(_('Too many failed sign-ins: try again in {seconds} s.').format(seconds=seconds),
                                  429, {'Retry-After': str(seconds)})
        user = await asyncio.to_thread(users.check, name, password)
    if user is None:
        throttle.failed(name, address)
        return None, _Refusal(_('Wrong name or password.'), 401)
    throttle.succeeded(name, address)
    if user.disabled:
        return None, _Refusal(_('This account is disabled: ask an admin.'), 403)
    return user, None


def _signed_in(request: Request, user: User, target: str) -> Response:
    launch = _state['launch']
    token, _ = sessions.open_session(user, replacing=request.cookies.get(launch.cookie))
    response = RedirectResponse(target, status_code=303)
    response.headers.append('set-cookie', launch.set_cookie(token, secure=security.is_https(request.scope),
                                                            max_age=sessions.LIFETIME))
    return response


def _new_password_problem(new: str, again: str, old: str = '') -> str:
    if len(new) < 8:
        return _('A password needs at least 8 characters.')
    if new != again:
        return _('The two passwords differ: type the same one twice.')
    if old and new == old:
        return _('Choose a password other than the one you were given.')
    return ''


def account_menu(role: str = '') -> None:
    """The header's account button on a shared studio: who is signed in (and their `role` in the current
    project), sign out here or everywhere."""
    identity = _identity()
    if identity is None or not identity.actor.shared:
        return
    name, role = identity.actor.name, roles.said(role) if role else ''
    label = f'{name} · {role}' if role else name
    with ui.button(label, icon='account_circle').props('flat dense no-caps').mark('account') \
            .tooltip(_('Signed in as {name}, {role} in this project').format(name=name, role=role) if role else
                     _('Signed in as {name}').format(name=name)), ui.menu():
        ui.menu_item(_('Signed in as {name} · {role} here').format(name=name, role=role) if role else
                     _('Signed in as {name}').format(name=name)).props('disable')
        ui.menu_item(_('Sign out'), on_click=lambda: _sign_out(identity, everywhere=False))
        ui.menu_item(_('Sign out everywhere'), on_click=lambda: _sign_out(identity, everywhere=True)) \
            .tooltip(_('Ends every session of your account, on every browser'))


def ensure_admin(interactive: bool) -> None:
    """On the first `--share`, create the admin account; its password is stored hashed."""
    if users.count():
        return
    password = os.environ.get('RAVE_STUDIO_ADMIN_PASSWORD', '')
    if not password and interactive:
        while len(password) < 8:
            password = getpass.getpass('First share: choose a password for "admin" (8+ characters): ')
    if not password:
        password = secrets.token_urlsafe(12)
        print(f'First share: created user "admin" with password {password} — change it in Settings.', flush=True)
    users.create('admin', password, admin=True)


def _identity() -> security.Identity | None:
    client = ui.context.client
    try:
        return security.identity_of(client.request)
    except RuntimeError:  # a page built without a request
        return None


def _sign_out(identity: security.Identity, *, everywhere: bool) -> None:
    ui.navigate.to('/login')
    if everywhere and identity.actor.user_id is not None:
        sessions.end_user(identity.actor.user_id)
    else:
        sessions.end(identity.key)


def _change_form(request: Request, target: str, name: str, *, error: str = '', status: int = 200) -> Response:
    w = _escaped(note=_('Your password was chosen by an admin: choose your own to continue.'),
                 given=_('The password you were given'), new=_('New password (8+ characters)'),
                 again=_('New password again'), go=_('Change and sign in'))
    body = f'''<h1>RAVE Studio</h1>
<p class="note">{w['note']}</p>
<form method="post" action="/login/change">
<input type="hidden" name="redirect_to" value="{escape(security.same_origin_path(target))}">
<input type="hidden" name="name" value="{escape(name)}">
<label for="password">{w['given']}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="new">{w['new']}</label>
<input id="new" name="new" type="password" autocomplete="new-password" minlength="8" required>
<label for="again">{w['again']}</label>
<input id="again" name="again" type="password" autocomplete="new-password" minlength="8" required>
<p class="error" role="alert">{escape(error)}</p>
<button type="submit">{w['go']}</button></form>'''
    return plain.plain_page(_('Choose a password · RAVE Studio'), body, status)


def _invite_form(token: str, name: str, *, error: str = '', status: int = 200) -> Response:
    w = _escaped(note=_('Welcome, {name}. Choose a password for your account.').format(name=name),
                 new=_('Password (8+ characters)'), again=_('Password again'), go=_('Create my account'))
    body = f'''<h1>RAVE Studio</h1>
<p class="note">{w['note']}</p>
<form method="post" action="/invite">
<input type="hidden" name="token" value="{escape(token)}">
<label for="new">{w['new']}</label>
<input id="new" name="new" type="password" autocomplete="new-password" minlength="8" autofocus required>
<label for="again">{w['again']}</label>
<input id="again" name="again" type="password" autocomplete="new-password" minlength="8" required>
<p class="error" role="alert">{escape(error)}</p>
<button type="submit">{w['go']}</button></form>'''
    return plain.plain_page(_('Invite · RAVE Studio'), body, status)


def _invite_refused(why: str) -> Response:
    return plain.plain_page(_('Invite · RAVE Studio'), f'<h1>RAVE Studio</h1><p class="error">{escape(why)}</p>', 410)


def _form(request: Request, target: str, name: str = 'admin', *, error: str = '', note: str = '',
          status: int = 200, headers: dict | None = None) -> Response:
    clear = '' if security.is_https(request.scope) else '<p class="warn">{}</p>'.format(escape(
        _('This studio is served without TLS: your password crosses the network in clear. To encrypt it, start the '
          'studio with {certfile} and {keyfile}, or behind an HTTPS reverse proxy (see the README).'))
        .format(certfile='<code>--certfile</code>', keyfile='<code>--keyfile</code>'))
    w = _escaped(shared=_('This studio is shared on the network. Sign in to continue.'), name=_('Name'),
                 password=_('Password'), go=_('Sign in'))
    body = f'''<h1>RAVE Studio</h1>
<p class="note">{w['shared']}</p>{clear}
<p class="note">{escape(note)}</p>
<form method="post" action="/login">
<input type="hidden" name="redirect_to" value="{escape(security.same_origin_path(target))}">
<label for="name">{w['name']}</label>
<input id="name" name="name" value="{escape(name)}" autocomplete="username" required>
<label for="password">{w['password']}</label>
<input id="password" name="password" type="password" autocomplete="current-password" autofocus required>
<p class="error" role="alert">{escape(error)}</p>
<button type="submit">{w['go']}</button></form>'''
    return plain.plain_page(_('Sign in · RAVE Studio'), body, status, headers)


def _escaped(**words: str) -> dict[str, str]:
    """The words of a plain page, made safe for its HTML (said outside the f-string, so extraction finds them)."""
    return {key: escape(text) for key, text in words.items()}
