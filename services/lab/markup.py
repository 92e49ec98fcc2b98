"""Markdown people write (comments) as safe HTML: raw HTML is shown as text, links and images keep only web,
mail and in-studio addresses, and @mentions of members link to them on the team view."""
from __future__ import annotations

import re
from collections.abc import Iterable
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

MENTION = re.compile(r'(?<![\w@/])@([A-Za-z0-9][A-Za-z0-9._-]{0,39})')
SAFE_URL = re.compile(r'^(https?://|mailto:|/(?!/)|#)', re.IGNORECASE)


def mentions(text: str, members: Iterable[str]) -> list[str]:
    """The members a text names with @, in order, once each."""
    known = set(members)
    return list(dict.fromkeys(m.rstrip('.') for m in MENTION.findall(text or '') if m.rstrip('.') in known))


def render(text: str, members: Iterable[str] = ()) -> str:
    """The text's HTML: Markdown without raw HTML, unsafe links dropped, mentions linked."""
    named = set(mentions(text, members))
    linked = MENTION.sub(lambda m: f'[@{m[1]}](/team#{m[1]})' if m[1] in named else m[0], text or '')
    return markdown.markdown(linked, extensions=[_Safe(), 'fenced_code', 'sane_lists'], output_format='html')


class _Safe(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.deregister('html_block')  # raw HTML blocks become text
        md.inlinePatterns.deregister('html')  # and inline tags too
        md.treeprocessors.register(_SafeLinks(md), 'safe_links', 0)


class _SafeLinks(Treeprocessor):
    def run(self, root: Element) -> None:
        for element in root.iter():
            for attribute in ('href', 'src'):
                value = element.get(attribute)
                if value is not None and not SAFE_URL.match(value.strip()):
                    del element.attrib[attribute]
            if element.tag == 'a' and element.get('href', '').startswith('http'):
                element.set('rel', 'noopener noreferrer nofollow')
                element.set('target', '_blank')
