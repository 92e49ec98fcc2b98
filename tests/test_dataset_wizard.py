"""The new-dataset wizard as a user meets it: every step, its checks, the browser, uploads, preview, the queue."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from nicegui import app
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User
from rave_fixtures import synth_audio
from waiting import until

from services.store import Dataset


async def _to_sources(user: User, name: str = 'tones') -> None:
    await user.open('/datasets')
    user.find(marker='new').click()
    await user.should_see(marker='wizard')
    user.find(marker='name').type(name)
    user.find(marker='next-name').click()
    await user.should_see('Input folders')


async def test_name_step_checks_before_next(user: User) -> None:
    await user.open('/datasets')
    user.find(marker='new').click()
    await user.should_see('your recordings cut into short examples')
    user.find(marker='next-name').click()
    await user.should_see('Give the dataset a name.')
    user.find(marker='name').type('violin')
    await user.should_see('Stored in ')
    user.find(marker='next-name').click()
    await user.should_see('Input folders')
    user.find(marker='next-sources').click()
    await user.should_see('Add at least one folder of audio.')
    user.find(marker='back-sources').click()
    await user.should_see(marker='name')


async def test_sources_browser_add_remove_filter_and_preview(user: User, data_dir: Path, tmp_path: Path) -> None:
    synth_audio(data_dir / 'takes', n_files=2, seconds=3.0)
    synth_audio(tmp_path / 'outside', n_files=1, seconds=1.0)
    await _to_sources(user)
    await user.should_see(marker='entry-takes', retries=50)
    user.find(marker='add-takes').click()
    await user.should_see('2 files · 6 s of audio', retries=100)
    user.find(marker='folder-path').type(str(tmp_path / 'outside'))
    user.find(marker='add-folder').click()
    await user.should_see('is outside the browsable folders')
    user.find(marker='ext').elements.pop().set_value(['flac'])
    await user.should_see('No audio files found yet in these folders.', retries=100)
    user.find(marker='ext').elements.pop().set_value(['wav'])
    await user.should_see('2 files · 6 s of audio', retries=100)
    user.find(marker='remove-folder').click()
    await user.should_see('No folder yet', retries=50)
    # open the folder in the browser and preview a file: waveform and player
    user.find(marker='open-takes').click()
    await user.should_see(marker='play-tone_00.wav', retries=50)
    await user.should_see('0:03')
    user.find(marker='play-tone_00.wav').click()
    await user.should_see(marker='preview-player', retries=100)
    player = user.find(marker='preview-player').elements.pop()
    assert player.props['src'].startswith('/media/source?path=')
    await user.should_see('3.0 s', retries=100)  # the waveform's time axis, drawn from the cached envelope
    assert list((data_dir / 'cache' / 'waveforms').glob('*.json'))


async def test_upload_into_the_project_and_over_the_limit(user: User, data_dir: Path) -> None:
    await _to_sources(user)
    studio = app.studio
    studio.settings.set('max_upload_mb', 1)
    wav = synth_audio(data_dir / 'tmp', n_files=1, seconds=2.0)[0].read_bytes()
    upload = user.find(marker='upload').elements.pop()
    user.find(marker='upload-folder').clear().type('my drops')
    await upload.handle_uploads([SmallFileUpload('../evil take.wav', 'audio/wav', wav)])
    await user.should_see('Uploaded evil take.wav', retries=50)
    target = studio.datasets.uploads(studio.projects.all()[0]) / 'my drops' / 'evil take.wav'
    assert target.read_bytes() == wav
    await user.should_see(str(target.parent), retries=100)  # became an input folder
    await upload.handle_uploads([SmallFileUpload('big.wav', 'audio/wav', b'\0' * (2 * 1024 ** 2))])
    await user.should_see('over the upload limit of 1 MB', retries=50)
    assert not (target.parent / 'big.wav').exists()


async def test_upload_a_folder_and_a_zip_of_one(user: User, data_dir: Path) -> None:
    """A picked or dropped folder arrives as one file per request, named with its path inside the folder (the
    browser joins the parts with "⁄"); a .zip of a folder is unpacked on the server; over-the-limit is refused."""
    await _to_sources(user)
    studio = app.studio
    studio.settings.set('max_upload_mb', 1)
    wavs = [p.read_bytes() for p in synth_audio(data_dir / 'tmp', n_files=3, seconds=1.0)]
    upload = user.find(marker='upload').elements.pop()
    user.find(marker='upload-folder').clear().type('session')
    await upload.handle_uploads([SmallFileUpload('drums\u2044kick.wav', 'audio/wav', wavs[0]),
                                 SmallFileUpload('drums\u2044toms\u2044..\u2044low tom.wav', 'audio/wav', wavs[1])])
    await user.should_see('Uploaded 2 audio files into session', retries=50)
    batch = studio.datasets.uploads(studio.projects.all()[0]) / 'session'
    assert (batch / 'drums' / 'kick.wav').read_bytes() == wavs[0]
    assert (batch / 'drums' / 'toms' / 'low tom.wav').read_bytes() == wavs[1]
    await user.should_see(str(batch), retries=100)  # the batch folder (not each sub-folder) became the input
    await user.should_see('2 files', retries=100)

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, 'w') as zf:
        zf.writestr('strings/violin.wav', wavs[2])
        zf.writestr('strings/notes.txt', 'not audio')
        zf.writestr('../escape.wav', wavs[2])  # skipped: never written anywhere
        zf.writestr('drums/kick.wav', wavs[2])  # already there: kept as "kick (2).wav", nothing overwritten
    await upload.handle_uploads([SmallFileUpload('more.zip', 'application/zip', archive.getvalue())])
    await user.should_see('Uploaded 2 audio files from more.zip into session; 2 entries skipped.', retries=50)
    assert (batch / 'strings' / 'violin.wav').read_bytes() == wavs[2]
    assert not (batch / 'escape.wav').exists() and not (batch.parent / 'escape.wav').exists()
    assert (batch / 'drums' / 'kick.wav').read_bytes() == wavs[0]
    assert (batch / 'drums' / 'kick (2).wav').read_bytes() == wavs[2]
    assert not list(batch.parent.glob('.incoming-*'))  # the received archive is gone
    await user.should_see('4 files', retries=100)

    big = io.BytesIO()  # 2 MB of zeros compress to almost nothing: the limit applies to what it unpacks to
    with zipfile.ZipFile(big, 'w', zipfile.ZIP_DEFLATED) as zf:
        zf.writestr('bomb/silence.wav', b'\0' * (2 * 1024 ** 2))
    assert len(big.getvalue()) < 1024 ** 2
    await upload.handle_uploads([SmallFileUpload('bomb.zip', 'application/zip', big.getvalue())])
    await user.should_see('bomb.zip unpacks to 2 MB, over the upload limit of 1 MB', retries=50)
    assert not (batch / 'bomb').exists() and not list(batch.parent.glob('.incoming-*'))
    await upload.handle_uploads([SmallFileUpload('drums\u2044huge.wav', 'audio/wav', b'\0' * (2 * 1024 ** 2))])
    await user.should_see('drums/huge.wav is 2 MB, over the upload limit of 1 MB', retries=50)
    assert not (batch / 'drums' / 'huge.wav').exists()


async def test_parameters_show_the_example_length_live(user: User, data_dir: Path) -> None:
    synth_audio(data_dir / 'takes', n_files=2, seconds=4.0)
    await _to_sources(user)
    user.find(marker='folder-path').type(str(data_dir / 'takes'))
    user.find(marker='add-folder').click()
    await user.should_see('2 files · 8 s of audio', retries=100)
    user.find(marker='next-sources').click()
    await user.should_see('Each example holds 2 × 131 072 = 262 144 samples = 5.94 s of audio · about 0 examples')
    user.find(marker='num_signal').elements.pop().set_value(16384)
    await user.should_see('0.74 s of audio · about 10 examples')
    user.find(marker='sr').elements.pop().set_value(22050)
    await user.should_see('1.49 s of audio')
    user.find(marker='num_signal').elements.pop().set_value(20000)
    await user.should_see('A power of two')
    user.find(marker='lazy').elements.pop().set_value(True)
    await user.should_see('2 file references')
    user.find(marker='max_db_size').elements.pop().set_value(0)
    user.find(marker='next-params').click()
    await user.should_see('must be a whole number of GB')
    for marker in ('channels', 'dyndb'):
        assert user.find(marker=marker).elements


async def test_review_shows_the_doctor_then_runs_until_ready(user: User, data_dir: Path) -> None:
    synth_audio(data_dir / 'takes', n_files=2, seconds=4.0)
    (data_dir / 'takes' / 'broken.wav').write_bytes(b'not audio at all')
    await _to_sources(user, 'tones')
    user.find(marker='folder-path').type(str(data_dir / 'takes'))
    user.find(marker='add-folder').click()
    await user.should_see('1 unusable', retries=100)
    user.find(marker='next-sources').click()
    user.find(marker='num_signal').elements.pop().set_value(16384)
    user.find(marker='channels').elements.pop().set_value(2)
    user.find(marker='next-params').click()
    await user.should_see('will be skipped', retries=200)
    await user.should_see('copies their one channel to both sides')
    await user.should_see('Worth knowing')
    user.find(marker='start').click()
    await user.should_see('Building "tones"', retries=100)
    await user.should_see('examples ·', retries=900)  # live counts in the run step's console
    await until(lambda: Dataset.get(Dataset.name == 'tones').status != 'building', timeout=90, interval=0.1)
    dataset = Dataset.get(Dataset.name == 'tones')
    assert dataset.status == 'ready' and dataset.channels == 2
    assert any('broken.wav' in line for line in dataset.params['skipped'])


async def test_queue_order_can_be_changed(user: User, data_dir: Path) -> None:
    studio = app.studio
    synth_audio(data_dir / 'audio', n_files=1, seconds=60.0, sr=22050)
    project = studio.projects.current(None)
    first = studio.datasets.start(project, 'first', [str(data_dir / 'audio')], num_signal=16384)
    second = studio.datasets.start(project, 'second', [str(data_dir / 'audio')], num_signal=16384)
    third = studio.datasets.start(project, 'third', [str(data_dir / 'audio')], num_signal=16384)
    await user.open('/datasets')
    await user.should_see(marker='queued-third', retries=50)
    user.find(marker='earlier-third').click()
    await user.should_see(marker='queue')
    assert [d.name for d in studio.datasets.queue(project)] == ['third', 'second']
    user.find(marker='unqueue-second').click()
    assert [d.name for d in studio.datasets.queue(project)] == ['third']
    for dataset in (first, third):
        studio.datasets.cancel(studio.datasets.get(dataset.id))
    assert Dataset.get_by_id(second.id).status in ('cancelled', 'building')
