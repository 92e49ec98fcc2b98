"""Security of a shared studio (`rave-studio --share`, issue 8), a real process over plain HTTP and a real socket.io
client: a lab server holds against its own users. The sign-in form (throttled, constant-time, off the event loop),
sessions (a fresh id at sign-in, sign out everywhere, sockets closed with their session), redirects, sockets and
uploads bound to their user, every route crawled, and TLS (Secure cookies, HSTS, no clear-text warning)."""
from __future__ import annotations

import asyncio
import socket
import sqlite3
import statistics
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import socketio
from studio_process import (
    Page,
    StudioProcess,
    clean_env,
    click,
    cookie_header,
    internal_routes,
    open_socket,
    received,
    sample_path,
    upload_url_in,
    websocket_status,
)

from pages import ROUTES
from services.users import hash_password

PASSWORD = 'correct horse 42'
GUEST = 'guest password 7'


@pytest.fixture(scope='module')
def shared(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp('shared') / 'data'
    studio = StudioProcess(data_dir, '--share', env=clean_env(RAVE_STUDIO_ADMIN_PASSWORD=PASSWORD)).start()
    with sqlite3.connect(data_dir / 'studio.db') as con:
        con.execute("INSERT INTO user (name, password_hash, admin, created) VALUES (?, ?, 0, '2026-01-01 00:00:00')",
                    ('guest', hash_password(GUEST)))
    yield studio
    studio.stop()


def sign_in(studio: StudioProcess, name: str = 'admin', password: str = PASSWORD, **form) -> httpx.Client:
    client = httpx.Client(base_url=studio.url, timeout=60, verify=False)
    answer = client.post('/login', data={'name': name, 'password': password, **form}, headers={'Origin': studio.url})
    if answer.status_code == 429:  # a test before failed on purpose: wait as a user would
        time.sleep(int(answer.headers['retry-after']) + 0.2)
        answer = client.post('/login', data={'name': name, 'password': password, **form},
                             headers={'Origin': studio.url})
    assert answer.status_code == 303, answer.status_code
    return client


def attempt(studio: StudioProcess, name: str, password: str, **headers) -> httpx.Response:
    return httpx.post(studio.url + '/login', data={'name': name, 'password': password}, timeout=60, verify=False,
                      headers={'Origin': studio.url, **headers})


def test_the_sign_in_page_speaks_the_browsers_language(shared: StudioProcess):
    """No session yet, so no choice of one's own: the browser's Accept-Language decides (tests/test_i18n_rest.py
    checks every word of the page against the catalogue)."""
    french = httpx.get(shared.url + '/login', headers={'Accept-Language': 'fr-FR,fr;q=0.9'}, timeout=30)
    assert french.status_code == 200 and '<html lang="fr">' in french.text and 'Se connecter' in french.text
    refused = attempt(shared, 'nobody', 'wrong password', **{'Accept-Language': 'fr'})
    assert refused.status_code == 401 and 'Nom ou mot de passe incorrect.' in refused.text


def test_sign_in_form_warns_of_clear_text_and_sets_a_strict_session_cookie(shared: StudioProcess):
    form = httpx.get(shared.url + '/login', timeout=30)
    assert form.status_code == 200 and 'Sign in' in form.text
    assert 'crosses the network in clear' in form.text and '--certfile' in form.text
    assert 'without --certfile/--keyfile, passwords cross the network in clear' in shared.output()  # the banner
    assert 'README: "TLS and a reverse proxy"' in shared.output()
    assert '_nicegui_ws' not in form.text  # no websocket before sign-in
    proxied = httpx.get(shared.url + '/login', headers={'X-Forwarded-Proto': 'https'}, timeout=30)
    assert 'in clear' not in proxied.text and 'strict-transport-security' in proxied.headers  # an HTTPS proxy here
    assert attempt(shared, 'admin', 'wrong password').status_code == 401
    right = attempt(shared, 'admin', PASSWORD)
    assert right.status_code == 303 and right.headers['location'] == '/'
    cookie = right.headers['set-cookie']
    assert cookie.startswith(f'rave-studio-{shared.port}=') and 'HttpOnly' in cookie and 'SameSite=Strict' in cookie
    assert 'Max-Age=' in cookie and 'Secure' not in cookie  # plain HTTP: Secure would drop it
    assert attempt(shared, 'admin', PASSWORD, Origin='http://evil.example').status_code == 403  # login CSRF


def test_a_shared_studio_answers_to_this_machines_names_and_no_other(shared: StudioProcess):
    """--share adds this machine's LAN names and addresses to the Host allowlist (printed as where to sign in);
    any other name is still refused, on HTTP and on the websocket upgrade."""
    import ifaddr
    addresses = [ip.ip for a in ifaddr.get_adapters() for ip in a.ips
                 if isinstance(ip.ip, str) and not ip.ip.startswith('127.')]
    for name in [socket.gethostname(), *addresses[:2]]:
        form = httpx.get(shared.url + '/login', headers={'Host': f'{name}:{shared.port}'}, timeout=30)
        assert form.status_code == 200 and 'Sign in' in form.text, name
    printed = shared.output().split('sign in at ')[1].splitlines()[0]
    assert any(f'{n}:{shared.port}/login' in printed for n in [socket.gethostname().lower(), *addresses]), printed
    for host in ('evil.example', f'{socket.gethostname()}.evil.example', '10.254.254.254'):
        answer = httpx.get(shared.url + '/login', headers={'Host': f'{host}:{shared.port}'}, timeout=30)
        assert answer.status_code == 403 and 'is not a name this studio answers to' in answer.text, host
        status, body = websocket_status(shared.port, host=f'{host}:{shared.port}', origin=f'http://{host}')
        assert status == 403 and 'not a name' in body, host


def test_every_state_changing_endpoint_refuses_another_sites_request(shared: StudioProcess):
    """The sign-in forms, TensorBoard's proxy and the uploads: a POST whose Origin (or Referer) is another site is
    refused before any handler runs, signed in or not."""
    client = sign_in(shared)
    try:
        for path in ('/login', '/login/change', '/invite', '/tensorboard/x/data/plugin/scalars',
                     '/_nicegui/client/00000000-0000-0000-0000-000000000000/upload/1'):
            for foreign in ({'Origin': 'http://evil.example'}, {'Referer': 'http://evil.example/page'},
                            {'Origin': 'null'}):
                answer = client.post(path, data={'name': 'admin', 'password': PASSWORD}, headers=foreign)
                assert answer.status_code == 403 and 'another site' in answer.text, (path, foreign)
                assert 'set-cookie' not in answer.headers
    finally:
        client.close()


def test_a_session_id_known_before_sign_in_is_never_promoted(shared: StudioProcess):
    planted = f'rave-studio-{shared.port}=chosen-by-an-attacker'
    first = httpx.post(shared.url + '/login', data={'name': 'admin', 'password': PASSWORD}, timeout=60,
                       headers={'Origin': shared.url, 'Cookie': planted})
    token = first.headers['set-cookie'].split(';')[0]
    assert token != planted
    assert httpx.get(shared.url + '/datasets', headers={'Cookie': planted}, timeout=30).status_code == 303
    assert httpx.get(shared.url + '/datasets', headers={'Cookie': token}, timeout=30).status_code == 200
    again = httpx.post(shared.url + '/login', data={'name': 'admin', 'password': PASSWORD}, timeout=60,
                       headers={'Origin': shared.url, 'Cookie': token})
    assert again.headers['set-cookie'].split(';')[0] != token
    old = httpx.get(shared.url + '/datasets', headers={'Cookie': token}, timeout=30)
    assert old.status_code == 303 and old.headers['location'] == '/login?redirect_to=/datasets&ended=1'


def test_failed_sign_ins_back_off_per_account(shared: StudioProcess):
    for _ in range(3):
        assert attempt(shared, 'guest', 'wrong password').status_code == 401
    throttled = attempt(shared, 'guest', GUEST)  # even the right password waits
    assert throttled.status_code == 429 and 'try again in' in throttled.text
    wait = int(throttled.headers['retry-after'])
    assert 1 <= wait <= 2
    assert attempt(shared, 'admin', PASSWORD).status_code == 303  # other accounts are not locked out
    time.sleep(wait + 0.2)
    assert attempt(shared, 'guest', 'wrong again').status_code == 401
    second = attempt(shared, 'guest', GUEST)
    assert second.status_code == 429 and int(second.headers['retry-after']) >= 2  # exponential
    time.sleep(int(second.headers['retry-after']) + 0.2)
    sign_in(shared, 'guest', GUEST).close()  # a success clears the account and the address


def test_unknown_names_are_answered_as_slowly_as_wrong_passwords(shared: StudioProcess):
    def seconds(name: str) -> float:
        start = time.perf_counter()
        assert attempt(shared, name, 'wrong password').status_code == 401
        return time.perf_counter() - start
    known = [seconds('guest') for _ in range(3)]
    unknown = [seconds(f'nobody-{n}') for n in range(3)]
    sign_in(shared, 'guest', GUEST).close()
    assert statistics.median(unknown) > statistics.median(known) / 2, (known, unknown)


async def test_password_checks_do_not_stall_the_event_loop(shared: StudioProcess):
    """Today each failed sign-in held the event loop for one scrypt (~70 ms): every page stalled. Now checks run
    in threads (two at a time), and a cheap request keeps answering while a burst of them is checked."""
    async with httpx.AsyncClient(base_url=shared.url, timeout=60) as client:
        async def bad(n: int) -> int:
            answer = await client.post('/login', data={'name': f'burst-{n}', 'password': 'x'},
                                       headers={'Origin': shared.url})
            return answer.status_code

        async def cheap() -> list[float]:
            latencies = []
            while not burst.done():
                start = time.perf_counter()
                await client.get('/favicon.ico')
                latencies.append(time.perf_counter() - start)
                await asyncio.sleep(0.01)
            return latencies
        burst = asyncio.gather(*(bad(n) for n in range(6)))
        started = time.perf_counter()
        latencies = await cheap()
        assert await burst == [401] * 6
        took = time.perf_counter() - started
    sign_in(shared, 'guest', GUEST).close()
    assert len(latencies) >= 5, (took, latencies)
    assert statistics.median(latencies) < 0.1 and max(latencies) < took / 2, (took, latencies)


@pytest.mark.parametrize('target', ['/\t/evil.example', '//evil.example', '/\\evil.example', 'https://evil.example',
                                    '/%09/evil.example', ' /evil'])
def test_redirect_to_accepts_only_same_origin_paths(shared: StudioProcess, target: str):
    client = sign_in(shared, redirect_to=target)
    try:
        back = client.post('/login', data={'name': 'admin', 'password': PASSWORD, 'redirect_to': target},
                           headers={'Origin': shared.url})
        location = back.headers['location']
        assert location.startswith('/') and not location.startswith(('//', '/\\')) and '\t' not in location
        assert 'evil.example' not in location or location.startswith('/%09')  # a path of the studio
        signed = client.get('/login', params={'redirect_to': target})
        assert signed.status_code == 303 and signed.headers['location'] in ('/', target)
        assert not signed.headers['location'].startswith(('//', '/\\', 'http'))
    finally:
        client.close()
    client = sign_in(shared)  # the address as a browser sends it: %09 decodes to a tab
    try:
        raw = client.get(shared.url + '/login?redirect_to=/%09/evil.example')
        assert raw.status_code == 303 and raw.headers['location'] == '/'
    finally:
        client.close()
    form = httpx.get(shared.url + '/login?redirect_to=/%09/evil.example', timeout=30)  # signed out: the form
    assert 'evil.example' not in form.text.split('name="redirect_to" value="')[1].split('"')[0]
    assert sign_in(shared, redirect_to='/datasets?x=1').post(
        '/login', data={'name': 'admin', 'password': PASSWORD, 'redirect_to': '/datasets?x=1'},
        headers={'Origin': shared.url}).headers['location'] == '/datasets?x=1'


def test_every_route_crawled_signed_out_and_signed_in(shared: StudioProcess):
    internal = internal_routes()
    for path in internal + ['/media/data/studio.db', '/media/project/1/x', '/tensorboard/x/']:
        answer = httpx.get(shared.url + path, timeout=30)
        assert answer.status_code in (401, 403), path
    for route in [*ROUTES, '/docs', '/openapi.json', '/no/such/page']:  # signed out, a page leads to the sign-in
        answer = httpx.get(shared.url + sample_path(route), timeout=30)
        assert answer.status_code == 303 and answer.headers['location'].startswith('/login?redirect_to='), route
    client = sign_in(shared)
    try:
        for route, (title, _) in ROUTES.items():
            page = client.get(sample_path(route))
            assert page.status_code in (200, 404)
            assert "frame-ancestors 'self'" in page.headers['content-security-policy']
            if '{' not in route:
                assert f'<title>{title} · RAVE Studio' in page.text, route
        for path in internal:
            assert client.get(path).status_code < 500, path
    finally:
        client.close()


async def test_sign_out_everywhere_ends_every_session_and_closes_their_sockets(shared: StudioProcess):
    here, there, alone = sign_in(shared), sign_in(shared), sign_in(shared)
    try:
        page_alone = Page(alone.get('/help').text)
        socket_alone = await open_socket(shared.url, page_alone.client_id, cookie_header(alone))
        await click(socket_alone, page_alone, page_alone.clickable(text='Sign out'))
        assert await received(socket_alone, lambda name, data: '/login' in str(data))
        assert alone.get('/datasets').status_code == 303  # "Sign out" ends this browser's session only
        assert here.get('/datasets').status_code == 200 and there.get('/datasets').status_code == 200
        await socket_alone.disconnect()
        page_here, page_there = Page(here.get('/help').text), Page(there.get('/help').text)
        item = page_here.clickable(text='Sign out everywhere')
        socket_here = await open_socket(shared.url, page_here.client_id, cookie_header(here))
        socket_there = await open_socket(shared.url, page_there.client_id, cookie_header(there))
        await click(socket_here, page_here, item)
        assert await received(socket_here, lambda name, data: '/login' in str(data))  # this tab goes to sign-in
        deadline = time.monotonic() + 10
        while socket_there.connected and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not socket_there.connected  # the other browser's page is closed too
        for client in (here, there):
            gone = client.get('/datasets')
            assert gone.status_code == 303 and gone.headers['location'].endswith('&ended=1')
        with pytest.raises(socketio.exceptions.ConnectionError):
            await open_socket(shared.url, page_there.client_id, cookie_header(there))
        await socket_here.disconnect()
    finally:
        for client in (here, there, alone):
            client.close()


async def test_another_users_socket_cannot_register_or_drive_a_page_nor_upload_to_it(shared: StudioProcess):
    admin, guest = sign_in(shared), sign_in(shared, 'guest', GUEST)
    try:
        admins = Page(admin.get('/projects').text)
        guests = Page(guest.get('/help').text)
        with pytest.raises(socketio.exceptions.ConnectionError):  # implicit handshake of the admin's page
            await open_socket(shared.url, admins.client_id, cookie_header(guest))
        socket_guest = await open_socket(shared.url, guests.client_id, cookie_header(guest))
        socket_admin = await open_socket(shared.url, admins.client_id, cookie_header(admin))
        try:
            handshake = await socket_guest.call('handshake', {'client_id': admins.client_id, 'tab_id': 't',
                                                              'document_id': 'd'}, timeout=10)
            assert handshake is False
            restore, _ = admins.element(label='Restore')
            await click(socket_guest, admins, restore)  # the guest's socket clicks on the admin's page: not heard
            assert await received(socket_admin, upload_url_in, timeout=3) is None
            await click(socket_admin, admins, restore)
            url = await received(socket_admin, upload_url_in)
            xsrf = guest.cookies[f'rave-studio-xsrf-{shared.port}']
            posted = await asyncio.to_thread(
                httpx.post, shared.url + url, files={'file': ('backup.zip', b'PK')}, timeout=60,
                headers={'Cookie': cookie_header(guest), 'Origin': shared.url, 'X-XSRF-Token': xsrf})
            assert posted.status_code == 403 and 'another session' in posted.text
        finally:
            await socket_guest.disconnect()
            await socket_admin.disconnect()
    finally:
        admin.close()
        guest.close()


def test_tls_secure_cookies_and_hsts(tmp_path: Path):
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', str(key), '-out', str(cert),
                    '-days', '2', '-subj', '/CN=localhost'], check=True, capture_output=True, timeout=120)
    data_dir = tmp_path / 'data'
    with StudioProcess(data_dir, '--share', '--certfile', str(cert), '--keyfile', str(key),
                       env=clean_env(RAVE_STUDIO_ADMIN_PASSWORD=PASSWORD)) as studio:
        assert studio.url.startswith('https://')
        form = httpx.get(studio.url + '/login', verify=False, timeout=30)
        assert form.status_code == 200 and 'in clear' not in form.text
        assert form.headers['strict-transport-security'].startswith('max-age=')
        right = attempt(studio, 'admin', PASSWORD)
        assert right.status_code == 303 and '; Secure' in right.headers['set-cookie']
        assert 'without --certfile' not in studio.output()
        with pytest.raises(httpx.HTTPError):
            httpx.get(studio.url.replace('https', 'http') + '/login', timeout=10)
