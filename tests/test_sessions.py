"""Sign-in sessions and the sign-in throttle (services/sessions.py), passwords (services/users.py), and the request
guard's small rules (app/security.py): what the system tests in test_security.py rely on, checked directly."""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from app import security
from app.main import storage_secret
from services import sessions, users
from services.store import SignIn, open_database


@pytest.fixture
def db(data_dir: Path):
    open_database(data_dir / 'studio.db')
    sessions._cache.clear()
    yield data_dir
    sessions._cache.clear()


def test_a_session_is_stored_only_as_a_hash_and_each_sign_in_makes_a_new_one(db) -> None:
    user = users.create('ana', 'password one')
    token, view = sessions.open_session(user)
    assert view.name == 'ana' and not view.admin
    assert [row.key for row in SignIn.select()] == [sessions.key_of(token)] and token not in sessions.key_of(token)
    again, _ = sessions.open_session(user, replacing=token)
    assert again != token
    assert sessions.lookup(token) is None  # the id the browser came with does not survive the sign-in
    assert sessions.lookup(again).user_id == user.id
    assert sessions.lookup('forged') is None and sessions.lookup('') is None


def test_sign_out_everywhere_and_a_password_change_end_every_session_of_that_user(db) -> None:
    ana, bo = users.create('ana', 'password one'), users.create('bo', 'password two')
    a1, _ = sessions.open_session(ana)
    a2, _ = sessions.open_session(ana)
    b1, _ = sessions.open_session(bo)
    ended: list[set[str]] = []
    sessions.on_end(ended.append)
    try:
        sessions.end_user(ana.id)
        assert sessions.lookup(a1) is None and sessions.lookup(a2) is None and sessions.lookup(b1) is not None
        assert ended[-1] == {sessions.key_of(a1), sessions.key_of(a2)}  # the guard closes their sockets
        a3, _ = sessions.open_session(ana)
        users.set_password('ana', 'a new password')
        assert sessions.lookup(a3) is None and sessions.lookup(b1) is not None
        assert users.check('ana', 'a new password') is not None and users.check('ana', 'password one') is None
    finally:
        sessions._listeners.remove(ended.append)


def test_idle_timeout_and_lifetime(db, monkeypatch: pytest.MonkeyPatch) -> None:
    user = users.create('ana', 'password one')
    clock = [1_000_000.0]
    monkeypatch.setattr(sessions.time, 'time', lambda: clock[0])
    monkeypatch.setattr(sessions, 'CACHE_S', 0.0)
    idle, _ = sessions.open_session(user)
    busy, _ = sessions.open_session(user)
    for _ in range(4):  # busy: a request every IDLE/2 keeps it, the other one idles out
        clock[0] += sessions.IDLE / 2 + 1
        assert sessions.lookup(busy) is not None
    assert sessions.lookup(idle) is None
    clock[0] += sessions.LIFETIME
    assert sessions.lookup(busy) is None  # too old, however busy
    other, _ = sessions.open_session(user)
    clock[0] += sessions.IDLE + 1
    sessions.sweep()  # the periodic sweep ends it even if no request comes
    assert SignIn.get_or_none(SignIn.key == sessions.key_of(other)) is None


def test_unknown_names_cost_a_hash_like_wrong_passwords(db) -> None:
    users.create('ana', 'password one')
    users.check('nobody', 'x')  # the dummy hash is made once

    def seconds(name: str) -> float:
        start = time.perf_counter()
        for _ in range(5):
            assert users.check(name, 'wrong password') is None
        return time.perf_counter() - start
    known, unknown = seconds('ana'), seconds('nobody')
    assert unknown > known / 3, (known, unknown)  # the same scrypt (without it: ~1000x faster)


def test_throttle_backs_off_exponentially_then_locks_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    clock = [0.0]
    throttle = sessions.Throttle(clock=lambda: clock[0])
    for _ in range(throttle.FREE):
        assert throttle.wait('ana', '10.0.0.1') == 0
        throttle.failed('ana', '10.0.0.1')
    waits = []
    for _ in range(4):
        waits.append(throttle.wait('ana', '10.0.0.1'))
        clock[0] += waits[-1]
        throttle.failed('ana', '10.0.0.1')
    assert waits == [1.0, 2.0, 4.0, 8.0]
    assert throttle.wait('ANA ', '10.0.0.2') > 0  # per account, whatever the address and case
    assert throttle.wait('bo', '10.0.0.2') == 0
    with caplog.at_level(logging.WARNING, logger='rave_studio.auth'):
        while throttle.wait('ana', '10.0.0.9') < throttle.LOCKOUT - 60:
            clock[0] += throttle.wait('ana', '10.0.0.9')
            throttle.failed('ana', '10.0.0.9')
    assert 'locked' in caplog.text and 'name:ana' in caplog.text
    clock[0] += throttle.LOCKOUT
    assert throttle.wait('ana', '10.0.0.1') == 0  # the lockout is temporary
    throttle.failed('ana', '10.0.0.1')
    throttle.succeeded('ana', '10.0.0.1')
    assert throttle.wait('ana', '10.0.0.1') == 0


def test_throttle_per_address_and_bounded_memory() -> None:
    clock = [0.0]
    throttle = sessions.Throttle(clock=lambda: clock[0])
    free = throttle.FREE * throttle.ADDRESS_FACTOR
    for n in range(free):
        assert throttle.wait(f'name{n}', '10.0.0.1') == 0
        throttle.failed(f'name{n}', '10.0.0.1')
    assert throttle.wait('someone else', '10.0.0.1') > 0  # guessing many names from one address
    assert throttle.wait('someone else', '10.0.0.2') == 0
    throttle.MAX_ENTRIES = 50
    for n in range(500):
        throttle.failed(f'spray{n}', f'10.1.{n // 250}.{n % 250}')
    assert len(throttle._failures) <= 50


def test_host_names_origins_and_redirect_targets() -> None:
    assert security.host_name('127.0.0.1:8765') == '127.0.0.1'
    assert security.host_name('[::1]:8765') == '::1'
    assert security.host_name('LocalHost.:80') == 'localhost'
    assert security.host_name('') == ''
    local = security.allowed_hosts(share=False, bind='127.0.0.1', extra=['studio.lab.example'])
    assert local == {'localhost', '127.0.0.1', '::1', 'studio.lab.example'}
    shared = security.allowed_hosts(share=True, bind='0.0.0.0', extra=[])
    assert local - {'studio.lab.example'} < shared and len(shared) > 3  # this machine's names and addresses
    assert security.same_origin('http://127.0.0.1:8765', '127.0.0.1:8765')
    assert security.same_origin(None, '127.0.0.1:8765')  # not a browser
    for foreign in ('http://evil.example', 'null', 'http://127.0.0.1:9999', 'http://127.0.0.1.evil.example:8765'):
        assert not security.same_origin(foreign, '127.0.0.1:8765'), foreign
    for bad in ('//evil.example', '/\t/evil.example', '/%09/evil.example'.replace('%09', '\t'), '/\\evil.example',
                'https://evil.example/', 'javascript:alert(1)', '/ /evil', '', None, 'datasets'):
        assert security.same_origin_path(bad) == '/', bad
    assert security.same_origin_path('/datasets?tab=2') == '/datasets?tab=2'


def test_storage_secret_is_created_private_and_whole(tmp_path: Path) -> None:
    values: list[str] = []
    threads = [threading.Thread(target=lambda: values.append(storage_secret(tmp_path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(values)) == 1 and len(values[0]) >= 40
    assert (tmp_path / '.storage_secret').stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ['.storage_secret']


def test_database_is_private(tmp_path: Path) -> None:
    open_database(tmp_path / 'fresh' / 'studio.db')
    for name in ('studio.db', 'studio.db-wal', 'studio.db-shm'):
        path = tmp_path / 'fresh' / name
        assert not path.exists() or path.stat().st_mode & 0o777 == 0o600, name
