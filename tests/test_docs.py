"""Everything a user or plugin author can name is documented: every hook (with its signature) and every type
a hook returns in docs/plugins.md, every setting in docs/settings.md."""
from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from services import hookspecs
from services.plugins import CONTRIBUTIONS, ExportCheck
from services.settings import DOCS as SETTINGS

DOCS = Path(__file__).resolve().parent.parent / 'docs'


def headings(text: str) -> set[str]:
    return {h.strip('`') for h in re.findall(r'^#{2,4} +(.+?)\s*$', text, re.MULTILINE)}


@pytest.fixture(scope='module')
def guide() -> str:
    return (DOCS / 'plugins.md').read_text()


@pytest.mark.parametrize('hook', sorted(CONTRIBUTIONS))
def test_every_hook_is_documented_with_its_signature(guide: str, hook: str) -> None:
    arguments = ', '.join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f'{hook}({arguments})' in headings(guide)
    said = ' '.join(guide.replace('`', '').split())
    assert getattr(hookspecs, hook).__doc__.strip() in said  # its one-line docstring opens its section


@pytest.mark.parametrize('kind', [*CONTRIBUTIONS.values(), ExportCheck], ids=lambda kind: kind.__name__)
def test_every_type_a_hook_returns_is_documented_field_by_field(guide: str, kind: type) -> None:
    assert f'`{kind.__name__}`' in guide
    for field in dataclasses.fields(kind):
        assert f'`{field.name}`' in guide, f'{kind.__name__}.{field.name}'


@pytest.mark.parametrize('setting', SETTINGS, ids=lambda doc: doc.key)
def test_every_setting_is_documented(setting) -> None:
    assert setting.key in headings((DOCS / 'settings.md').read_text())
