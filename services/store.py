"""The studio's database: peewee models on SQLite (WAL, foreign keys, numbered migrations).

The database indexes files RAVE writes (LMDB folders, run folders, .ts files); it never holds the only
copy of anything.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import peewee as pw
from playhouse.migrate import SqliteMigrator, migrate

db = pw.SqliteDatabase(None)


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class JSONField(pw.TextField):
    """A dict or list stored as JSON text."""

    def db_value(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value)

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(value)


class PathField(pw.CharField):
    """A file or folder path. Backups store one inside the project relative to it and point it at the restored
    folder (services/backup.py); as a column it is a plain CharField."""


class BaseModel(pw.Model):
    class Meta:
        database = db


class Project(BaseModel):
    name = pw.CharField(unique=True)
    description = pw.TextField(default='')
    location = PathField()  # folder that holds the project's datasets/, runs/, exports/, uploads/
    settings = JSONField(default=dict)
    created = pw.DateTimeField(default=now)
    opened = pw.DateTimeField(default=now)


class Job(BaseModel):
    project = pw.ForeignKeyField(Project, backref='jobs', null=True, on_delete='SET NULL')
    kind = pw.CharField()  # preprocess | train | export | reconstruct | ...
    title = pw.CharField()
    argv = JSONField()
    command = pw.TextField(default='')  # the equivalent plain RAVE command
    cwd = PathField(default='')
    folder = PathField(default='')  # holds log.txt, progress.jsonl, metrics.jsonl, result.json
    status = pw.CharField(default='queued')  # queued|running|paused|done|failed|interrupted|cancelled
    device = pw.CharField(default='cpu')
    pid = pw.IntegerField(null=True)
    pid_started = pw.FloatField(null=True)  # process create time, so a reused pid is not mistaken for it
    created = pw.DateTimeField(default=now)
    started = pw.DateTimeField(null=True)
    ended = pw.DateTimeField(null=True)
    exit_code = pw.IntegerField(null=True)
    message = pw.TextField(default='')
    spec = JSONField(default=dict)  # what the job makes, for registering its result when it ends
    owner = pw.CharField(default='', constraints=[pw.SQL("DEFAULT ''")])  # who started it (User.name), migration 11


class Dataset(BaseModel):
    project = pw.ForeignKeyField(Project, backref='datasets', on_delete='CASCADE')
    name = pw.CharField()
    path = PathField()
    sources = JSONField(default=list)
    params = JSONField(default=dict)
    status = pw.CharField(default='building')  # building | ready | failed
    sr = pw.IntegerField(null=True)
    channels = pw.IntegerField(null=True)
    lazy = pw.BooleanField(default=False)
    n_examples = pw.IntegerField(null=True)
    n_seconds = pw.FloatField(null=True)
    size_bytes = pw.IntegerField(null=True)
    job = pw.ForeignKeyField(Job, null=True, on_delete='SET NULL')
    created = pw.DateTimeField(default=now)
    tags = JSONField(default=list)  # free words the user groups datasets by (migration 2)
    category = pw.CharField(default='')  # one coarse kind, e.g. "drums" or "voice" (migration 2)

    class Meta:
        indexes = ((('project', 'name'), True),)


class Run(BaseModel):
    project = pw.ForeignKeyField(Project, backref='runs', on_delete='CASCADE')
    dataset = pw.ForeignKeyField(Dataset, null=True, backref='runs', on_delete='SET NULL')
    name = pw.CharField()
    folder = PathField(default='')  # RAVE's <name>_<ginhash> folder, once known
    configs = JSONField(default=list)
    params = JSONField(default=dict)
    status = pw.CharField(default='queued')
    step = pw.IntegerField(default=0)
    job = pw.ForeignKeyField(Job, null=True, on_delete='SET NULL')
    created = pw.DateTimeField(default=now)
    # experiments (migration 9): the user's words on it, and its figures kept for sorting without reading metrics
    tags = JSONField(default=list)
    notes = pw.TextField(default='')  # Markdown
    archived = pw.BooleanField(default=False)  # hidden from the experiments table until restored
    best_validation = pw.FloatField(null=True)
    last_loss = pw.FloatField(null=True)
    seconds = pw.FloatField(null=True)  # training time, all attempts together
    # the model library (migration 12): the user's marks on the model
    favourite = pw.BooleanField(default=False)
    rating = pw.IntegerField(null=True)  # 1-5 stars


class Checkpoint(BaseModel):
    run = pw.ForeignKeyField(Run, backref='checkpoints', on_delete='CASCADE')
    path = PathField(unique=True)
    step = pw.IntegerField(null=True)
    kind = pw.CharField(default='epoch')  # best | epoch | stop | last
    created = pw.DateTimeField(default=now)
    stamp = pw.FloatField(null=True)  # the file's mtime when its step was read (migration 4)


class RunAttempt(BaseModel):
    """One process of a run: the first start, a resume from a checkpoint, or an automatic recovery."""
    run = pw.ForeignKeyField(Run, backref='attempts', on_delete='CASCADE')
    number = pw.IntegerField()  # 1, 2, ... in the run
    job = pw.ForeignKeyField(Job, null=True, on_delete='SET NULL')
    reason = pw.CharField(default='start')  # start | resume | recovery
    checkpoint = PathField(default='')  # what it resumed from
    start_step = pw.IntegerField(default=0)
    end_step = pw.IntegerField(null=True)
    status = pw.CharField(default='queued')
    message = pw.TextField(default='')  # why it ended, when it did not end well
    created = pw.DateTimeField(default=now)
    ended = pw.DateTimeField(null=True)


class Export(BaseModel):
    project = pw.ForeignKeyField(Project, backref='exports', on_delete='CASCADE')
    run = pw.ForeignKeyField(Run, null=True, backref='exports', on_delete='SET NULL')
    checkpoint = PathField(default='')
    path = PathField()
    streaming = pw.BooleanField(default=False)
    status = pw.CharField(default='running')
    job = pw.ForeignKeyField(Job, null=True, on_delete='SET NULL')  # the process of its life running now, or last
    created = pw.DateTimeField(default=now)
    name = pw.CharField(default='')  # what the user called it (migration 7)
    target = pw.CharField(default='custom')  # the ExportTarget it was made for: nn~ | vst | neutone | onnx | ...
    options = JSONField(default=dict)  # the flags it was made with: streaming, fidelity, channels, sr, ema, prior
    stage = pw.CharField(default='')  # export | wrap | verify while it runs; where it ended otherwise
    message = pw.TextField(default='')  # why it failed, in words
    result = JSONField(null=True)  # the export worker's result: command, warnings, provenance, stages
    verdict = JSONField(null=True)  # the verification's result: checks, facts, per-host verdicts


class User(BaseModel):
    name = pw.CharField(unique=True)
    password_hash = pw.CharField()
    admin = pw.BooleanField(default=False)
    created = pw.DateTimeField(default=now)
    # migration 11 (a column default too, so rows written by plain SQL get them)
    disabled = pw.BooleanField(default=False, constraints=[pw.SQL('DEFAULT 0')])  # may not sign in
    must_change = pw.BooleanField(default=False, constraints=[pw.SQL('DEFAULT 0')])  # initial password


class SignIn(BaseModel):
    """A signed-in session of a shared studio (migration 5); the cookie holds the token, this only its SHA-256."""
    key = pw.CharField(primary_key=True)
    user = pw.ForeignKeyField(User, backref='sign_ins', on_delete='CASCADE')
    created = pw.FloatField()  # epoch seconds: the lifetime counts from here
    seen = pw.FloatField()  # last request; the idle timeout counts from here


class Setting(BaseModel):
    key = pw.CharField(primary_key=True)
    value = JSONField()


class PluginState(BaseModel):
    """A plugin's switch and the values of the settings it declares (Settings → Plugins)."""
    name = pw.CharField(primary_key=True)
    enabled = pw.BooleanField(default=True)
    settings = JSONField(default=dict)


class Favourite(BaseModel):
    """A kept thing of the Play pages: a latent point, a path, a slider automation or a generation preset."""
    project = pw.ForeignKeyField(Project, backref='favourites', on_delete='CASCADE')
    kind = pw.CharField()  # point | path | automation | preset
    name = pw.CharField()
    tags = JSONField(default=list)
    model = PathField(default='')  # the model it was made with (a latent only means something to its model)
    data = JSONField(default=dict)  # the latent values, coordinates, keyframes or settings
    created = pw.DateTimeField(default=now)


class Sweep(BaseModel):
    """A hyper-parameter sweep (migration 11): trials are runs of one base RunSpec with some choices varied."""
    project = pw.ForeignKeyField(Project, backref='sweeps', on_delete='CASCADE')
    name = pw.CharField()
    spec = JSONField(default=dict)  # SweepSpec.to_dict(): base run, space, objective, budget, method, pruner
    OPEN = 'running'  # a sweep that goes on asking for trials
    status = pw.CharField(default=OPEN)  # running | stopped | done | failed
    study = PathField(default='')  # Optuna's journal file, in the project folder
    message = pw.TextField(default='')  # why it ended, when it did not end well
    created = pw.DateTimeField(default=now)


class SweepTrial(BaseModel):
    """One trial of a sweep and the run that trains it (Optuna's own record is in the sweep's journal)."""
    sweep = pw.ForeignKeyField(Sweep, backref='trials', on_delete='CASCADE')
    number = pw.IntegerField()  # Optuna's trial number
    run = pw.ForeignKeyField(Run, null=True, on_delete='SET NULL')
    params = JSONField(default=dict)
    status = pw.CharField(default='running')  # running | complete | pruned | failed
    value = pw.FloatField(null=True)  # the objective, once told
    step = pw.IntegerField(default=0)  # the last step whose value was reported to the study
    message = pw.TextField(default='')
    created = pw.DateTimeField(default=now)


class SchemaVersion(BaseModel):
    version = pw.IntegerField()


MODELS = [Project, Job, Dataset, Run, Checkpoint, Export, User, Setting]


def _m1_initial(_: SqliteMigrator) -> None:
    db.create_tables(MODELS)


def _m2_dataset_tags(migrator: SqliteMigrator) -> None:
    columns = {c.name for c in db.get_columns('dataset')}
    steps = [migrator.add_column('dataset', name, field) for name, field in
             (('tags', Dataset.tags), ('category', Dataset.category)) if name not in columns]
    migrate(*steps)


def _m3_run_attempts(_: SqliteMigrator) -> None:
    db.create_tables([RunAttempt])


def _m4_checkpoint_stamp(migrator: SqliteMigrator) -> None:
    if 'stamp' not in {c.name for c in db.get_columns('checkpoint')}:
        migrate(migrator.add_column('checkpoint', 'stamp', Checkpoint.stamp))


def _m5_plugin_state(_: SqliteMigrator) -> None:
    db.create_tables([PluginState])


def _m6_sign_ins(_: SqliteMigrator) -> None:
    db.create_tables([SignIn])


def _m7_export_life(migrator: SqliteMigrator) -> None:
    columns = {c.name for c in db.get_columns('export')}
    migrate(*(migrator.add_column('export', name, getattr(Export, name))
              for name in ('name', 'target', 'options', 'stage', 'message', 'result', 'verdict')
              if name not in columns))


def _m8_play_favourites(_: SqliteMigrator) -> None:
    db.create_tables([Favourite])


def _m9_run_experiments(migrator: SqliteMigrator) -> None:
    """Tags, notes, archive and the sortable figures of runs."""
    columns = {c.name for c in db.get_columns('run')}
    migrate(*[migrator.add_column('run', name, getattr(Run, name)) for name in
              ('tags', 'notes', 'archived', 'best_validation', 'last_loss', 'seconds') if name not in columns])


def _m10_lab(migrator: SqliteMigrator) -> None:
    """The lab: who started a job, disabled accounts and initial passwords, sharing, comments, audit, history."""
    for table, names in (('job', ('owner',)), ('user', ('disabled', 'must_change'))):
        columns = {c.name for c in db.get_columns(table)}
        model = Job if table == 'job' else User
        migrate(*[migrator.add_column(table, n, getattr(model, n)) for n in names if n not in columns])
    db.create_tables([Membership, Sharing, Invite, AuditEntry, Comment, CommentRead, Version])


def _m11_sweeps(_: SqliteMigrator) -> None:
    db.create_tables([Sweep, SweepTrial])


def _m12_model_marks(migrator: SqliteMigrator) -> None:
    """The model library's favourite star and 1-5 rating of a run."""
    columns = {c.name for c in db.get_columns('run')}
    migrate(*[migrator.add_column('run', name, getattr(Run, name)) for name in ('favourite', 'rating')
              if name not in columns])


def _m13_audit_outcomes(migrator: SqliteMigrator) -> None:
    """The audit log says how an action ended (the sentence of a failed or refused one); every change of who
    may do what bumps the access generation (the role cache's, services/lab/roles.py)."""
    if 'message' not in {c.name for c in db.get_columns('auditentry')}:
        migrate(migrator.add_column('auditentry', 'message', AuditEntry.message))
    count_access_changes()


# Numbered migrations: append, never edit. Each takes the migrator and changes the schema one step.
MIGRATIONS: list[Callable[[SqliteMigrator], None]] = [_m1_initial, _m2_dataset_tags, _m3_run_attempts,
                                                      _m4_checkpoint_stamp, _m5_plugin_state, _m6_sign_ins,
                                                      _m7_export_life, _m8_play_favourites, _m9_run_experiments,
                                                      _m10_lab, _m11_sweeps, _m12_model_marks,
                                                      _m13_audit_outcomes]


def open_database(path: Path) -> pw.SqliteDatabase:
    """Open (and migrate) the database at `path`; safe to call again with another path."""
    if not db.is_closed():
        db.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    _private(path)
    db.init(str(path), pragmas={'journal_mode': 'wal', 'foreign_keys': 1, 'busy_timeout': 5000,
                                'synchronous': 'normal'}, check_same_thread=False)
    db.connect()
    db.create_tables([SchemaVersion])
    row = SchemaVersion.select().first()
    current = row.version if row else 0
    migrator = SqliteMigrator(db)
    for number, step in enumerate(MIGRATIONS, start=1):
        if number > current:
            with db.atomic():
                step(migrator)
                SchemaVersion.delete().execute()
                SchemaVersion.create(version=number)
    return db


def _private(path: Path) -> None:
    """The database holds password hashes and sessions: owner-only from its creation (SQLite gives its -wal and
    -shm files the database's mode); an older, wider one is narrowed."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + '-wal'), path.with_name(path.name + '-shm')):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            file.chmod(0o600)


__all__ = [
    'Checkpoint',
    'Dataset',
    'Export',
    'Job',
    'PathField',
    'Project',
    'Run',
    'RunAttempt',
    'Setting',
    'SignIn',
    'Sweep',
    'SweepTrial',
    'User',
    'db',
    'migrate',
    'now',
    'open_database',
]

# the lab's tables live beside (this module stays readable); imported here so `services.store` names them all
from services.store_lab import (  # noqa: E402
    AuditEntry,
    Comment,
    CommentRead,
    Invite,
    Membership,
    Sharing,
    Version,
    count_access_changes,
)
