"""The team view: activity from the audit log, what runs where for whom, each member's projects — only what the
viewer may read."""
from __future__ import annotations

from nicegui.testing import User

from services import users
from services.access import Actor, local
from services.store import Job, Run


def test_the_team_sees_activity_jobs_and_members_of_what_they_may_read(studio) -> None:
    for name in ('ann', 'bob', 'cid'):
        users.create(name, 'password!')
    ann = studio.session(Actor('ann', shared=True), None)
    open_project = ann.projects.create('Open')
    secret = ann.projects.create('Secret')
    ann.sharing.set_visibility(secret.id, 'private')
    ann.sharing.set_role(open_project.id, 'bob', 'manage')
    run = Run.create(project=secret.id, name='hidden run')
    ann.experiments.set_notes(run.id, 'secret plans')
    ann.comments.add('run', Run.create(project=open_project.id, name='open run').id, 'nice, @bob')
    Job.create(project=open_project.id, kind='train', title='open training', argv=[], owner='ann',
               device='gpu:0', status='running')
    Job.create(project=secret.id, kind='train', title='secret training', argv=[], owner='ann', status='queued')

    cid = studio.session(Actor('cid', shared=True), None).team
    feed = [(a.user, a.what, a.project) for a in cid.activity()]
    assert ('ann', 'commented', 'Open') in feed
    assert not any(project == 'Secret' for *_, project in feed)  # a private project's activity stays private
    assert [(j.title, j.owner, j.device) for j in cid.running()] == [('open training', 'ann', 'gpu:0')]
    members = {m.name: m.projects for m in cid.members()}
    assert members['bob'] == (('Open', 'manage'),) and ('Open', 'owner') in members['ann']
    assert ('Secret', 'owner') not in members['ann']
    everything = studio.session(local(), None).team
    assert {j.title for j in everything.running()} == {'open training', 'secret training'}
    assert ('ann', 'wrote run notes', 'Secret') in [(a.user, a.what, a.project) for a in everything.activity()]


async def test_the_team_page_shows_who_runs_what(user: User, monkeypatch) -> None:
    from nicegui import app
    monkeypatch.setattr(app.studio.jobs, 'poll', lambda: None)  # the job below has no process to reconcile
    users.create('ann', 'password!')
    ann = app.studio.session(Actor('ann', shared=True), None)
    project = ann.projects.create('Lab work')
    job = Job.create(project=project.id, kind='train', title='drums v2', argv=[], owner='ann', device='gpu:1',
                     status='running')
    await user.open('/team')
    await user.should_see('drums v2')
    await user.should_see('ann · Lab work')
    await user.should_see(marker='team-member-ann')
    await user.should_see('made a project')
    assert user.find(marker=f'team-job-{job.id}').elements
