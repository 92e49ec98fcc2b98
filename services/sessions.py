"""Sign-in sessions of a shared studio, and the throttle on failed sign-ins.

A session is a random token that only the browser's HttpOnly cookie holds; the database keeps its SHA-256, so a
copy of the database opens no session. Every sign-in makes a new one (a session id known before sign-in is never
promoted). A session ends on sign-out, on "sign out everywhere" and on a password change (every session of that
user), after IDLE without a request and LIFETIME after sign-in, whichever comes first. Whoever holds live
connections of a session (app/security.py) subscribes with `on_end` and closes them.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from services.store import SignIn, User

IDLE = 8 * 3600.0  # seconds without a request before a session ends
LIFETIME = 3 * 24 * 3600.0  # seconds from sign-in to the end of a session, however busy
CACHE_S = 30.0  # a looked-up session is trusted this long without asking the database again
SEEN_EVERY = 60.0  # how often a busy session's last-request time is written

log = logging.getLogger('rave_studio.auth')


@dataclass(frozen=True)
class SessionView:
    key: str  # SHA-256 of the token: names the session everywhere but in the cookie
    user_id: int
    name: str
    admin: bool
    created: float
    seen: float


_cache: dict[str, tuple[SessionView, float]] = {}  # key → (view, when it was read)
_listeners: list[Callable[[set[str]], None]] = []
_lock = threading.RLock()  # the database row and the cache change together


def key_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user: User, *, replacing: str | None = None) -> tuple[str, SessionView]:
    """A new session for `user` (its token for the cookie, and its view); the session the browser came with,
    if any, ends: a sign-in always changes the session id."""
    if replacing:
        end(key_of(replacing))
    token = secrets.token_urlsafe(32)
    now = time.time()
    view = SessionView(key_of(token), user.id, user.name, bool(user.admin), now, now)
    with _lock:
        SignIn.create(key=view.key, user=user, created=now, seen=now)
        _cache[view.key] = (view, time.monotonic())
    return token, view


def lookup(token: str | None) -> SessionView | None:
    """The live session of a cookie's token, or None (unknown, signed out, idle too long or too old)."""
    if not token:
        return None
    key, now = key_of(token), time.time()
    with _lock:
        view, read_at = _cache.get(key, (None, 0.0))
        if view is None or time.monotonic() - read_at >= CACHE_S:
            view, read_at = _read(key), time.monotonic()
        if view is not None and not _expired(view, now) and now - view.seen >= SEEN_EVERY:
            SignIn.update(seen=now).where(SignIn.key == key).execute()
            view = replace(view, seen=now)
        if view is not None and not _expired(view, now):
            _cache[key] = (view, read_at)
            return view
    if view is not None:
        end(key)
    return None


def end(key: str) -> None:
    """Sign one session out."""
    _end({key})


def end_user(user_id: int) -> None:
    """Sign every session of one user out (sign out everywhere, password changed, account removed)."""
    _end({row.key for row in SignIn.select(SignIn.key).where(SignIn.user == user_id)})


def sweep() -> None:
    """End every session past its idle timeout or lifetime (their open pages are closed by the listeners)."""
    now = time.time()
    stale = SignIn.select(SignIn.key).where((SignIn.seen < now - IDLE) | (SignIn.created < now - LIFETIME))
    _end({row.key for row in stale})


def on_end(listener: Callable[[set[str]], None]) -> None:
    """Call `listener(keys)` whenever sessions end (from any thread)."""
    _listeners.append(listener)


def _read(key: str) -> SessionView | None:
    row = SignIn.select(SignIn, User).join(User).where(SignIn.key == key).first()
    if row is None:
        return None
    return SessionView(row.key, row.user.id, row.user.name, bool(row.user.admin), row.created, row.seen)


def _expired(view: SessionView, now: float) -> bool:
    return now - view.seen >= IDLE or now - view.created >= LIFETIME


def _end(keys: Iterable[str]) -> None:
    keys = set(keys)
    if not keys:
        return
    with _lock:
        SignIn.delete().where(SignIn.key.in_(list(keys))).execute()
        for key in keys:
            _cache.pop(key, None)
    for listener in _listeners:
        listener(keys)


class Throttle:
    """Exponential backoff on failed sign-ins, per account name and per address, and a temporary lockout.

    After FREE failures in a row an account waits 1 s, then 2, 4, … (at most MAX_WAIT) before its next attempt;
    LOCK_AFTER failures lock it for LOCKOUT (logged). An address gets ADDRESS_FACTOR times as many free tries
    (several people may sign in from one machine). A success clears both; failures are forgotten after LOCKOUT
    without one. Unknown names are throttled like real ones, so the answers tell nothing about which exist.
    """
    FREE = 3
    LOCK_AFTER = 10
    MAX_WAIT = 60.0
    LOCKOUT = 15 * 60.0
    ADDRESS_FACTOR = 3
    MAX_ENTRIES = 10_000  # bounded memory whatever names an attacker tries

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}  # 'name:x' / 'addr:y' → (failures in a row, last one)
        self._lock = threading.Lock()

    def wait(self, name: str, address: str) -> float:
        """Seconds before this name may try again from this address (0: now)."""
        now = self.clock()
        with self._lock:
            return max(self._wait(_name(name), 1, now), self._wait(_address(address), self.ADDRESS_FACTOR, now))

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) >= self.MAX_ENTRIES:
                self._forget(now)
            for key, factor in ((_name(name), 1), (_address(address), self.ADDRESS_FACTOR)):
                count, last = self._failures.get(key, (0, now))
                count = 1 if now - last >= self.LOCKOUT else count + 1
                self._failures[key] = (count, now)
                if count == self.LOCK_AFTER * factor:
                    log.warning('Sign-in locked for %.0f min after %d failures in a row: %s', self.LOCKOUT / 60,
                                count, key)

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            self._failures.pop(_name(name), None)
            self._failures.pop(_address(address), None)

    def _wait(self, key: str, factor: int, now: float) -> float:
        count, last = self._failures.get(key, (0, 0.0))
        if count < self.FREE * factor or now - last >= self.LOCKOUT:
            return 0.0
        if count >= self.LOCK_AFTER * factor:
            return last + self.LOCKOUT - now
        return max(0.0, last + min(2.0 ** (count - self.FREE * factor), self.MAX_WAIT) - now)

    def _forget(self, now: float) -> None:
        for key, (_, last) in list(self._failures.items()):
            if now - last >= self.LOCKOUT:
                del self._failures[key]
        while len(self._failures) > self.MAX_ENTRIES - 2:  # room for the two keys of this failure
            self._failures.pop(next(iter(self._failures)))


def _name(name: str) -> str:
    return 'name:' + (name or '').strip().casefold()


def _address(address: str) -> str:
    return 'addr:' + (address or '?')
