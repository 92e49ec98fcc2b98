"""The one translation layer: every sentence the studio shows goes through `_` (GNU gettext catalogues in locale/,
read with Babel), in the language of the page the user is on — English or French.

The language belongs to the page: app/i18n.py decides it when a page is built (the user's choice in Settings, else
the browser's Accept-Language, else English), keeps it on the page's client and tells this module how to find it
again (`follow`), so the page's event handlers speak it too. Outside any page — the poller, start-up, a worker
thread, a service test — it is English, unless a block says otherwise (`speaking`).

Module-level constants mark their text with `N_` (put in the catalogue, not translated there) and are translated
where they are shown: `_(STEP.title)`. A service's sentence that a page shows later — an exception made in a worker
thread, where the page is unknown — is a `Lazy`: translated when it becomes a str.

The catalogue (locale/fr/LC_MESSAGES/studio.po) is the source of truth; it is compiled in memory on first use, so a
fresh clone needs no build step. `pybabel extract -F babel.cfg` finds the messages (babel.cfg says how).
"""
from __future__ import annotations

import functools
import gettext
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TypeVar

LANGUAGES = {'en': 'English', 'fr': 'Français'}  # code → the language's own name (the Settings choice)
DEFAULT = 'en'
CHOICE = 'language'  # the per-user storage key of the user's own choice (Settings); absent: follow the browser
DOMAIN = 'studio'
LOCALE_DIR = Path(__file__).resolve().parent.parent / 'locale'
# what extraction looks for (babel.cfg's -k)
KEYWORDS = {'_': None, 'N_': None, 'ngettext': (1, 2), 'pgettext': ((1, 'c'), 2), 'lazy': None}

R = TypeVar('R')
_spoken: ContextVar[str | None] = ContextVar('studio_language', default=None)
_found: list[Callable[[], str | None]] = []  # how to find the current page's language (app/i18n.py sets it)


def _(message: str) -> str:
    """`message` in the current page's language ('' stays '': gettext would answer the catalogue's header)."""
    return translations(current()).gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or the plural form for `n`, in the current page's language (French: 0 and 1 take the
    singular)."""
    return translations(current()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` where one English word means two things (`pgettext('dataset wizard', 'Run')` is a step, not a
    training run), in the current page's language."""
    return translations(current()).pgettext(context, message)


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it: a module-level constant, translated where shown."""
    return message


class Lazy:
    """A sentence translated when it becomes a str: `lazy('Not a folder: {path}', path=p)`. For a service's message
    made where the page's language is unknown (a worker thread) and shown later by the page."""

    __slots__ = ('message', 'values')

    def __init__(self, message: str, values: dict) -> None:
        self.message, self.values = message, values

    def __str__(self) -> str:
        text = _(self.message)
        return text.format(**self.values) if self.values else text

    def __repr__(self) -> str:
        return f'lazy({self.message!r})'

    def __eq__(self, other: object) -> bool:  # the same sentence with the same values: nothing new to show
        return isinstance(other, Lazy) and (self.message, self.values) == (other.message, other.values)

    def __hash__(self) -> int:
        return hash(self.message)


def lazy(message: str, **values: object) -> Lazy:
    """`message` (with its `{name}` fields filled from `values`), translated when shown."""
    return Lazy(message, values)


def current() -> str:
    """The language being spoken: a `speaking` block's, else the current page's, else English."""
    language = _spoken.get()
    if language is None and _found:
        language = _found[0]()
    return language if language in LANGUAGES else DEFAULT


def follow(find: Callable[[], str | None]) -> None:
    """Find the current page's language with `find` (None outside any page)."""
    _found[:] = [find]


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Speak `language` inside the block (a test, or a service writing for one reader)."""
    token = _spoken.set(language)
    try:
        yield
    finally:
        _spoken.reset(token)


def carrying(function: Callable[..., R]) -> Callable[..., R]:
    """`function` speaking the language spoken here and now wherever it is called: a page hands a service call to a
    worker thread (`await run.io_bound(i18n.carrying(datasets.clone), …)`), where the page is unknown, and the
    sentences the service makes there (errors, progress lines, findings) are in the page's language."""
    language = current()

    @functools.wraps(function)
    def spoken(*args, **kwargs) -> R:
        with speaking(language):
            return function(*args, **kwargs)

    return spoken


def negotiate(chosen: str | None, accept_language: str | None) -> str:
    """The language of a page: the user's own choice, else the first of the browser's (Accept-Language, by
    quality) that the studio speaks, else English."""
    if chosen in LANGUAGES:
        return chosen
    for tag in _preferred(accept_language or ''):
        base = tag.split('-')[0].split('_')[0].lower()
        if base in LANGUAGES:
            return base
    return DEFAULT


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of `language` (English is the messages themselves); fuzzy entries are left out.

    The .po is compiled once into the .mo beside it (not in git) and recompiled when the .po is newer; reading a .mo
    takes milliseconds where compiling the .po takes a second. Where the checkout is read-only it compiles in
    memory."""
    po = LOCALE_DIR / language / 'LC_MESSAGES' / f'{DOMAIN}.po'
    if language == DEFAULT or not po.is_file():
        return gettext.NullTranslations()
    mo = po.with_suffix('.mo')
    if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open('rb') as compiled:
            return gettext.GNUTranslations(compiled)
    compiled = io.BytesIO(_compile(po, language))
    try:
        aside = mo.with_name(f'.{mo.name}.{os.getpid()}')
        aside.write_bytes(compiled.getvalue())
        aside.replace(mo)  # whole or not at all: another process may be reading it
    except OSError:
        pass
    return gettext.GNUTranslations(compiled)


def _compile(po: Path, language: str) -> bytes:
    from babel.messages.mofile import write_mo  # Babel's catalogue code is needed only here
    from babel.messages.pofile import read_po
    with po.open('rb') as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    return compiled.getvalue()


def _preferred(header: str) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first (`fr-FR,fr;q=0.9,en;q=0.8`)."""
    weighted = []
    for i, part in enumerate(header.split(',')):
        tag, _sep, params = part.strip().partition(';')
        quality = 1.0
        if params.strip().startswith('q='):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != '*' and quality > 0:
            weighted.append((-quality, i, tag))
    return [tag for _q, _i, tag in sorted(weighted)]
