"""The language of a page: chosen when the page is built and kept on its client, so that everything said later on
that page — its event handlers, its event subscribers — is said in the same language (services/i18n.py
translates; this module only tells it which language the current page speaks)."""
from __future__ import annotations

import copy
import threading

from fastapi import Request
from nicegui import app, ui
from nicegui.slot import Slot
from nicegui.storage import request_contextvar

from services import i18n

_HTML = {'en': 'en-US', 'fr': 'fr'}  # the language of NiceGUI's own messages, Quasar's and the html tag's


def install() -> None:
    """Let the translation layer find the current page's language, and compile the catalogues in a thread now so
    that no page waits for one (the first compile of a .po takes a second)."""
    i18n.follow(_page_language)
    for language in i18n.LANGUAGES:
        threading.Thread(target=i18n.translations, args=(language,), name=f'catalogue-{language}', daemon=True).start()


def choose(request: Request) -> str:
    """The language of the page being built — the user's choice, else the browser's, else English — kept on the
    page's client; the html tag and Quasar's own words (a table's "rows per page") follow it."""
    language = i18n.negotiate(app.storage.user.get(i18n.CHOICE), request.headers.get('accept-language'))
    client = ui.context.client
    client.storage[i18n.CHOICE] = language
    if client.page.resolve_language() != _HTML[language]:
        client.page = copy.copy(client.page)  # this client's view of the route; the route itself is shared
        client.page.language = _HTML[language]
    return language


def _page_language() -> str | None:
    """The language of the page whose code runs now: kept on its client; in a handler whose element was just
    deleted (a row cleared by its own button) the client is out of reach, and the request that built the page
    (NiceGUI keeps it per handler) decides the same way again."""
    for slot in reversed(Slot.get_stack()):  # outside any page (the poller, start-up) the stack is empty
        try:
            return slot.parent.client.storage.get(i18n.CHOICE)
        except RuntimeError:  # its element is deleted: try the slot around it
            continue
    request = request_contextvar.get()
    if request is None:
        return None
    return i18n.negotiate(app.storage.user.get(i18n.CHOICE), request.headers.get('accept-language'))
