"""Explorer: reconstruct audio through an exported RAVE model in a worker job, and the pages around it."""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import wave
from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User
from rave_fixtures import synth_audio
from waiting import job_finished

from services.access import local
from services.files import UploadRefused
from services.models.inference import InferenceError
from services.store import Export

pytestmark = pytest.mark.slow  # real RAVE: an export made by `rave export`, reconstructions through it


def register_export(studio, rave_export: Path) -> tuple:
    """The CLI export copied into the project and indexed as a finished export."""
    project = studio.projects.current(None)
    target = Path(project.location) / 'exports' / rave_export.name
    shutil.copy(rave_export, target)
    return project, Export.create(project=project, path=str(target), status='done', streaming=False)


def wav_info(path: Path) -> tuple[int, int, int]:
    with wave.open(str(path)) as f:
        return f.getframerate(), f.getnchannels(), f.getnframes()


@pytest.mark.parametrize('fmt', ['wav', 'flac', 'mp3'])
def test_reconstruct_audio_of_any_format(studio, rave_export: Path, tmp_path: Path, fmt: str) -> None:
    project, export = register_export(studio, rave_export)
    source = synth_audio(tmp_path / 'audio', n_files=1, seconds=3.0, sr=22050, channels=2)[0]
    if fmt != 'wav':
        converted = source.with_suffix(f'.{fmt}')
        subprocess.run(['ffmpeg', '-v', 'error', '-y', '-i', str(source), str(converted)], check=True)
        source = converted
    rec = studio.inference.reconstruct(project, export, source)
    job = job_finished(studio, rec.job_id, 600)
    assert job.status == 'done', studio.jobs.log_tail(job.id)
    result = studio.inference.result(rec.folder)
    assert studio.inference.status(rec)[0] == 'done'
    assert rec.folder.parent == Path(project.location) / 'explorer'

    in_sr, in_ch, in_frames = wav_info(rec.folder / 'input.wav')
    out_sr, out_ch, out_frames = wav_info(rec.folder / 'output.wav')
    assert in_sr == out_sr == result['sr'] == 44100  # resampled from 22.05 kHz to the model's rate
    assert in_ch == out_ch == result['channels'] == 1  # the model is mono, the source stereo
    assert abs(in_frames - 3.0 * 44100) < 0.05 * 44100 or fmt == 'mp3' and abs(in_frames - 3.0 * 44100) < 4000
    assert out_frames >= in_frames
    assert result['latent_shape'][0] == 1 and result['latent_shape'][1] == result['latent_size']
    assert result['latent_shape'][2] == pytest.approx(in_frames / result['compression_ratio'], abs=2)
    assert 900 <= len(result['input_envelope']['max']) <= 1000
    assert len(result['input_envelope']['min']) == len(result['input_envelope']['max'])
    assert max(result['input_envelope']['max']) > 0.1 > min(result['input_envelope']['min']) + 0.2
    assert studio.inference.history(project)[0][0] == rec.folder


def test_bad_input_gives_a_clear_message(studio, rave_export: Path, tmp_path: Path) -> None:
    project, export = register_export(studio, rave_export)
    text = tmp_path / 'notes.wav'
    text.write_text('this is not audio at all\n' * 50)
    rec = studio.inference.reconstruct(project, export, text)
    job = job_finished(studio, rec.job_id, 600)
    status, message = studio.inference.status(rec)
    assert job.status == 'failed' and status == 'failed'
    assert 'notes.wav is not an audio file' in message and 'Pick' in message
    assert not (rec.folder / 'output.wav').exists()

    empty = tmp_path / 'empty.wav'
    empty.write_bytes(b'')
    with pytest.raises(InferenceError, match='empty'):
        studio.inference.reconstruct(project, export, empty)
    with pytest.raises(InferenceError, match='does not exist'):
        studio.inference.reconstruct(project, export, tmp_path / 'missing.wav')
    models = studio.session(local(), None).models
    with pytest.raises(UploadRefused, match='over the upload limit'):
        models.reserve_upload(project.id, 'big.wav', 10 ** 12)
    with pytest.raises(UploadRefused, match='not an audio file'):
        models.reserve_upload(project.id, 'notes.txt', 10)
    uploads = Path(project.location) / 'uploads'
    taken = models.reserve_upload(project.id, '../../my take 1.wav', 10)  # the file policy's names
    assert taken.parent == uploads.resolve() and taken.name == 'my take 1.wav'
    assert models.reserve_upload(project.id, 'my take 1.wav', 10).name == 'my take 1 (2).wav'
    with pytest.raises(InferenceError, match='outside the folders'):
        models.reconstruct(project.id, export.id, text)  # a page may only name files inside the roots


async def test_explorer_reconstructs_and_shows_both_players(user: User, rave_export: Path, tmp_path: Path) -> None:
    await user.open('/transfer')  # the Play pages' Transfer plays a file through a model (the old explorer's job)
    await user.should_see('No exported model yet')
    studio = app.studio
    project, _export = register_export(studio, rave_export)
    synth_audio(Path(project.location) / 'uploads', n_files=1, seconds=2.0, prefix='take')
    await user.open('/transfer')
    await user.should_see(marker='model')
    user.find(marker='reconstruct').click()
    await _wait_for(user, 'reconstruction-player')  # the worker loads torch and the model: be patient
    await user.should_see(marker='original-player')
    await user.should_see(marker='reconstruction-player')
    await user.should_see('take_00.wav · 44100 Hz')
    await user.should_see('latent size')


async def _wait_for(user: User, marker: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            user.find(marker=marker)
            return
        except AssertionError:
            await asyncio.sleep(0.5)
    raise AssertionError(f'{marker} did not appear in {timeout} s')
