"""`rave-studio`: the command line, the page routes and `ui.run`."""
from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import importlib
import inspect
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from fastapi import Request
from nicegui import app, ui
from platformdirs import user_data_dir
from starlette.middleware.sessions import SessionMiddleware

from app import accounts_cli, auth, media, security, sockets, speedups, tensorboard_proxy, turns
from app import i18n as page_language
from app.bridge import Bridge
from app.frame import frame
from app.studio import Studio
from services.access import Forbidden
from services.hookspecs import Route
from services.i18n import _
from services.session import Session

DEFAULT_PORT = 8765
WARM_UP_S = 1.0  # after start-up: the first page is served before the rest of the studio is imported


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='rave-studio', description='RAVE Studio: datasets, training, export and exploration of RAVE models.')
    parser.add_argument('--host', default=None, help='address to bind (default 127.0.0.1; 0.0.0.0 with --share)')
    parser.add_argument('--port', type=int, default=DEFAULT_PORT, help=f'port to serve on (default {DEFAULT_PORT})')
    parser.add_argument('--data-dir', default=os.environ.get('RAVE_STUDIO_DATA_DIR'),
                        help='folder for the database, jobs and projects (default: per-user data folder)')
    parser.add_argument('--no-browser', action='store_true', help='do not open a browser tab')
    parser.add_argument('--native', action='store_true', help='open in a native window instead of a browser')
    parser.add_argument('--share', action='store_true',
                        help='serve the local network; every page then needs a login')
    parser.add_argument('--allow-host', action='append', default=[], metavar='NAME',
                        help='another name the studio answers to, e.g. a reverse proxy\'s public name (repeatable)')
    parser.add_argument('--certfile', help='TLS certificate (PEM): serve HTTPS (with --keyfile)')
    parser.add_argument('--keyfile', help='TLS private key (PEM) of --certfile')
    args = parser.parse_args(argv)
    if bool(args.certfile) != bool(args.keyfile):
        parser.error('--certfile and --keyfile go together')
    return args


def build(data_dir: Path, *, share: bool = False, launch: security.Launch | None = None) -> Studio:
    """Create the studio for a data folder and register its pages; used by the CLI and the tests. `launch` puts
    the request guard in front of everything (the CLI always passes it; NiceGUI's simulated user has none)."""
    speedups.install()
    studio = Studio(data_dir, shared=share)
    studio.start()
    page_language.install()
    bridge = Bridge(studio.bus)
    studio.bridge = bridge
    app.timer(0.5, studio.poll)
    # the areas the first page did not need, imported in the background once the studio serves (app/studio.py)
    app.on_startup(lambda: asyncio.get_running_loop().call_later(WARM_UP_S, studio.warm_up))
    app.on_exception(lambda e: _unexpected(studio, e))
    app.on_shutdown(studio.shutdown)
    for route in studio.plugins.routes():  # the built-in areas' and the installed plugins' pages
        try:
            _route(studio, bridge, route)
        except Exception as e:
            if studio.plugins.builtin(route.plugin):
                raise
            studio.plugins.report(route.plugin, f'Its page {route.path} could not be added: {type(e).__name__}: {e}')
    auth.install(studio, share=share, launch=launch)
    if launch is not None:
        # NiceGUI's session cookie, added here so that the guard runs before it: a refused request makes no
        # per-browser storage (NiceGUI then only appends its request tracking, inside)
        app.add_middleware(SessionMiddleware, secret_key=launch.storage_secret, same_site='strict',
                           https_only=launch.tls)
        app.add_middleware(security.Guard, launch=launch, upload_limit=studio.files.upload_limit,
                           open_paths=auth.OPEN_PATHS if share else ('/favicon.ico',))
        ui.add_head_html(security.xsrf_script(launch), shared=True)
        sockets.install(launch)
    media.install(studio)
    tensorboard_proxy.install(studio)
    return studio


def storage_secret(data_dir: Path) -> str:
    """The secret that signs NiceGUI's storage cookie (and keys the CSRF tokens): created owner-only and whole
    (written aside, then linked into place, so a second process never reads it half-written)."""
    path = data_dir / '.storage_secret'
    if not path.exists():
        aside = data_dir / f'.storage_secret.{secrets.token_hex(8)}'
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, 'w') as out:
            out.write(secrets.token_urlsafe(32))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            aside.unlink()
    return path.read_text().strip()


def cli(argv: list[str] | None = None) -> None:
    if (sys.argv[1:] if argv is None else argv)[:1] == ['users']:  # `rave-studio users …`: accounts
        sys.exit(accounts_cli.main((sys.argv[1:] if argv is None else argv)[1:], _data_folder))
    args = parse_args(argv)
    data_dir = _data_folder(args.data_dir)
    host = args.host or ('0.0.0.0' if args.share else '127.0.0.1')
    secret = storage_secret(data_dir)
    launch = security.Launch(port=args.port, share=args.share, tls=bool(args.certfile), secret=secret,
                             hosts=security.allowed_hosts(share=args.share, bind=host, extra=args.allow_host))
    build(data_dir, share=args.share, launch=launch)
    # what start-up made lives as long as the studio: out of the collector's full passes, which otherwise walk
    # it again and again (a full pass held the loop for 230 ms with 25 clients on a live run page); the collector,
    # paused through start-up by app.launch, runs again from here
    gc.freeze()
    gc.enable()
    if args.share:
        auth.ensure_admin(sys.stdin.isatty())
    start = '/login' if args.share else f'/?token={launch.token}'
    if args.native:
        app.native.window_args['url'] = launch.url('127.0.0.1', start)  # the window opens with the token
    _welcome(launch, data_dir, host, start)
    ui.run(host=host, port=args.port, title='RAVE Studio', favicon='🎛', dark=None, reload=False,
           show=start if not args.no_browser and not args.native else False, native=args.native,
           window_size=(1366, 860) if args.native else None, storage_secret=secret,
           ssl_certfile=args.certfile, ssl_keyfile=args.keyfile,
           show_welcome_message=False, uvicorn_logging_level='warning')


def _data_folder(given: str | None) -> Path:
    """The data folder, created owner-only (it holds the database, the secret and every job's log)."""
    path = Path(given or user_data_dir('rave-studio', appauthor=False)).expanduser().resolve()
    if not path.exists():
        path.mkdir(mode=0o700, parents=True)
    elif path.stat().st_mode & 0o077:
        print(f'RAVE Studio: other users of this machine may read {path}; to keep it yours: chmod 700 {path}',
              flush=True)
    return path


def _welcome(launch: security.Launch, data_dir: Path, host: str, start: str) -> None:
    print(f'RAVE Studio: data folder {data_dir}', flush=True)
    if not launch.share:
        print(f'RAVE Studio: open {launch.url("127.0.0.1", start)}', flush=True)
        return
    names = sorted(n for n in launch.hosts if n not in security.LOOPBACK and not n.startswith('fe80:'))
    where = ', '.join(launch.url(n, start) for n in names[:6]) or launch.url(host, start)
    print(f'RAVE Studio: shared on the network, sign in at {where}', flush=True)
    if not launch.tls:
        print('RAVE Studio: without --certfile/--keyfile, passwords cross the network in clear '
              '(README: "TLS and a reverse proxy").', flush=True)


def _route(studio: Studio, bridge: Bridge, route: Route) -> None:
    """Register a plugin's page at its path, inside the shared frame.

    The builder names what it needs as parameters: any field of the page's `Session` (facades bound to the
    acting user), `project` (the current project), the route's path parameters and query parameters (by name,
    converted to the builder's annotation: str, int, float or bool). A builder given as 'module:function' is
    imported on the page's first request, so the studio starts without every page module. A third-party page
    that fails says so in the frame (and on the Plugins page) instead of breaking the studio."""
    path, title = route.path, route.title
    guarded = not studio.plugins.builtin(route.plugin)
    resolve = _builder(route.builder)
    injected = Session.names() | {'project'}

    async def page(request: Request):
        async with turns.PAGES.turn():  # 25 people opening pages at once: one build at a time (app/turns.py)
            await _build(request)

    async def _build(request: Request):
        page_language.choose(request)
        session = studio.session(auth.actor(), bridge)
        async with frame(studio, session, path, title) as project:
            await turns.PAGES.breathe()  # the frame drawn: what waits runs before the page's own content
            try:
                build_page = resolve()
                wanted = inspect.signature(build_page).parameters
                given = {'project': project}
                args = {name: given[name] if name in given else getattr(session, name)
                        for name in wanted if name in injected}
                try:
                    args |= _request_values(wanted, injected, request)
                except ValueError as e:
                    ui.label(str(e)).classes('text-negative').mark('bad-parameter')
                    return
                result = build_page(**args)
                if inspect.isawaitable(result):
                    await result
            except Forbidden as e:  # a refusal is a sentence for the user, not an error of the studio
                ui.label(str(e)).classes('text-sm').mark('page-refused')
            except Exception as e:
                studio.diagnostics.errors.record(path, e)
                if not guarded:
                    ui.label(_('Something went wrong that the studio did not expect, and this page could not be '
                               'drawn. Settings → Diagnostics keeps what happened, for a bug report.')) \
                        .classes('text-negative').mark('page-failed')
                    return
                studio.plugins.report(route.plugin, f'Its page {path} failed: {type(e).__name__}: {e}')
                ui.label(_('The plugin {plugin} could not draw this page ({error}). Settings → Plugins shows what '
                           'went wrong; switch it off there.')
                         .format(plugin=route.plugin, error=f'{type(e).__name__}: {e}')).mark('plugin-failed')

    page.__name__ = f'page_{path.strip("/").replace("/", "_") or "root"}'
    ui.page(path, title=f'{title} · RAVE Studio', response_timeout=turns.RESPONSE_TIMEOUT_S)(page)


def _builder(given) -> Callable[[], Callable]:
    """A function that returns the page builder: at once for a callable, on first use for 'module:function'."""
    if callable(given):
        return lambda: given
    if not isinstance(given, str) or given.count(':') != 1:
        raise TypeError(f'a page builder is a function or "module:function", not {given!r}')
    module, name = given.split(':')
    return functools.cache(lambda: getattr(importlib.import_module(module), name))


_CONVERT = {'int': int, 'float': float, 'bool': lambda v: v.lower() in ('1', 'true', 'yes', 'on', '')}


def _request_values(wanted, injected: set[str], request: Request) -> dict:
    """The builder's path and query parameters from the request, converted to their annotations; a value that
    does not convert raises ValueError with a sentence."""
    values = {}
    for name, parameter in wanted.items():
        if name in injected:
            continue
        raw = request.path_params.get(name, request.query_params.get(name))
        if raw is None:
            if parameter.default is inspect.Parameter.empty:
                raise ValueError(_('This page needs “{name}” in its address.').format(name=name))
            continue
        kind = parameter.annotation if isinstance(parameter.annotation, str) else \
            getattr(parameter.annotation, '__name__', 'str')
        try:
            values[name] = _CONVERT.get(kind, str)(raw)
        except ValueError:
            raise ValueError(_('“{raw}” is not a valid {name} ({kind} expected): check the address.')
                             .format(raw=raw, name=name, kind=kind)) from None
    return values


def _unexpected(studio: Studio, error: Exception) -> None:
    """An exception no handler caught (a button's, a timer's): kept in the error history, and a sentence for the
    user of the page it happened on. A refusal is the service's sentence (e.g. a right lost while the page was
    open), not an error of the studio."""
    try:
        where = ui.context.client.page.path
    except (RuntimeError, AttributeError):  # outside any page: the poller, start-up
        where = 'studio'
    if isinstance(error, Forbidden) and where != 'studio':
        ui.notify(str(error), type='warning')
        return
    studio.diagnostics.errors.record(where, error)
    if where != 'studio':
        ui.notify(_('Something went wrong that the studio did not expect. Settings → Diagnostics keeps what '
                    'happened, for a bug report.'), type='negative', multi_line=True)


if __name__ in {'__main__', '__mp_main__'}:
    cli()
