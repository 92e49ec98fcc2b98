"""How the studio writes numbers and dates for people: counts, decimals, durations, clock times, sizes and dates —
one rule each, so a step count reads the same on every page and in every message, in the page's language
(services/i18n.py) through Babel's locale data.

English figures are grouped SI-style, 12 345, as the studio always wrote them (a comma would read as a decimal
mark to half its users); French ones as French writes them: 12 345 (a narrow no-break space), 3,4 Mo."""
from __future__ import annotations

import datetime as dt

from babel import dates, numbers

from services import i18n

_GROUP = {'en': ' '}  # a language whose thousands separator the studio sets itself (else the locale's)
_BYTES = {'en': ('B', 'KB', 'MB', 'GB', 'TB'), 'fr': ('o', 'ko', 'Mo', 'Go', 'To')}  # French counts octets


def count(n: float | None) -> str:
    """12 345: digits grouped by thousands (English with a space, French with a narrow no-break space)."""
    if n is None:
        return '—'
    return _grouped(numbers.format_decimal(n, locale=i18n.current()))


def number(x: float | None, places: int | None = None) -> str:
    """A figure with the language's decimal mark — 44.1 (English), 44,1 (French) — with `places` decimals, or
    as many as it has up to three."""
    if x is None:
        return '—'
    pattern = '#,##0.###' if places is None else '#,##0' + ('.' + '0' * places if places else '')
    return _grouped(numbers.format_decimal(x, format=pattern, locale=i18n.current()))


def significant(x: float | None, digits: int = 4) -> str:
    """A measured value (a loss, a validation score) to `digits` significant figures, with the language's decimal
    mark: 0.1732 (English), 0,1732 (French); very large or small ones as Python writes them (1.2e-05)."""
    if x is None:
        return '—'
    text = f'{x:.{digits}g}'
    if 'e' in text or 'n' in text:  # an exponent, nan or inf: no locale writes them differently here
        return text
    return number(float(text), len(text.partition('.')[2]))


def duration(seconds: float | None) -> str:
    """4 s, 2 min 05 s, 3 h 07 min (the same in both languages)."""
    if seconds is None:
        return '—'
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f'{h} h {m:02d} min'
    if m:
        return f'{m} min {s:02d} s'
    return f'{s} s'


def clock(seconds: float | None) -> str:
    """A length as a player shows it: 3:07."""
    if seconds is None:
        return '—'
    m, s = divmod(round(seconds), 60)
    return f'{m}:{s:02d}'


def size(n: float | None) -> str:
    """A size in bytes: 512 B, 3.4 MB (powers of 1024); in French 512 o, 3,4 Mo."""
    if n is None:
        return '—'
    units = _BYTES.get(i18n.current(), _BYTES['en'])
    for unit in units:
        if abs(n) < 1024 or unit == units[-1]:
            return f'{n:.0f} {unit}' if unit == units[0] else f'{number(n, 1)} {unit}'
        n /= 1024
    return f'{number(n, 1)} {units[-1]}'


def day(when: dt.datetime | dt.date | float | None) -> str:
    """A date: 01 Dec 2026 (English), 01 déc. 2026 (French). A number is a Unix time, read in local time."""
    if when is None:
        return '—'
    return dates.format_date(_moment(when), 'dd MMM y', locale=i18n.current())


def moment(when: dt.datetime | float | None) -> str:
    """A date and a time of day: 01 Dec 2026, 20:40 (English), 01 déc. 2026, 20:40 (French)."""
    if when is None:
        return '—'
    return dates.format_datetime(_moment(when), 'dd MMM y, HH:mm', locale=i18n.current())


def _moment(when: dt.datetime | dt.date | float) -> dt.datetime | dt.date:
    return dt.datetime.fromtimestamp(when) if isinstance(when, (int, float)) else when


def plotly_separators() -> str:
    """Plotly's `separators` for the page's language: its decimal mark, then the thousands separator the studio
    writes ('. ' in English, ', ' with a narrow no-break space in French)."""
    language = i18n.current()
    return numbers.get_decimal_symbol(language) + (_GROUP.get(language) or numbers.get_group_symbol(language))


def _grouped(text: str) -> str:
    """`text` with the studio's own thousands separator where it sets one."""
    language = i18n.current()
    separator = _GROUP.get(language)
    return text.replace(numbers.get_group_symbol(language), separator) if separator else text
