"""TensorBoard through the studio: a real tensorboard on a real RAVE run, reached only through the studio's proxy."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User

from services.training.tensorboard import TensorBoardError, TensorBoardService


@pytest.mark.slow
async def test_tensorboard_proxied_through_the_studio(user: User, rave_run: Path) -> None:
    studio = app.studio
    board = await asyncio.to_thread(studio.tensorboard.start, 'run-1', rave_run, 'tiny')
    try:
        assert board.url == '/tensorboard/run-1/'
        page = await user.http_client.get(board.url)
        assert page.status_code == 200 and '<html' in page.text.lower()
        runs = await user.http_client.get(board.url + 'data/runs')
        assert runs.status_code == 200 and 'version_0' in runs.json()
        tags = None
        for _ in range(60):  # TensorBoard loads event files in the background
            tags = (await user.http_client.get(board.url + 'data/plugin/scalars/tags')).json()
            if 'validation' in tags.get('version_0', {}):
                break
            await asyncio.sleep(1)
        assert 'validation' in tags['version_0']
        points = await user.http_client.get(board.url + 'data/plugin/scalars/scalars',
                                            params={'run': 'version_0', 'tag': 'validation'})
        assert points.status_code == 200 and len(points.json()) >= 1
        assert studio.tensorboard.start('run-1', rave_run) is board  # reused, not a second process
    finally:
        await asyncio.to_thread(studio.tensorboard.stop, 'run-1')
    assert not board.alive
    gone = await user.http_client.get(board.url)
    assert gone.status_code == 404 and 'not running' in gone.json()['detail']


def test_missing_logdir_is_refused(tmp_path: Path) -> None:
    service = TensorBoardService(tmp_path, 'python')
    with pytest.raises(TensorBoardError, match='does not exist'):
        service.start('x', tmp_path / 'nothing')


@pytest.mark.slow
def test_log_folders_list_and_delete(tmp_path: Path, rave_run: Path) -> None:
    runs = tmp_path / 'runs'
    copy = runs / rave_run.name
    shutil.copytree(rave_run, copy)
    shutil.copytree(copy / 'version_0', copy / 'version_1')
    service = TensorBoardService(tmp_path, 'python')
    folders = service.log_folders(runs)
    assert {f.version for f in folders} == {'version_0', 'version_1'}
    first = next(f for f in folders if f.version == 'version_0')
    assert first.run == rave_run.name and first.events >= 1
    assert first.size == sum(p.stat().st_size for p in (copy / 'version_0').rglob('*') if p.is_file())
    with pytest.raises(TensorBoardError):
        service.delete_folder(runs, copy)  # the run folder itself, not a version
    with pytest.raises(TensorBoardError):
        service.delete_folder(runs, tmp_path)
    service.delete_folder(runs, copy / 'version_1')
    assert [f.version for f in service.log_folders(runs)] == ['version_0']


@pytest.mark.slow
async def test_log_folder_manager_page_deletes_an_old_version_after_asking(user: User, rave_run: Path) -> None:
    studio = app.studio
    runs = studio.projects.folder(studio.projects.current(None), 'runs')
    copy = Path(runs) / rave_run.name
    shutil.copytree(rave_run, copy)
    shutil.copytree(copy / 'version_0', copy / 'version_1')
    await user.open('/training/tensorboard')
    await user.should_see('2 version folders')
    await user.should_see(marker=f'logdir-{rave_run.name}-version_1')
    user.find(marker=f'delete-{rave_run.name}-version_1').click()
    await user.should_see('Delete ' + rave_run.name + '/version_1?')
    user.find(marker='delete-logs-yes').click()
    await user.should_see('1 version folder ·')
    assert not (copy / 'version_1').exists() and (copy / 'version_0').exists()
