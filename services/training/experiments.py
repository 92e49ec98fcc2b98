"""Experiments: every run of a project as one table (sort, filter, search, pages), their tags, notes and
archive, and the comparison of runs side by side.

`Experiments` is the facade pages use: it checks the acting user first and returns frozen views. The table is
one SQL query per page (`experiment_table.py`); a comparison reads the runs' metric series (`compare.py`).
"""
from __future__ import annotations

import json
from pathlib import Path

import peewee as pw

from services import access, formatting
from services.access import Action, Actor
from services.events import RunChanged
from services.i18n import _
from services.lab import history
from services.store import Checkpoint, Dataset, Project, Run, RunAttempt
from services.training import compare, experiment_table, operative
from services.training.compare import Comparison
from services.training.experiment_table import SearchError, TableQuery
from services.training.imported import FIGURES_READ
from services.training.runs import TrainingError, TrainingService, spec_of
from services.training.views import DeviceTime, ExperimentPage, ExperimentRow, Machine, MetricsView, RunDetails

__all__ = ['Comparison', 'Experiments', 'SearchError', 'TableQuery']

MAX_TAGS = 20
MAX_NOTES = 20_000  # characters of Markdown
MAX_GIN = 200_000  # characters of an operative config.gin shown


@access.acts
class Experiments:
    """The project's runs as experiments, as the acting user may see and annotate them."""

    def __init__(self, engine: TrainingService, actor: Actor) -> None:
        self._engine = engine
        self.actor = actor

    # ---- the table ------------------------------------------------------------------------------
    def table(self, project_id: int, query: TableQuery = TableQuery()) -> ExperimentPage:
        """One page of the project's runs (or, with `query.all_projects`, of every project the user may read)
        filtered, searched and sorted as asked: one query. SearchError says what a search word lacks."""
        access.require(self.actor, Action.READ, project_id)
        ids = [p.id for p in Project.select(Project.id) if access.allowed(self.actor, Action.READ, p.id)] \
            if query.all_projects else [project_id]
        self._adopt(ids)
        rows = list(experiment_table.select(query, ids))
        total = rows[0].total if rows else self._count(query, ids)
        return ExperimentPage(tuple(ExperimentRow.of(r) for r in rows), total, query.page, query.per_page)

    def table_rows(self, run_ids: list[int]) -> list[ExperimentRow]:
        """The given runs as table rows, in the order asked (runs that are gone are left out)."""
        for run_id in run_ids:
            self._run(run_id, Action.READ)
        by_id = {r.id: ExperimentRow.of(r) for r in experiment_table.rows_of(run_ids)}
        return [by_id[i] for i in run_ids if i in by_id]

    def choices(self, project_id: int) -> dict[str, list]:
        """What the table's filters offer: the project's statuses, datasets (id, name), configs and tags."""
        access.require(self.actor, Action.READ, project_id)
        runs = Run.select(Run.status, Run.configs, Run.tags).where(Run.project == project_id)
        statuses, configs_, tags = set(), set(), set()
        for run in runs:
            statuses.add(run.status)
            configs_.update(run.configs or ())
            tags.update(run.tags or ())
        datasets = [(d.id, d.name) for d in Dataset.select(Dataset.id, Dataset.name)
                    .where(Dataset.project == project_id).order_by(Dataset.name)]
        return {'status': sorted(statuses), 'dataset': datasets, 'config': sorted(configs_),
                'tag': sorted(tags, key=str.lower)}

    # ---- comparing ------------------------------------------------------------------------------
    def compare(self, run_ids: list[int]) -> Comparison:
        """2–20 runs (of projects the user may read) side by side: parameters, metrics' best and last values,
        steps per second."""
        ids = list(dict.fromkeys(int(i) for i in run_ids))
        if not compare.MIN_RUNS <= len(ids) <= compare.MAX_RUNS:
            raise TrainingError(_('Pick {low} to {high} runs to compare ({count} picked).')
                                .format(low=compare.MIN_RUNS, high=compare.MAX_RUNS, count=len(ids)))
        runs = [self._run(i, Action.READ) for i in ids]
        rows = tuple(self.table_rows(ids))
        datasets = {r.dataset_id: row.dataset for r, row in zip(runs, rows, strict=True) if r.dataset_id}
        series = [self._series(r) for r in runs]
        return Comparison(rows, tuple(compare.parameters([spec_of(r) for r in runs], datasets)),
                          tuple(compare.metric_rows(series)),
                          tuple(compare.steps_per_second(r.steps, r.seconds) for r in rows))

    def overlay(self, run_ids: list[int], key: str, smoothing: float = 0.0, axis: str = 'step'
                ) -> list[compare.Trace]:
        """Each run's curve of one metric, thinned for a chart (smoothed with TensorBoard's EMA weight), on the
        step axis or (`axis='time'`) in wall-clock hours since each run's first step."""
        runs = [self._run(i, Action.READ) for i in dict.fromkeys(run_ids)]
        return compare.overlay([(r.id, r.name, self._series(r)) for r in runs], key,
                               min(max(float(smoothing), 0.0), 0.999), axis='time' if axis == 'time' else 'step')

    # ---- tags, notes, archive --------------------------------------------------------------------
    def set_tags(self, run_id: int, tags: list[str]) -> tuple[str, ...]:
        """The run's tags: words without spaces (they are filtered on as a whole), each kept once."""
        run = self._run(run_id, Action.EDIT)
        clean = list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))
        if any(len(t) > 40 or ' ' in t for t in clean):
            raise TrainingError(_('A tag is one word of at most 40 characters, e.g. "baseline" or "drums-v2".'))
        if len(clean) > MAX_TAGS:
            raise TrainingError(_('A run holds at most {count} tags.').format(count=MAX_TAGS))
        run.tags = clean
        run.save(only=[Run.tags])
        self._changed(run)
        return tuple(clean)

    def set_notes(self, run_id: int, notes: str) -> None:
        """The run's notes, in Markdown."""
        run = self._run(run_id, Action.EDIT)
        if len(notes or '') > MAX_NOTES:
            raise TrainingError(_('Notes are at most {count} characters: link a longer document instead.')
                                .format(count=formatting.count(MAX_NOTES)))
        run.notes = notes or ''
        run.save(only=[Run.notes])
        history.keep(run.project_id, 'notes', run.id, run.notes, self.actor)
        self._changed(run)

    def archive(self, run_ids: list[int], archived: bool = True) -> int:
        """Hide runs from the table (their files stay); `archived=False` restores them. How many changed."""
        runs = [self._run(i, Action.EDIT) for i in run_ids]
        if archived and any(r.status in ('queued', 'running', 'paused') for r in runs):
            raise TrainingError(_('A run that is training cannot be archived: stop it first.'))
        changed = Run.update(archived=archived).where(Run.id.in_([r.id for r in runs])).execute()
        for run in runs:
            self._changed(run)
        return changed

    # ---- what a run is ---------------------------------------------------------------------------
    def set_dataset(self, run_id: int, dataset_id: int) -> None:
        """The dataset a run trains on when it continues: the one choice a run imported from a plain `rave
        train` folder lacks (its config.gin does not record it). Its crop and channels follow the dataset."""
        run = self._run(run_id, Action.EDIT)
        dataset = Dataset.get_or_none((Dataset.id == dataset_id) & (Dataset.project == run.project_id))
        if dataset is None or dataset.status != 'ready':
            raise TrainingError(_('Pick a ready dataset of this project.'))
        spec = spec_of(run)
        crop = int((dataset.params or {}).get('num_signal') or spec.n_signal)
        spec = spec.replace(dataset=dataset.id, n_signal=min(spec.n_signal, crop),
                            channels=dataset.channels or spec.channels)
        run.dataset = dataset
        run.params = {**(run.params or {}), 'spec': spec.to_dict()}
        run.save(only=[Run.dataset, Run.params])

    def operative(self, run_id: int) -> operative.Operative | None:
        """What the run's operative config.gin says it is (base, add-ons, model values, every binding)."""
        run = self._run(run_id, Action.READ)
        return operative.read(run.folder) if run.folder else None

    def details(self, run_id: int) -> RunDetails:
        """The run's full RunSpec, operative config.gin, equivalent command, dataset and machine."""
        run = self._run(run_id, Action.READ)
        spec = spec_of(run)
        gin = Path(run.folder) / 'config.gin' if run.folder else None
        try:
            text = gin.read_text(errors='replace')[:MAX_GIN] if gin is not None else ''
        except OSError:
            text = ''
        best = Checkpoint.select().where((Checkpoint.run == run) & (Checkpoint.kind == 'best')) \
            .order_by(Checkpoint.step.desc()).first()
        return RunDetails(run.id, run.name, spec, text, str(gin or ''),
                          spec.command(*self._engine.where(run.project, spec)), run.dataset_id,
                          run.dataset.name if run.dataset else '', _machine(run), run.seconds,
                          DeviceTime.of(run.seconds, spec.devices), 'imported_from' in (run.params or {}),
                          best.path if best is not None and Path(best.path).exists() else '')

    def device_time(self, project_id: int) -> tuple[DeviceTime, ...]:
        """The project's training time × devices: its GPU-hours and its CPU-hours (each when there is some)."""
        access.require(self.actor, Action.READ, project_id)
        hours = {'GPU': 0.0, 'CPU': 0.0}
        for run in Run.select(Run.seconds, Run.params).where((Run.project == project_id) & Run.seconds.is_null(False)):
            time = DeviceTime.of(run.seconds, tuple(((run.params or {}).get('spec') or {}).get('devices') or ('cpu',)))
            if time is not None:
                hours[time.kind] += time.hours
        return tuple(DeviceTime(h, kind) for kind, h in hours.items() if h)

    # ---- internals -------------------------------------------------------------------------------
    def _run(self, run_id: int, action: Action) -> Run:
        run = self._engine.get(run_id)
        if run is None:
            raise TrainingError(_('This run does not exist any more.'))
        access.require(self.actor, action, run.project_id)
        return run

    def _series(self, run: Run) -> MetricsView:
        return MetricsView.of(self._engine.metrics(run))

    def _changed(self, run: Run) -> None:
        self._engine.jobs.bus.publish(RunChanged(run.id, run.status))

    @staticmethod
    def _count(query: TableQuery, ids: list[int]) -> int:
        """The total when the page asked for is past the end (no row carries it)."""
        return Run.select().join(Dataset, pw.JOIN.LEFT_OUTER, on=(Run.dataset == Dataset.id)) \
            .where(*experiment_table.conditions(query, ids)).count()

    def _adopt(self, project_ids: list[int]) -> None:
        """Runs imported from plain `rave train` folders get the spec their operative config shows, once, so
        the table can search and compare their parameters like those of the studio's runs; those imported
        before the import read their events get their figures (steps, last loss…) once too."""
        found = Run.select().where(Run.project.in_(project_ids)
                                   & pw.fn.json_extract(Run.params, '$.imported_from').is_null(False)
                                   & (pw.fn.json_extract(Run.params, '$.spec').is_null()
                                      | (pw.fn.json_extract(Run.params, f'$.{FIGURES_READ}').is_null()
                                         & pw.fn.json_extract(Run.params, '$.jobs').is_null())))
        for run in found:
            if not run.params.get('spec'):
                run.params = {**run.params, 'spec': spec_of(run).to_dict()}
                run.save(only=[Run.params])
            self._engine.read_imported(run)  # only when its figures were not read yet


def _machine(run: Run) -> Machine:
    """What the newest attempt's worker recorded at its start (the first lines of its metrics.jsonl)."""
    jobs = [a.job for a in RunAttempt.select().where(RunAttempt.run == run).order_by(RunAttempt.number.desc())
            if a.job_id] or ([run.job] if run.job_id else [])
    for job in jobs:
        try:
            with open(Path(job.folder) / 'metrics.jsonl') as lines:
                for _, line in zip(range(50), lines, strict=False):
                    found = json.loads(line).get('machine') if '"machine"' in line else None
                    if isinstance(found, dict):
                        return Machine(*(str(found.get(k) or '') for k in ('host', 'device', 'torch', 'rave')),
                                       recorded=True)
        except (OSError, ValueError):
            continue
    return Machine(device=spec_of(run).device)
