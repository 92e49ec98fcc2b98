"""Request guards, the way Jupyter Server does it: every HTTP request and websocket of the studio passes here.

- Host: only the names this studio answers to (loopback; `--share` adds this machine's names and addresses,
  `--allow-host` more). A web page whose name was rebound to 127.0.0.1 gets 403 at its first request.
- Who: a local studio wants its per-launch token (`/?token=…`, the URL `rave-studio` prints and opens), which a
  browser exchanges for an HttpOnly, SameSite=Strict cookie; a shared studio wants a signed-in session
  (app/auth.py: the sign-in replaces the token there). Without one only the sign-in page and the icon are served.
- Origin: a websocket, a socket.io request or a state-changing request (POST, PUT, PATCH, DELETE) whose Origin
  (or Referer) is another site is refused, and socket.io itself only accepts the studio's own origin.
- CSRF: a state-changing request also carries the session's CSRF token in `X-XSRF-Token` (double-submitted:
  a script-readable cookie holds an HMAC of the session, and the pages' XMLHttpRequests — uploads — send it).
  Exempt but Origin-checked and signed-in: socket.io's polling (its per-connection session id is the secret),
  TensorBoard's own queries (they change nothing), and the sign-in form (there is no session yet; throttled).
- Sockets: a socket.io connection needs a live session, may only register a page built for that session, and
  may only send events for a page it registered; the sockets of a session that ends are closed.
- Uploads: the body is counted while it streams; past the upload limit the request ends with 413 before the
  upload handler has seen (or spooled) anything.
- Headers on every response: CSP (frame-ancestors 'self'; media files sandboxed), X-Frame-Options, nosniff,
  Referrer-Policy, and HSTS with TLS.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse, RedirectResponse, Response

from app import plain
from services import access, sessions
from services.i18n import _

LOOPBACK = frozenset({'localhost', '127.0.0.1', '::1'})
SAFE_METHODS = frozenset({'GET', 'HEAD', 'OPTIONS'})
UPLOAD = re.compile(r'^/_nicegui/client/([^/]+)/upload/')
UPLOAD_SLACK = 64 * 1024  # multipart framing around the one file an upload request carries
BODY_LIMIT = 2 * 1024 ** 2  # any other body: socket.io polling (engine.io stops at 1 MB), sign-in, TensorBoard
NO_XSRF = ('/_nicegui_ws/', '/tensorboard/')
DATA_PREFIXES = ('/media', '/api', '/_nicegui', '/tensorboard')  # refused with 401, pages redirect to sign-in
STATE = 'rave_identity'  # where a request's Identity is kept in its ASGI scope
# NiceGUI renders with inline scripts and Vue's template compiler (eval); what CSP adds here is that nothing
# loads from, connects to or frames in from another origin, and nobody else frames the studio
PAGE_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; media-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
            "worker-src 'self' blob:; frame-src 'self'; frame-ancestors 'self'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'")
MEDIA_CSP = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"
FRAMED_CSP = "frame-ancestors 'self'"  # TensorBoard's own pages: only where they may be shown
MEDIA_PREFIXES = ('/media/', '/_nicegui/auto/')


@dataclass(frozen=True)
class Identity:
    """Who a request is: the acting user, and the session its pages, sockets and CSRF token are bound to."""
    actor: access.Actor
    key: str


class Launch:
    """One run of `rave-studio`: the names it answers to, its cookies, and how a request proves who it is."""

    def __init__(self, *, port: int, hosts: frozenset[str], share: bool, tls: bool, secret: str) -> None:
        self.port, self.hosts, self.share, self.tls = port, hosts, share, tls
        self.storage_secret = secret  # signs NiceGUI's storage cookie
        self.token = '' if share else secrets.token_urlsafe(32)  # the one in the printed URL
        self._local_session = secrets.token_urlsafe(32)  # what the token is exchanged for (local studio)
        self._secret = hashlib.sha256(b'rave-studio xsrf ' + secret.encode()).digest()
        self.cookie = f'rave-studio-{port}'  # cookies ignore ports: two studios on one machine keep theirs apart
        self.xsrf_cookie = f'rave-studio-xsrf-{port}'

    def identify(self, cookie_header: str | None) -> Identity | None:
        value = cookie_parser(cookie_header or '').get(self.cookie, '')
        if self.share:
            view = sessions.lookup(value)
            return None if view is None else Identity(
                access.Actor(view.name, admin=view.admin, shared=True, user_id=view.user_id), view.key)
        if value and hmac.compare_digest(value, self._local_session):
            return Identity(access.local(), 'local')
        return None

    def exchange(self, token: str) -> str | None:
        """The session cookie value a URL's token buys, if it is this launch's."""
        return self._local_session if token and self.token and hmac.compare_digest(token, self.token) else None

    def set_cookie(self, value: str, *, secure: bool, max_age: float | None = None) -> str:
        """A Set-Cookie value for the session cookie: HttpOnly, SameSite=Strict, Secure over HTTPS."""
        age = f'; Max-Age={int(max_age)}' if max_age else ''
        return f'{self.cookie}={value}; Path=/; HttpOnly; SameSite=Strict{age}{"; Secure" if secure else ""}'

    def xsrf(self, identity: Identity) -> str:
        return hmac.new(self._secret, identity.key.encode(), hashlib.sha256).hexdigest()[:40]

    def xsrf_set_cookie(self, identity: Identity, *, secure: bool) -> str:
        """The CSRF cookie: readable by the pages' script (that is the point), SameSite=Strict."""
        return f'{self.xsrf_cookie}={self.xsrf(identity)}; Path=/; SameSite=Strict{"; Secure" if secure else ""}'

    def url(self, host: str, path: str = '/') -> str:
        shown = f'[{host}]' if ':' in host else host
        return f'{"https" if self.tls else "http"}://{shown}:{self.port}{path}'


def allowed_hosts(*, share: bool, bind: str, extra: list[str]) -> frozenset[str]:
    """The Host names a launch answers to: loopback, the bound address, `--allow-host` names and, when shared,
    every name and address of this machine."""
    names = set(LOOPBACK) | {host_name(h) for h in extra}
    if bind not in ('', '0.0.0.0', '::'):
        names.add(host_name(bind))
    if share:
        names |= _machine_names()
    return frozenset(n for n in names if n)


def host_name(host: str) -> str:
    """The name part of a Host header (or a bare name): lower case, no port, no brackets, no final dot."""
    host = (host or '').strip().lower()
    if host.startswith('['):
        return host[1:host.find(']')] if ']' in host else ''
    return (host.rsplit(':', 1)[0] if host.count(':') == 1 else host).rstrip('.')


def same_origin(origin: str | None, host: str) -> bool:
    """Whether an Origin (or Referer) header names the studio the request came to; absent means not a browser's
    cross-site request (browsers send Origin on every websocket and state-changing request)."""
    if origin is None:
        return True
    netloc = urlsplit(origin).netloc
    return bool(netloc) and netloc.lower() == host.strip().lower()


def same_origin_path(target: str | None) -> str:
    """`target` if it is a path on this studio, else '/': no scheme, no host, no `//`, no backslash and no
    control or space characters (a browser drops a tab, so `/\\t/evil.example` would leave the studio)."""
    target = target or ''
    if not target.startswith('/') or target.startswith('//') or '\\' in target \
            or any(ord(c) <= 0x20 or ord(c) == 0x7f for c in target):
        return '/'
    parts = urlsplit(target)
    return '/' if parts.scheme or parts.netloc else target


def is_https(scope) -> bool:
    """Whether the browser talks HTTPS: TLS of our own, or an HTTPS reverse proxy on this machine (uvicorn takes
    X-Forwarded-Proto from 127.0.0.1)."""
    return scope.get('scheme') in ('https', 'wss')


def identity_of(request) -> Identity | None:
    """The Identity the guard found for a request (None: not signed in, or no guard, as in NiceGUI's tests)."""
    return request.scope.get('state', {}).get(STATE) if request is not None else None


def xsrf_script(launch: Launch) -> str:
    """Added to every page: same-origin XMLHttpRequests (NiceGUI's uploads) carry the CSRF token."""
    return _XSRF_SCRIPT.replace('COOKIE', launch.xsrf_cookie)


class Guard:
    """The ASGI middleware that applies the rules of this module to every request."""

    def __init__(self, app, launch: Launch, upload_limit: Callable[[], int], open_paths: tuple[str, ...]) -> None:
        self.app, self.launch, self.upload_limit, self.open_paths = app, launch, upload_limit, open_paths

    async def __call__(self, scope, receive, send) -> None:
        if scope['type'] not in ('http', 'websocket'):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host, path = headers.get('host', ''), scope['path']
        if host_name(host) not in self.launch.hosts:
            name = host_name(host) or 'NAME'
            await _deny(scope, receive, send, 403, f'{host or "A request without a Host"} is not a name this '
                        f'studio answers to; start it with --allow-host {name} to add it.')
            return
        origin = headers.get('origin') or headers.get('referer')
        cross = not same_origin(origin, host)
        identity = self.launch.identify(headers.get('cookie'))
        scope.setdefault('state', {})[STATE] = identity
        if scope['type'] == 'websocket':
            if cross or identity is None:
                await _deny(scope, receive, send, 403, f'A websocket from {origin} is refused.' if cross
                            else 'Sign in first (or open the URL rave-studio printed).')
                return
            await self.app(scope, receive, send)
            return
        method = scope['method']
        if cross and (method not in SAFE_METHODS or path.startswith('/_nicegui_ws/')):
            await _deny(scope, receive, send, 403, f'A request from {origin} is refused: it is another site.')
            return
        query = dict(parse_qsl(scope.get('query_string', b'').decode('latin-1')))
        if 'token' in query and not self.launch.share and method in ('GET', 'HEAD'):
            await self._exchange(scope, receive, send, query)
            return
        if identity is None and path not in self.open_paths:
            await self._unauthenticated(scope, receive, send, headers)
            return
        if method not in SAFE_METHODS and identity is not None and not path.startswith(NO_XSRF) \
                and path not in self.open_paths \
                and not hmac.compare_digest(headers.get('x-xsrf-token', ''), self.launch.xsrf(identity)):
            await _deny(scope, receive, send, 403, 'This request lacks the page\'s CSRF token: reload the page.')
            return
        upload = UPLOAD.match(path)
        if upload and not owns(identity.key if identity else None, upload.group(1)):
            await _deny(scope, receive, send, 403, 'This upload belongs to another session\'s page.')
            return
        await self._serve(scope, receive, send, headers, identity, bool(upload))

    async def _serve(self, scope, receive, send, headers: Headers, identity: Identity | None, upload: bool) -> None:
        limit = BODY_LIMIT
        if upload:
            limit = self.upload_limit() + UPLOAD_SLACK if self.upload_limit() else 0
        declared = headers.get('content-length', '')
        if limit and declared.isdigit() and int(declared) > limit:
            await _deny(scope, receive, send, 413, _too_large(limit, upload))
            return
        received, started = 0, False

        async def counted() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get('body', b''))
            if limit and received > limit:
                raise _TooLarge
            return message

        xsrf_stale = identity is not None and \
            cookie_parser(headers.get('cookie', '')).get(self.launch.xsrf_cookie) != self.launch.xsrf(identity)

        async def with_headers(message: dict) -> None:
            nonlocal started
            if message['type'] == 'http.response.start':
                started = True
                out = MutableHeaders(scope=message)
                for name, value in self._headers(scope):
                    out.setdefault(name, value)
                if xsrf_stale:
                    out.append('set-cookie', self.launch.xsrf_set_cookie(identity, secure=is_https(scope)))
            await send(message)

        try:
            await self.app(scope, counted, with_headers)
        except Exception as error:  # NiceGUI's middlewares hand it on inside an ExceptionGroup
            if not _holds(error, _TooLarge):
                raise
            if not started:
                await _deny(scope, receive, send, 413, _too_large(limit, upload))

    def _headers(self, scope) -> list[tuple[str, str]]:
        path = scope['path']
        csp = MEDIA_CSP if path.startswith(MEDIA_PREFIXES) else FRAMED_CSP if path.startswith('/tensorboard/') \
            else PAGE_CSP
        out = [('content-security-policy', csp), ('x-frame-options', 'SAMEORIGIN'),
               ('x-content-type-options', 'nosniff'), ('referrer-policy', 'same-origin')]
        if is_https(scope):
            out.append(('strict-transport-security', 'max-age=31536000'))
        return out

    async def _exchange(self, scope, receive, send, query: dict) -> None:
        """`?token=…` of the printed URL: the session cookie, and the same address without the token."""
        value = self.launch.exchange(query.pop('token'))
        if value is None:
            with plain.speaking(Headers(scope=scope)):
                response = plain.open_printed(_("That link's token is not this launch's (it changes every time "
                                                'rave-studio starts).'), scope['path'])
        else:
            raw = scope.get('raw_path', scope['path'].encode()).decode('latin-1')
            target = same_origin_path(raw + ('?' + urlencode(query) if query else ''))
            response = RedirectResponse(target, status_code=303)
            response.headers.append('set-cookie', self.launch.set_cookie(value, secure=is_https(scope)))
        await self._respond(scope, receive, send, response)

    async def _unauthenticated(self, scope, receive, send, headers: Headers) -> None:
        path = scope['path']
        page = scope['method'] == 'GET' and not path.startswith(DATA_PREFIXES)
        if self.launch.share:
            if page:
                query = scope.get('query_string', b'').decode('latin-1')
                ended = '&ended=1' if cookie_parser(headers.get('cookie', '')).get(self.launch.cookie) else ''
                target = quote(path + ('?' + query if query else ''))
                response = RedirectResponse(f'/login?redirect_to={target}{ended}', status_code=303)
            else:
                response = JSONResponse({'detail': 'Sign in first.'}, status_code=401)
        elif page and 'html' in headers.get('accept', ''):
            with plain.speaking(headers):
                response = plain.open_printed(_('This studio opens only with the URL that rave-studio printed in '
                                                "its terminal when it started (it carries this launch's token)."), path)
        else:
            response = JSONResponse({'detail': 'Open the URL rave-studio printed: it carries this launch\'s '
                                               'token.'}, status_code=403)
        await self._respond(scope, receive, send, response)

    async def _respond(self, scope, receive, send, response: Response) -> None:
        for name, value in self._headers(scope):
            response.headers.setdefault(name, value)
        await response(scope, receive, send)


class _TooLarge(Exception):
    """An upload went past the limit while it streamed."""


def owns(key: str | None, client_id: str | None) -> bool:
    """Whether a page (NiceGUI client) was built for the session `key`; an unknown page is left to NiceGUI."""
    from nicegui import Client
    client = Client.instances.get(client_id or '')
    if client is None:
        return True
    try:
        owner = identity_of(client.request)
    except RuntimeError:  # a page built without a request
        owner = None
    return key is not None and owner is not None and hmac.compare_digest(owner.key, key)


def _holds(error: BaseException, kind: type[BaseException]) -> bool:
    if isinstance(error, BaseExceptionGroup):
        return any(_holds(e, kind) for e in error.exceptions)
    return isinstance(error, kind)


def _too_large(limit: int, upload: bool) -> str:
    if not upload:
        return f'This request is over {limit / 1024 ** 2:.0f} MB.'
    return f'This upload is over the limit of {(limit - UPLOAD_SLACK) / 1024 ** 2:.0f} MB (Settings → limits).'


async def _deny(scope, receive, send, status: int, reason: str) -> None:
    """A one-line refusal, for HTTP and for a websocket upgrade (before it is accepted)."""
    if scope['type'] == 'websocket':
        await receive()  # websocket.connect
        if 'websocket.http.response' in scope.get('extensions', {}):
            await send({'type': 'websocket.http.response.start', 'status': status,
                        'headers': [(b'content-type', b'text/plain; charset=utf-8')]})
            await send({'type': 'websocket.http.response.body', 'body': reason.encode() + b'\n'})
        else:
            await send({'type': 'websocket.close', 'code': 1008})
        return
    await Response(reason + '\n', status_code=status, media_type='text/plain',
                   headers={'x-content-type-options': 'nosniff', 'content-security-policy': PAGE_CSP})(
        scope, receive, send)


def _machine_names() -> set[str]:
    import ifaddr
    names = {socket.gethostname(), socket.getfqdn()}
    names |= {f'{n}.local' for n in list(names) if n and '.' not in n}
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            names.add(ip.ip if isinstance(ip.ip, str) else ip.ip[0])
    return {host_name(n) if ':' not in n else n.lower() for n in names if n}


_XSRF_SCRIPT = """<script>(() => {
  const name = 'COOKIE=';
  const token = () => (document.cookie.split('; ').find((c) => c.startsWith(name)) || '').slice(name.length);
  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.studioSameOrigin = new URL(url, location.href).origin === location.origin;
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (body) {
    if (this.studioSameOrigin) this.setRequestHeader('X-XSRF-Token', token());
    return send.call(this, body);
  };
})();</script>"""
