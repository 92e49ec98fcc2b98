"""Backups built from the schema: a project holding a row of every table that belongs to it, every column set,
backed up and restored into another data folder, compares equal column by column (ids and paths remapped).

The rows are made from the models' own fields, so a column added to a model is filled here and must come back
from a restore; a field type this test cannot fill, or a table with a foreign key that backups do not carry,
fails it."""
from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from typing import Any

import peewee as pw
import pytest

from services.backup import JSON_REFERENCES, owned_models, table_key
from services.store import (
    BaseModel,
    Comment,
    CommentRead,
    Dataset,
    Export,
    Invite,
    Job,
    JSONField,
    Membership,
    PathField,
    Project,
    Run,
    RunAttempt,
    Sharing,
    SignIn,
    Version,
)

# Tables that point at another but belong to a person, not a project: a backup never carries them.
NOT_A_PROJECTS = {SignIn, Invite, CommentRead}


def all_models() -> list[type[BaseModel]]:
    found, todo = [], list(BaseModel.__subclasses__())
    while todo:
        model = todo.pop()
        found.append(model)
        todo += model.__subclasses__()
    return found


def test_every_table_with_a_foreign_key_belongs_to_a_project() -> None:
    """A new table that points at another is either a project's (and carried), or this test needs a
    decision."""
    with_keys = {m for m in all_models() if m is not Project
                 and any(isinstance(f, pw.ForeignKeyField) for f in m._meta.sorted_fields)}
    assert set(owned_models()) == with_keys - NOT_A_PROJECTS
    assert not NOT_A_PROJECTS & set(owned_models())
    assert {Dataset, Run, RunAttempt, Export, Job, Membership, Sharing, Comment, Version} <= set(owned_models())


def fill(model: type[BaseModel], n: int, root: Path,
         parents: dict[type[BaseModel], BaseModel]) -> dict[str, Any]:
    """A value for every column: distinct per row, never a default, paths inside the project folder."""
    values: dict[str, Any] = {}
    for field in model._meta.sorted_fields:
        name = f'{model.__name__}.{field.name}.{n}'
        if field.primary_key:
            continue
        if isinstance(field, pw.ForeignKeyField):
            values[field.name] = parents[field.rel_model]
        elif isinstance(field, PathField):
            values[field.name] = str(root / 'files' / name)
        elif isinstance(field, JSONField):
            values[field.name] = {'path': str(root / 'inside' / name), 'words': [name, f'{root}/a b'], 'n': n}
        elif isinstance(field, pw.BooleanField):
            values[field.name] = not field.default
        elif isinstance(field, pw.IntegerField):
            values[field.name] = 1000 + n
        elif isinstance(field, pw.FloatField):
            values[field.name] = n + 0.25
        elif isinstance(field, pw.DateTimeField):
            values[field.name] = dt.datetime(2021, 2, 3, 4, 5, 6) + dt.timedelta(minutes=n)
        elif isinstance(field, (pw.CharField, pw.TextField)):
            values[field.name] = f'{name} in {root}/runs and {root}'  # the folder inside any text moves too
        else:
            pytest.fail(f'the backup test cannot fill {model.__name__}.{field.name} '
                        f'({type(field).__name__}): teach it (and check the backup carries it)')
    return values


def populate(studio) -> tuple[Project, dict[type[BaseModel], list[dict]]]:
    """Two rows of each project table, every column set; JSON references point at rows of the project."""
    project = studio.projects.create('Everything', 'every kind of row')
    Project.update(settings={'note': 'kept', 'where': f'{project.location}/uploads'}).where(
        Project.id == project.id).execute()
    project = Project.get_by_id(project.id)
    root = Path(project.location)
    made: dict[type[BaseModel], list[BaseModel]] = {}
    for n in range(2):
        parents: dict[type[BaseModel], BaseModel] = {Project: project}
        for model in owned_models():  # parents first, so every foreign key has its row
            parents[model] = model.create(**fill(model, n, root, parents))
            made.setdefault(model, []).append(parents[model])
    for job, dataset, run, export in zip(made[Job], made[Dataset], made[Run], made[Export]):
        job.spec = {'dataset_id': dataset.id, 'run': run.id, 'export': export.id, 'output': f'{root}/x'}
        job.folder = str(studio.jobs.root / f'{job.id:06d}')
        job.save()
        Path(job.folder).mkdir(parents=True)
        (Path(job.folder) / 'log.txt').write_text(f'log of job {job.id}\n')
        run.params = {'jobs': [j.id for j in made[Job]], 'db_path': dataset.path}
        run.save()
    (root / 'files').mkdir(parents=True, exist_ok=True)
    (root / 'files' / 'take.wav').write_bytes(b'RIFF....WAVE')
    return project, {m: [dict(r.__data__) for r in m.select().order_by(m.id)] for m in owned_models()}


def test_every_column_of_every_row_survives_a_restore_into_another_data_folder(studio,
                                                                               tmp_path: Path) -> None:
    from app.studio import Studio

    project, before = populate(studio)
    old_root = str(Path(project.location).resolve())
    old_project = dict(project.__data__)
    zip_path = studio.backups.write(project, tmp_path / 'everything.zip')
    with zipfile.ZipFile(zip_path) as zf:
        manifest = json.loads(zf.read('manifest.json'))
        names = zf.namelist()
    assert old_root not in json.dumps(manifest)  # nothing points back into the old folder
    assert 'files/files/take.wav' in names
    assert all(f'jobs/{row["id"]:06d}/log.txt' in names for row in before[Job])
    assert {table_key(m) for m in owned_models()} <= set(manifest)

    other = Studio(tmp_path / 'other-data')
    other.projects.create('Taken first')  # ids in the new data folder differ from the old ones
    Job.create(kind='x', title='another job', argv=[])
    restored = other.backups.restore(zip_path)
    new_root = str(Path(restored.location).resolve())
    assert new_root == str((other.data_dir / 'projects' / 'Everything').resolve())

    def moved(value):
        return _moved(value, old_root, new_root)

    for field in Project._meta.sorted_fields:
        if field.name not in ('id', 'location'):
            assert moved(old_project[field.name]) == restored.__data__[field.name], field.name
    after = {m: [dict(r.__data__) for r in m.select().where(_mine(m, restored)).order_by(m.id)]
             for m in owned_models()}
    ids: dict[type[BaseModel], dict[int, int]] = {Project: {old_project['id']: restored.id}}
    for model in owned_models():
        assert len(after[model]) == len(before[model]) == 2, model.__name__
        ids[model] = {old['id']: new['id'] for old, new in zip(before[model], after[model])}
    for model in owned_models():
        for old, new in zip(before[model], after[model]):
            for field in model._meta.sorted_fields:
                key, was, now = field.name, old[field.name], new[field.name]
                where = f'{model.__name__}.{key}'
                if field.primary_key:
                    continue
                if isinstance(field, pw.ForeignKeyField):
                    assert now == ids[field.rel_model][was], where
                elif model is Job and key == 'folder':  # a job's folder is named after its (new) id
                    assert now == str(other.jobs.root / f'{new["id"]:06d}'), where
                    assert (Path(now) / 'log.txt').read_text() == f'log of job {old["id"]}\n'
                else:
                    assert now == _referenced(model, key, moved(was), ids), where


def test_rows_in_flight_settle_and_old_backups_restore(studio, tmp_path: Path) -> None:
    from app.studio import Studio

    project = studio.projects.create('Busy')
    job = Job.create(project=project, kind='train', title='t', argv=[], status='running')
    Dataset.create(project=project, name='d', path=f'{project.location}/datasets/d', status='building',
                   job=job)
    zip_path = studio.backups.write(project, tmp_path / 'busy.zip')
    other = Studio(tmp_path / 'other')
    restored = other.backups.restore(zip_path)
    assert Job.get(Job.project == restored.id).status == 'interrupted'
    assert Dataset.get(Dataset.project == restored.id).status == 'failed'

    old = tmp_path / 'v1.zip'  # the hand-written format the studio made before backups followed the schema
    with zipfile.ZipFile(old, 'w') as zf:
        zf.writestr('manifest.json', json.dumps({
            'format': 'rave-studio-project-backup', 'version': 1,
            'project': {'name': 'Old', 'description': 'v1', 'settings': {}, 'created': '2024-05-06 07:08:09'},
            'datasets': [{'id': 7, 'name': 'tones', 'path': 'datasets/tones', 'sources': [],
                          'status': 'ready',
                          'params': {'output': '$PROJECT/datasets/tones'}, 'external': False}],
            'runs': [{'id': 3, 'dataset': 7, 'name': 'tiny', 'folder': 'runs/tiny_abc', 'status': 'done'}],
            'checkpoints': [{'run': 3, 'path': 'runs/tiny_abc/best.ckpt', 'kind': 'best', 'step': 4}],
            'exports': [{'run': 3, 'checkpoint': 'runs/tiny_abc/best.ckpt', 'path': 'exports/tiny.ts',
                         'status': 'done'}]}))
    project = other.backups.restore(old)
    dataset = project.datasets.get()
    assert dataset.params['output'] == dataset.path == f'{project.location}/datasets/tones'
    run = project.runs.get()
    assert run.dataset_id == dataset.id and run.checkpoints.get().step == 4
    assert project.exports.get().checkpoint == run.checkpoints.get().path
    assert project.created == dt.datetime(2024, 5, 6, 7, 8, 9)


def _mine(model: type[BaseModel], project: Project) -> pw.Expression:
    from services.backup import rows_of
    return model.id.in_(rows_of(model, project).select(model.id))


def _moved(value: Any, old_root: str, new_root: str) -> Any:
    """What a value looks like once the project folder moved: the old folder replaced by the new one."""
    if isinstance(value, dict):
        return {k: _moved(v, old_root, new_root) for k, v in value.items()}
    if isinstance(value, list):
        return [_moved(v, old_root, new_root) for v in value]
    return value.replace(old_root, new_root) if isinstance(value, str) else value


def _referenced(model: type[BaseModel], key: str, value: Any, ids: dict) -> Any:
    """A JSON value with the ids it holds (JSON_REFERENCES) mapped to the restored rows'."""
    if not isinstance(value, dict):
        return value
    for (owner, column, inner), target in JSON_REFERENCES.items():
        if owner is model and column == key and inner in value:
            old = value[inner]
            mapped = [ids[target][i] for i in old] if isinstance(old, list) else ids[target][old]
            value = {**value, inner: mapped}
    return value

