"""The user guide and the FAQ: Markdown in docs/, read into chapters, searched, rendered in Help with their links
between chapters working, and a FAQ that answers what RAVE users ask most (RAVE_NOTES §8)."""
from __future__ import annotations

import re

from nicegui import ui
from nicegui.testing import User
from waiting import until

from services import docs, i18n

ASKED = {  # what RAVE users ask most → words its FAQ question must hold
    'training time': ('how long',), 'is this normal': ('normal',), 'phase 2 jumps': ('phase 2', 'jump'),
    'a silent model in nn~': ('silent', 'nn~'), 'stereo export': ('stereo',), 'GPU memory': ('gpu memory',),
    'latent size / fidelity': ('latent dimensions',), 'small datasets': ('small',), 'resume': ('resume',),
    'sample-rate pitfalls': ('sampling rate',),
}


def test_every_chapter_reads_with_a_title_and_sections() -> None:
    for chapter in [*docs.guide(), docs.faq()]:
        assert chapter.title != chapter.slug and chapter.sections, chapter.slug
        assert all(s.body for s in chapter.sections), chapter.slug
        assert len({s.anchor for s in chapter.sections}) == len(chapter.sections)
    assert [c.slug for c in docs.guide()][:len(docs.GUIDE)] == list(docs.GUIDE)


def test_no_link_between_chapters_is_broken(tmp_path, monkeypatch) -> None:
    assert docs.broken_links() == []
    (tmp_path / 'a.md').write_text('# A\n\n## One\n\n[b](b.md) [two](a.md#two) [one](#one) [web](https://x.org)\n')
    (tmp_path / 'fr').mkdir()
    (tmp_path / 'fr' / 'a.md').write_text('# A\n\n## Un {#one}\n\n[un](#one) [deux](a.md#two) [b](fr/b.md)\n')
    monkeypatch.setattr(docs, 'DOCS', tmp_path)
    assert docs.broken_links() == ['a.md: b.md', 'a.md: a.md#two', 'fr/a.md: a.md#two', 'fr/a.md: fr/b.md']
    assert docs.unmatched_translations() == []
    (tmp_path / 'fr' / 'a.md').write_text('# A\n\n## Un\n')  # its anchor lost: 'un', not 'one'
    (tmp_path / 'fr' / 'c.md').write_text('# C\n')
    assert docs.unmatched_translations() == ["fr/a.md: sections ['un'], the English ['one']",
                                             'fr/c.md: no c.md in English']


def test_a_french_page_reads_the_french_chapters_at_the_english_anchors() -> None:
    """Each translation has the English file's sections (so links, addresses and search results lead to the same
    places); a French page reads it, an English one the English; a chapter without one falls back to English."""
    assert docs.unmatched_translations() == []
    translated = sorted(p.stem for p in (docs.DOCS / 'fr').glob('*.md'))
    assert translated, 'no French chapter in docs/fr/'
    for slug in translated:
        english, french = docs.chapter(slug, 'en'), docs.chapter(slug, 'fr')
        assert french.language == 'fr' and english.language == 'en'
        assert [s.body for s in french.sections] != [s.body for s in english.sections], f'{slug}: not translated'
        assert [s.anchor for s in french.sections] == [s.anchor for s in english.sections]
        assert '{#' not in ' '.join(s.title for s in french.sections)
    with i18n.speaking('fr'):
        assert docs.faq().language == ('fr' if 'faq' in translated else 'en')
        whole = docs.text('plugins')  # the plugin guide's page shows the file whole: no anchor in sight
    assert whole.startswith('# ') and whole != docs.text('plugins', 'en') and '{#' not in whole


def test_links_lead_to_help_pages() -> None:
    assert docs.help_link('datasets.md') == '/help?doc=datasets'
    assert docs.help_link('training.md#the-two-phases') == '/help?doc=training&section=the-two-phases'
    assert docs.help_link('faq.md#can-i-make-a-stereo-model') == '/help?faq=can-i-make-a-stereo-model'
    assert docs.help_link('plugins.md') == '/settings/plugins/guide'
    assert docs.help_link('https://www.youtube.com/watch?v=dMZs04TzxUI').startswith('https://')
    assert '](/help?doc=files)' in docs.for_help('see [Where files live](files.md).')


def test_the_only_web_links_are_the_videos_rave_s_readme_links() -> None:
    found = {href for path in docs.DOCS.glob('*.md') if path.stem not in docs.ELSEWHERE
             for _, href in docs.LINK.findall(path.read_text()) if '://' in href}
    assert found == {'https://www.youtube.com/watch?v=dMZs04TzxUI', 'https://www.youtube.com/watch?v=jAIRf4nGgYI'}


def test_the_faq_answers_what_rave_users_ask() -> None:
    questions = [s.title.lower() for s in docs.faq().sections]
    for topic, words in ASKED.items():
        assert any(all(w in q for w in words) for q in questions), topic


def test_search_finds_every_word_titles_first() -> None:
    hits = docs.search('phase 2')
    assert hits and hits[0].section is not None and 'phase 2' in hits[0].section.title.lower()
    assert {h.chapter.slug for h in hits} >= {'faq', 'training'}
    for hit in hits:
        place = hit.section or hit.chapter
        assert 'phase' in f'{place.title} {docs.plain(getattr(place, "body", None) or hit.chapter.intro)}'.lower()
    assert docs.search('rave preprocess')  # commands in code blocks are searched
    assert docs.search('zyxwvut') == [] and docs.search(' ') == []


async def test_help_shows_a_chapter_at_its_section_and_its_links_work(user: User) -> None:
    await user.open('/help?doc=training&section=the-two-phases')
    await user.should_see(marker='chapter')
    await user.should_see('The two phases')
    await user.should_see('Watching a run')
    chapter = next(iter(user.find(marker='chapter').elements))
    shown = ' '.join(m.content for m in chapter.descendants() if isinstance(m, ui.markdown))
    assert '(/help?faq=is-this-normal-the-validation-loss-goes-up-and-down)' in shown
    user.find(marker='chapter-datasets').click()
    await user.should_see('What the doctor checks')


async def test_help_search_leads_into_the_faq(user: User) -> None:
    await user.open('/help')
    user.find(marker='help-search').type('stereo')
    await user.should_see(marker='hit')
    assert len(user.find(marker='hit').elements) >= 2
    user.find(marker='hit-faq-can-i-make-a-stereo-model').click()
    answer = next(iter(user.find(marker='faq-can-i-make-a-stereo-model').elements))
    await until(lambda: answer.value)
    user.find(marker='help-search').clear().type('zyxwvut')
    await user.should_see(marker='no-hits')


async def test_help_opens_a_faq_answer(user: User) -> None:
    await user.open('/help?faq=how-much-gpu-memory-do-i-need')
    await user.should_see(marker='faq-how-much-gpu-memory-do-i-need')
    answer = next(iter(user.find(marker='faq-how-much-gpu-memory-do-i-need').elements))
    assert answer.value is True
    assert re.search('out of memory', ' '.join(m.content for m in answer.descendants() if isinstance(m, ui.markdown)))


async def test_a_french_reader_gets_the_french_chapter_at_the_same_address_and_searches_it(user: User) -> None:
    """The same address (chapter, English anchor) in French: the French text, its links still leading into Help;
    a French word finds the French section."""
    user.http_client.headers['Accept-Language'] = 'fr-FR,fr;q=0.9'
    french = docs.chapter('training', 'fr')
    assert french.language == 'fr', 'docs/fr/training.md is missing'
    phases = next(s for s in french.sections if s.anchor == 'the-two-phases')
    await user.open('/help?doc=training&section=the-two-phases')
    await user.should_see(phases.title)
    await user.should_not_see('The two phases')
    chapter = next(iter(user.find(marker='chapter').elements))
    shown = ' '.join(m.content for m in chapter.descendants() if isinstance(m, ui.markdown))
    assert '(/help?' in shown and '.md)' not in shown and '.md#' not in shown
    word = max(re.findall(r'\w+', phases.title), key=len)
    with i18n.speaking('fr'):
        hits = docs.search(word)
    assert any(h.section is not None and h.section.anchor == 'the-two-phases' for h in hits)
