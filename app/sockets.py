"""socket.io bound to sessions. NiceGUI builds its server with `cors_allowed_origins='*'` and lets any socket
that knows a page's client id register that page and send its events; here a socket needs a live session when
it connects, may register only a page built for that session, and is heard only for pages it registered. When
a session ends (sign-out, password change, timeout), its sockets stop being heard at once and are closed.
"""
from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

import socketio
from nicegui import background_tasks, core

from app.security import Launch, owns, same_origin
from services import sessions

CLOSE_AFTER_S = 1.0  # lets a last message (e.g. "go to the sign-in page") reach a socket before it is closed
PAGE_EVENTS = ('event', 'javascript_response', 'ack', 'log')  # what a browser sends about a registered page

_sockets: dict[str, str] = {}  # socket id → the session it connected with


def install(launch: Launch) -> None:
    sio = core.sio
    sio.eio.cors_allowed_origins = lambda origin, environ: same_origin(origin, environ.get('HTTP_HOST', ''))
    sio.eio.cors_credentials = False
    nicegui = dict(sio.handlers['/'])

    async def connect(sid: str, environ: dict, auth=None) -> None:
        identity = launch.identify(environ.get('HTTP_COOKIE'))
        client_id = dict(parse_qsl(environ.get('QUERY_STRING', ''))).get('client_id')
        if identity is None or (client_id and not owns(identity.key, client_id)):
            # NiceGUI's page reloads on this answer, and so meets the sign-in (or the "open the printed URL" page)
            raise socketio.exceptions.ConnectionRefusedError('Implicit handshake failed')
        _sockets[sid] = identity.key
        try:
            await nicegui['connect'](sid, environ, auth)
        except BaseException:
            _sockets.pop(sid, None)
            raise

    async def handshake(sid: str, data) -> bool:
        key = _sockets.get(sid)
        if key is None or not isinstance(data, dict) or not owns(key, data.get('client_id')):
            return False
        return await nicegui['handshake'](sid, data)

    def disconnect(sid: str, reason=None) -> None:
        _sockets.pop(sid, None)
        nicegui['disconnect'](sid)

    def heard(handler):
        def checked(sid: str, msg) -> None:
            if isinstance(msg, dict) and sid in _sockets and msg.get('client_id') in sio.rooms(sid):
                handler(sid, msg)
        return checked

    sio.on('connect', handler=connect)
    sio.on('handshake', handler=handshake)
    sio.on('disconnect', handler=disconnect)
    for name in PAGE_EVENTS:
        sio.on(name, handler=heard(nicegui[name]))
    sessions.on_end(_ended)


def _ended(keys: set[str]) -> None:
    """Sessions ended (called from any thread)."""
    sids = [sid for sid, key in list(_sockets.items()) if key in keys]
    for sid in sids:
        _sockets.pop(sid, None)
    if sids and core.loop is not None:
        core.loop.call_soon_threadsafe(lambda: background_tasks.create(_close(sids), name='close sockets'))


async def _close(sids: list[str]) -> None:
    await asyncio.sleep(CLOSE_AFTER_S)
    for sid in sids:
        await core.sio.disconnect(sid)
