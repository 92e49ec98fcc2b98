"""How the studio writes numbers for people: counts, durations, clock times and sizes — one rule each, so a
step count reads the same on every page and in every message."""
from __future__ import annotations


def count(n: float | None) -> str:
    """12 345: digits grouped by thousands with a space (no comma, which reads as a decimal mark in French)."""
    if n is None:
        return '—'
    return f'{n:,}'.replace(',', ' ')


def duration(seconds: float | None) -> str:
    """4 s, 2 min 05 s, 3 h 07 min."""
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
    """A size in bytes: 512 B, 3.4 MB (powers of 1024)."""
    if n is None:
        return '—'
    for unit in ('B', 'KB', 'MB', 'GB', 'TB'):
        if abs(n) < 1024 or unit == 'TB':
            return f'{n:.0f} {unit}' if unit == 'B' else f'{n:.1f} {unit}'
        n /= 1024
    return f'{n:.1f} TB'
