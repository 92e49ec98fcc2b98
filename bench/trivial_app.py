"""The reference for bench_clients' launch figure: a trivial 8-page NiceGUI app served like `rave-studio`.

    python bench/trivial_app.py --port 8790

Eight routes with a header, a few labels, a button and a table each: what NiceGUI alone costs from launch to
the first page served, without any of the studio's imports or services.
"""
from __future__ import annotations

import argparse

from nicegui import ui

PAGES = ('/', '/projects', '/datasets', '/training', '/models', '/export', '/settings', '/help')


def _page(path: str) -> None:
    @ui.page(path, title=f'{path} · trivial')
    def page() -> None:
        with ui.header():
            for target in PAGES:
                ui.link(target.strip('/') or 'home', target).classes('text-white')
        ui.label(f'Page {path}').classes('text-xl')
        ui.button('Press', on_click=lambda: ui.notify('pressed'))
        ui.table(columns=[{'name': 'k', 'label': 'Key', 'field': 'k'},
                          {'name': 'v', 'label': 'Value', 'field': 'v'}],
                 rows=[{'k': f'row {i}', 'v': i} for i in range(5)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--port', type=int, default=8790)
    args = parser.parse_args()
    for path in PAGES:
        _page(path)
    ui.run(port=args.port, reload=False, show=False, title='trivial', favicon='🎛', dark=None,
           storage_secret='trivial', show_welcome_message=True, uvicorn_logging_level='warning')


if __name__ in {'__main__', '__mp_main__'}:
    main()
