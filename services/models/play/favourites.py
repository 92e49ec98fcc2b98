"""The favourites library of a project: latent points, paths drawn on a map, slider automations and generation
presets, each with a name and tags (the `favourite` table, migration 6)."""
from __future__ import annotations

import math

from services.i18n import N_, lazy
from services.models.play.views import FavouriteView
from services.store import Favourite, Project

KINDS = {'point': 'latent point', 'path': 'path', 'automation': 'slider automation', 'preset': 'preset'}
NAME_IT = {'point': N_('Give the latent point a name.'), 'path': N_('Give the path a name.'),
           'automation': N_('Give the slider automation a name.'), 'preset': N_('Give the preset a name.')}
MAX_VALUES = 200_000  # numbers one favourite may hold (a path of 2 000 points in 64 dimensions, with room)


class FavouriteError(ValueError):
    """A favourite that cannot be kept, with a sentence saying what to change."""


class FavouriteStore:
    def add(self, project: Project, kind: str, name: str, data: dict, tags: tuple[str, ...] = (),
            model: str = '') -> FavouriteView:
        if kind not in KINDS:
            raise FavouriteError(lazy('A favourite is a {kinds}, not {kind!r}.',
                                      kinds=', '.join(KINDS.values()), kind=kind))
        name = (name or '').strip()
        if not name:
            raise FavouriteError(lazy(NAME_IT[kind]))
        if _count(data) > MAX_VALUES:
            raise FavouriteError(lazy('That favourite holds more than {most} numbers; keep a shorter one.',
                                      most=MAX_VALUES))
        if not _finite(data):
            raise FavouriteError(lazy('That favourite holds NaN or infinite values.'))
        row = Favourite.create(project=project, kind=kind, name=name[:120], tags=clean_tags(tags), model=model,
                               data=data)
        return FavouriteView.of(row)

    def list(self, project: Project, kind: str | None = None, tag: str = '') -> list[FavouriteView]:
        """The project's favourites, newest first, of one kind and carrying one tag when asked."""
        query = Favourite.select().where(Favourite.project == project)
        if kind:
            query = query.where(Favourite.kind == kind)
        views = [FavouriteView.of(r) for r in query.order_by(Favourite.created.desc(), Favourite.id.desc())]
        return [v for v in views if not tag or tag in v.tags]

    def get(self, project: Project, favourite_id: int) -> FavouriteView | None:
        row = Favourite.get_or_none((Favourite.id == favourite_id) & (Favourite.project == project))
        return FavouriteView.of(row) if row else None

    def retag(self, project: Project, favourite_id: int, name: str, tags: tuple[str, ...]) -> FavouriteView:
        row = Favourite.get_or_none((Favourite.id == favourite_id) & (Favourite.project == project))
        if row is None:
            raise FavouriteError(lazy('That favourite is gone.'))
        if not (name or '').strip():
            raise FavouriteError(lazy('Give it a name.'))
        row.name, row.tags = name.strip()[:120], clean_tags(tags)
        row.save()
        return FavouriteView.of(row)

    def delete(self, project: Project, favourite_id: int) -> None:
        Favourite.delete().where((Favourite.id == favourite_id) & (Favourite.project == project)).execute()

    def tags(self, project: Project) -> list[str]:
        return sorted({t for v in self.list(project) for t in v.tags})


def clean_tags(tags) -> list[str]:
    """Tags as typed ('drone, dark  pad'), trimmed, lower-cased, each once, in order."""
    if isinstance(tags, str):
        tags = tags.replace(',', ' ').split()
    return list(dict.fromkeys(t.strip().lower()[:40] for t in tags if t and t.strip()))


def _count(value) -> int:
    if isinstance(value, dict):
        return sum(_count(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(_count(v) for v in value) or 1
    return 1


def _finite(value) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)
