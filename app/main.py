"""`rave-studio`: the command line, the page routes and `ui.run`."""
from __future__ import annotations

import argparse
import inspect
import os
import secrets
import sys
from pathlib import Path

from nicegui import app, ui
from platformdirs import user_data_dir

from app import auth, media, tensorboard_proxy
from app.bridge import Bridge
from app.frame import frame
from app.studio import Studio
from services.hookspecs import Route
from services.projects import ProjectView
from services.session import Session

DEFAULT_PORT = 8765


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
    return parser.parse_args(argv)


def build(data_dir: Path, *, share: bool = False) -> Studio:
    """Create the studio for a data folder and register its pages; used by the CLI and the tests."""
    studio = Studio(data_dir, shared=share)
    studio.start()
    bridge = Bridge(studio.bus)
    studio.bridge = bridge
    app.timer(0.5, studio.poll)
    app.on_shutdown(studio.shutdown)
    for route in studio.plugins.routes():  # the built-in areas' and the installed plugins' pages
        try:
            _route(studio, bridge, route)
        except Exception as e:
            if studio.plugins.builtin(route.plugin):
                raise
            studio.plugins.report(route.plugin, f'Its page {route.path} could not be added: {type(e).__name__}: {e}')
    auth.install(studio, share=share)
    media.install(studio)
    tensorboard_proxy.install(studio)
    return studio


def storage_secret(data_dir: Path) -> str:
    path = data_dir / '.storage_secret'
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def cli(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    data_dir = Path(args.data_dir or user_data_dir('rave-studio', appauthor=False)).expanduser().resolve()
    build(data_dir, share=args.share)
    if args.share:
        auth.ensure_admin(sys.stdin.isatty())
    host = args.host or ('0.0.0.0' if args.share else '127.0.0.1')
    print(f'RAVE Studio: data folder {data_dir}', flush=True)
    ui.run(host=host, port=args.port, title='RAVE Studio', favicon='🎛', dark=None, reload=False,
           show=not args.no_browser and not args.native, native=args.native,
           window_size=(1366, 860) if args.native else None, storage_secret=storage_secret(data_dir),
           show_welcome_message=True, uvicorn_logging_level='warning')


def _route(studio: Studio, bridge: Bridge, route: Route) -> None:
    """Register a plugin's page at its path, inside the shared frame.

    The builder names what it needs as parameters: any field of the page's `Session` (facades bound to the
    acting user), `project` (the current project) and the route's path parameters. A third-party page that
    fails says so in the frame (and on the Plugins page) instead of breaking the studio."""
    path, title, build_page = route.path, route.title, route.builder
    guarded = not studio.plugins.builtin(route.plugin)
    wanted = list(inspect.signature(build_page).parameters)
    injected = Session.names() | {'project', 'studio'}
    params = [p for name, p in inspect.signature(build_page).parameters.items() if name not in injected]

    async def page(**kwargs):
        session = studio.session(auth.actor(), bridge)
        with frame(studio, session, path, title) as project:
            legacy = 'studio' in wanted  # a page not yet moved to the facades still gets the row
            given = {'project': project if legacy else ProjectView.of(project), 'studio': studio}
            args = {name: given[name] if name in given else getattr(session, name)
                    for name in wanted if name in injected}
            try:
                result = build_page(**args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception as e:
                if not guarded:
                    raise
                studio.plugins.report(route.plugin, f'Its page {path} failed: {type(e).__name__}: {e}')
                ui.label(f'The plugin {route.plugin} could not draw this page ({type(e).__name__}: {e}). '
                         'Settings → Plugins shows what went wrong; switch it off there.').mark('plugin-failed')

    page.__signature__ = inspect.Signature(params)
    page.__name__ = f'page_{path.strip("/").replace("/", "_") or "root"}'
    ui.page(path, title=f'{title} · RAVE Studio')(page)


if __name__ in {'__main__', '__mp_main__'}:
    cli()
