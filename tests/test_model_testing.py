"""Testing a model on audio: the facade's checks, the page, and the model-test worker on the tiny real run
(a checkpoint on files and on its dataset's held-out examples: auraloss and pyloudnorm metrics; on speech that
espeak-ng says, PESQ and STOI)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from nicegui import app
from nicegui.testing import User
from rave_fixtures import register_dataset, synth_audio
from waiting import job_finished, until

from services.access import local
from services.events import JobsChanged
from services.jobs import FINISHED
from services.models.testing import ModelTestError, is_speech, parse_model_test
from services.store import Checkpoint, Dataset, Job, Run
from services.workers.model_test import speech_metrics

needs_espeak = pytest.mark.skipif(shutil.which('espeak-ng') is None, reason='espeak-ng is not installed')


def fake_run(studio) -> tuple[Run, str]:
    project = studio.projects.current(None)
    folder = Path(project.location) / 'runs' / 'drums_0123'
    (folder / 'version_0' / 'checkpoints').mkdir(parents=True)
    (folder / 'config.gin').write_text('CAPACITY = 32\n')
    path = folder / 'version_0' / 'checkpoints' / 'best.ckpt'
    path.write_bytes(b'x')
    run = Run.create(project=project, name='drums', folder=str(folder), configs=['v2_small'], status='done')
    Checkpoint.create(run=run, path=str(path), step=4, kind='best')
    return run, str(path)


def say(folder: Path, text: str = 'The quick brown fox jumps over the lazy dog, then it sleeps.') -> Path:
    """Speech, as espeak-ng says it (22.05 kHz mono WAV)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / 'speech.wav'
    subprocess.run(['espeak-ng', '-w', str(path), text], check=True, capture_output=True, timeout=60)
    return path


def finish(studio, view, files: list[dict], aggregate: dict, speech: bool = False) -> None:
    """What the worker writes when it ends well, written here (the job is cancelled: no worker runs)."""
    studio.jobs.cancel(view.job_id)
    (Path(view.folder) / 'result.json').write_text(json.dumps({
        'model': 'm.ckpt', 'kind': 'checkpoint', 'sr': 44100, 'channels': 1, 'model_seconds': 0.1, 'speech': speech,
        'aggregate': aggregate, 'files': files}))
    Job.update(status='done').where(Job.id == view.job_id).execute()
    studio.jobs.states.pop(view.job_id, None)


def test_progress_lines(studio) -> None:
    assert parse_model_test('[model_test] 0.525 tone_01.wav') == {'fraction': 0.525, 'stage': 'tone_01.wav'}
    assert parse_model_test('loading torch') is None
    # the job's host imports the parser by name: the worker's module, which imports nothing heavy at import
    assert studio.jobs.parser_of('model_test') == 'services.workers.model_test:parse'


def test_start_refuses_what_it_cannot_test(studio, tmp_path: Path) -> None:
    run, checkpoint = fake_run(studio)
    tests = studio.session(local(), None).model_tests
    project = studio.projects.current(None)
    assert [s.label for s in tests.sources(project.id)] == ['drums · best · step 4']
    with pytest.raises(ModelTestError, match='Pick a checkpoint or an export'):
        tests.start(project.id, '/elsewhere/model.ckpt', files=['x.wav'])
    with pytest.raises(ModelTestError, match='Pick or upload'):
        tests.start(project.id, checkpoint)
    with pytest.raises(ModelTestError, match='outside the folders this studio may use'):
        tests.start(project.id, checkpoint, files=['/etc/passwd'])
    empty = Path(project.location) / 'uploads' / 'empty'
    empty.mkdir(parents=True)
    with pytest.raises(ModelTestError, match='holds no audio file'):
        tests.start(project.id, checkpoint, folder=str(empty))
    with pytest.raises(ModelTestError, match='ready dataset'):
        tests.start(project.id, checkpoint, dataset_id=999)


def test_a_finished_test_reads_back_with_its_comparison(studio) -> None:
    run, checkpoint = fake_run(studio)
    project = studio.projects.current(None)
    tests = studio.session(local(), None).model_tests
    synth_audio(Path(project.location) / 'uploads', n_files=1, seconds=1.0)
    view = tests.start(project.id, checkpoint, files=[str(Path(project.location) / 'uploads' / 'tone_00.wav')])
    studio.jobs.cancel(view.job_id)  # no worker here: write what it would have written
    folder = Path(view.folder)
    t = np.arange(22050) / 44100
    for name, gain in (('000_in.wav', 0.5), ('000_out.wav', 0.25)):
        sf.write(folder / name, (gain * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 44100)
    envelope = {'min': [-0.5, -0.4], 'max': [0.5, 0.4]}
    (folder / 'result.json').write_text(json.dumps({
        'model': checkpoint, 'kind': 'checkpoint', 'sr': 44100, 'channels': 1, 'model_seconds': 0.1,
        'aggregate': {'mrstft': 1.5, 'si_sdr': 6.0}, 'files': [{
            'name': 'tone_00.wav', 'input': str(folder / '000_in.wav'), 'output': str(folder / '000_out.wav'),
            'seconds': 0.5, 'model_seconds': 0.1, 'metrics': {'mrstft': 1.5, 'si_sdr': 6.0, 'lufs_diff': -6.0},
            'input_envelope': envelope, 'output_envelope': envelope}]}))
    from services.store import Job
    Job.update(status='done').where(Job.id == view.job_id).execute()
    studio.jobs.states.pop(view.job_id, None)
    done = tests.test(view.id, view.job_id, view.folder)
    assert done.done and done.files[0].metrics['lufs_diff'] == -6.0 and dict(done.aggregate)['si_sdr'] == 6.0
    spectra = tests.comparison(done.files[0])
    assert spectra['difference']['db'].shape == spectra['input']['db'].shape
    tone = int(np.argmax(spectra['input']['db'].mean(axis=1)))  # the 220 Hz bin
    assert np.median(spectra['difference']['db'][tone]) == pytest.approx(-6, abs=1)  # half the amplitude


async def test_page_picks_the_run_and_says_what_is_missing(user: User) -> None:
    fake_run(app.studio)
    await user.open('/models/test?run=1')
    await user.should_see('drums · best · step 4')
    user.find(marker='test-start').click()
    await user.should_see('Pick or upload a piece of audio')
    next(iter(user.find(marker='test-sources').elements)).value = 'Dataset'
    user.find(marker='test-start').click()
    await user.should_see('Pick a ready dataset of this project.')


async def test_page_without_models_teaches(user: User) -> None:
    await user.open('/models/test')
    await user.should_see('Nothing to test yet')


@pytest.mark.slow
def test_worker_tests_a_checkpoint_on_files_and_held_out_examples(studio, rave_run: Path, rave_db: Path) -> None:
    project = studio.projects.current(None)
    target = Path(project.location) / 'runs' / rave_run.name
    shutil.copytree(rave_run, target)
    studio.exports.import_run(project, target)
    dataset = register_dataset(studio, rave_db)
    tests = studio.session(local(), None).model_tests
    source = next(s for s in tests.sources(project.id) if s.path.endswith('best.ckpt'))
    synth_audio(Path(project.location) / 'uploads' / 'batch', n_files=2, seconds=2.0, sr=22050)
    view = tests.start(project.id, source.path, folder=str(Path(project.location) / 'uploads' / 'batch'))
    job = job_finished(studio, view.job_id, timeout=600)
    done = tests.test(view.id, view.job_id, view.folder)
    assert job.status == 'done' and done.done, (done.error, studio.jobs.log_tail(job.id))
    assert [f.name for f in done.files] == ['tone_00.wav', 'tone_01.wav'] and done.sr == 44100
    first = done.files[0]
    assert first.seconds == pytest.approx(2.0, abs=0.05)  # resampled from 22.05 kHz to the model's rate
    assert first.metrics['mrstft'] > 0 and first.metrics['mel'] > 0 and np.isfinite(first.metrics['si_sdr'])
    assert first.metrics['lufs_in'] == pytest.approx(-15, abs=8)
    assert sf.info(first.output).samplerate == 44100 and {'mrstft', 'mel', 'si_sdr'} <= dict(done.aggregate).keys()
    held = tests.start(project.id, source.path, dataset_id=dataset.id, limit=2)
    job_finished(studio, held.job_id, timeout=600)
    done = tests.test(held.id, held.job_id, held.folder)
    assert done.done and len(done.files) == 1 and done.files[0].name.startswith('example ')  # N ≤ 50: one held out


def test_the_mel_distance_is_auralosss_with_torchaudios_filterbank() -> None:
    """The worker's mel distance (filters from torchaudio, no librosa import) equals auraloss's own MelSTFTLoss
    (filters from librosa) on the same pair, at two sample rates."""
    import auraloss
    import torch

    from services.workers.model_test import mel_loss
    generator = torch.Generator().manual_seed(0)
    for sr in (44100, 48000):
        a, b = (torch.randn(1, 1, sr, generator=generator) * 0.3 for _ in range(2))
        b = 0.7 * a + 0.3 * b  # a reconstruction: close to, not equal to, the original
        theirs = auraloss.freq.MelSTFTLoss(sample_rate=sr, fft_size=2048, hop_size=512, win_length=2048, n_mels=128)
        ours = mel_loss(sr)
        assert float(ours(b, a)) == pytest.approx(float(theirs(b, a)), rel=1e-4)
        assert float(ours(a, a)) == pytest.approx(0.0, abs=1e-6)


def test_the_codec_metrics_are_auralosss_without_the_phase_it_discards() -> None:
    """The worker's STFT losses skip the phase auraloss computes for a term weighted 0: the same distances."""
    import auraloss
    import torch

    from services.workers.model_test import Metrics
    generator = torch.Generator().manual_seed(1)
    a, b = (torch.randn(1, 1, 44100, generator=generator) * 0.3 for _ in range(2))
    b = 0.6 * a + 0.4 * b
    found = Metrics(44100)(a[0].numpy(), b[0].numpy())
    assert found['mrstft'] == pytest.approx(float(auraloss.freq.MultiResolutionSTFTLoss()(b, a)), rel=1e-5)
    assert found['si_sdr'] == pytest.approx(-float(auraloss.time.SISDRLoss()(b, a)), rel=1e-5)
    assert found['lufs_diff'] == pytest.approx(found['lufs_out'] - found['lufs_in'])


@needs_espeak
def test_speech_metrics_tell_clean_speech_from_a_degraded_one(tmp_path: Path) -> None:
    data, sr = sf.read(say(tmp_path), dtype='float32', always_2d=True)
    clean = data.T
    noisy = clean + np.random.default_rng(0).normal(0, 0.05, clean.shape).astype(np.float32)
    same, degraded = speech_metrics(clean, clean, sr), speech_metrics(clean, noisy, sr)
    assert same['pesq'] > 4.4 and same['stoi'] > 0.99  # at 16 kHz, the same speech is transparent
    assert 1.0 <= degraded['pesq'] < 3.5 and degraded['stoi'] < same['stoi']
    assert speech_metrics(np.zeros((1, sr)), np.zeros((1, sr)), sr)['pesq'] is None  # no utterance: no PESQ


def test_speech_is_the_users_mark_on_a_dataset(studio) -> None:
    run, checkpoint = fake_run(studio)
    project = studio.projects.current(None)
    voices = Dataset.create(project=project, name='voices', path='/tmp/voices', status='ready', tags=['Speech'])
    drums = Dataset.create(project=project, name='drums', path='/tmp/drums', status='ready', category='drums')
    assert is_speech(voices) and not is_speech(drums) and not is_speech(None)
    assert is_speech(Dataset(category=' speech ')) and not is_speech(Dataset(category='voice'))  # no guess
    tests = studio.session(local(), None).model_tests
    assert tests.speech_datasets(project.id) == {voices.id}
    assert not tests.sources(project.id)[0].speech
    Run.update(dataset=voices).where(Run.id == run.id).execute()
    assert tests.sources(project.id)[0].speech  # its model trained on speech

    def asked(view) -> bool:
        studio.jobs.cancel(view.job_id)
        return json.loads((Path(view.folder) / 'request.json').read_text())['speech']
    assert asked(tests.start(project.id, checkpoint, dataset_id=voices.id, limit=1))
    assert not asked(tests.start(project.id, checkpoint, dataset_id=drums.id, limit=1))
    assert asked(tests.start(project.id, checkpoint, dataset_id=drums.id, limit=1, speech=True))  # the switch
    synth_audio(Path(project.location) / 'uploads', n_files=1, seconds=1.0)
    upload = str(Path(project.location) / 'uploads' / 'tone_00.wav')
    assert asked(tests.start(project.id, checkpoint, files=[upload]))  # the model's dataset says speech
    assert not asked(tests.start(project.id, checkpoint, files=[upload], speech=False))


async def test_page_shows_speech_metrics_as_such(user: User) -> None:
    studio = app.studio
    run, checkpoint = fake_run(studio)
    project = studio.projects.current(None)
    voices = Dataset.create(project=project, name='voices', path='/tmp/voices', status='ready', category='speech')
    folder = Path(project.location) / 'uploads'
    synth_audio(folder, n_files=1, seconds=1.0)
    await user.open('/models/test')
    switch = next(iter(user.find(marker='test-speech').elements))
    assert switch.value is False  # the model trained on nothing marked speech
    next(iter(user.find(marker='test-dataset').elements)).set_value(voices.id)
    assert switch.value is True  # a dataset marked speech
    next(iter(user.find(marker='test-files').elements)).set_value([str(folder / 'tone_00.wav')])
    user.find(marker='test-start').click()
    job = await until(lambda: Job.get_or_none(Job.kind == 'model_test'), message='no test job')
    studio.jobs.cancel(job.id)  # no worker: what it writes is written below, once the poller saw it end
    await until(lambda: Job.get_by_id(job.id).status in FINISHED, 60, message='the test job did not end')
    view = studio.session(local(), None).model_tests.test(Path(job.spec['folder']).name, job.id, job.spec['folder'])
    sf.write(folder / '000.wav', np.zeros(4410, dtype=np.float32), 44100)
    envelope = {'min': [-0.5], 'max': [0.5]}
    metrics = {'mrstft': 1.5, 'mel': 2.0, 'si_sdr': 3.0, 'lufs_diff': -1.0, 'pesq': 1.25, 'stoi': 0.5}
    finish(studio, view, [{'name': 'tone_00.wav', 'input': str(folder / '000.wav'), 'output': str(folder / '000.wav'),
                           'seconds': 0.1, 'model_seconds': 0.1, 'metrics': metrics, 'input_envelope': envelope,
                           'output_envelope': envelope}], metrics, speech=True)
    studio.bus.publish(JobsChanged((job.id,)))
    await user.should_see(marker='test-table', retries=50)
    table = next(iter(user.find(marker='test-table').elements))
    assert [c['label'] for c in table.columns][-2:] == ['PESQ (speech)', 'STOI (speech)']
    assert 'Speech metric' in table.slots['header-cell-pesq'].template
    assert 'Speech metric' in table.slots['header-cell-stoi'].template
    await user.should_see(marker='aggregate-pesq')


@pytest.mark.slow
@needs_espeak
def test_worker_measures_speech_metrics_on_speech(studio, rave_run: Path) -> None:
    project = studio.projects.current(None)
    target = Path(project.location) / 'runs' / rave_run.name
    shutil.copytree(rave_run, target)
    studio.exports.import_run(project, target)
    tests = studio.session(local(), None).model_tests
    source = next(s for s in tests.sources(project.id) if s.path.endswith('best.ckpt'))
    speech = say(Path(project.location) / 'uploads' / 'voice')
    view = tests.start(project.id, source.path, files=[str(speech)], speech=True)
    job = job_finished(studio, view.job_id, timeout=600)
    done = tests.test(view.id, view.job_id, view.folder)
    assert job.status == 'done' and done.done and done.speech, (done.error, studio.jobs.log_tail(job.id))
    measured = done.files[0].metrics
    assert 1.0 <= measured['pesq'] <= 4.7 and -1.0 <= measured['stoi'] <= 1.0  # a 4-step model: poor, but measured
    assert {'pesq', 'stoi'} <= dict(done.aggregate).keys() and done.metric_keys[-2:] == ('pesq', 'stoi')
