"""The kinds of job the engine knows: each one's console parser, describer, finish hooks and whether its worker
pauses itself, as its area (or a plugin) declared them (services/hookspecs.JobKind).

Sources of kinds are registered lazily (`kinds_from`): the areas that declare them are made, and their modules
imported, when a job first needs its kind (submitted, reattached, read, finished), so the studio starts without
them."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from services.hookspecs import JobKind
from services.jobs.state import Describer, FinishHandler


class JobKinds:
    def __init__(self) -> None:
        self._cooperative: set[str] = set()
        self._on_finish: dict[str, list[FinishHandler]] = {}
        self._describers: dict[str, Describer] = {}
        self._parsers: dict[str, str] = {}  # kind → 'module:function' the runner imports to read its console
        self._sources: list[Callable[[], Iterable[JobKind]]] = []
        self._lock = threading.RLock()  # (a source that makes an area may ask about a kind again)

    def register(self, kind: JobKind) -> None:
        if kind.parse is not None:
            self._parsers[kind.name] = f'{kind.parse.__module__}:{kind.parse.__qualname__}'
        if kind.describe is not None:
            self._describers[kind.name] = kind.describe
        if kind.on_finish is not None:
            self._on_finish.setdefault(kind.name, []).append(kind.on_finish)
        if kind.cooperative:
            self._cooperative.add(kind.name)

    def kinds_from(self, source: Callable[[], Iterable[JobKind]]) -> None:
        with self._lock:
            self._sources.append(source)

    def parser_of(self, kind: str) -> str:
        return self._known()._parsers.get(kind, '')

    def describer_of(self, kind: str) -> Describer | None:
        return self._known()._describers.get(kind)

    def finishers_of(self, kind: str) -> list[FinishHandler]:
        return self._known()._on_finish.get(kind, [])

    @property
    def cooperative(self) -> set[str]:
        return self._known()._cooperative

    def _known(self) -> JobKinds:
        with self._lock:
            while self._sources:
                for kind in self._sources.pop(0)():
                    self.register(kind)
        return self
