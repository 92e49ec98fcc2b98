"""Two languages: the catalogue is complete, the language follows the user's choice then the browser, figures and
dates are written for it, and the translated pages show no English and no sentence outside the catalogue."""
from __future__ import annotations

import datetime as dt
import sys

import pytest
from i18n_crawl import PO, ROOT, catalogue, english_ids, extracted, fine, french_pattern, placeholders, shown
from nicegui import app
from nicegui.testing import User

from services import formatting, i18n

# the routes whose every visible word is French in French: grows as areas are translated
TRANSLATED_ROUTES = ['/', '/settings', '/help', '/datasets', '/datasets?new', '/training', '/projects']

def test_the_language_is_the_users_choice_then_the_browsers_then_english() -> None:
    assert i18n.negotiate(None, 'fr-FR,fr;q=0.9,en;q=0.8') == 'fr'
    assert i18n.negotiate(None, 'de-DE,de;q=0.9,fr;q=0.5,en;q=0.4') == 'fr'  # the first spoken here, by quality
    assert i18n.negotiate(None, 'en;q=0.4,fr-CA;q=0.7') == 'fr'
    assert i18n.negotiate(None, 'de, *;q=0.1') == 'en'
    assert i18n.negotiate(None, '') == i18n.negotiate(None, None) == 'en'
    assert i18n.negotiate('en', 'fr-FR') == 'en'
    assert i18n.negotiate('fr', 'en-US') == 'fr'
    assert i18n.negotiate('xx', 'fr') == 'fr'  # a stale choice falls back to the browser


def test_a_message_is_said_in_the_language_spoken_where_it_is_shown() -> None:
    assert i18n._('Settings') == 'Settings'
    with i18n.speaking('fr'):
        assert i18n._('Settings') == 'Paramètres'
        assert i18n.ngettext('{steps} step', '{steps} steps', 1).format(steps=1) == '1 pas'
        assert i18n.ngettext('{steps} step', '{steps} steps', 2).format(steps=2) == '2 pas'
        assert (i18n._('Run'), i18n.pgettext('dataset wizard', 'Run')) == ('Entraînement', 'Lancement')  # two meanings
        assert i18n._('a sentence the catalogue does not hold') == 'a sentence the catalogue does not hold'
    later = i18n.lazy('{folder} is not an existing folder. Check the path and try again.', folder='/x')
    assert str(later).startswith('/x is not an existing folder')
    with i18n.speaking('fr'):
        assert str(later) == "/x n'est pas un dossier existant. Vérifiez le chemin et réessayez."


def test_figures_and_dates_are_written_for_the_language() -> None:
    when = dt.datetime(2026, 12, 1, 20, 40)
    assert (formatting.count(1234567), formatting.number(44.1), formatting.size(3.4 * 1024 ** 2)) == \
        ('1 234 567', '44.1', '3.4 MB')
    assert (formatting.day(when), formatting.moment(when)) == ('01 Dec 2026', '01 Dec 2026, 20:40')
    with i18n.speaking('fr'):
        assert (formatting.count(1234567), formatting.number(44.1), formatting.size(3.4 * 1024 ** 2)) == \
            ('1\u202f234\u202f567', '44,1', '3,4 Mo')
        assert formatting.size(512) == '512 o'
        assert (formatting.day(when), formatting.moment(when)) == ('01 déc. 2026', '01 déc. 2026, 20:40')
    assert formatting.duration(125) == '2 min 05 s' and formatting.count(None) == '—'


def test_every_message_of_the_code_has_its_french() -> None:
    """The catalogue holds every message the code marks, each translated (not fuzzy) with the same
    placeholders; and nothing the code no longer says."""
    catalog, found = catalogue(), extracted()
    missing, empty, fuzzy, differ = [], [], [], []
    for (context, msgid), where in found.items():
        entry = catalog.get(msgid, context=context)
        if entry is None:
            missing.append(f'{where}: {msgid!r}')
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings):
            empty.append(msgid)
        if entry.fuzzy:
            fuzzy.append(msgid)
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        if any(placeholders(s) != placeholders(ids[-1]) for s in strings if s):
            differ.append(msgid)
    obsolete = [m.id for m in catalog if m.id and (m.context, m.id if isinstance(m.id, str) else m.id[0]) not in found]
    assert not missing, f'not in {PO.relative_to(ROOT)} (pybabel: see babel.cfg):\n' + '\n'.join(missing)
    assert not empty and not fuzzy, f'untranslated: {empty}, fuzzy: {fuzzy}'
    assert not differ, f'placeholders differ from the English: {differ}'
    assert not obsolete, f'no longer in the code: {obsolete}'


async def test_the_frame_and_the_dashboard_speak_the_browsers_language(user: User) -> None:
    user.http_client.headers['Accept-Language'] = 'fr-FR,fr;q=0.9,en;q=0.8'
    await user.open('/')
    for french in ('Tableau de bord', 'Jeux de données', 'Entraînement', 'Paramètres', 'Aide', 'Cette machine',
                   'Démarrer', 'Nouveau jeu de données', 'Exporter un modèle', 'Entraînements récents',
                   "Aucun entraînement pour l'instant."):
        await user.should_see(french)
    await user.should_not_see('Dashboard')
    assert user.client.title == 'Tableau de bord · RAVE Studio'
    assert user.client.page.resolve_language() == 'fr'  # the html tag and Quasar's own words
    user.http_client.headers['Accept-Language'] = 'en-GB,en'
    await user.open('/')
    await user.should_see('Dashboard')
    assert user.client.page.resolve_language() == 'en-US'


async def test_the_users_choice_beats_the_browser_and_handlers_speak_it(user: User) -> None:
    user.http_client.headers['Accept-Language'] = 'en-US'
    await user.open('/settings')
    user.find(marker='setting-language').elements.pop().set_value('fr')
    assert app.storage.user[i18n.CHOICE] == 'fr'
    await user.open('/settings')
    await user.should_see('Apparence')
    user.find(marker='new-root').type('/nowhere/at/all')
    user.find(marker='add-root').click()  # a service's sentence, said in the page's language by its handler
    await user.should_see("/nowhere/at/all n'est pas un dossier existant.")
    user.find(marker='setting-language').elements.pop().set_value('')
    assert i18n.CHOICE not in app.storage.user
    await user.open('/settings')
    await user.should_see('Appearance')


async def test_the_translated_pages_show_no_english_and_nothing_outside_the_catalogue(user: User) -> None:
    """A crawl of TRANSLATED_ROUTES in French: every text, label, placeholder, hint, tooltip and option is a French
    sentence of the catalogue (its placeholders filled), the same in both languages, or data: the user's, the
    languages' own names, and the user guide's titles (docs/ and its translations, not the catalogue's)."""
    from services import docs
    user.http_client.headers['Accept-Language'] = 'fr'
    french, english = french_pattern(), english_ids()
    await user.open('/')
    projects = app.studio.projects.all()
    data = {p.name for p in projects} | {p.description for p in projects} | set(i18n.LANGUAGES.values()) | \
        {p.location for p in projects} | {str(app.studio.data_dir), sys.executable} | \
        {t for lang in ('en', 'fr') for c in [*(docs.chapter(g.slug, lang) for g in docs.guide()), docs.chapter(
            docs.FAQ, lang)] for t in (c.title, *(s.title for s in c.sections))}
    wrong = []
    for route in TRANSLATED_ROUTES:
        await user.open(route)
        for where, text in shown(user.client):
            if fine(text, data, french) or all(fine(part, data, french) for part in text.split(' · ')):
                continue  # a whole sentence, or facts joined by " · " (the studio's way of listing them)
            why = 'English left untranslated' if text in english else 'not in the catalogue'
            wrong.append(f'{route} {where}: {text!r} ({why})')
    assert not wrong, '\n'.join(wrong)


@pytest.mark.browser
def test_a_french_browser_gets_the_studio_in_french(browser, served) -> None:
    context = browser.new_context(locale='fr-FR', viewport={'width': 1366, 'height': 860})
    try:
        page = context.new_page()
        page.goto(served.url + '/', wait_until='networkidle')
        drawer = page.locator('.q-drawer')
        assert drawer.get_by_role('link', name='Tableau de bord', exact=True).is_visible()
        assert drawer.get_by_role('link', name='Jeux de données', exact=True).is_visible()
        assert page.title() == 'Tableau de bord · RAVE Studio'
        assert page.locator('html').get_attribute('lang') == 'fr'
        assert page.get_by_text('Cette machine').is_visible()
    finally:
        context.close()
