"""Two real users of one shared studio, in two browser contexts, see each other's comments on a run live."""
from __future__ import annotations

from pathlib import Path

import pytest
from studio_process import CHROMIUM_ARGS, StudioProcess, clean_env

from services import users
from services.store import Membership, Project, Run, Sharing, open_database

playwright = pytest.importorskip('playwright.sync_api')

ADMIN = 'admin password 12'


def sign_in(browser, studio: StudioProcess, name: str, password: str, path: str):
    page = browser.new_context(viewport={'width': 1366, 'height': 860}).new_page()
    page.goto(f'{studio.url}/login?redirect_to={path}')
    page.fill('#name', name)
    page.fill('#password', password)
    page.click('button[type=submit]')
    page.wait_for_url(f'{studio.url}{path}', timeout=60_000)
    return page


@pytest.mark.browser
def test_two_members_see_each_others_comments_live(tmp_path: Path) -> None:
    data_dir = tmp_path / 'data'
    with StudioProcess(data_dir, '--share', env=clean_env(RAVE_STUDIO_ADMIN_PASSWORD=ADMIN)) as studio:
        open_database(data_dir / 'studio.db')  # the same database, as a second writer
        users.create('ann', 'ann password 1')
        users.create('bob', 'bob password 1')
        project = Project.create(name='Lab', location=str(tmp_path / 'lab'))
        Sharing.create(project=project, owner='ann', visibility='private')
        Membership.create(project=project, user='bob', role=2)  # edit
        run = Run.create(project=project, name='choir', status='done')
        path = f'/training/runs/{run.id}'
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS)
            ann = sign_in(browser, studio, 'ann', 'ann password 1', path)
            bob = sign_in(browser, studio, 'bob', 'bob password 1', path)
            for page in (ann, bob):
                page.wait_for_selector('text=No comments yet', timeout=60_000)
            ann.locator('.q-textarea textarea').first.fill('The highs are **harsh**, @bob?')
            ann.get_by_role('button', name='Post').click()
            bob.wait_for_selector('text=The highs are', timeout=30_000)  # no reload: the event brought it
            assert bob.locator('a[href="/team#bob"]').count() == 1
            bob.locator('.q-textarea textarea').first.fill('Try phase 2 longer')
            bob.get_by_role('button', name='Post').click()
            ann.wait_for_selector('text=Try phase 2 longer', timeout=30_000)
            texts = ann.locator('.studio-comment').all_inner_texts()
            assert texts[0].startswith('Try phase 2') and texts[1].startswith('The highs')  # newest first
            browser.close()
