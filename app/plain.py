"""Small self-contained pages — sign-in, invites, "open the printed URL" — with no NiceGUI and no script, in the
language the browser asks for: whoever reads them has no session yet, so no choice of their own."""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import escape

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse

from services import i18n
from services.i18n import _

_HTML = {'en': 'en', 'fr': 'fr'}  # the html tag's language


def plain_page(title: str, body: str, status: int = 200, headers: dict | None = None) -> HTMLResponse:
    """A page of `body` (HTML the caller escaped), in the language being spoken."""
    return HTMLResponse(_PAGE.format(title=escape(title), body=body, lang=_HTML[i18n.current()]), status_code=status,
                        headers=headers)


def open_printed(why: str, path: str) -> HTMLResponse:
    """403: this studio opens with the URL it printed (`why` says what was wrong), or with its token pasted."""
    return plain_page('RAVE Studio', _OPEN_PRINTED.format(why=escape(why), path=escape(path),
                                                          paste=escape(_('Or paste its token')),
                                                          open=escape(_('Open'))), 403)


@contextmanager
def speaking(headers: Headers) -> Iterator[None]:
    """Speak the language of the request's Accept-Language inside the block."""
    with i18n.speaking(i18n.negotiate(None, headers.get('accept-language'))):
        yield


def in_browser_language(route: Callable) -> Callable:
    """A route (sync or async, its first parameter the request) that answers in the browser's language."""
    @functools.wraps(route)
    async def spoken(request, *args, **kwargs):
        with speaking(request.headers):
            answer = route(request, *args, **kwargs)
            return await answer if inspect.isawaitable(answer) else answer
    return spoken


_OPEN_PRINTED = '''<h1>RAVE Studio</h1><p>{why}</p>
<form method="get" action="{path}"><label for="token">{paste}</label>
<input id="token" name="token" autocomplete="off" required><button>{open}</button></form>'''

_PAGE = '''<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title><style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid; place-items: center;
       background: #f5f5f7; color: #1d1d1f; }}
main {{ width: min(22rem, 90vw); background: #fff; border-radius: 12px; padding: 1.6rem;
       box-shadow: 0 2px 12px rgb(0 0 0 / 8%); }}
h1 {{ font-size: 1.25rem; margin: 0 0 .6rem; color: #6C5CE7; }}
label {{ display: block; margin: .8rem 0 .2rem; font-size: .85rem; }}
input {{ box-sizing: border-box; width: 100%; padding: .5rem; border: 1px solid #ccc; border-radius: 6px;
        font: inherit; }}
button {{ margin-top: 1rem; width: 100%; padding: .55rem; border: 0; border-radius: 6px; background: #6C5CE7;
         color: #fff; font: inherit; cursor: pointer; }}
.error {{ color: #c62828; }} .note {{ font-size: .85rem; color: #666; }} code {{ white-space: nowrap; }}
.warn {{ font-size: .85rem; background: #fff4e5; border-radius: 6px; padding: .5rem .7rem; }}
@media (prefers-color-scheme: dark) {{ body {{ background: #0f1014; color: #eee; }} main {{ background: #181a20; }}
  input {{ background: #0f1014; color: #eee; border-color: #444; }} .note {{ color: #aaa; }}
  .warn {{ background: #3a2a10; }} }}
</style></head><body><main>{body}</main></body></html>'''
