"""Projects service: create, edit, back up → restore on another data folder, delete with its safeguard."""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import lmdb
import pytest

from services.access import Actor, Forbidden, local
from services.files import UploadRefused
from services.projects import ProjectError
from services.store import Checkpoint, Dataset, Export, Project, Run


def test_create_makes_folders_and_refuses_a_duplicate_name(studio) -> None:
    project = studio.projects.create('Drums', 'kick and snare')
    for sub in ('datasets', 'runs', 'exports', 'uploads'):
        assert (Path(project.location) / sub).is_dir()
    assert Path(project.location).parent == studio.data_dir / 'projects'
    with pytest.raises(ProjectError, match='exists already') as err:
        studio.projects.create('Drums')
    assert err.value.suggestion == 'Drums (2)'
    with pytest.raises(ProjectError, match='name'):
        studio.projects.create('   ')


def test_update_renames_and_keeps_the_folder(studio) -> None:
    a = studio.projects.create('A')
    studio.projects.create('B')
    studio.projects.update(a, ' Voices ', 'choir takes')
    again = Project.get_by_id(a.id)
    assert (again.name, again.description, again.location) == ('Voices', 'choir takes', a.location)
    with pytest.raises(ProjectError, match='exists already'):
        studio.projects.update(again, 'B', '')
    studio.projects.update(again, 'Voices', 'same name is fine')


def _populate(studio, rave_db: Path) -> Project:
    """A project holding a real RAVE LMDB dataset, a run folder with a checkpoint, and an export file."""
    project = studio.projects.create('Tones', 'synthesised tones')
    root = Path(project.location)
    db_path = root / 'datasets' / 'tones'
    shutil.copytree(rave_db, db_path, ignore=shutil.ignore_patterns('lock.mdb'))
    dataset = Dataset.create(project=project, name='tones', path=str(db_path), sources=[str(rave_db.parent / 'audio')],
                             params={'num_signal': 65536, 'output': str(db_path)}, status='ready', sr=44100,
                             channels=1, n_examples=9)
    run_folder = root / 'runs' / 'tiny_abc123'
    (run_folder / 'version_0' / 'checkpoints').mkdir(parents=True)
    ckpt = run_folder / 'version_0' / 'checkpoints' / 'best.ckpt'
    ckpt.write_bytes(bytes(range(256)) * 64)
    (run_folder / 'config.gin').write_text('# gin\n')
    run = Run.create(project=project, dataset=dataset, name='tiny', folder=str(run_folder), configs=['v2_small'],
                     params={'db_path': str(db_path), 'max_steps': 4}, status='done', step=4)
    Checkpoint.create(run=run, path=str(ckpt), step=4, kind='best')
    ts = root / 'exports' / 'tiny.ts'
    ts.write_bytes(b'not really torchscript, only bytes to carry')
    Export.create(project=project, run=run, checkpoint=str(ckpt), path=str(ts), status='done')
    return project


def _read_lmdb(path: Path) -> int:
    env = lmdb.open(str(path), readonly=True, lock=False)
    with env.begin() as txn:
        entries = txn.stat()['entries']
        first = next(iter(txn.cursor()), None)
    env.close()
    assert first is not None and len(first[1]) > 0
    return entries


@pytest.mark.slow  # a dataset made by `rave preprocess`
def test_backup_restores_on_another_data_folder(studio, rave_db: Path, tmp_path: Path) -> None:
    from app.studio import Studio

    project = _populate(studio, rave_db)
    old_root = Path(project.location)
    entries = _read_lmdb(old_root / 'datasets' / 'tones')
    seen: list[tuple[int, int]] = []
    zip_path = studio.backups.write(project, tmp_path / 'out' / 'tones.zip',
                                    progress=lambda d, t: seen.append((d, t)))
    assert zip_path.is_file() and not list(zip_path.parent.glob('.*partial'))
    assert seen and seen[-1][0] == seen[-1][1] > 0
    with zipfile.ZipFile(zip_path) as zf:
        manifest = json.loads(zf.read('manifest.json'))
        names = zf.namelist()
    assert manifest['datasets'][0]['path'] == 'datasets/tones'
    assert manifest['runs'][0]['folder'] == 'runs/tiny_abc123'
    assert str(old_root) not in json.dumps(manifest)  # nothing points back into the old folder
    assert 'files/datasets/tones/data.mdb' in names and 'files/exports/tiny.ts' in names

    other = Studio(tmp_path / 'other-data')  # a second data folder: the database now lives there
    assert Project.select().count() == 0
    restored = other.backups.restore(zip_path)
    new_root = Path(restored.location)
    assert new_root == (other.data_dir / 'projects' / 'Tones').resolve()
    assert (restored.name, restored.description) == ('Tones', 'synthesised tones')
    dataset = restored.datasets.get()
    assert Path(dataset.path) == new_root / 'datasets' / 'tones'
    assert dataset.params['output'] == dataset.path and dataset.sources == [str(rave_db.parent / 'audio')]
    assert _read_lmdb(Path(dataset.path)) == entries
    run = restored.runs.get()
    assert run.dataset_id == dataset.id and Path(run.folder) == new_root / 'runs' / 'tiny_abc123'
    assert run.params['db_path'] == dataset.path
    ckpt = run.checkpoints.get()
    assert Path(ckpt.path).read_bytes() == bytes(range(256)) * 64
    export = restored.exports.get()
    assert export.run_id == run.id and export.checkpoint == ckpt.path
    assert Path(export.path).read_bytes().startswith(b'not really')

    with pytest.raises(ProjectError, match='exists already') as err:
        other.backups.restore(zip_path)
    assert err.value.suggestion == 'Tones (2)'
    busy = tmp_path / 'busy'
    busy.mkdir()
    (busy / 'something.txt').write_text('x')
    with pytest.raises(ProjectError, match='not empty'):
        other.backups.restore(zip_path, name='Tones (2)', location=busy)
    assert not Project.get_or_none(Project.name == 'Tones (2)')
    second = other.backups.restore(zip_path, name='Tones (2)', location=tmp_path / 'elsewhere')
    assert Path(second.datasets.get().path) == (tmp_path / 'elsewhere' / 'datasets' / 'tones').resolve()


def test_a_zip_that_is_not_a_backup_is_refused(studio, tmp_path: Path) -> None:
    plain = tmp_path / 'photos.zip'
    with zipfile.ZipFile(plain, 'w') as zf:
        zf.writestr('a.txt', 'hello')
    with pytest.raises(ProjectError, match='not a RAVE Studio project backup'):
        studio.backups.restore(plain)
    text = tmp_path / 'notes.zip'
    text.write_text('not a zip')
    with pytest.raises(ProjectError, match='not a zip file'):
        studio.backups.restore(text)
    with pytest.raises(ProjectError, match='does not exist'):
        studio.backups.restore(tmp_path / 'missing.zip')
    evil = tmp_path / 'evil.zip'
    with zipfile.ZipFile(evil, 'w') as zf:
        zf.writestr('manifest.json', json.dumps({'format': 'rave-studio-project-backup', 'version': 1,
                                                 'project': {'name': 'Evil'}}))
        zf.writestr('files/../../escape.txt', 'x')
    with pytest.raises(ProjectError, match='unsafe path'):
        studio.backups.restore(evil)
    assert not Project.get_or_none(Project.name == 'Evil')
    assert not (studio.data_dir / 'projects' / 'Evil').exists()


@pytest.mark.slow  # a dataset made by `rave preprocess`
def test_delete_needs_the_exact_name_and_keeps_files_unless_asked(studio, rave_db: Path) -> None:
    project = _populate(studio, rave_db)
    folder = Path(project.location)
    with pytest.raises(ProjectError, match='exactly'):
        studio.projects.delete(project, 'tones')
    assert Project.get_or_none(Project.id == project.id)
    studio.projects.delete(project, 'Tones')
    assert not Project.get_or_none(Project.id == project.id)
    assert Dataset.select().count() == Run.select().count() == Checkpoint.select().count() == 0
    assert Export.select().count() == 0
    assert (folder / 'datasets' / 'tones' / 'data.mdb').is_file()  # files kept by default

    again = studio.projects.create('Scratch')
    (Path(again.location) / 'uploads' / 'take.wav').write_bytes(b'RIFF')
    studio.projects.delete(again, 'Scratch', remove_files=True)
    assert not Path(again.location).exists()


@pytest.mark.slow  # a dataset made by `rave preprocess`
def test_external_dataset_is_kept_as_a_reference(studio, rave_db: Path, tmp_path: Path) -> None:
    project = studio.projects.create('Lazy')
    Dataset.create(project=project, name='outside', path=str(rave_db), lazy=True, status='ready')
    assert [d.name for d in studio.projects.external_datasets(project)] == ['outside']
    zip_path = studio.backups.write(project, tmp_path / 'lazy.zip')
    with zipfile.ZipFile(zip_path) as zf:
        manifest = json.loads(zf.read('manifest.json'))
        assert not any(n.endswith('data.mdb') for n in zf.namelist())
    assert manifest['datasets'][0]['external'] is True
    assert manifest['datasets'][0]['path'] == str(rave_db)


def test_restore_and_project_folders_outside_the_roots_need_an_admin(studio, tmp_path: Path) -> None:
    admin = studio.session(local(), None).projects
    member = studio.session(Actor('member', shared=True), None).projects
    mine = admin.create('Mine')
    zip_path = admin.backup(mine.id)
    assert zip_path.parent == studio.data_dir / 'backups'
    anywhere = tmp_path / 'anywhere'
    with pytest.raises(Forbidden, match='outside the browsable'):
        member.restore(zip_path, name='Theirs', location=anywhere)
    with pytest.raises(Forbidden, match='outside the browsable'):
        member.create('Elsewhere', location=anywhere)
    assert not anywhere.exists() and not admin.name_taken('Theirs') and not admin.name_taken('Elsewhere')
    theirs = member.restore(zip_path, name='Theirs')  # into the data folder: anyone who may edit
    assert Path(theirs.location) == (studio.data_dir / 'projects' / 'Theirs').resolve()
    colleague = studio.session(Actor('colleague', shared=True), None).projects
    with pytest.raises(Forbidden):  # who restored it owns it; anyone else needs the manage role to delete it
        colleague.delete(theirs.id, 'Theirs')
    copy = admin.restore(zip_path, name='Admin copy', location=anywhere)
    assert Path(copy.location) == anywhere.resolve()
    with pytest.raises(ProjectError, match='outside the folders this studio may browse'):
        admin.restore('/etc/hosts')
    with pytest.raises(ProjectError, match='Upload a backup'):
        admin.restore('  ')


def test_backup_uploads_are_checked_before_they_are_kept(studio) -> None:
    projects = studio.session(local(), None).projects
    studio.settings.set('max_upload_mb', 1)
    with pytest.raises(UploadRefused, match='over the upload limit'):
        projects.reserve_backup_upload('big.zip', 2 * 1024 ** 2)
    with pytest.raises(UploadRefused, match='.zip'):
        projects.reserve_backup_upload('photos.tar', 10)
    inbox = studio.data_dir / 'backups' / 'incoming'
    assert not inbox.exists() or not list(inbox.iterdir())
    target = projects.reserve_backup_upload('../../my backup.zip', 10)
    assert target.parent == inbox.resolve() and target.name == 'my backup.zip'
    assert projects.reserve_backup_upload('my backup.zip', 10).name == 'my backup (2).zip'
