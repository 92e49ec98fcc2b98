"""The documentation browser Help shows: the user guide's chapters beside their text, the FAQ as questions that
open, and search results that lead into either (services/docs.py reads and searches the Markdown)."""
from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from services.docs import Chapter, Hit, for_help
from services.i18n import _, ngettext

PROSE = 'w-full text-sm leading-relaxed max-w-3xl'


class GuideView:
    """Chapters listed on the left, the chosen one on the right; `show(slug, anchor)` opens one at a section."""

    def __init__(self, chapters: list[Chapter]) -> None:
        self.chapters = {c.slug: c for c in chapters}
        with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-[13rem_minmax(0,1fr)] gap-6'):
            with ui.column().classes('gap-1').props('role=navigation aria-label="%s"' % _('User guide chapters')):
                self.links = {slug: ui.button(c.title, on_click=lambda s=slug: self.show(s))
                              .props('flat no-caps align=left').classes('w-full justify-start')
                              .mark(f'chapter-{slug}') for slug, c in self.chapters.items()}
            self.page = ui.column().classes('gap-3 min-w-0').mark('chapter')
        self.show(next(iter(self.chapters)))

    def show(self, slug: str, anchor: str | None = None) -> None:
        chapter = self.chapters.get(slug) or next(iter(self.chapters.values()))
        for other, link in self.links.items():
            link.props(f'color={"primary" if other == chapter.slug else "grey-8"}')
        self.page.clear()
        with self.page:
            ui.label(chapter.title).classes('text-xl font-semibold').props('role=heading aria-level=2')
            if chapter.intro:
                ui.markdown(for_help(chapter.intro)).classes(PROSE)
            for section in chapter.sections:
                ui.label(section.title).classes('text-base font-semibold mt-2') \
                    .props(f'id=guide-{chapter.slug}-{section.anchor} role=heading aria-level=3')
                ui.markdown(for_help(section.body)).classes(PROSE)
        if anchor:
            scroll_to(f'guide-{chapter.slug}-{anchor}')


class FaqView:
    """Each question as a fold-out answer; `show(anchor)` opens one and scrolls to it."""

    def __init__(self, faq: Chapter) -> None:
        self.answers: dict[str, ui.expansion] = {}
        with ui.column().classes('w-full gap-1').mark('faq'):
            if faq.intro:
                ui.markdown(for_help(faq.intro)).classes(PROSE + ' text-gray-600 dark:text-gray-300')
            for section in faq.sections:
                with ui.expansion(section.title, icon='help_outline').classes('w-full') \
                        .props(f'id=faq-{section.anchor} header-class="font-medium"') \
                        .mark(f'faq-{section.anchor}') as answer:
                    ui.markdown(for_help(section.body)).classes(PROSE)
                self.answers[section.anchor] = answer

    def show(self, anchor: str | None) -> None:
        if anchor in self.answers:
            self.answers[anchor].open()
            scroll_to(f'faq-{anchor}')


def results(hits: list[Hit], query: str, on_pick: Callable[[Hit], None]) -> None:
    """The search's hits, each a link into the guide or the FAQ."""
    if not hits:
        ui.label(_('Nothing in the guide or the FAQ mentions “{query}”. Try another word.').format(query=query)) \
            .classes('text-sm text-gray-500').mark('no-hits')
        return
    ui.label(ngettext('{count} place in the guide and the FAQ', '{count} places in the guide and the FAQ',
                      len(hits)).format(count=len(hits))) \
        .classes('text-xs text-gray-500')
    for hit in hits[:20]:
        with ui.column().classes('w-full gap-0 rounded-lg px-3 py-2 cursor-pointer hover:bg-primary/10') \
                .on('click', lambda h=hit: on_pick(h)).props('role=link tabindex=0') \
                .on('keydown.enter', lambda h=hit: on_pick(h)) \
                .mark('hit', f'hit-{hit.chapter.slug}' + (f'-{hit.section.anchor}' if hit.section else '')):
            where = hit.chapter.title + (f' › {hit.section.title}' if hit.section else '')
            ui.label(where).classes('text-sm font-medium text-primary')
            ui.label(hit.snippet).classes('text-xs text-gray-600 dark:text-gray-300')


def scroll_to(element_id: str) -> None:
    ui.run_javascript(f'setTimeout(() => document.getElementById("{element_id}")'
                      '?.scrollIntoView({behavior: "smooth", block: "start"}), 50)')
