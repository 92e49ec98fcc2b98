"""Comments on runs, models, datasets and exports: safe Markdown, @mentions, own edits, unread marks, live events."""
from __future__ import annotations

import pytest
from nicegui.testing import User

from services import users
from services.access import Actor, Forbidden, local
from services.events import CommentsChanged
from services.lab.comments import CommentError
from services.store import Checkpoint, Dataset, Export, Project, Run


@pytest.fixture
def lab(studio):
    for name in ('ann', 'bob', 'cid', 'boss'):
        users.create(name, 'password!', admin=name == 'boss')
    ann = studio.session(Actor('ann', shared=True), None)
    project = ann.projects.create('Voices')
    ann.sharing.set_visibility(project.id, 'private')
    ann.sharing.set_role(project.id, 'bob', 'read')  # a reader may discuss; cid may not even look
    run = Run.create(project=project.id, name='choir')
    return studio, project, run


def as_(studio, name: str, admin: bool = False):
    return studio.session(Actor(name, admin=admin, shared=True), None).comments


def test_comments_are_markdown_without_html_newest_first_and_name_members(lab) -> None:
    studio, project, run = lab
    ann, bob = as_(studio, 'ann'), as_(studio, 'bob')
    first = ann.add('run', run.id, 'The **highs** are harsh, @bob what do you hear? <script>alert(1)</script> '
                                   '[x](javascript:alert(1)) @cid')
    assert first.mentions == ('bob',)  # cid may not read the project: not a member to mention
    assert '<strong>highs</strong>' in first.html and '<script>' not in first.html and '&lt;script&gt;' in first.html
    assert 'javascript:' not in first.html and '<a href="/team#bob">@bob</a>' in first.html and '@cid' in first.html
    bob.add('run', run.id, 'Try `phase 2` longer')
    assert [c.author for c in ann.list('run', run.id)] == ['bob', 'ann']
    with pytest.raises(CommentError, match='Write something'):
        ann.add('run', run.id, '   ')
    with pytest.raises(Forbidden):
        as_(studio, 'cid').add('run', run.id, 'let me in')
    with pytest.raises(Forbidden):
        as_(studio, 'cid').list('run', run.id)


def test_only_the_author_or_an_admin_edits_and_deletes(lab) -> None:
    studio, project, run = lab
    ann, bob, boss = as_(studio, 'ann'), as_(studio, 'bob'), as_(studio, 'boss', admin=True)
    mine = bob.add('run', run.id, 'first take')
    assert mine.mine and not ann.list('run', run.id)[0].mine and boss.list('run', run.id)[0].mine
    with pytest.raises(Forbidden, match='only your own'):
        ann.edit(mine.id, 'rewritten by ann')
    with pytest.raises(Forbidden, match='only your own'):
        ann.delete(mine.id)
    edited = bob.edit(mine.id, 'second take, @ann')
    assert edited.edited is not None and edited.mentions == ('ann',)
    boss.delete(mine.id)
    assert ann.list('run', run.id) == []


def test_unread_marks_are_per_person_and_events_tell_every_viewer(lab) -> None:
    studio, project, run = lab
    ann, bob = as_(studio, 'ann'), as_(studio, 'bob')
    studio.bus.pending.clear()
    ann.add('run', run.id, 'listen to step 40k, @bob')
    assert studio.bus.pending[-1] == CommentsChanged('run', str(run.id), ann.list('run', run.id)[0].id, 'ann',
                                                     ('bob',))
    assert bob.unread('run', run.id) == 1 and ann.unread('run', run.id) == 0  # one's own is never unread
    bob.mark_read('run', run.id)
    assert bob.unread('run', run.id) == 0
    assert as_(studio, 'boss', admin=True).unread('run', run.id) == 1  # each person their own marks


def test_every_kind_of_object_takes_comments_in_its_project(lab) -> None:
    studio, project, run = lab
    ann = as_(studio, 'ann')
    dataset = Dataset.create(project=project.id, name='d', path='/tmp/d', status='ready')
    export = Export.create(project=project.id, path='/tmp/e.ts', status='done')
    checkpoint = Checkpoint.create(run=run, path='/tmp/c.ckpt', step=10)
    for kind, target in (('dataset', dataset.id), ('export', export.id), ('model', checkpoint.id)):
        ann.add(kind, target, f'about this {kind}')
        assert [c.body for c in ann.list(kind, target)] == [f'about this {kind}']
    with pytest.raises(CommentError, match='no longer exists'):
        ann.add('run', 99999, 'ghost')


async def test_a_run_page_shows_its_comments_and_posts_one(user: User) -> None:
    from nicegui import app
    project = app.studio.session(local(), None).projects.create('Live')
    run = Run.create(project=project.id, name='live run', status='done')
    app.studio.session(local(), None).comments.add('run', run.id, 'earlier *note*')
    await user.open('/projects')
    app.storage.user['project'] = Project.get(Project.name == 'Live').id
    await user.open(f'/training/runs/{run.id}')
    await user.should_see('earlier')
    user.find(marker='comment-editor').type('the kick is **late**')
    user.find(marker='comment-post').click()
    await user.should_see('the kick is')
    assert [c.body for c in app.studio.session(local(), None).comments.list('run', run.id)] == [
        'the kick is **late**', 'earlier *note*']
