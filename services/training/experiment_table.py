"""The experiments table as SQL: one query per page (filters, search, sort, paging and the total count through
a window function), and the figures each run keeps in its row so the table sorts without reading metrics.

Search words match the name, description, notes, tags and configs; a word `key=value` matches a parameter:
a model value (`capacity=64`, `ratios=[4,2,2,2]`) as the run set it or, when it did not, as its base config
sets it; or a choice of the run (`batch=8`, `n_signal=65536`, `base=v2`).
"""
from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import json
import math
from dataclasses import dataclass

import peewee as pw

from services.i18n import _
from services.store import Dataset, Job, Project, Run
from services.training import configs
from services.training.metrics import Series
from services.training.model_values import MODEL_KEYS, gin_text
from services.training.spec import RunSpec

SORTS = {'name': Run.name, 'status': Run.status, 'dataset': Dataset.name, 'configs': Run.configs,
         'steps': Run.step, 'best_validation': Run.best_validation, 'last_loss': Run.last_loss,
         'duration': Run.seconds, 'created': Run.created, 'tags': Run.tags}
PER_PAGE = 50
_SPEC_KEYS = {f.name for f in dataclasses.fields(RunSpec)} - {'name', 'description', 'macros', 'bindings'}


@dataclass(frozen=True)
class TableQuery:
    """What the table shows: filters, search words, sort and page."""
    search: str = ''
    status: tuple[str, ...] = ()
    dataset: tuple[int, ...] = ()
    config: str = ''  # a base config or add-on the run uses
    tag: str = ''
    since: dt.date | None = None  # created on or after
    until: dt.date | None = None  # created on or before
    archived: bool = False  # the archive (only archived runs) instead of the runs in use
    all_projects: bool = False
    sort: str = 'created'
    descending: bool = True
    page: int = 0
    per_page: int = PER_PAGE

    def replace(self, **changes) -> TableQuery:
        return dataclasses.replace(self, **changes)


class SearchError(ValueError):
    """A search word that cannot be read, with a sentence saying how to write it."""


def select(query: TableQuery, project_ids: list[int]) -> pw.ModelSelect:
    """The page's rows (Run with `dataset_name`, `project_name`, `total`) as one query."""
    if query.sort not in SORTS:
        raise SearchError(_('The table cannot sort by {column}.').format(column=repr(query.sort)))
    order = SORTS[query.sort].desc(nulls='LAST') if query.descending else SORTS[query.sort].asc(nulls='LAST')
    rows = (Run.select(Run, Dataset.name.alias('dataset_name'), Project.name.alias('project_name'),
                       pw.fn.COUNT(pw.SQL('*')).over().alias('total'))
            .join(Dataset, pw.JOIN.LEFT_OUTER, on=(Run.dataset == Dataset.id)).switch(Run)
            .join(Project, on=(Run.project == Project.id))
            .where(*conditions(query, project_ids))
            .order_by(order, Run.id.desc())
            .paginate(query.page + 1, query.per_page))
    return rows.objects()


def rows_of(run_ids: list[int]) -> pw.ModelSelect:
    """The given runs as table rows (with the names the table joins)."""
    return (Run.select(Run, Dataset.name.alias('dataset_name'), Project.name.alias('project_name'))
            .join(Dataset, pw.JOIN.LEFT_OUTER, on=(Run.dataset == Dataset.id)).switch(Run)
            .join(Project, on=(Run.project == Project.id)).where(Run.id.in_(run_ids)).objects())


def conditions(query: TableQuery, project_ids: list[int]) -> list:
    out = [Run.project.in_(project_ids), Run.archived == query.archived]
    if query.status:
        out.append(Run.status.in_(query.status))
    if query.dataset:
        out.append(Run.dataset.in_(query.dataset))
    if query.config:
        out.append(_contains(Run.configs, query.config))
    if query.tag:
        out.append(_contains(Run.tags, query.tag))
    if query.since:
        out.append(Run.created >= dt.datetime.combine(query.since, dt.time()))
    if query.until:
        out.append(Run.created < dt.datetime.combine(query.until + dt.timedelta(days=1), dt.time()))
    out += [_word(w) for w in query.search.split()]
    return out


def figures(run: Run, series: Series, seconds: float | None = None) -> None:
    """Keep the run's best validation, last loss and training time (its jobs' running time unless given)
    in its row."""
    values = series.values.get('val/validation')
    finite = [v for v in (values or ()) if math.isfinite(v)]
    run.best_validation = min(finite) if finite else run.best_validation
    run.last_loss = series.latest('loss') if series.latest('loss') is not None else run.last_loss
    if seconds is None:
        jobs = Job.select(Job.started, Job.ended).where(Job.id.in_(run.params.get('jobs') or []))
        spans = [(j.ended - j.started).total_seconds() for j in jobs if j.started and j.ended]
        seconds = (run.params.get('imported_seconds') or 0) + sum(spans) if spans else run.seconds
    run.seconds = seconds
    run.save(only=[Run.best_validation, Run.last_loss, Run.seconds])


# ---- helpers ----------------------------------------------------------------------------------------------
def _contains(column: pw.Field, value: str) -> pw.Node:
    """A JSON list column holds `value` (SQLite's json_each)."""
    return pw.NodeList((pw.SQL('EXISTS (SELECT 1 FROM json_each('), column,
                        pw.SQL(') WHERE value = ?)', (value,))), glue='')


def _word(word: str) -> pw.Expression:
    key, sep, raw = word.partition('=')
    if sep and key:
        return _parameter(key.strip(), raw.strip())
    like = f'%{word}%'
    return (Run.name ** like) | (Run.notes ** like) | (Run.tags ** like) | (Run.configs ** like) | \
        (pw.fn.json_extract(Run.params, '$.spec.description') ** like)


def _parameter(key: str, raw: str) -> pw.Expression:
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw  # a word: a config name, a device
    model_key = next((k for k in MODEL_KEYS if key.lower() in (k.lower(), k.rsplit('.', 1)[-1].lower())), None)
    if model_key is not None:
        written = pw.fn.json_extract(Run.params, f'$.spec.macros."{model_key}"')
        bases = [c.name for c in configs.catalogue() if c.kind == 'base'
                 and gin_text(c.values.get(model_key.rsplit('.', 1)[-1])) == gin_text(value)]
        by_base = written.is_null() & pw.fn.json_extract(Run.configs, '$[0]').in_(bases)
        return (written == _json(value)) | by_base
    if key in _SPEC_KEYS:
        field = pw.fn.json_extract(Run.params, f'$.spec.{key}')
        return field.in_([_json(v) for v in value]) if isinstance(value, tuple) else (field == _json(value))
    raise SearchError(_('{key} is not a parameter the search knows: use a model value ({values}, …) or a choice '
                        'such as batch or n_signal, e.g. capacity=64.')
                      .format(key=key, values=', '.join(k.lower() for k in MODEL_KEYS[:5])))


def _json(value):
    """How json_extract returns a value: numbers and strings as they are, lists as compact JSON text."""
    return json.dumps(value, separators=(',', ':')) if isinstance(value, (list, dict)) else value
