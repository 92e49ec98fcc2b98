"""Security of a local `rave-studio` (issue 8), a real process over plain HTTP and a real socket.io client: a web
page must never be able to drive it. Host and Origin refused on HTTP and the websocket, the DNS-rebinding sequence
stopped at its first step, the launch token, CSRF, sockets bound to the pages they registered, uploads limited
while they stream, media served as downloads, headers, file modes, every route crawled; the shared studio is in
test_security_share.py, the services' rules in test_sessions.py."""
from __future__ import annotations

import asyncio
import contextlib
import io
import sqlite3
import zipfile
from pathlib import Path

import httpx
import pytest
import socketio
from studio_process import (
    Page,
    StudioProcess,
    click,
    cookie_header,
    internal_routes,
    launch_chromium,
    open_socket,
    received,
    sample_path,
    upload_url_in,
    websocket_status,
)
from waiting import until

from pages import ROUTES

EVIL = 'evil.example'
ALLOWED = 'studio.lab.example'  # the local studio is started with --allow-host ALLOWED


@pytest.fixture(scope='module')
def local(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp('local') / 'data'  # not there yet: the studio creates it
    studio = StudioProcess(data_dir, '--allow-host', ALLOWED).start()
    (data_dir / 'page.html').write_text('<script>alert(document.cookie)</script>')
    (data_dir / 'image.svg').write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    (data_dir / 'tone.wav').write_bytes(b'RIFF' + bytes(100))
    yield studio
    studio.stop()


@pytest.fixture
def browser_client(local: StudioProcess):
    """An HTTP client that opened the printed URL, as the browser rave-studio opens does."""
    with httpx.Client(base_url=local.url, timeout=30) as client:
        assert client.get(local.open_url, follow_redirects=False).status_code == 303
        yield client


def test_the_command_prints_the_url_with_its_token_and_the_token_buys_a_strict_cookie(local: StudioProcess):
    assert local.open_url.startswith(f'http://127.0.0.1:{local.port}/?token=') and len(local.open_url) > 70
    with httpx.Client(base_url=local.url, timeout=30) as client:
        answer = client.get('/training/configs?token=' + local.open_url.split('token=')[1] + '&tab=2')
        assert answer.status_code == 303 and answer.headers['location'] == '/training/configs?tab=2'
        cookie = answer.headers['set-cookie']
        assert cookie.startswith(f'rave-studio-{local.port}=') and 'HttpOnly' in cookie and 'SameSite=Strict' in cookie
        assert 'Secure' not in cookie  # plain HTTP on loopback
        page = client.get('/training/configs')
        assert page.status_code == 200 and '<title>Configs' in page.text
        wrong = httpx.get(local.url + '/?token=guessed', timeout=30)
        assert wrong.status_code == 403 and 'not this launch' in wrong.text
        escape = client.get('//evil.example/?token=' + local.open_url.split('token=')[1])
        assert escape.headers.get('location', '/').startswith('/') and not escape.headers['location'].startswith('//')


@pytest.mark.parametrize('route', list(ROUTES))
def test_no_page_without_the_launch_cookie(local: StudioProcess, route: str):
    answer = httpx.get(local.url + sample_path(route), headers={'Accept': 'text/html'}, timeout=30)
    assert answer.status_code == 403, route
    assert 'printed' in answer.text and 'client_id' not in answer.text


def test_every_internal_route_needs_the_launch_cookie_and_answers_with_it(local: StudioProcess, browser_client):
    for path in internal_routes() + ['/media/data/tone.wav', '/media/project/1/x', '/tensorboard/x/', '/docs',
                                     '/openapi.json', '/no/such/page']:
        refused = httpx.get(local.url + path, timeout=30)
        assert refused.status_code == 403, path
        assert 'RIFF' not in refused.text
        allowed = browser_client.get(path)
        assert allowed.status_code < 500, (path, allowed.status_code)
        assert allowed.headers['x-content-type-options'] == 'nosniff', path
        assert allowed.headers['x-frame-options'] == 'SAMEORIGIN', path
        assert "frame-ancestors 'self'" in allowed.headers['content-security-policy'] or \
            allowed.headers['content-security-policy'].startswith('sandbox'), path
    assert httpx.get(local.url + '/favicon.ico', timeout=30).status_code == 200  # nothing to hide


@pytest.mark.parametrize('route', list(ROUTES))
def test_every_page_carries_the_headers(browser_client, route: str):
    page = browser_client.get(sample_path(route))
    assert page.status_code in (200, 404), route
    csp = page.headers['content-security-policy']
    assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp and "connect-src 'self'" in csp
    assert page.headers['x-frame-options'] == 'SAMEORIGIN'
    assert 'strict-transport-security' not in page.headers  # only over HTTPS


def test_a_foreign_host_is_refused_on_http_and_the_websocket(local: StudioProcess, browser_client):
    cookie = cookie_header(browser_client)
    for path in ('/', '/datasets', '/_nicegui_ws/socket.io/?EIO=4&transport=polling', '/media/data/tone.wav'):
        for sent in ('', cookie):
            answer = httpx.get(local.url + path, headers={'Host': f'{EVIL}:{local.port}', 'Cookie': sent}, timeout=30)
            assert answer.status_code == 403 and 'is not a name this studio answers to' in answer.text, path
            assert answer.text.count('\n') == 1  # one line
    status, body = websocket_status(local.port, host=f'{EVIL}:{local.port}', origin=f'http://{EVIL}:{local.port}',
                                    cookie=cookie)
    assert status == 403 and 'not a name' in body
    for host in (f'localhost:{local.port}', f'[::1]:{local.port}', f'{ALLOWED}:{local.port}', 'localhost'):
        assert httpx.get(local.url + '/', headers={'Host': host, 'Cookie': cookie}, timeout=30).status_code == 200
        upgrade = websocket_status(local.port, host=host, origin=f'http://{host}', cookie=cookie)
        assert upgrade[0] != 403 or 'not a name' not in upgrade[1], (host, upgrade)  # past the Host check
    lookalike = httpx.get(local.url + '/', headers={'Host': f'{ALLOWED}.{EVIL}:{local.port}', 'Cookie': cookie},
                          timeout=30)
    assert lookalike.status_code == 403  # --allow-host adds that name, not names that contain it


def test_the_dns_rebinding_sequence_fails_at_its_first_step(local: StudioProcess, browser_client):
    """The issue's attack: a page on evil.example rebinds its name to 127.0.0.1, loads the studio, opens its
    websocket and clicks (browsable folders → /, list /, download through /media, a gin that runs a command).
    Its very first request — loading the studio under its own name — is refused, with or without a cookie (a
    browser would not even send the studio's cookie to evil.example); and every later step fails on its own."""
    host = f'{EVIL}:{local.port}'
    first = httpx.get(local.url + '/settings', headers={'Host': host}, timeout=30)
    assert first.status_code == 403 and 'client_id' not in first.text
    # even if it had the page's client id, neither its websocket nor its origin gets through
    page = Page(browser_client.get('/settings').text)
    cookie = cookie_header(browser_client)
    assert websocket_status(local.port, host=host, origin=f'http://{host}')[0] == 403
    assert websocket_status(local.port, host=f'127.0.0.1:{local.port}', origin=f'http://{host}',
                            cookie=cookie)[0] == 403
    assert websocket_status(local.port, host=f'127.0.0.1:{local.port}')[0] == 403  # no cookie
    listing = httpx.get(local.url + '/media/data/../../../etc/passwd', headers={'Host': host}, timeout=30)
    assert listing.status_code == 403 and 'root:' not in listing.text
    assert page.client_id


async def test_socket_io_needs_the_session_and_the_studios_own_origin(local: StudioProcess, browser_client):
    page = Page(browser_client.get('/help').text)
    cookie = cookie_header(browser_client)
    for sent, origin in (('', None), ('', local.url), (cookie, f'http://{EVIL}:{local.port}'), (cookie, 'null')):
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio = await open_socket(local.url, page.client_id, sent, origin=origin)
            await sio.disconnect()
    polling = await asyncio.to_thread(httpx.get, local.url + '/_nicegui_ws/socket.io/?EIO=4&transport=polling',
                                      headers={'Origin': f'http://{EVIL}', 'Cookie': cookie}, timeout=30)
    assert polling.status_code in (400, 403) and 'access-control-allow-origin' not in polling.headers
    sio = await open_socket(local.url, page.client_id, cookie, origin=local.url)
    try:
        assert sio.connected
    finally:
        await sio.disconnect()


async def test_a_socket_is_heard_only_for_the_pages_it_registered(local: StudioProcess, browser_client):
    """Today a socket that knows another page's client id can send that page's events; now only the socket that
    registered a page is heard for it (here: a click on the menu button, which answers with the drawer's state)."""
    cookie = cookie_header(browser_client)
    mine, theirs = Page(browser_client.get('/help').text), Page(browser_client.get('/help').text)
    menu, _ = theirs.element(icon='menu')
    own = await open_socket(local.url, mine.client_id, cookie)
    other = await open_socket(local.url, theirs.client_id, cookie)
    try:
        def toggled(name: str, data) -> bool:  # the drawer's new state, sent to the page
            return name == 'update' and any(isinstance(e, dict) and e.get('tag') == 'q-drawer' for e in data.values())
        await click(own, theirs, menu)  # the registering socket of `mine` speaks for `theirs`
        assert await received(other, toggled, timeout=3) is None
        await click(other, theirs, menu)
        assert await received(other, toggled, timeout=20), other.received
    finally:
        await own.disconnect()
        await other.disconnect()


async def test_uploads_need_origin_and_csrf_token_and_stop_at_the_limit_while_streaming(local: StudioProcess,
                                                                                      browser_client):
    with sqlite3.connect(local.data_dir / 'studio.db') as con:
        con.execute("INSERT OR REPLACE INTO setting (key, value) VALUES ('max_upload_mb', '1')")
    small = _zip(b'a small backup')
    inbox = local.data_dir / 'backups' / 'incoming'
    async with _uploader(local, browser_client) as (url, cookie, _sio):
        xsrf = browser_client.cookies[f'rave-studio-xsrf-{local.port}']  # set with the page
        async def post(body, **headers) -> httpx.Response:
            sent = {'Cookie': cookie, 'Origin': local.url, 'X-XSRF-Token': xsrf, **headers}
            return await asyncio.to_thread(httpx.post, local.url + url, files={'file': ('backup.zip', body)},
                                           headers=sent, timeout=60)

        assert (await post(small, **{'X-XSRF-Token': ''})).status_code == 403
        assert (await post(small, **{'X-XSRF-Token': 'forged'})).status_code == 403
        assert (await post(small, Origin=f'http://{EVIL}')).status_code == 403
        assert (await post(small)).status_code == 200
        stored = inbox / 'backup.zip'  # the upload's handler stores it as a task of the page, just after the answer
        await until(lambda: stored.exists() and stored.read_bytes() == small, timeout=10,
                    message='the accepted backup was never stored whole')

        declared = await post(b'x' * (2 * 1024 ** 2))
        assert declared.status_code == 413 and 'limit of 1 MB' in declared.text

        streamed = await _stream(local, url, cookie, xsrf, 'huge.zip', chunks=64)
        assert streamed.status_code == 413
    assert sorted(p.name for p in inbox.iterdir()) == ['backup.zip']  # nothing of the refused ones was kept


@pytest.mark.parametrize(('route', 'label', 'name'), [('/projects', 'Restore', 'huge.zip'),
                                                      ('/datasets', 'Import archive', 'huge.ravedata.tar')])
async def test_every_uploader_stops_at_the_limit_while_the_body_streams(local: StudioProcess, browser_client,
                                                                       route: str, label: str, name: str):
    """The restore uploader checked nothing and the dataset uploader checked after spooling: now the guard ends
    any upload past the limit with 413 while it streams, whatever its page, and nothing of it is kept."""
    with sqlite3.connect(local.data_dir / 'studio.db') as con:
        con.execute("INSERT OR REPLACE INTO setting (key, value) VALUES ('max_upload_mb', '1')")
    async with _uploader(local, browser_client, route, label) as (url, cookie, _sio):
        xsrf = browser_client.cookies[f'rave-studio-xsrf-{local.port}']

        streamed = await _stream(local, url, cookie, xsrf, name, chunks=256)
        assert streamed.status_code == 413 and 'limit of 1 MB' in streamed.text
    assert not [p for p in local.data_dir.rglob('huge*')]


async def test_uploads_are_refused_by_suffix_and_by_content(local: StudioProcess, browser_client):
    """An .html or .svg is refused by its name; a page named backup.zip by what it holds (the restore dialog says
    why); neither is kept, and a real zip is."""
    inbox = local.data_dir / 'backups' / 'incoming'
    async with _uploader(local, browser_client) as (url, cookie, sio):
        xsrf = browser_client.cookies[f'rave-studio-xsrf-{local.port}']
        for name in ('page.html', 'image.svg', 'disguised.zip'):
            await asyncio.to_thread(httpx.post, local.url + url, files={'file': (name, b'<script>alert(1)</script>')},
                                    timeout=60, headers={'Cookie': cookie, 'Origin': local.url, 'X-XSRF-Token': xsrf})
        said = await received(sio, lambda name, data: 'disguised.zip does not hold what its name says' in str(data))
        assert said, sio.received
        await asyncio.to_thread(httpx.post, local.url + url, files={'file': ('real.zip', _zip(b'{}'))},
                                timeout=60, headers={'Cookie': cookie, 'Origin': local.url, 'X-XSRF-Token': xsrf})
        assert await received(sio, lambda name, data: 'real.zip' in str(data) and 'incoming' in str(data))
    kept = sorted(p.name for p in inbox.iterdir())
    assert 'real.zip' in kept and not {'page.html', 'image.svg', 'disguised.zip'} & set(kept), kept


def test_media_never_acts_as_a_page_of_the_studio(browser_client):
    for name in ('page.html', 'image.svg'):
        answer = browser_client.get(f'/media/data/{name}')
        assert answer.status_code == 200
        assert answer.headers['content-disposition'].startswith('attachment'), name
        assert answer.headers['x-content-type-options'] == 'nosniff'
        assert answer.headers['content-security-policy'].startswith('sandbox')
    audio = browser_client.get('/media/data/tone.wav')
    assert audio.status_code == 200 and 'content-disposition' not in audio.headers
    assert audio.headers['content-security-policy'].startswith('sandbox')
    for private in ('studio.db', '.storage_secret', 'studio.db-wal'):
        assert browser_client.get(f'/media/data/{private}').status_code == 404, private


def test_data_folder_database_and_secret_are_private(local: StudioProcess):
    assert local.data_dir.stat().st_mode & 0o777 == 0o700
    for name in ('studio.db', 'studio.db-wal', 'studio.db-shm', '.storage_secret'):
        path = local.data_dir / name
        assert not path.exists() or path.stat().st_mode & 0o777 == 0o600, name


@pytest.mark.browser
def test_nicegui_works_under_the_csp_in_chromium(local: StudioProcess, tmp_path: Path):
    from playwright.sync_api import expect, sync_playwright
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={'width': 1366, 'height': 860})
        page.set_default_timeout(30000)
        problems: list[str] = []
        page.on('console', lambda m: problems.append(m.text) if m.type == 'error' or 'Content Security' in m.text
                else None)
        page.on('pageerror', lambda e: problems.append(str(e)))
        for route, (title, _) in ROUTES.items():
            if '{' in route:
                continue
            page.goto(local.url + route)
            expect(page).to_have_title(f'{title} · RAVE Studio')
            page.wait_for_function('window.did_handshake === true')
        page.goto(local.url + '/')
        page.locator('.q-drawer').get_by_role('link', name='Datasets', exact=True).click()
        expect(page).to_have_title('Datasets · RAVE Studio')  # the websocket works: navigation went through it
        page.screenshot(path=str(tmp_path / 'datasets.png'))
        assert not [m for m in problems if 'Content Security' in m or 'Refused to' in m], problems
        browser.close()


async def test_tensorboard_is_reachable_only_through_the_studio(user, tmp_path: Path):
    """A board listens on 127.0.0.1 under a secret prefix and opens no second port (no fast loader's gRPC
    server): another user of the machine finds nothing on its port; the studio's proxy (behind the guard) does."""
    import psutil
    from nicegui import app

    logdir = tmp_path / 'logs'
    logdir.mkdir()
    board = await asyncio.to_thread(app.studio.tensorboard.start, 'sec', logdir, 'empty')
    try:
        assert board.secret and board.secret not in board.url
        for path in ('/', '/tensorboard/sec/', '/tensorboard/sec/data/runs', '/tensorboard/'):
            direct = await asyncio.to_thread(httpx.get, f'http://127.0.0.1:{board.port}{path}', timeout=30)
            assert direct.status_code == 404, path
        proxied = await user.http_client.get(board.url)
        assert proxied.status_code == 200 and '<html' in proxied.text.lower()
        environment = await user.http_client.get(board.url + 'data/environment')
        assert environment.status_code == 200 and board.secret not in environment.text
        process = psutil.Process(board.process.pid)
        listening = {c.laddr for p in [process, *process.children(recursive=True)]
                     for c in p.net_connections(kind='inet') if c.status == psutil.CONN_LISTEN}
        assert {(a.ip, a.port) for a in listening} == {('127.0.0.1', board.port)}
    finally:
        await asyncio.to_thread(app.studio.tensorboard.stop, 'sec')


# ---- done by the area helpers, asserted here: gin is code; restore goes through the file policy ------------------
def test_model_values_are_gin_literals_not_statements(studio):
    """A newline in a macro value would become a second gin statement, bypassing the admin-only bindings box:
    model values are gin literals, refused with a sentence before gin runs."""
    from services.training.spec import RunSpec
    for value, why in (('8\nimport os', 'line break'), ('@os.popen', 'gin reference'),
                       ('8\nrave.RAVE.x = @os.system()', 'line break'), ('%OTHER', 'macro reference')):
        spec = RunSpec.from_dict({'name': 'x', 'base': 'v2_small', 'macros': {'CAPACITY': value}})
        assert any(why in error for error in spec.validate(None)), value
    spec = RunSpec.from_dict({'name': 'x', 'base': 'v2_small', 'macros': {'CAPACITY': 8}})
    assert spec.validate(None) == ['Choose a dataset (build one on the Datasets page first).']


def test_gin_code_is_admin_only_when_shared_and_confirmed_locally(studio):
    from services.access import Actor, Forbidden, local
    project = studio.projects.current(None)
    text = 'import os\nrave.RAVE.n_bands = 16\n'
    guest = studio.session(Actor('guest', shared=True), None).training
    with pytest.raises(Forbidden):
        guest.save_config(project.id, 'mine', text, code_confirmed=True)
    mine = studio.session(local(), None).training
    with pytest.raises(Forbidden, match='runs Python'):
        mine.save_config(project.id, 'mine', text, code_confirmed=False)


def test_restore_outside_the_roots_is_refused_for_non_admins(studio, tmp_path: Path, monkeypatch):
    """Restore goes through the file policy and the authorisation rule: a member who may restore (EDIT) may not
    name a backup or a project folder outside the browsable ones; an admin (or the local user) may."""
    from services import access
    from services.access import Actor, Forbidden, Role
    from services.projects import ProjectError
    project = studio.projects.current(None)
    backup = studio.backups.write(project, studio.data_dir / 'backup.zip')  # inside the browsable folders
    outside_zip = studio.backups.write(project, tmp_path / 'elsewhere.zip')
    outside = tmp_path / 'elsewhere' / 'restored'
    monkeypatch.setattr(access, '_project_roles', lambda actor, project_id: Role.ADMIN if actor.admin else Role.EDIT)
    member = studio.session(Actor('guest', shared=True), None).projects
    with pytest.raises(Forbidden, match='outside the browsable ones'):
        member.restore(backup, name='restored', location=outside)
    with pytest.raises(ProjectError, match='outside the folders this studio may browse'):
        member.restore(outside_zip, name='restored 2')
    assert not outside.exists()
    admin = studio.session(Actor('boss', admin=True, shared=True), None).projects
    assert Path(admin.restore(backup, name='restored', location=outside).location) == outside.resolve()


async def test_every_uploader_checks_what_a_file_holds_before_writing_it(studio):
    """Each uploader of the studio (dataset audio and .zip, dataset archive, backup, the models' audio) refuses a
    page under an expected name, keeps nothing of it, and keeps a file that holds what its name says."""
    import tarfile

    from services.access import local
    from services.files import UploadRefused
    project = studio.projects.current(None)
    session = studio.session(local(), None)

    def wav() -> bytes:
        return b'RIFF' + (36).to_bytes(4, 'little') + b'WAVEfmt ' + bytes(28)

    def tar() -> bytes:
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode='w') as archive:
            archive.addfile(tarfile.TarInfo('manifest.json'))
        return out.getvalue()
    uploaders = {  # name → (a sink for that name, what such a file holds)
        'take.wav': (lambda n: session.datasets.receive(project.id, 'b', n, 10), wav()),
        'folder.zip': (lambda n: session.datasets.receive(project.id, 'b', n, 10), _zip(b'x')),
        'set.ravedata.tar': (lambda n: session.datasets.receive_archive(project.id, n, 10), tar()),
        'backup.zip': (lambda n: session.projects.receive_backup(n, 10), _zip(b'{}')),
        'input.wav': (lambda n: session.models.receive_upload(project.id, n, 10), wav()),
    }

    async def chunks(data: bytes):
        for start in range(0, len(data), 7):  # small chunks: the check waits for enough of the head
            yield data[start:start + 7]
    page = b'<html><script>alert(document.cookie)</script></html>'
    for name, (sink_for, real) in uploaders.items():
        sink = sink_for(name)
        with pytest.raises(UploadRefused, match='does not hold what its name says'):
            await sink.receive(chunks(page.ljust(600, b' ')))
        assert not sink.path.exists(), name
        kept = await sink_for(name).receive(chunks(real))
        assert kept.read_bytes() == real, name


async def _stream(local: StudioProcess, url: str, cookie: str, xsrf: str, name: str, *, chunks: int) -> httpx.Response:
    """An upload of `chunks` × 64 KiB with no Content-Length: only counting the body as it comes can stop it."""
    def body():
        yield f'--b\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n'.encode()
        for _ in range(chunks):
            yield b'x' * 65536
    return await asyncio.to_thread(
        httpx.post, local.url + url, content=body(), timeout=60,
        headers={'Cookie': cookie, 'Origin': local.url, 'X-XSRF-Token': xsrf,
                 'Content-Type': 'multipart/form-data; boundary=b'})


@contextlib.asynccontextmanager
async def _uploader(local: StudioProcess, client: httpx.Client, route: str = '/projects', label: str = 'Restore'):
    """(upload URL, cookie, socket) of the dialog a page's button opens (by default the projects page's restore
    dialog), clicked over the websocket; the socket stays connected meanwhile (a page without one is deleted, its
    upload route with it)."""
    page = Page(client.get(route).text)
    cookie = cookie_header(client)
    button, _ = page.element(label=label)
    sio = await open_socket(local.url, page.client_id, cookie)
    try:
        await click(sio, page, button)
        url = await received(sio, upload_url_in)
        assert url, 'the restore dialog brought no uploader'
        yield url, cookie, sio
    finally:
        await sio.disconnect()


def _zip(content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w') as archive:
        archive.writestr('manifest.json', content)
    return out.getvalue()
