"""French beyond the first translated routes: a dataset's page (overview, statistics, validation and its dialogs),
its inspector, the project dialogs, diagnostics, plugins, and the sign-in pages of a shared studio — crawled in
French with the state they need, and failing on English or on any sentence outside the catalogue (tests/test_i18n.py
holds the crawl and the catalogue test)."""
from __future__ import annotations

import json
import re
import shutil
import sys
from html import unescape
from pathlib import Path

import pytest
from i18n_crawl import english_ids, fine, french_pattern, shown
from nicegui import app
from nicegui.testing import User
from starlette.requests import Request

from app import auth, plain
from services import doctor, i18n
from services.datasets import doctor as dataset_doctor
from services.datasets import lmdb_reader
from services.datasets.content import Content
from services.datasets.statistics import CACHE
from services.store import Dataset, Job
from services.workers import dataset_stats

FRENCH_BROWSER = 'fr-FR,fr;q=0.9,en;q=0.8'
# what services/formatting writes, the same words in both languages or the locale's own: a level, a date
FIGURE = re.compile(r'-?[\d\u202f ]+(?:,\d+)? dBFS|\d{2} \w+\.? \d{4}(?:, \d{2}:\d{2})?')
PROBE = {'python': '3.11.9', 'executable': '/venv/bin/python',
         'packages': {'acids-rave': '2.3.1', 'torch': '2.1.2', 'torchaudio': '2.1.2'},
         'torch': {'version': '2.1.2+cpu', 'torchaudio': '2.1.2+cpu', 'cuda': None, 'cuda_available': False}}


async def test_a_datasets_pages_and_dialogs_are_french(user: User, db_copy: Path) -> None:
    """The newcomer's path after the wizard: the dataset's overview with its dialogs, its statistics (charts from a
    real cache) and its last integrity report, then the inspector on a selected example."""
    dataset = _dataset(db_copy)
    stats = dataset_stats.compute(db_copy, [], ['wav'], 65536, 2000)
    (db_copy / CACHE).parent.mkdir(parents=True, exist_ok=True)
    (db_copy / CACHE).write_text(json.dumps(stats))
    app.studio.library.validate(dataset)  # the report the Validation tab and the inspector show
    user.http_client.headers['Accept-Language'] = FRENCH_BROWSER
    wrong = []

    await user.open(f'/datasets/{dataset.id}')
    await user.should_see('Entraîner un modèle dessus')
    await user.should_see('Statistiques')
    await user.should_see('Calculées le', marker='stats-summary')
    await user.should_see('entrées sont saines', marker='validate-result')
    for dialog in ('clone', 'delete'):
        user.find(marker=dialog).click()
    await user.should_see('Cloner «\u00a0violin takes\u00a0»')
    await user.should_see('Supprimer «\u00a0violin takes\u00a0»\u00a0?')
    wrong += _not_french(user, f'/datasets/{dataset.id}', _data(dataset))

    await user.open(f'/datasets/{dataset.id}/inspect')
    await user.should_see('Inspecter violin takes')
    await user.should_see('Exemple 1', marker='example-title')
    await user.should_see('Les ', marker='check-status')
    wrong += _not_french(user, f'/datasets/{dataset.id}/inspect', _data(dataset))
    assert not wrong, '\n'.join(wrong)


async def test_an_inspector_whose_folder_is_gone_says_why_in_french(user: User, db_copy: Path) -> None:
    """The reason inside the sentence is the reader's, said in French too (the crawl's placeholders match
    anything, so the whole sentence is asserted here)."""
    dataset = _dataset(db_copy)
    lmdb_reader.release_all()
    shutil.rmtree(db_copy)  # moved or deleted behind the studio's back
    user.http_client.headers['Accept-Language'] = FRENCH_BROWSER
    await user.open(f'/datasets/{dataset.id}/inspect')
    await user.should_see('ne contient aucun jeu de données RAVE (data.mdb manque)')
    await user.should_not_see('holds no RAVE dataset')
    assert _not_french(user, f'/datasets/{dataset.id}/inspect', _data(dataset)) == []


async def test_the_project_dialogs_are_french_and_the_default_project_speaks_it(user: User) -> None:
    """Every dialog of the Projects page opened at once; the default project's stored English description is
    shown in French (the row keeps it: it is the studio's, not the user's)."""
    user.http_client.headers['Accept-Language'] = FRENCH_BROWSER
    await user.open('/')
    await user.should_see('Un premier projet, fait pour vous.')
    await user.open('/projects')
    await user.should_see('Un premier projet, fait pour vous.')
    project = app.studio.projects.current(None)
    for marker in ('new-project', 'restore', f'edit-{project.id}', f'delete-{project.id}'):
        user.find(marker=marker).click()
    await user.should_see('Tapez Default pour confirmer')
    assert _not_french(user, '/projects', set()) == []
    user.find(marker='edit-save').click()  # saved untouched: the stored default stays the studio's own
    await user.should_see('Projet enregistré.')
    assert app.studio.projects.get(project.id).description == 'A first project, made for you.'


async def test_diagnostics_and_plugins_are_french(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """The install doctor (its kept report read in the page's language), the error history and the bundle card,
    then the plugins page with the studio's own areas."""
    monkeypatch.setattr(doctor, 'probe', lambda python, timeout=120.0: PROBE)  # the job Python imports torch: slow
    app.studio.diagnostics.doctor.run()  # kept in English words, said in French when shown
    Job.create(kind='export', title='Export drums', argv=[], status='failed')
    user.http_client.headers['Accept-Language'] = FRENCH_BROWSER
    await user.open('/settings/diagnostics')
    await user.should_see('Espace disque — OK')
    await user.should_see('Go libres dans')
    await user.should_see('État de la tâche\u00a0: échoué.')
    found = {str(c.detail) for c in app.studio.diagnostics.doctor.last.checks if c.status == 'ok'}
    wrong = _not_french(user, '/settings/diagnostics', {'Export drums', 'ffmpeg', 'ffprobe', *found})
    await user.open('/settings/plugins')
    await user.should_see('Intégré au studio')
    await user.should_see('type de tâche «\u00a0preprocess\u00a0»')
    wrong += _not_french(user, '/settings/plugins', {p.name for p in app.studio.plugins.views(lambda name: True)})
    assert not wrong, '\n'.join(wrong)


async def test_the_sign_in_pages_speak_the_browsers_language() -> None:
    """A shared studio's sign-in, password change and invite pages, and the local studio's "open the printed URL"
    page: plain HTML (no session yet, so the browser's Accept-Language decides), each text French of the
    catalogue."""
    request = _request(FRENCH_BROWSER)
    with plain.speaking(request.headers):
        pages = {'/login': auth._form(request, '/', error=auth._new_password_problem('short', 'short')),
                 '/login/change': auth._change_form(request, '/', 'ann'),
                 '/invite': auth._invite_form('token', 'ann'),
                 'token refused': plain.open_printed(i18n._("That link's token is not this launch's (it changes "
                                                           "every time rave-studio starts)."), '/')}
    wrong = []
    for where, page in pages.items():
        html = page.body.decode()
        assert '<html lang="fr">' in html
        wrong += [f'{where}: {text!r}' for text in _texts(html)
                  if not fine(text, {'RAVE Studio', 'ann'}, french_pattern())]
    assert not wrong, '\n'.join(wrong)
    assert 'Se connecter' in pages['/login'].body.decode()

    spoken = plain.in_browser_language(lambda request: i18n._('Sign in'))
    assert await spoken(_request(FRENCH_BROWSER)) == 'Se connecter'
    assert await spoken(_request('en-GB,en')) == 'Sign in'


def test_the_dataset_doctor_speaks_french() -> None:
    """The doctor's sentences (the wizard's Review step): the parameter rules and what the content scan found, each
    French of the catalogue, the file lines included."""
    found = [Content(Path(f'/audio/{name}.wav'), *values) for name, values in {
        'nan': (0.5, 0.0, 0.0, 0.0, 3), 'quiet': (0.00001, 1.0, 0.0, 0.0, 0), 'mostly': (0.5, 0.9, 0.0, 0.0, 0),
        'offset': (0.5, 0.0, 0.2, 0.0, 0), 'clipped': (1.0, 0.0, 0.0, 0.05, 0)}.items()]
    with i18n.speaking('fr'):
        said = [*dataset_doctor.parameter_problems(1, 3, 1234, 0, []), *dataset_doctor.tools_problems(),
                *(line for f in dataset_doctor.content_findings(found, 2) for line in (f.text, *f.files))]
    assert len(said) >= 10 and 'Le nombre de canaux doit être 1 (mono) ou 2 (stéréo).' in said
    wrong = [text for text in said if not fine(text, {str(c.path) for c in found}, french_pattern())]
    assert not wrong, '\n'.join(wrong)


def _not_french(user: User, route: str, data: set[str]) -> list[str]:
    """What the page shows that is neither French of the catalogue, nor data, nor the same in both languages."""
    project = app.studio.projects.current(None)
    data = data | {project.name, project.location, str(app.studio.data_dir), sys.executable,
                   *i18n.LANGUAGES.values()}
    french, english, wrong = french_pattern(), english_ids(), []
    for where, text in shown(user.client):
        if fine(text, data, french) or all(fine(part, data, french) or FIGURE.fullmatch(part)
                                            for part in re.split(' · | — ', text.removeprefix('• '))):
            continue
        why = 'English left untranslated' if text in english else 'not in the catalogue'
        wrong.append(f'{route} {where}: {text!r} ({why})')
    return wrong


def _dataset(folder: Path) -> Dataset:
    """A ready dataset row for the LMDB `rave preprocess` made, as the datasets service leaves one."""
    db = lmdb_reader.reader(folder)
    return Dataset.create(project=app.studio.projects.current(None), name='violin takes', path=str(folder),
                          status='ready', sr=db.sr, channels=db.channels, lazy=db.lazy, n_examples=len(db),
                          n_seconds=db.n_seconds, sources=[str(folder.parent / 'audio')], category='strings',
                          tags=['take 2'], params={'num_signal': 65536, 'channels': 1, 'sampling_rate': 44100,
                                                   'ext': ['wav'], 'lazy': False})


def _data(dataset: Dataset) -> set[str]:
    """The dataset's own words: its name, category, tags and folders."""
    return {dataset.name, dataset.category, *dataset.tags, dataset.path, *dataset.sources, 'wav',
            f'{dataset.name} copy', 'copie de violin takes'}


def _request(accept_language: str) -> Request:
    return Request({'type': 'http', 'method': 'GET', 'path': '/login', 'scheme': 'http', 'query_string': b'',
                    'headers': [(b'accept-language', accept_language.encode())]})


def _texts(html: str) -> list[str]:
    """The words of a plain page a person reads: its title and the text between its tags (no style, no markup)."""
    html = re.sub(r'<style>.*?</style>', '', html, flags=re.DOTALL)
    title = re.search(r'<title>(.*?)</title>', html).group(1)
    body = re.sub(r'<code>(.*?)</code>', r'\1', html.split('<body>', 1)[1])
    return [unescape(t).strip() for t in [title, *re.split(r'<[^>]+>', body)] if t.strip()]
