"""The one question before gin code runs: custom configs and extra bindings can import and call Python."""
from __future__ import annotations

from components import cards
from services.i18n import _
from services.training import CODE_WARNING


async def confirm(title: str, lines: list[str] = ()) -> bool:
    """Ask once whether this gin code may run on this machine; True when the user says yes (asked again later
    only if declined)."""
    return await cards.confirm(title, _(CODE_WARNING), yes=_('Run it'), icon='terminal', color='warning',
                               details=lines, mark='code')
