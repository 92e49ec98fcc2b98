"""`rave-studio --share`: without a session every page, media file and data-bearing internal route is refused;
the right password lets a user in, a wrong one does not; the password is stored hashed."""
from __future__ import annotations

import sqlite3

import pytest
from studio_process import StudioProcess, clean_env, http_get, launch_chromium, sample_path

from pages import ROUTES

PASSWORD = 'correct horse 42'
pytestmark = pytest.mark.browser


@pytest.fixture(scope='module')
def shared(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp('share') / 'data'
    data_dir.mkdir()
    (data_dir / 'secret.wav').write_bytes(b'RIFF not really audio')
    studio = StudioProcess(data_dir, '--share', env=clean_env(RAVE_STUDIO_ADMIN_PASSWORD=PASSWORD)).start()
    yield studio
    studio.stop()


def refused(status: int, location: str) -> bool:
    return status in (401, 403, 404) or (status in (302, 303, 307) and location.startswith('/login'))


@pytest.mark.parametrize('route', list(ROUTES))
def test_every_page_redirects_to_login(shared: StudioProcess, route: str):
    status, location, body = http_get(shared.url + sample_path(route))
    assert status in (302, 303, 307) and location.startswith('/login?redirect_to='), (status, location)
    assert 'RAVE Studio' not in body


@pytest.mark.parametrize('path', [
    '/media/data/secret.wav', '/media/data/studio.db', '/media/data/.storage_secret', '/media/data/jobs/',
    '/_nicegui/auto/media/0123456789abcdef/secret.wav', '/_nicegui/auto/static/0123/x.js',
    '/_nicegui/client/00000000-0000-0000-0000-000000000000/upload/1',
    '/_nicegui/client/00000000-0000-0000-0000-000000000000/download/1', '/docs', '/openapi.json',
    '/api/jobs', '/no/such/page',
])
def test_media_and_internal_routes_are_refused(shared: StudioProcess, path: str):
    status, location, body = http_get(shared.url + path)
    assert refused(status, location), (path, status, location)
    assert 'RIFF' not in body and 'SQLite' not in body


def test_login_page_is_open(shared: StudioProcess):
    status, _, body = http_get(shared.url + '/login')
    assert status == 200 and 'Sign in' in body


def test_password_is_stored_hashed(shared: StudioProcess):
    con = sqlite3.connect(f'file:{shared.data_dir / "studio.db"}?mode=ro', uri=True)
    rows = con.execute('SELECT * FROM user').fetchall()
    con.close()
    assert len(rows) == 1
    assert not any(PASSWORD in str(value) for value in rows[0])
    assert any(str(value).startswith('scrypt$') for value in rows[0])


def test_wrong_password_is_refused_and_right_one_opens_every_page(shared: StudioProcess):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={'width': 1366, 'height': 860})
        page.set_default_timeout(30000)
        page.goto(shared.url + '/datasets')
        expect(page).to_have_url(f'{shared.url}/login?redirect_to=/datasets')
        page.get_by_label('Password').fill('wrong password')
        page.get_by_role('button', name='Sign in').click()
        expect(page.get_by_text('Wrong name or password.')).to_be_visible()
        assert '/login' in page.url

        page.get_by_label('Password').fill(PASSWORD)
        page.get_by_role('button', name='Sign in').click()
        expect(page).to_have_url(shared.url + '/datasets')
        for route, (title, _) in ROUTES.items():
            page.goto(shared.url + sample_path(route))
            assert '/login' not in page.url, route
            expect(page).to_have_title(f'{title} · RAVE Studio')
        status = page.request.get(shared.url + '/media/data/secret.wav').status
        assert status == 200  # signed in, data files are served again
        assert page.request.get(shared.url + '/media/data/studio.db').status == 404  # the database never is
        browser.close()
