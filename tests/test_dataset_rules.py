"""The datasets facade's rules: one dataset validation (the wizard's steps, the doctor and start say the same
sentence for the same input), who may do what, the file policy on uploads and archives, and the events pages
follow."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User
from rave_fixtures import register_dataset, synth_audio
from waiting import build_finished

from services import access
from services.access import Actor, Forbidden, Role
from services.datasets import DatasetError, Datasets, PreprocessSpec, UploadRefused
from services.events import DatasetChanged
from services.store import Dataset

ROOT = Path(__file__).resolve().parent.parent


def facade(studio, actor: Actor | None = None) -> Datasets:
    return studio.session(actor or access.local(), None).datasets


@pytest.fixture
def project(studio):
    return studio.projects.create('Rules')


@pytest.fixture
def audio(data_dir: Path) -> Path:
    synth_audio(data_dir / 'audio', n_files=1, seconds=3.0)
    return data_dir / 'audio'


def test_the_wizard_the_doctor_and_start_say_the_same(studio, project, audio: Path, tmp_path: Path) -> None:
    datasets = facade(studio)
    good = PreprocessSpec(name='tones', inputs=(str(audio),), num_signal=16384)
    Dataset.create(project=project, name='taken', path='/nowhere/taken', status='ready')
    Dataset.create(project=project, name='elsewhere', path=str(datasets.output_path(project.id, 'claimed')),
                   status='ready')
    crowded = datasets.output_path(project.id, 'crowded')
    crowded.mkdir(parents=True)
    (crowded / 'data.mdb').write_bytes(b'someone else')
    outside = tmp_path / 'outside'
    outside.mkdir()

    def name_step(spec: PreprocessSpec) -> list[str]:
        return datasets.check_name(project.id, spec.name)

    def sources_step(spec: PreprocessSpec) -> list[str]:
        return datasets.check_inputs(project.id, list(spec.inputs))

    def params_step(spec: PreprocessSpec) -> list[str]:
        return datasets.check_params(spec)

    cases = [
        (name_step, {'name': ' '}, 'Give the dataset a name.'),
        (name_step, {'name': 'taken'}, 'already has a dataset called "taken"'),
        (name_step, {'name': 'claimed'}, 'is already in use by the dataset "elsewhere"'),
        (name_step, {'name': 'crowded'}, 'is already in use: it already holds files'),
        (sources_step, {'inputs': ()}, 'Add at least one folder of audio.'),
        (sources_step, {'inputs': (str(outside),)}, 'is outside the browsable folders'),
        (sources_step, {'inputs': (str(audio / 'nothing here'),)}, 'does not exist'),
        (sources_step, {'inputs': (str(audio / 'tone_00.wav'),)}, 'is not a folder'),
        (params_step, {'num_signal': None}, 'must be a whole number of samples'),
        (params_step, {'channels': 3}, 'Channels must be 1 (mono) or 2 (stereo)'),
        (params_step, {'sr': 12345}, 'Pick a sampling rate'),
        (params_step, {'max_db_size': 0}, 'must be a whole number of GB'),
        (params_step, {'ext': ()}, 'at least one audio file type'),
    ]
    assert name_step(good) == sources_step(good) == params_step(good) == []
    for step, change, words in cases:
        spec = PreprocessSpec(**{**good.__dict__, **change})
        shown = step(spec)
        assert len(shown) == 1 and words in shown[0], (change, shown)
        blockers = [f.text for f in datasets.doctor(project.id, spec) if f.severity == 'blocker']
        assert shown[0] in blockers, (change, blockers)
        with pytest.raises(DatasetError) as refused:
            datasets.start(project.id, spec)
        assert shown[0] in str(refused.value), change
    assert Dataset.select().where(Dataset.status == 'building').count() == 0  # nothing was started


async def test_the_wizard_shows_the_services_sentence_at_each_step(user: User, data_dir: Path) -> None:
    studio = app.studio
    project = studio.projects.current(None)
    datasets = facade(studio)
    crowded = datasets.output_path(project.id, 'crowded')
    crowded.mkdir(parents=True)
    (crowded / 'notes.txt').write_text('not a dataset')
    await user.open('/datasets')
    user.find(marker='new').click()
    user.find(marker='name').type('crowded')
    user.find(marker='next-name').click()
    await user.should_see(datasets.check_name(project.id, 'crowded')[0])
    user.find(marker='name').clear().type('fresh')
    user.find(marker='next-name').click()
    await user.should_see('Input folders')
    user.find(marker='folder-path').type(str(data_dir / 'missing'))
    user.find(marker='add-folder').click()
    await user.should_see(datasets.check_inputs(project.id, [str(data_dir / 'missing')])[0])


def test_who_may_do_what(studio, rave_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = studio.projects.current(None)
    dataset = register_dataset(studio, rave_db)
    member = Actor('guest', shared=True)
    monkeypatch.setattr(access, '_project_roles', lambda actor, project_id: Role.READ)
    reader = facade(studio, member)
    assert [d.name for d in reader.list(project.id)] == ['tones'] and reader.get(dataset.id).ready
    for refused in (lambda: reader.delete(dataset.id), lambda: reader.add_tag(dataset.id, 'x'),
                    lambda: reader.start(project.id, PreprocessSpec('x', ('/',))),
                    lambda: reader.clone(dataset.id, 'copy'), lambda: reader.cancel(dataset.id),
                    lambda: reader.receive(project.id, 'b', 'a.wav', 10)):
        with pytest.raises(Forbidden):
            refused()
    monkeypatch.setattr(access, '_project_roles', lambda actor, project_id: Role.NONE)
    with pytest.raises(Forbidden):
        facade(studio, member).get(dataset.id)
    facade(studio).delete(dataset.id)
    assert Dataset.get_or_none(Dataset.id == dataset.id) is None


async def test_archive_uploads_are_checked_before_and_while_they_are_written(studio, project) -> None:
    studio.settings.set('max_upload_mb', 1)
    datasets = facade(studio)
    with pytest.raises(DatasetError, match='big.ravedata.tar is 3 MB, over the upload limit of 1 MB'):
        datasets.receive_archive(project.id, 'big.ravedata.tar', 3 * 1024 ** 2)
    with pytest.raises(DatasetError, match='is not .tar'):
        datasets.receive_archive(project.id, 'notes.txt', 10)
    inbox = Path(project.location) / 'archives' / 'incoming'
    assert not inbox.exists() or not list(inbox.iterdir())  # nothing reserved for refused uploads

    async def lying(total: int):  # a client that declares 10 bytes and sends more than the limit
        for n in range(total // (256 * 1024)):
            yield (b'\0' * 257 + b'ustar' if n == 0 else b'').ljust(256 * 1024, b'\0')  # a tar's first block

    sink = datasets.receive_archive(project.id, 'small.ravedata.tar', 10)
    with pytest.raises(UploadRefused, match='larger than the upload limit of 1 MB'):
        await sink.receive(lying(2 * 1024 ** 2))
    assert not sink.path.exists()
    kept = datasets.receive_archive(project.id, 'small.ravedata.tar', 10)
    assert (await kept.receive(lying(512 * 1024))).stat().st_size == 512 * 1024
    assert datasets.receive_archive(project.id, 'small.ravedata.tar', 10).path.name == 'small.ravedata (2).tar'
    with pytest.raises(DatasetError, match='outside the folders this studio may use'):
        datasets.import_archive(project.id, '/etc/hostname')


def test_changes_are_published_for_the_pages(studio, rave_db: Path, audio: Path) -> None:
    project = studio.projects.current(None)
    datasets = facade(studio)
    dataset = register_dataset(studio, rave_db)
    studio.bus.pending.clear()
    datasets.add_tag(dataset.id, 'drums')
    assert datasets.set_category(dataset.id, 'drums') and not datasets.set_category(dataset.id, ' drums ')
    assert studio.bus.pending == [DatasetChanged(dataset.id, 'ready')]  # one event per tick, however many changes
    studio.bus.pending.clear()
    built = datasets.start(project.id, PreprocessSpec('tones 2', (str(audio),), num_signal=16384))
    assert DatasetChanged(built.id, 'building') in studio.bus.pending
    datasets.cancel(built.id)
    assert build_finished(studio, Dataset.get_by_id(built.id)).status == 'cancelled'
    datasets.delete(dataset.id)
    assert DatasetChanged(dataset.id, 'removed') in studio.bus.pending


def test_dataset_pages_import_no_store_model() -> None:
    """Pages and the components they use take views from the facade, never ORM rows."""
    files = [*(ROOT / 'pages' / 'datasets').glob('*.py'),
             *(ROOT / 'components' / name for name in ('file_picker.py', 'uploader.py', 'audio_preview.py'))]
    for path in files:
        tree = ast.parse(path.read_text())
        modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert 'services.store' not in modules, path
        assert not [m for m in modules if m and m.startswith('app') and m != 'app'], path


async def test_the_list_follows_datasets_without_a_reload(user: User, rave_db: Path) -> None:
    dataset = register_dataset(app.studio, rave_db)
    await user.open('/datasets')
    await user.should_see(marker='row-tones')
    facade(app.studio).add_tag(dataset.id, 'drums')  # as another client would: the page hears DatasetChanged
    await user.should_see('drums', retries=50)
    facade(app.studio).delete(dataset.id)
    await user.should_see('No datasets yet', retries=50)
    await user.should_not_see(marker='row-tones')
