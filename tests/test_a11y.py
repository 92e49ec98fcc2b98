"""Accessibility: the themes (light, dark, high contrast) and the text size, chosen per user in Settings; and,
in a real Chromium, axe-core on every route in each theme (no serious or critical violation) and every route at
200 % text without a horizontal scroll bar at 1366×860."""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User
from studio_process import StudioProcess, http_get, launch_chromium

from app import theme
from pages import ROUTES

ROOT = Path(__file__).resolve().parent.parent


def lum(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((lum(a), lum(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_high_contrast_colour_reads_at_7_to_1_on_white() -> None:
    for name, colour in theme.CONTRAST_COLORS.items():
        assert contrast(colour, '#FFFFFF') >= 7.0, name


def test_the_stored_choices_name_a_theme_and_a_text_size() -> None:
    stored: dict = {}
    assert theme.appearance(stored) == ('auto', 100)
    for name in ('light', 'dark', 'contrast', 'auto'):
        theme.choose(stored, name)
        assert theme.appearance(stored)[0] == name
    stored['font_scale'] = 175
    assert theme.appearance(stored) == ('auto', 175)
    stored['font_scale'] = 900  # not offered: the normal size
    assert theme.appearance(stored)[1] == 100


def test_text_scaling_reaches_quasars_pixel_sizes() -> None:
    assert theme.font_css(100) == ''
    css = theme.font_css(200)
    assert 'html.studio-scaled { font-size: 200%; }' in css
    assert 'html.studio-scaled .q-btn' in css and 'font-size: 28.0px' in css  # 14 px buttons
    assert 'html.studio-scaled .q-field--dense .q-field__control' in css and 'height: 80.0px' in css


async def test_a_user_picks_high_contrast_and_large_text_in_settings(user: User) -> None:
    await user.open('/settings')
    await user.should_see('Appearance')
    user.find(marker='setting-theme').elements.pop().set_value('contrast')
    assert app.storage.user['contrast'] is True and app.storage.user['dark'] is False
    await user.open('/settings')
    user.find(marker='setting-font_scale').elements.pop().set_value(200)
    assert app.storage.user['font_scale'] == 200
    await user.open('/help')
    assert theme.appearance(app.storage.user) == ('contrast', 200)
    drawer = next(e for e in user.client.elements.values() if e.props.get('mini-width'))
    assert (drawer.props['width'], drawer.props['mini-width']) == ('440', '128')  # the icons-only drawer of 1100 px × 2


async def test_job_progress_is_announced_politely(user: User) -> None:
    await user.open('/')
    region = user.find(marker='job-announcer').elements.pop()
    assert region.props['aria-live'] == 'polite' and 'sr-only' in region.classes


AXE = ROOT / 'node_modules' / 'axe-core' / 'axe.min.js'
PASSES = (('light', 100), ('dark', 100), ('contrast', 200))  # high contrast at 200 %: both in one pass
BLOCKING = ('serious', 'critical')


@pytest.mark.browser
def test_axe_finds_no_serious_violation_on_any_route_in_any_theme(tmp_path: Path) -> None:
    """One studio, one Chromium: every route in light (every axe rule), dark and high contrast (the rules that
    colours and layout decide; high contrast at 200 % text, where no page may need a horizontal scroll bar at
    1366×860)."""
    if not AXE.exists():
        pytest.fail(f'{AXE} is missing: ./studio.sh test installs it with npm ci (package.json).')
    from playwright.sync_api import sync_playwright
    data = tmp_path / 'data'
    data.mkdir()
    with StudioProcess(data) as studio:
        paths = [re.sub(r'\{\w+\}', '1', route) for route in ROUTES] + ['/datasets?new', '/training/new?dataset=1']
        http_get(studio.url + '/')  # the first page makes the default project
        _seed(data, tmp_path)

        def one_pass(name: str, scale: int) -> tuple[dict[str, dict], list[str]]:
            """One theme over every route, in its own Chromium (the three passes run side by side: most of a
            route's time is waiting on the page, not computing)."""
            found: dict[str, dict] = {}
            wide: list[str] = []
            with sync_playwright() as p:
                browser = launch_chromium(p)
                context = browser.new_context(viewport={'width': 1366, 'height': 860}, color_scheme='light')
                page = context.new_page()
                page.set_default_timeout(90000)
                _choose(page, studio.url, name, scale)
                for path in paths:
                    page.goto(studio.url + path, wait_until='load')
                    page.wait_for_selector('main')
                    page.wait_for_timeout(300)  # what a page draws once its socket is up
                    page.add_script_tag(path=str(AXE))
                    result = page.evaluate(AXE_RUN, None if name == 'light' else COLOUR_RULES)
                    found.setdefault(path, {})[name] = Counter(v['impact'] for v in result)
                    blocking = [f'{v["id"]}: {v["help"]} ({", ".join(v["targets"][:3])})' for v in result
                                if v['impact'] in BLOCKING]
                    if blocking:
                        found[path][f'{name}-blocking'] = blocking
                    if scale == 200 and page.evaluate('document.documentElement.scrollWidth > window.innerWidth + 1'):
                        wide.append(path)
                browser.close()
            return found, wide

        with ThreadPoolExecutor(len(PASSES)) as pool:
            passes = list(pool.map(lambda p: one_pass(*p), PASSES))
    found: dict[str, dict[str, Counter]] = {}
    for themes, _wide in passes:
        for path, results in themes.items():
            found.setdefault(path, {}).update(results)
    wide = [path for _themes, w in passes for path in w]
    report = {'violations by impact': {path: {k: dict(v) for k, v in themes.items() if isinstance(v, Counter)}
                                       for path, themes in found.items()}, 'wider than the window at 200 %': wide}
    print(json.dumps(report, indent=1))
    if os.environ.get('RAVE_A11Y_REPORT'):  # where a closing note wants the figures
        Path(os.environ['RAVE_A11Y_REPORT']).write_text(json.dumps(report, indent=1))
    blocking = {f'{path} ({k})': v for path, themes in found.items() for k, v in themes.items()
                if k.endswith('blocking')}
    assert blocking == {}
    assert wide == []


# light runs every rule; the other themes change colours and (at 200 %) what overflows, not names or roles
COLOUR_RULES = ['color-contrast', 'link-in-text-block', 'scrollable-region-focusable']
AXE_RUN = """async (rules) => {
  const options = {resultTypes: ['violations']};
  if (rules) options.runOnly = {type: 'rule', values: rules};
  const r = await axe.run(document, options);
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                 targets: v.nodes.map(n => n.target.join(' '))}));
}"""


def _choose(page, url: str, name: str, scale: int) -> None:
    """Pick the theme and the text size as a user does, on Settings → Appearance (each choice reloads the page;
    light is what a fresh browser with a light system theme shows already)."""
    page.goto(url + '/settings', wait_until='networkidle')
    if name != 'light':
        with page.expect_navigation():
            page.get_by_role('radio', name=theme.THEMES[name]).click()
    if scale != 100:
        page.get_by_label('Text size').click()
        with page.expect_navigation():
            page.get_by_role('option', name=f'{scale} %').click()
    page.wait_for_load_state('networkidle')


def _seed(data: Path, tmp_path: Path) -> None:
    """A dataset, a run with a checkpoint and an export (their files absent: the pages show their sentences), so
    the detail pages draw themselves whole."""
    from services.store import Checkpoint, Dataset, Export, Project, Run, db, open_database
    open_database(data / 'studio.db')
    try:
        project = Project.select().first()
        dataset = Dataset.create(project=project, name='tones', path=str(tmp_path / 'tones'), status='ready',
                                 sr=44100, channels=1, n_examples=12, n_seconds=30.0, params={'num_signal': 65536})
        run = Run.create(project=project, dataset=dataset, name='tiny', folder=str(tmp_path / 'tiny'),
                         configs=['v2_small'], status='done', step=4,
                         params={'max_steps': 4, 'val_every': 2, 'n_signal': 65536, 'channels': 1, 'device': 'cpu'})
        Checkpoint.create(run=run, path=str(tmp_path / 'tiny' / 'best.ckpt'), step=4, kind='best')
        Export.create(project=project, run=run, path=str(tmp_path / 'tiny.ts'), status='done', name='tiny',
                      checkpoint=str(tmp_path / 'tiny' / 'best.ckpt'))
    finally:
        db.close()


async def test_a_metric_chart_says_its_curves_in_words(user: User) -> None:
    import numpy as np

    from components.metric_chart import MetricChart
    from services.training.views import MetricsView, Trace
    series = {'view': MetricsView(traces={'train/loss': Trace(np.array([1, 2, 3]), np.array([0.9, 0.5, 0.7]))})}
    await user.open('/help')
    with user.client.layout:
        chart = MetricChart(lambda: series['view'], ['train/loss', 'val/validation'])
    said = chart.plot.props['aria-label']
    assert chart.plot.props['role'] == 'figure'  # a figure may hold Plotly's buttons, an img may not
    assert ': 3 points up to step 3, latest 0.7, lowest 0.5.' in said and 'nothing logged yet' in said
    series['view'] = MetricsView(traces={'train/loss': Trace(np.array([1, 2, 3, 4]),
                                                             np.array([0.9, 0.5, 0.7, 0.2]))})
    with user.client.layout:  # as the page's RunMetrics handler does
        chart.extend(series['view'])
    assert '4 points up to step 4, latest 0.2, lowest 0.2' in chart.plot.props['aria-label']
