"""Login for `--share`: every page, media file, API and websocket needs a signed-in user."""
from __future__ import annotations

import getpass
import os
import secrets
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse
from nicegui import app, ui
from starlette.middleware.base import BaseHTTPMiddleware

from app.studio import Studio
from services import access, users

# only what the login page itself needs to render and talk to its server (socket.io also polls over HTTP;
# a socket only reaches a page whose random client id the browser got from that page, itself behind login)
OPEN_PREFIXES = ('/login', '/_nicegui/', '/_nicegui_ws/')
OPEN_EXACT = {'/favicon.ico'}
# NiceGUI serves local files (ui.audio/ui.image of a path) and uploads/downloads here: data, so signed-in only
BLOCKED_NICEGUI = ('/_nicegui/auto/', '/_nicegui/client/')
# never served over the network, even to signed-in users: the database and the session-signing secret
PRIVATE_MEDIA = ('/media/data/studio.db', '/media/data/.')


_shared = {'on': False}


def actor() -> access.Actor:
    """Who acts on the current request: the signed-in user of a shared studio, or the local user."""
    if not _shared['on']:
        return access.local()
    user = app.storage.user
    return access.Actor(user.get('user') or '', admin=bool(user.get('admin')), shared=True)


def install(studio: Studio, *, share: bool) -> None:
    _shared['on'] = share
    if not share:
        return
    app.add_middleware(_AuthMiddleware)

    @ui.page('/login', title='Sign in · RAVE Studio')
    def login(redirect_to: str = '/') -> RedirectResponse | None:
        if app.storage.user.get('user'):
            return RedirectResponse('/')
        ui.colors(primary='#6C5CE7')

        def attempt() -> None:
            user = users.check(name.value, password.value)
            if user is None:
                error.set_text('Wrong name or password.')
                return
            app.storage.user.update(user=user.name, admin=user.admin)
            ui.navigate.to(_local(redirect_to))

        with ui.card().classes('absolute-center w-80 p-6 gap-3'):
            with ui.row().classes('items-center gap-2'):
                ui.icon('graphic_eq', color='primary').classes('text-3xl')
                ui.label('RAVE Studio').classes('text-xl font-semibold')
            ui.label('This studio is shared on the network. Sign in to continue.').classes('text-sm text-gray-500')
            name = ui.input('Name', value='admin').classes('w-full')
            password = ui.input('Password', password=True, password_toggle_button=True) \
                .classes('w-full').on('keydown.enter', attempt)
            error = ui.label('').classes('text-negative text-sm')
            ui.button('Sign in', on_click=attempt).classes('w-full')
        return None


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


def _local(target: str) -> str:
    """Only redirect inside the studio (`//host/...` would leave it)."""
    return target if target.startswith('/') and not target.startswith(('//', '/\\')) else '/'


class _AuthMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        path = request.url.path
        if path.startswith(PRIVATE_MEDIA) or (path.startswith('/media/data/') and '/.' in path):
            return JSONResponse({'detail': 'Not served.'}, status_code=404)
        open_path = path in OPEN_EXACT or (path.startswith(OPEN_PREFIXES) and not path.startswith(BLOCKED_NICEGUI))
        if open_path or app.storage.user.get('user'):
            return await call_next(request)
        if path.startswith(('/media', '/api', '/_nicegui')):
            return JSONResponse({'detail': 'Sign in first.'}, status_code=401)
        return RedirectResponse(f'/login?redirect_to={quote(path)}')
