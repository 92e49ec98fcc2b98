"""Cloud copies as jobs of the engine: their console's progress lines, and their state in words."""
from __future__ import annotations

import json

from services import formatting
from services.hookspecs import JobKind

PREFIX = '[cloud] {'


def parse_cloud(line: str) -> dict | None:
    """`[cloud] {"done": …, "total": …, "file": …}` → those keys."""
    if not line.startswith(PREFIX):
        return None
    try:
        event = json.loads(line[len('[cloud] '):])
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def describe(state) -> None:
    done, total = state.last.get('done'), state.last.get('total')
    if not total:
        return
    state.progress = min(1.0, done / total)
    state.detail = f'{formatting.size(done)} of {formatting.size(total)} · {state.last.get("file", "")}'


KIND = JobKind('cloud', parse=parse_cloud, describe=describe)
