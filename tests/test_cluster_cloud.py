"""Cloud storage against moto's S3 server (started here, from its PyPI package): a run folder pushed and pulled
with progress, never a half copy either way, and both resuming after an interruption."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from services.cluster import cloud
from services.cluster.cloud import CloudError, Store


class Interrupted(Exception):
    pass


@pytest.fixture(scope='module')
def s3():
    from moto.server import ThreadedMotoServer
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    saved = {k: os.environ.get(k) for k in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_DEFAULT_REGION')}
    os.environ.update(AWS_ACCESS_KEY_ID='testing', AWS_SECRET_ACCESS_KEY='testing', AWS_DEFAULT_REGION='us-east-1')
    server = ThreadedMotoServer(ip_address='127.0.0.1', port=port, verbose=False)
    server.start()
    store = Store('s3://studio/runs', endpoint=f'http://127.0.0.1:{port}')
    store.fs().mkdir('studio')
    yield store
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _run_folder(root: Path) -> Path:
    folder = root / 'violin_abc123'
    (folder / 'version_0' / 'checkpoints').mkdir(parents=True)
    (folder / 'config.gin').write_text('include "v2_small.gin"\n')
    (folder / 'version_0' / 'checkpoints' / 'best.ckpt').write_bytes(os.urandom(3 * 1024 * 1024))
    (folder / 'version_0' / 'events.out').write_bytes(os.urandom(200_000))
    return folder


def test_push_and_pull_never_leave_a_half_copy_and_resume(s3, tmp_path: Path) -> None:
    folder = _run_folder(tmp_path / 'local')
    total = sum(p.stat().st_size for p in folder.rglob('*') if p.is_file())

    # a push stopped after its first file: the store holds no complete copy, and says so
    def stop_after_first(done, all_, rel, seen=[]):  # noqa: B006 (remembers across calls)
        seen.append(rel)
        if len(set(seen)) > 1:
            raise Interrupted
    with pytest.raises(Interrupted):
        cloud.push(s3, folder, 'violin', stop_after_first)
    assert [(r.name, r.complete) for r in cloud.listing(s3)] == [('violin', False)]
    with pytest.raises(CloudError, match='not complete'):
        cloud.pull(s3, 'violin', tmp_path / 'pulled')
    assert not (tmp_path / 'pulled').exists()

    # pushing again resumes (the first file is not sent again) and completes, with progress up to the total
    sent, seen = [], []
    assert cloud.push(s3, folder, 'violin', lambda done, all_, rel: (seen.append((done, all_)), sent.append(rel))) \
        == total
    assert seen[-1] == (total, total) and all(all_ == total for _, all_ in seen)
    first = sorted(p.relative_to(folder).as_posix() for p in folder.rglob('*') if p.is_file())[0]
    assert sent.count(first) == 1  # only its "already there" tick, no bytes
    [remote] = cloud.listing(s3)
    assert remote.complete and remote.size == total and remote.files == 3
    assert not s3.fs().exists(f'{s3.root}/violin/{cloud.PARTIAL}')

    # a pull stopped midway leaves only <target>.partial; pulling again resumes and renames it into place
    target = tmp_path / 'pulled' / 'violin'
    target.parent.mkdir()

    def stop_in_the_checkpoint(done, all_, rel):
        if rel.endswith('best.ckpt') and done < all_:
            raise Interrupted
    with pytest.raises(Interrupted):
        cloud.pull(s3, 'violin', target, stop_in_the_checkpoint)
    assert not target.exists() and (target.parent / 'violin.partial').is_dir()
    progress = []
    assert cloud.pull(s3, 'violin', target, lambda done, all_, rel: progress.append(done)) == target
    assert progress[-1] == total and not (target.parent / 'violin.partial').exists()
    for path in folder.rglob('*'):
        if path.is_file():
            assert (target / path.relative_to(folder)).read_bytes() == path.read_bytes()
    assert not list(target.rglob('*.part'))

    with pytest.raises(CloudError, match='exists already'):
        cloud.pull(s3, 'violin', target)
    with pytest.raises(CloudError, match='cannot name'):
        cloud.push(s3, folder, '../elsewhere')
    with pytest.raises(CloudError, match='not an S3 location'):
        cloud.push(Store('/tmp/x'), folder, 'violin')


def test_a_run_folder_is_pushed_and_pulled_by_jobs_with_progress(s3, studio, tmp_path: Path) -> None:
    from waiting import poll_until

    from services.access import local
    from services.store import Job, Run
    project = studio.projects.current(None)
    folder = _run_folder(Path(project.location) / 'runs')
    run = Run.create(project=project, name='violin', folder=str(folder), status='done', params={'jobs': []})
    cluster = studio.session(local(), None).cluster
    with pytest.raises(CloudError, match='No cloud store'):
        cluster.push_run(run.id)
    cluster.save(cluster.defaults(), 0.0, 's3://studio/lab', s3.endpoint)
    with pytest.raises(Exception, match='not an S3 location'):
        cluster.save(cluster.defaults(), 0.0, 'studio/lab', '')

    def finished(job_id: int) -> Job:
        return poll_until(lambda: (j := Job.get_by_id(job_id)).status in ('done', 'failed') and j, 60,
                          studio=studio, message=lambda: studio.jobs.log_tail(job_id))

    pushed = finished(cluster.push_run(run.id))
    assert pushed.status == 'done', studio.jobs.log_tail(pushed.id)
    assert studio.jobs.track(pushed).progress == 1.0 and 'MB of' in studio.jobs.track(pushed).detail
    [remote] = cluster.remotes()
    name = f'Default/runs/{folder.name}'
    assert remote.name == name and remote.complete and remote.files == 3
    with pytest.raises(CloudError, match='in this project already'):
        cluster.pull_run(project.id, name)
    moved = folder.with_name('kept')
    folder.rename(moved)
    pulled = finished(cluster.pull_run(project.id, name))
    assert pulled.status == 'done', studio.jobs.log_tail(pulled.id)
    assert (folder / 'version_0' / 'checkpoints' / 'best.ckpt').read_bytes() == \
        (moved / 'version_0' / 'checkpoints' / 'best.ckpt').read_bytes()

    # an export goes up as <project>/exports/<name> with its guide and its record, and comes back into the
    # project's exports folder as the export it is: in the library with its target, flags and verdict
    from services.store import Export
    model = Path(project.location) / 'exports' / 'violin.ts'
    model.parent.mkdir(exist_ok=True)
    model.write_bytes(os.urandom(50_000))
    model.with_name('violin.guide.md').write_text('# Playing violin in nn~\n')
    checkpoint = folder / 'version_0' / 'checkpoints' / 'best.ckpt'
    verdict = {'status': 'passed', 'checks': [{'check': 'loads', 'ok': True, 'message': 'loaded in 0.4 s'}],
               'hosts': [{'host': 'nn~', 'verdict': 'ready', 'message': ''}], 'facts': {'sr': 44100, 'step': 1200}}
    export = Export.create(project=project, run=run, checkpoint=str(checkpoint), path=str(model), status='done',
                           name='violin', target='nn~', options={'fidelity': 0.95, 'streaming': False},
                           stage='verify', verdict=verdict, result={'command': 'rave export --run …'})
    assert finished(cluster.push_export(export.id)).status == 'done'
    remote = next(r for r in cluster.remotes() if r.kind == 'exports')
    assert remote.name == 'Default/exports/violin' and remote.complete and remote.files == 3 and remote.modified
    models = studio.session(local(), None).models
    assert [e.id for e in models.exports(project.id)] == [export.id]
    assert finished(cluster.pull(project.id, remote.name)).status == 'done'
    pulled_file = Path(project.location) / 'exports' / 'violin' / 'violin.ts'
    assert pulled_file.read_bytes() == model.read_bytes()
    assert (pulled_file.with_name('violin.guide.md')).is_file()
    back = next(e for e in models.exports(project.id) if e.id != export.id)
    original = models.export(export.id)
    assert back.path == str(pulled_file) and back.ready and back.file.exists
    assert (back.target, back.verified, back.checks, back.hosts, back.option, back.streaming, back.command) == \
        (original.target, original.verified, original.checks, original.hosts, original.option, original.streaming,
         original.command) == ('nn~', 'passed', original.checks, original.hosts, original.option, False,
                               'rave export --run …')
    assert back.run_id == run.id and back.checkpoint == str(checkpoint) and back.checkpoint_step == 1200
    assert back.name == 'violin' and back.created == original.created
    with pytest.raises(CloudError, match='in this project already'):
        cluster.pull(project.id, remote.name)


async def test_the_cloud_card_lists_what_was_pushed_and_pulls_it_back_whole(s3, user) -> None:
    from nicegui import app
    from waiting import see, until

    from services.access import local
    studio = app.studio
    project = studio.projects.current(None)
    cluster = studio.session(local(), None).cluster
    await user.open('/export/library')
    await user.should_see('No cloud store is set')
    cluster.save(cluster.defaults(), 0.0, 's3://studio/card', s3.endpoint)
    folder = _run_folder(studio.data_dir / 'elsewhere')
    cloud.push(cluster.store(), folder, 'Default/runs/violin_abc123')
    cluster.store().fs().pipe(f'{cluster.store().root}/Default/exports/unfinished/{cloud.PUSHING}', b'')  # cut short
    await user.open('/export/library')
    await see(user, 'Default/runs/violin_abc123', timeout=30)  # listed off the event loop
    await user.should_see('incomplete: its push did not finish')
    user.find(marker='pull-Default/runs/violin_abc123').click()
    await user.should_see('it appears whole when every file arrived')
    target = Path(project.location) / 'runs' / 'violin_abc123'
    await until(lambda: (target / 'version_0' / 'checkpoints' / 'best.ckpt').is_file(), timeout=90,
                message='the pull never completed')
    assert (target / 'version_0' / 'checkpoints' / 'best.ckpt').read_bytes() == \
        (folder / 'version_0' / 'checkpoints' / 'best.ckpt').read_bytes()
    assert not target.with_name('violin_abc123.partial').exists()
    await see(user, 'done', timeout=30)  # the card says how its pull ended
