"""The lab's tables (migration 10): accounts' invites, project sharing and memberships, comments and their read
marks, the audit log and version history. Part of services/store.py, which imports them back: name them from
there. People are named, not keyed, in project tables: a backup restored into another studio keeps who wrote
what."""
from __future__ import annotations

import peewee as pw

from services.store import BaseModel, JSONField, Project, User, db, now

# What decides who may do what (services/lab/roles.py): every change of these rows bumps the access generation
# in its own transaction, whichever process or code path makes it — (table, event, condition)
ACCESS_CHANGES = [*((table, event, '') for table in ('membership', 'sharing')
                    for event in ('INSERT', 'UPDATE', 'DELETE')),
                  ('user', 'INSERT', ''), ('user', 'DELETE', ''), ('user', 'UPDATE OF admin, disabled, name', ''),
                  ('setting', 'INSERT', 'WHEN NEW."key" = \'default_visibility\''),
                  ('setting', 'UPDATE', 'WHEN NEW."key" = \'default_visibility\''),
                  ('setting', 'DELETE', 'WHEN OLD."key" = \'default_visibility\'')]


class Membership(BaseModel):
    """A member's role in a project (read < edit < manage, services/access.Role)."""
    project = pw.ForeignKeyField(Project, backref='memberships', on_delete='CASCADE')
    user = pw.CharField()  # User.name
    role = pw.IntegerField()

    class Meta:
        indexes = ((('project', 'user'), True),)


class Sharing(BaseModel):
    """Who made a project and who else may see it: private | read | edit (the lab may read / edit)."""
    project = pw.ForeignKeyField(Project, backref='sharing', on_delete='CASCADE')  # one row (services/lab/roles)
    owner = pw.CharField(default='')  # User.name of its creator
    visibility = pw.CharField(default='edit')


class Invite(BaseModel):
    """A one-time sign-up link for an account; the link holds the token, this only its SHA-256."""
    user = pw.ForeignKeyField(User, backref='invites', on_delete='CASCADE')
    key = pw.CharField(unique=True)
    expires = pw.FloatField()  # epoch seconds
    used = pw.BooleanField(default=False)


class AuditEntry(BaseModel):
    """One state-changing action once it has happened: who, when, what on which object, its outcome (and the
    sentence it failed or was refused with), before/after."""
    time = pw.DateTimeField(default=now, index=True)
    user = pw.CharField(index=True)
    action = pw.CharField(index=True)  # Facade.method, e.g. Training.stop
    right = pw.CharField(default='')  # the services/access.Action it needed
    project_id = pw.IntegerField(null=True)  # a number, not a key: the log outlives the project
    object = pw.CharField(default='')  # e.g. "run 12"
    outcome = pw.CharField(default='done')  # done | failed | refused ('allowed': written before outcomes)
    message = pw.TextField(default='', constraints=[pw.SQL("DEFAULT ''")])  # why it failed or was refused (m16)
    before = JSONField(null=True)
    after = JSONField(null=True)


class Comment(BaseModel):
    """A member's words on a run, model (checkpoint), dataset or export; Markdown."""
    project = pw.ForeignKeyField(Project, backref='comments', on_delete='CASCADE')
    kind = pw.CharField()  # run | model | dataset | export
    target = pw.CharField()  # the object's id (a checkpoint's path for a model)
    author = pw.CharField()
    body = pw.TextField()
    mentions = JSONField(default=list)
    created = pw.DateTimeField(default=now)
    edited = pw.DateTimeField(null=True)


class CommentRead(BaseModel):
    """Up to when a person has read the comments of one object (per person: never in a backup)."""
    user = pw.ForeignKeyField(User, backref='reads', on_delete='CASCADE')
    kind = pw.CharField()
    target = pw.CharField()
    seen = pw.FloatField()  # epoch seconds

    class Meta:
        indexes = ((('user', 'kind', 'target'), True),)


class Version(BaseModel):
    """One saved version of something people edit: a custom gin config, a template, a run's notes."""
    project = pw.ForeignKeyField(Project, backref='versions', on_delete='CASCADE')
    kind = pw.CharField()  # config | template | notes
    name = pw.CharField()  # the config's or template's name, the run's id
    body = pw.TextField()
    author = pw.CharField(default='')
    created = pw.DateTimeField(default=now)


def count_access_changes() -> None:
    """The access generation (one row) and the triggers that bump it (migration 13)."""
    db.execute_sql('CREATE TABLE IF NOT EXISTS access_generation (id INTEGER PRIMARY KEY CHECK (id = 1), '
                   'value INTEGER NOT NULL)')
    db.execute_sql('INSERT OR IGNORE INTO access_generation (id, value) VALUES (1, 0)')
    for table, event, condition in ACCESS_CHANGES:
        name = f'access_{table}_{event.split()[0].lower()}'
        db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON "{table}" {condition} '
                       'BEGIN UPDATE access_generation SET value = value + 1 WHERE id = 1; END')
