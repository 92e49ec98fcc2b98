"""Headless Chromium against the real `rave-studio` on the tiny CLI run, imported twice: checkpoint A/B
listening picked by clicks on the validation curve (both checkpoints render the same validation example; the
switch keeps the position), and the compare view of the two runs on the step and the wall-time axis."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from studio_process import StudioProcess, launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_ab_listening_and_compare(tmp_path: Path, rave_run: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from app.studio import Studio
    from services.store import db
    data_dir = tmp_path / 'data'
    studio = Studio(data_dir)  # the two imports, as the Models page makes them, before the studio serves
    project = studio.projects.current(None)
    for name in ('tiny_aaaa', 'tiny_bbbb'):
        shutil.copytree(rave_run, Path(project.location) / 'runs' / name)
        studio.exports.import_run(project, Path(project.location) / 'runs' / name)
    db.close()
    with StudioProcess(data_dir) as served, sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_context(viewport={'width': 1366, 'height': 860}).new_page()
        page.set_default_timeout(60000)

        page.goto(served.url + '/models/1', wait_until='networkidle')
        points = page.locator('.js-plotly-plot .scatterlayer .trace .points path')  # the validation markers
        expect(points.first).to_be_visible()
        page.wait_for_timeout(1000)  # the chart's hover layer is drawn after its points
        area = page.locator('.js-plotly-plot .nsewdrag').first.bounding_box()  # the plot area
        for i, name in ((0, 'A'), (points.count() - 1, 'B')):  # the first and the last validation: A, then B
            picked = page.get_by_role('combobox', name=name, exact=True)
            for _ in range(5):  # a click on a busy machine may land before the chart's hover layer is ready
                box = points.nth(i).bounding_box()
                # the chart hovers by step ('x unified'): a click anywhere above a validation picks it; at the
                # area's middle height, not on the marker, which may sit under the mode bar's top-right corner
                x, y = box['x'] + box['width'] / 2, area['y'] + area['height'] / 2
                page.mouse.move(x, y)
                page.wait_for_timeout(300)
                page.mouse.click(x, y)
                page.wait_for_timeout(1500)
                if 'step' in (picked.input_value() or ''):
                    break
            expect(picked).to_have_value(re.compile('step'))
        expect(page.get_by_text(re.compile('Same example through both'))).to_be_visible(timeout=600_000)
        audio = page.locator('.q-card:has-text("A/B listening") audio')
        expect(audio).to_have_count(2)
        page.wait_for_function('els => [...document.querySelectorAll(".q-card audio")].every(a => a.readyState >= 2)',
                               arg=None, timeout=60000)
        card = page.locator('.q-card:has-text("A/B listening")')
        card.locator('button:has(i:text("play_arrow"))').first.click()
        page.wait_for_timeout(400)  # the tiny run's example is 1.5 s long
        card.locator('button:has-text("B ·")').click()
        page.wait_for_timeout(100)
        a_time, b_time, a_paused, b_heard = audio.evaluate_all(
            'els => [els[0].currentTime, els[1].currentTime, els[0].paused, !els[1].paused || els[1].ended]')
        assert a_paused and b_heard and 0.2 < a_time <= b_time < a_time + 0.5, (a_time, b_time)  # took over in place
        expect(card.locator('button:has-text("B ·")')).to_have_class(re.compile('studio-ab-on'))

        page.goto(served.url + '/experiments/compare?runs=1,2')
        expect(page.get_by_text('Parameters that differ')).to_be_visible()
        chart = page.locator('.js-plotly-plot').first
        expect(chart.locator('.scatterlayer .trace, .gl-container')).not_to_have_count(0)
        page.get_by_role('button', name='Wall time').click()
        expect(chart.locator('.xtitle')).to_have_text('wall time (h)')
        browser.close()
