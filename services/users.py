"""Studio accounts for a shared server; passwords are stored as salted scrypt hashes.

Checking a password costs ~50 ms of scrypt: callers run `check` off the event loop (app/auth.py does, behind the
sign-in throttle of services/sessions.py). An unknown name costs the same as a wrong password (a dummy hash), so
the time of an answer does not tell which names exist.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache

from services import sessions
from services.store import User

_N, _R, _P = 2**14, 8, 1
NO_PASSWORD = '!'  # matches no password (an invited account before it chose one)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f'scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}'


def verify(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split('$')
    except ValueError:
        return False
    check = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(check.hex(), digest)


def count() -> int:
    return User.select().count()


def create(name: str, password: str | None, *, admin: bool = False, must_change: bool = False) -> User:
    """A new account; without a password it cannot sign in until an invite sets one."""
    if password is not None and len(password) < 8:
        raise ValueError('A password needs at least 8 characters.')
    stored = hash_password(password) if password is not None else NO_PASSWORD
    return User.create(name=name, password_hash=stored, admin=admin, must_change=must_change)


def check(name: str, password: str) -> User | None:
    """The user if the password is theirs; blocking (scrypt)."""
    user = User.get_or_none(User.name == name)
    matches = verify(password, user.password_hash if user is not None else _dummy_hash())
    return user if user is not None and matches else None


def set_password(name: str, password: str, *, must_change: bool = False) -> None:
    """Change a password; every session of that user ends (whoever knew the old one is signed out).
    `must_change`: an initial password an admin chose, which its user replaces at their next sign-in."""
    if len(password) < 8:
        raise ValueError('A password needs at least 8 characters.')
    User.update(password_hash=hash_password(password), must_change=must_change).where(User.name == name).execute()
    user = User.get_or_none(User.name == name)
    if user is not None:
        sessions.end_user(user.id)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
