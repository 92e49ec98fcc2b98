"""Start the real `rave-studio` command as a subprocess for system tests (reliability, browser, share, native).

A local studio opens only with the URL it printed (its per-launch token): `StudioProcess` reads it from the
output, `http_get` sends the launch cookie it bought with it, and the Chromium of `launch_chromium` opens the
printed URL of every running studio before it browses, as a user would.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

STUDIO = str(Path(sys.executable).with_name('rave-studio'))
PYTHON = sys.executable
ROOT = Path(__file__).resolve().parent.parent
PRINTED_URL = re.compile(r'RAVE Studio: open (http\S+\?token=\S+)')

_running: dict[int, StudioProcess] = {}  # port → a local studio that printed its URL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_'))}
    env.update(extra)
    return env


def http_get(url: str, timeout: float = 10.0, cookies: str | None = None) -> tuple[int, str, str]:
    """(status, location, body) without following redirects; `cookies` None: the launch cookie of the local
    studio the URL names (if one runs), '' none."""
    status, headers, body = _get(url, timeout, _cookie_for(url) if cookies is None else cookies)
    return status, headers.get('location', '') or '', body


def _get(url: str, timeout: float, cookies: str) -> tuple[int, dict, str]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    unverified = ssl.create_default_context()
    unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE  # the tests' self-signed certificate
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=unverified))
    request = urllib.request.Request(url, headers={'Cookie': cookies} if cookies else {})
    try:
        with opener.open(request, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode('utf-8', 'replace')
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode('utf-8', 'replace')


def _cookie_for(url: str) -> str:
    studio = _running.get(urllib.parse.urlsplit(url).port or 0)
    return studio.cookie if studio else ''


class StudioProcess:
    """`rave-studio --no-browser --port P --data-dir D [args]`, its output in D/../studio-N.log."""

    def __init__(self, data_dir: Path, *args: str, env: dict | None = None, port: int | None = None,
                 log_dir: Path | None = None) -> None:
        self.data_dir = data_dir
        self.log_dir = log_dir or data_dir.parent
        self.port = port or free_port()
        self.url = f'{"https" if "--certfile" in args else "http"}://127.0.0.1:{self.port}'
        self.args = list(args)
        self.env = env or clean_env()
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.launched_at = 0.0
        self.open_url = ''  # the URL it printed, with its launch token (local studios)
        self.cookie = ''  # the launch cookie that URL bought ("name=value")

    def start(self, timeout: float = 90.0) -> StudioProcess:
        n = len(list(self.log_dir.glob('studio-*.log')))
        self.log_path = self.log_dir / f'studio-{n}.log'
        log = open(self.log_path, 'wb')  # noqa: SIM115 (the child keeps it)
        self.launched_at = time.monotonic()
        self.proc = subprocess.Popen(
            [STUDIO, '--no-browser', '--port', str(self.port), '--data-dir', str(self.data_dir), *self.args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env, cwd=str(self.data_dir.parent))
        log.close()
        self.wait_served(timeout)
        self._sign_in()
        return self

    def _sign_in(self) -> None:
        """Open the printed URL once, as the browser `rave-studio` opens would: keep the cookie it sets."""
        printed = PRINTED_URL.search(self.output())
        if printed is None:
            return  # a shared studio signs in with a password instead
        self.open_url = printed.group(1)
        status, headers, _ = _get(self.open_url, 10.0, '')
        assert status == 303, f'the printed URL answered {status}'
        self.cookie = next(c.split(';')[0] for c in headers.get_all('set-cookie') if c.startswith('rave-studio-'))
        _running[self.port] = self

    def wait_served(self, timeout: float = 90.0) -> float:
        """Seconds from launch until the first page answered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f'rave-studio exited with {self.proc.returncode}:\n{self.output()}')
            try:
                status, _, _ = http_get(self.url + '/', timeout=5)
                if status < 500:
                    return time.monotonic() - self.launched_at
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f'rave-studio did not serve within {timeout} s:\n{self.output()}')

    def output(self) -> str:
        return self.log_path.read_text(errors='replace')[-5000:] if self.log_path and self.log_path.exists() else ''

    def kill9(self) -> None:
        _running.pop(self.port, None)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        _running.pop(self.port, None)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def __enter__(self) -> StudioProcess:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def queue_job(data_dir: Path, kind: str, title: str, argv: list[str]) -> int:
    """Queue a job in the studio database without launching it (the studio's poller launches it)."""
    out = subprocess.run([PYTHON, '-m', 'services.jobs', 'queue', '--data-dir', str(data_dir), '--kind', kind,
                          '--title', title, '--', *argv], cwd=str(ROOT), env=clean_env(), capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip().splitlines()[-1])


CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage']


def launch_chromium(playwright):
    """Debian's Chromium (never `playwright install`); each new context first opens the printed URL of every
    running local studio, as a user does, so it holds their launch cookies."""
    return _SignedInBrowser(playwright.chromium.launch(executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS))


def browser_page(browser, timeout_ms: int):
    """A fresh context at the studio's usual window size and its one page (the browser modules' `page` fixture):
    `yield from browser_page(browser, TIMEOUT_MS)`."""
    context = browser.new_context(viewport={'width': 1366, 'height': 860})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    yield page
    context.close()


class _SignedInBrowser:
    def __init__(self, browser) -> None:
        self._browser = browser

    def new_context(self, **kwargs):
        context = self._browser.new_context(**kwargs)
        for studio in list(_running.values()):
            context.request.get(studio.open_url, max_redirects=0)
        return context

    def new_page(self, **kwargs):
        return self.new_context(**kwargs).new_page()

    def __getattr__(self, name: str):
        return getattr(self._browser, name)


def sample_path(route: str) -> str:
    """A concrete URL for a route pattern: every `{param}` becomes 1."""
    import re
    return re.sub(r'\{[^}]+\}', '1', route)


# ---- talking to a studio the way a browser does (the security tests) ---------------------------------------------
def internal_routes() -> list[str]:
    """A URL for every route NiceGUI itself serves (static files, libraries, components, resources, and the
    per-page ones: uploads, auto-served media and static files), and socket.io's polling endpoint."""
    from nicegui import app
    paths = {getattr(r, 'path', '') for r in app.routes if getattr(r, 'path', '').startswith('/_nicegui')}
    return sorted(sample_path(p.replace(':path', '')) for p in paths) + [
        '/_nicegui/auto/media/0123456789abcdef/secret.wav', '/_nicegui/auto/static/0123/x.js',
        '/_nicegui/client/00000000-0000-0000-0000-000000000000/upload/1',
        '/_nicegui_ws/socket.io/?EIO=4&transport=polling']


UPLOAD_URL = re.compile(r'^/_nicegui/client/[^/]+/upload/\d+$')


class Page:
    """A page as NiceGUI sent it: its client id and its elements (by id), parsed from the HTML."""

    def __init__(self, html: str) -> None:
        import json
        self.html = html
        found = re.search(r"'client_id': '([0-9a-f-]+)'", html)
        self.client_id = found.group(1) if found else ''
        raw = re.search(r'parseElements\(String\.raw`(.*?)`\)', html, re.DOTALL)
        text = raw.group(1) if raw else '{}'
        for escaped, char in (('&#36;', '$'), ('&#96;', '`'), ('&gt;', '>'), ('&lt;', '<'), ('&amp;', '&')):
            text = text.replace(escaped, char)
        self.elements: dict[str, dict] = json.loads(text)

    def element(self, **wanted) -> tuple[int, dict]:
        """The first element whose props (or text) hold every `wanted` value, with its id."""
        for key, element in self.elements.items():
            values = {**element.get('props', {}), 'text': element.get('text')}
            if all(values.get(k) == v for k, v in wanted.items()):
                return int(key), element
        raise AssertionError(f'no element with {wanted}')

    def clickable(self, **wanted) -> int:
        """The id of the element with a click handler that holds (or is) the element `wanted` finds."""
        key, element = self.element(**wanted)
        while not any(e['type'] == 'click' for e in element.get('events', [])):
            key, element = next((int(k), e) for k, e in self.elements.items() if key in e.get('children', []))
        return key


def cookie_header(client) -> str:
    """The Cookie header an httpx client's jar would send."""
    return '; '.join(f'{name}={value}' for name, value in client.cookies.items())


async def open_socket(url: str, client_id: str, cookie: str, *, origin: str | None = None, handshake: bool = True):
    """A python-socketio client connected as NiceGUI's page script connects (implicit handshake for
    `client_id`); every event it receives lands in `.received` as (name, data)."""
    import uuid

    import socketio
    sio = socketio.AsyncClient(reconnection=False)
    sio.received = []

    @sio.on('*')
    async def _any(event, data=None):
        sio.received.append((event, data))

    query = urllib.parse.urlencode({'client_id': client_id, 'tab_id': str(uuid.uuid4()),
                                    'document_id': str(uuid.uuid4()), 'next_message_id': 0,
                                    'implicit_handshake': 'true' if handshake else 'false'})
    headers = {'Cookie': cookie} if cookie else {}
    if origin:
        headers['Origin'] = origin
    try:
        await sio.connect(f'{url}?{query}', headers=headers, transports=['websocket'],
                          socketio_path='/_nicegui_ws/socket.io', wait_timeout=20)
    except socketio.exceptions.ConnectionError:
        if sio.eio.http is not None:  # a refused client keeps its HTTP session open otherwise
            await sio.eio.http.close()
        raise
    return sio


async def click(sio, page: Page, element_id: int, client_id: str | None = None) -> None:
    """Send the click of an element as the page script does (for `client_id`, by default the page's own)."""
    for event in page.elements[str(element_id)].get('events', []):
        if event['type'] == 'click':  # each listener of the element hears its own message, as in the browser
            await sio.emit('event', {'id': element_id, 'client_id': client_id or page.client_id,
                                     'listener_id': event['listener_id'], 'args': []})


async def received(sio, found, timeout: float = 20.0):
    """Wait until `found(name, data)` returns something for a received event; that value."""
    import asyncio
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, data in list(sio.received):
            value = found(name, data)
            if value:
                return value
        await asyncio.sleep(0.1)
    return None


def upload_url_in(name: str, data) -> str | None:
    """The upload URL of an uploader in an 'update' message, if it holds one."""
    if name != 'update' or not isinstance(data, dict):
        return None
    for element in data.values():
        url = (element or {}).get('props', {}).get('url', '') if isinstance(element, dict) else ''
        if isinstance(url, str) and UPLOAD_URL.match(url):
            return url
    return None


def websocket_status(port: int, *, host: str, origin: str | None = None, cookie: str = '') -> tuple[int, str]:
    """The status line number and body of a raw websocket upgrade to the studio's socket.io endpoint."""
    lines = ['GET /_nicegui_ws/socket.io/?EIO=4&transport=websocket HTTP/1.1', f'Host: {host}',
             'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
             'Sec-WebSocket-Version: 13']
    if origin:
        lines.append(f'Origin: {origin}')
    if cookie:
        lines.append(f'Cookie: {cookie}')
    with socket.create_connection(('127.0.0.1', port), timeout=10) as s:
        s.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode())
        answer = b''
        while b'\r\n\r\n' not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
        s.settimeout(1)
        try:
            answer += s.recv(4096)
        except OSError:
            pass
    head, _, body = answer.decode('latin-1').partition('\r\n\r\n')
    return int(head.split()[1]), body
