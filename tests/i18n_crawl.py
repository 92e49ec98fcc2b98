"""The French crawl the i18n tests share: what a page shows (every word a user sees or hears), the catalogue and
what the code says, and whether a shown text is French, data, or the same in both languages."""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from nicegui import ui

from services import i18n

ROOT = Path(__file__).resolve().parent.parent
PO = i18n.LOCALE_DIR / 'fr' / 'LC_MESSAGES' / f'{i18n.DOMAIN}.po'
CODE = ('app', 'pages', 'components', 'services')  # where the studio's messages are (babel.cfg)
PLACEHOLDER = re.compile(r'\{[a-z_0-9]*(?:![rs])?(?::[^{}]*)?\}|%(?:\([a-z_]+\))?[sdfr]')
# what is the same in both languages and needs no catalogue entry: the brand, acronyms, figures with their units
SAME_IN_BOTH = re.compile(r'RAVE Studio|[A-Z0-9][A-Z0-9 .:/·_+%-]*')
UNITS = re.compile(r'\b(?:o|ko|Mo|Go|To|B|KB|MB|GB|TB|min|s|ms|h|Hz|kHz|dB)\b')
PATHS = re.compile(r'(?:(?:/|~/|--|[a-z0-9]+://)\S*\n?)+')  # file names, URLs and command-line flags
PROPS = ('label', 'placeholder', 'hint', 'aria-label', 'title', 'suffix', 'prefix', 'error-message')


def fine(text: str, data: set[str], french: re.Pattern) -> bool:
    """Whether `text` may be shown on a French page: French of the catalogue, data, or the same in both languages."""
    return (text in data or SAME_IN_BOTH.fullmatch(text) is not None or PATHS.fullmatch(text) is not None
            or french.fullmatch(text) is not None or not re.search('[A-Za-zÀ-ÿ]', UNITS.sub('', text)))


def shown(client) -> list[tuple[str, str]]:
    """(element, text) of every word a user can see or hear on the page, hidden dialogs included."""
    shown = [('title', client.title)] if client.title else []
    for element in client.elements.values():
        name = type(element).__name__
        if isinstance(element, (ui.html, ui.markdown, ui.code)) or 'sr-only' in element.classes:
            continue  # markup (charts, the docs) and the live region that repeats what jobs say
        text = getattr(element, 'text', None)
        if isinstance(text, str) and text.strip():
            shown.append((name, text.strip()))
        for prop in PROPS:
            value = element.props.get(prop)
            if isinstance(value, str) and value.strip():
                shown.append((f'{name}[{prop}]', value.strip()))
        options = getattr(element, 'options', None)
        if isinstance(options, dict):
            shown += [(f'{name} option', str(v)) for v in options.values() if str(v).strip()]
    return shown


@cache
def catalogue():
    from babel.messages.pofile import read_po
    with PO.open('rb') as source:
        return read_po(source, locale='fr', domain=i18n.DOMAIN)


def extracted() -> dict:
    """(context, msgid — a plural's singular) → where the code says it first, as `pybabel extract` finds it."""
    from babel.messages.extract import extract_from_dir
    found: dict = {}
    for folder in CODE:
        for filename, line, message, _comments, context in extract_from_dir(
                ROOT / folder, [('**.py', 'python')], keywords=i18n.KEYWORDS):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault((context, msgid), f'{folder}/{filename}:{line}')
    return found


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def french_pattern() -> re.Pattern:
    """Every French sentence of the catalogue, its placeholders matching anything."""
    patterns = []
    for message in catalogue():
        for text in (message.string if isinstance(message.string, tuple) else (message.string,)):
            parts = PLACEHOLDER.split(text)
            if message.id and text and len(re.findall('[A-Za-zÀ-ÿ]', ''.join(parts))) >= 2:  # not bare {job}: {status}
                patterns.append('.*?'.join(re.escape(p) for p in parts))
    return re.compile('|'.join(f'(?:{p})' for p in sorted(set(patterns), key=len, reverse=True)), re.DOTALL)


def english_ids() -> set[str]:
    """The English messages whose French differs (shown as they are, they were not translated)."""
    return {m.id for m in catalogue() if isinstance(m.id, str) and m.string and m.string != m.id}
