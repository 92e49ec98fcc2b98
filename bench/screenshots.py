"""Screenshots of every page route, at 1366x860 and 800x900, light, dark and high contrast, in English and
French, with Debian's Chromium.

    python bench/screenshots.py OUT_FOLDER [--url http://127.0.0.1:8765] [--data-dir D] [--ids 1]
        [--themes light,dark,contrast] [--langs en,fr] [--sizes 1366x860,800x900] [--only REGEX]

Without --url it starts `rave-studio` on --data-dir (default: a fresh temporary folder) and stops it after.
Routes with a path parameter (`/datasets/{dataset_id}`) use --ids (default 1). The theme is picked as a user
picks it (Settings → Appearance); the language is the browser's (Accept-Language).
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

from app import theme
from pages import ROUTES
from services import i18n

SIZES = [(1366, 860), (800, 900)]
THEMES = ['light', 'dark', 'contrast']
LANGS = ['en', 'fr']
LOCALES = {'en': 'en-GB', 'fr': 'fr-FR'}


def shoot(url: str, out: Path, ids: str, themes=THEMES, langs=LANGS, sizes=SIZES, only: str = '') -> list[Path]:
    from playwright.sync_api import sync_playwright
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    routes = [r for r in ROUTES if re.search(only, r)] if only else list(ROUTES)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        for lang in langs:
            for name in themes:
                for width, height in sizes:
                    context = browser.new_context(viewport={'width': width, 'height': height}, locale=LOCALES[lang],
                                                  color_scheme='light')
                    page = context.new_page()
                    page.set_default_timeout(30000)
                    _set_theme(page, url, name, lang)
                    for route in routes:
                        path = re.sub(r'\{[^}]+\}', ids, route)
                        page.goto(url + path, wait_until='networkidle')
                        page.wait_for_timeout(800)  # charts and fonts settle
                        stem = (route.strip('/').replace('/', '_').replace('{', '').replace('}', '') or 'dashboard')
                        file = out / f'{stem}_{width}x{height}_{name}_{lang}.png'
                        page.screenshot(path=str(file), full_page=False)
                        shots.append(file)
                        print(file, flush=True)
                    context.close()
        browser.close()
    return shots


def _set_theme(page, url: str, name: str, lang: str) -> None:
    """Pick the theme as a user does, on Settings → Appearance (the choice reloads the page; light is what a
    fresh browser with a light system theme shows already)."""
    page.goto(url + '/settings', wait_until='networkidle')
    if name != 'light':
        with i18n.speaking(lang):
            label = i18n._(theme.THEMES[name])
        with page.expect_navigation():
            page.get_by_role('radio', name=label).click()
        page.wait_for_load_state('networkidle')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out', type=Path, help='folder for the PNG files')
    parser.add_argument('--url', help='a running studio (default: start one)')
    parser.add_argument('--data-dir', type=Path, help='data folder for the studio this script starts')
    parser.add_argument('--ids', default='1', help='value for path parameters such as {dataset_id}')
    parser.add_argument('--themes', default=','.join(THEMES), help='comma-separated: light, dark, contrast')
    parser.add_argument('--langs', default=','.join(LANGS), help='comma-separated: en, fr')
    parser.add_argument('--sizes', default='1366x860,800x900', help='comma-separated WIDTHxHEIGHT')
    parser.add_argument('--only', default='', help='a regular expression: only the routes it finds')
    args = parser.parse_args()
    options = {'themes': args.themes.split(','), 'langs': args.langs.split(','), 'only': args.only,
               'sizes': [tuple(int(n) for n in size.split('x')) for size in args.sizes.split(',')]}
    if args.url:
        shoot(args.url.rstrip('/'), args.out, args.ids, **options)
        return
    with tempfile.TemporaryDirectory(prefix='rave-shots-') as tmp:
        data_dir = args.data_dir or Path(tmp) / 'data'
        data_dir.mkdir(parents=True, exist_ok=True)
        with StudioProcess(data_dir, log_dir=Path(tmp)) as studio:
            shoot(studio.url, args.out, args.ids, **options)


if __name__ == '__main__':
    main()
