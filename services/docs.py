"""The user guide and the FAQ: Markdown files in the repository's docs/ folder, read into chapters and
sections, and searched. Help renders them; nothing here knows NiceGUI.

A chapter is one file: its `# Title`, an introduction, then `## Section`s. The FAQ is one chapter whose sections
are the questions. Chapters link to each other as Markdown does (`[Datasets](datasets.md#the-doctor)`); Help
shows such a link as its own address (`help_link`), and `broken_links` lists those that lead nowhere.

A translation lives beside the English as docs/<language>/<same name>.md and is read for a page in that language
(English where a file has none). Its headings carry the English anchors (`## Le docteur {#the-doctor}`), so links,
addresses and search results lead to the same sections in every language.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from services import i18n

DOCS = Path(__file__).resolve().parent.parent / 'docs'
GUIDE = ('getting-started', 'datasets', 'training', 'export', 'explorer', 'command-line', 'files')
FAQ = 'faq'
ELSEWHERE = {'plugins': '/settings/plugins/guide'}  # chapters with a page of their own
LINK = re.compile(r'\[([^\]]*)\]\(([^)\s]+)\)')
ANCHOR = re.compile(r'\s*\{#([a-z0-9-]+)\}$')  # a heading's own anchor: `## Le docteur {#the-doctor}`
SNIPPET = 90  # characters of context on each side of a search hit


@dataclass(frozen=True)
class Section:
    chapter: str  # the file's stem
    title: str
    anchor: str  # unique in its chapter; the element id Help scrolls to
    body: str  # Markdown


@dataclass(frozen=True)
class Chapter:
    slug: str
    title: str
    intro: str  # Markdown before the first section
    sections: tuple[Section, ...]
    language: str = 'en'  # the language it is written in (English where a translation is missing)


@dataclass(frozen=True)
class Hit:
    chapter: Chapter
    section: Section | None  # None: the hit is in the chapter's introduction
    snippet: str  # plain text around the first match


def guide() -> list[Chapter]:
    """The user guide's chapters in reading order, then any other docs/*.md (the areas' own chapters) by name, in
    the page's language."""
    others = sorted(p.stem for p in DOCS.glob('*.md') if p.stem not in (*GUIDE, FAQ, *ELSEWHERE))
    return [chapter(slug) for slug in (*GUIDE, *others)]


def faq() -> Chapter:
    return chapter(FAQ)


def chapter(slug: str, language: str | None = None) -> Chapter:
    """One chapter in `language` (default: the page's), English where it has no translation."""
    return _read(slug, language or i18n.current())


def source(slug: str, language: str | None = None) -> Path:
    """The file a chapter is read from in `language` (default: the page's): its translation, or the English."""
    translated = DOCS / (language or i18n.current()) / f'{slug}.md'
    return translated if translated.is_file() else DOCS / f'{slug}.md'


def text(slug: str, language: str | None = None) -> str:
    """A chapter's Markdown as a page shows it whole (the plugin guide): its headings without their own anchors."""
    path = source(slug, language)
    return re.sub(r'^(#+ .*?)\s*\{#[a-z0-9-]+\}$', r'\1', path.read_text(encoding='utf-8'), flags=re.MULTILINE) \
        if path.is_file() else ''


@cache
def _read(slug: str, language: str) -> Chapter:
    """Read once (the files ship with the studio and do not change while it runs)."""
    path = source(slug, language)
    found = parse(slug, path.read_text(encoding='utf-8'))
    return Chapter(found.slug, found.title, found.intro, found.sections, language if path.parent != DOCS else 'en')


def parse(slug: str, text: str) -> Chapter:
    """A chapter from its Markdown: `# Title`, an introduction, `## Section`s (`### ` ones in a file with no
    `## `, like the settings reference; headings in code blocks are not headings)."""
    title, intro, sections = slug, [], []
    current: list[str] | None = None
    fenced = False
    level = '## ' if re.search(r'^## ', text, re.MULTILINE) else '### '
    for line in text.splitlines():
        if line.startswith('```'):
            fenced = not fenced
        if not fenced and line.startswith('# ') and title == slug and not sections and current is None:
            title = line[2:].strip()
        elif not fenced and line.startswith(level):
            current = [line[len(level):].strip()]
            sections.append(current)
        elif current is not None:
            current.append(line)
        else:
            intro.append(line)
    taken: set[str] = set()
    built = []
    for heading, *body in sections:
        own = ANCHOR.search(heading)
        heading = heading[:own.start()] if own else heading
        anchor = own[1] if own else _anchor(heading, taken)
        taken.add(anchor)
        built.append(Section(slug, heading, anchor, '\n'.join(body).strip()))
    return Chapter(slug, title, '\n'.join(intro).strip(), tuple(built))


def search(query: str, chapters: list[Chapter] | None = None) -> list[Hit]:
    """Sections (and introductions) holding every word of `query`, those with a word in their title first."""
    words = [w for w in re.findall(r'\w+', query.lower()) if len(w) > 1 or w.isdigit()]  # "phase 2" keeps its 2
    if not words:
        return []
    hits: list[tuple[int, int, Hit]] = []
    for order, found in enumerate(chapters if chapters is not None else [*guide(), faq()]):
        places = [(None, found.title, found.intro), *((s, s.title, s.body) for s in found.sections)]
        for section, title, body in places:
            text = f'{title}\n{plain(body)}'.lower()
            if all(w in text for w in words):
                in_title = sum(w in title.lower() for w in words)
                hits.append((-in_title, order, Hit(found, section, _snippet(plain(body), words[0]))))
    return [hit for *_, hit in sorted(hits, key=lambda h: (h[0], h[1]))]


def help_link(href: str) -> str:
    """Where a link of the docs leads in the studio: another chapter (and section) in Help, a FAQ answer, a
    chapter with its own page; anything else (a web address) is left as it is."""
    target, _, anchor = href.partition('#')
    if not target.endswith('.md') or '/' in target:
        return href
    slug = target[:-3]
    if slug in ELSEWHERE:
        return ELSEWHERE[slug]
    if slug == FAQ:
        return f'/help?faq={anchor}' if anchor else '/help?faq='
    return f'/help?doc={slug}' + (f'&section={anchor}' if anchor else '')


def for_help(markdown: str) -> str:
    """Markdown with its links between chapters turned into Help's addresses."""
    return LINK.sub(lambda m: f'[{m[1]}]({help_link(m[2])})', markdown)


def broken_links() -> list[str]:
    """'file: link' for each link between chapters whose file or section does not exist (translations included:
    their links name the English files and anchors)."""
    return [f'{path.relative_to(DOCS)}: {href}' for path in sorted([*DOCS.glob('*.md'), *DOCS.glob('*/*.md')])
            for _, href in LINK.findall(path.read_text(encoding='utf-8'))
            if '://' not in href and not href.startswith('mailto:') and not _leads_somewhere(path, href)]


def unmatched_translations() -> list[str]:
    """Translated files whose sections are not the English file's (the same anchors in the same order), or that
    translate no English file: their links and addresses would lead elsewhere."""
    wrong = []
    for path in sorted(DOCS.glob('*/*.md')):
        english = DOCS / path.name
        if not english.is_file():
            wrong.append(f'{path.relative_to(DOCS)}: no {path.name} in English')
            continue
        ours, theirs = ([s.anchor for s in parse(path.stem, p.read_text(encoding='utf-8')).sections]
                        for p in (path, english))
        if ours != theirs:
            wrong.append(f'{path.relative_to(DOCS)}: sections {ours}, the English {theirs}')
    return wrong


def plain(markdown: str) -> str:
    """Markdown as the words a reader sees (for search and snippets)."""
    text = re.sub(r'^```.*$', ' ', markdown, flags=re.MULTILINE)  # the fences, not the code: commands are searched
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', text)
    return ' '.join(re.sub(r'[`*_#>|]', ' ', text).split())


def _snippet(text: str, word: str) -> str:
    at = text.lower().find(word)
    if at < 0:
        return text[:2 * SNIPPET]
    start, end = max(0, at - SNIPPET), min(len(text), at + SNIPPET)
    return ('…' if start else '') + text[start:end].strip() + ('…' if end < len(text) else '')


def _anchor(heading: str, taken: set[str]) -> str:
    base = re.sub(r'[^a-z0-9]+', '-', heading.lower()).strip('-') or 'section'
    anchor, n = base, 2
    while anchor in taken:
        anchor, n = f'{base}-{n}', n + 1
    taken.add(anchor)
    return anchor


def _leads_somewhere(path: Path, href: str) -> bool:
    target, _, anchor = href.partition('#')
    found = DOCS / (target or path.name)
    if '/' in target or not found.is_file():
        return False
    return not anchor or anchor in {s.anchor for s in parse(found.stem, found.read_text(encoding='utf-8')).sections}
