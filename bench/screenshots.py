"""Screenshots of every page route, at 1366x860 and 800x900, light and dark, with Debian's Chromium.

    python bench/screenshots.py OUT_FOLDER [--url http://127.0.0.1:8765] [--data-dir D] [--ids 1]

Without --url it starts `rave-studio` on --data-dir (default: a fresh temporary folder) and stops it after.
Routes with a path parameter (`/datasets/{dataset_id}`) use --ids (default 1).
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / 'tests')]

from studio_process import StudioProcess, launch_chromium

from pages import ROUTES

SIZES = [(1366, 860), (800, 900)]
SCHEMES = ['light', 'dark']


def shoot(url: str, out: Path, ids: str) -> list[Path]:
    from playwright.sync_api import sync_playwright
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        for scheme in SCHEMES:
            for width, height in SIZES:
                context = browser.new_context(viewport={'width': width, 'height': height}, color_scheme=scheme)
                page = context.new_page()
                page.set_default_timeout(30000)
                _set_theme(page, url, scheme)
                for route in ROUTES:
                    path = re.sub(r'\{[^}]+\}', ids, route)
                    page.goto(url + path, wait_until='networkidle')
                    page.wait_for_timeout(800)  # charts and fonts settle
                    name = (route.strip('/').replace('/', '_').replace('{', '').replace('}', '') or 'dashboard')
                    file = out / f'{name}_{width}x{height}_{scheme}.png'
                    page.screenshot(path=str(file), full_page=False)
                    shots.append(file)
                    print(file, flush=True)
                context.close()
        browser.close()
    return shots


def _set_theme(page, url: str, scheme: str) -> None:
    """The studio remembers the theme per browser: flip it with the header button when needed."""
    page.goto(url + '/help', wait_until='networkidle')
    dark = 'body--dark' in (page.locator('body').get_attribute('class') or '')
    if dark != (scheme == 'dark'):
        page.locator('header button').filter(has=page.locator('i', has_text='dark_mode')).first.click()
        page.wait_for_function(f"document.body.classList.contains('body--dark') === {str(scheme == 'dark').lower()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out', type=Path, help='folder for the PNG files')
    parser.add_argument('--url', help='a running studio (default: start one)')
    parser.add_argument('--data-dir', type=Path, help='data folder for the studio this script starts')
    parser.add_argument('--ids', default='1', help='value for path parameters such as {dataset_id}')
    args = parser.parse_args()
    if args.url:
        shoot(args.url.rstrip('/'), args.out, args.ids)
        return
    with tempfile.TemporaryDirectory(prefix='rave-shots-') as tmp:
        data_dir = args.data_dir or Path(tmp) / 'data'
        data_dir.mkdir(parents=True, exist_ok=True)
        with StudioProcess(data_dir, log_dir=Path(tmp)) as studio:
            shoot(studio.url, args.out, args.ids)


if __name__ == '__main__':
    main()
