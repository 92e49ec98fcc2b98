"""Datasets service with real ffmpeg and real `rave preprocess` on synthesised audio."""
from __future__ import annotations

import math
from pathlib import Path

import lmdb
import numpy as np
import pytest
import yaml
from rave_fixtures import synth_audio
from udls.generated import AudioExample
from waiting import build_finished, poll_until

from services.datasets.preprocessing import example_seconds
from services.store import Dataset, Job

NUM_SIGNAL = 16384  # 0.74 s examples at 44.1 kHz: tiny and quick


@pytest.fixture
def project(studio):
    return studio.projects.create('Tests')


def corrupt(path: Path) -> Path:
    path.write_bytes(b'RIFF\x24\x00\x00\x00WAVEfmt ' + b'\x00' * 64)
    return path


def test_good_folder_becomes_a_ready_dataset_rave_can_read(studio, project, data_dir: Path) -> None:
    files = synth_audio(data_dir / 'audio' / 'takes', n_files=2, seconds=5.0)
    synth_audio(data_dir / 'audio' / 'more', n_files=1, seconds=3.0, prefix='other')  # found recursively
    inputs = [str(data_dir / 'audio')]
    assert studio.datasets.validate(project, 'tones', inputs, num_signal=NUM_SIGNAL, ext=['wav']) == []

    dataset = studio.datasets.start(project, 'tones', inputs, num_signal=NUM_SIGNAL, ext=['wav'])
    assert dataset.status == 'building'
    assert Path(dataset.path) == Path(project.location).resolve() / 'datasets' / 'tones'
    job = Job.get_by_id(dataset.job_id)
    assert job.command.startswith('rave preprocess --input_path ')
    assert job.argv[1:3] == ['-m', 'scripts.preprocess']

    dataset = build_finished(studio, dataset)
    assert dataset.status == 'ready', dataset.params.get('message')
    per_example = example_seconds(NUM_SIGNAL, 44100)
    expected = sum(math.floor(s / per_example) for s in (5.0, 5.0, 3.0))
    assert dataset.n_examples == expected
    assert dataset.n_seconds == pytest.approx(expected * per_example)
    assert (dataset.sr, dataset.channels, dataset.lazy) == (44100, 1, False)
    assert dataset.size_bytes > 0
    state = studio.jobs.states[dataset.job_id]
    assert state.status == 'done' and state.progress == 1.0
    assert state.detail.startswith(f'{expected} examples · ')

    meta = yaml.safe_load((Path(dataset.path) / 'metadata.yaml').read_text())
    assert meta['sr'] == 44100 and meta['channels'] == 1
    env = lmdb.open(dataset.path, readonly=True, lock=False)
    with env.begin() as txn:
        ae = AudioExample.FromString(txn.get(b'00000000'))
    env.close()
    samples = np.frombuffer(ae.buffers['waveform'].data, np.int16)
    assert samples.size == 2 * NUM_SIGNAL and np.abs(samples).max() > 1000
    assert all(f.exists() for f in files)  # the source audio is never touched


def test_validation_explains_what_is_wrong(studio, project, data_dir: Path) -> None:
    empty = data_dir / 'empty'
    (empty / 'notes').mkdir(parents=True)
    (empty / 'notes' / 'readme.txt').write_text('no audio here')
    problems = studio.datasets.validate(project, 'x', [str(empty)], ext=['wav'])
    assert any('No audio files ending in .wav were found' in p for p in problems)

    problems = studio.datasets.validate(project, '', ['/definitely/not/here'], num_signal=1000, channels=3,
                                        sr=12345, ext=[])
    text = '\n'.join(problems)
    for expected in ('Give the dataset a name', 'outside the folders the studio may read',
                     'between 16384', 'Channels must be 1 (mono) or 2 (stereo)', 'Pick a sampling rate',
                     'at least one audio file type'):
        assert expected in text

    synth_audio(data_dir / 'short', n_files=1, seconds=1.0)
    problems = studio.datasets.validate(project, 'short', [str(data_dir / 'short')], num_signal=131072)
    assert any('shorter than one example (5.9 s)' in p for p in problems)


def test_doctor_names_unreadable_files_and_validation_taken_names(studio, project, data_dir: Path) -> None:
    synth_audio(data_dir / 'mixed', n_files=1, seconds=3.0)
    corrupt(data_dir / 'mixed' / 'broken.wav')
    findings = studio.datasets.doctor(project, 'm', [str(data_dir / 'mixed')], num_signal=NUM_SIGNAL)
    skipped = next(f for f in findings if 'will be skipped' in f.text)
    assert skipped.severity == 'warning' and any('broken.wav' in line for line in skipped.files)

    Dataset.create(project=project, name='taken', path='/nowhere', status='ready')
    problems = studio.datasets.validate(project, 'taken', [str(data_dir / 'mixed')], num_signal=NUM_SIGNAL)
    assert any('already has a dataset called "taken"' in p for p in problems)


def test_unreadable_file_is_skipped_and_reported(studio, project, data_dir: Path) -> None:
    folder = data_dir / 'audio'
    synth_audio(folder, n_files=2, seconds=4.0)
    corrupt(folder / 'broken.wav')
    dataset = build_finished(studio, studio.datasets.start(project, 'bad', [str(folder)], num_signal=NUM_SIGNAL),
                             timeout=60)
    assert dataset.status == 'ready', dataset.params.get('message')
    assert dataset.n_examples == 2 * int(4.0 // example_seconds(NUM_SIGNAL, 44100))
    assert any('broken.wav' in line for line in dataset.params['skipped'])
    assert (folder / 'broken.wav').exists()


def test_empty_folder_ends_the_job_instead_of_hanging(studio, project, data_dir: Path) -> None:
    (data_dir / 'nothing').mkdir()
    dataset = studio.datasets.start(project, 'empty', [str(data_dir / 'nothing')], num_signal=NUM_SIGNAL)
    dataset = build_finished(studio, dataset, timeout=60)
    assert dataset.status == 'failed'
    assert 'No audio file with a matching extension' in dataset.params['message']
    assert not Path(dataset.path).exists()


def test_cancel_mid_run_removes_the_half_written_dataset(studio, project, data_dir: Path) -> None:
    synth_audio(data_dir / 'long', n_files=4, seconds=150.0, sr=22050)
    dataset = studio.datasets.start(project, 'long', [str(data_dir / 'long')], num_signal=NUM_SIGNAL)
    poll_until(lambda: studio.jobs.states[dataset.job_id].last.get('items', 0) >= 3, 60, studio=studio,
               interval=0.1, message=lambda: studio.jobs.log_tail(dataset.job_id))
    state = studio.jobs.states[dataset.job_id]
    assert 0 < state.progress < 1 and 'examples · ' in state.detail
    studio.jobs.cancel(dataset.job_id)
    dataset = build_finished(studio, dataset, timeout=60)
    assert dataset.status == 'cancelled'
    assert Job.get_by_id(dataset.job_id).status == 'cancelled'
    assert not Path(dataset.path).exists()


def test_lazy_dataset_answers_rave_prompt(studio, project, data_dir: Path) -> None:
    synth_audio(data_dir / 'audio', n_files=3, seconds=2.0)
    dataset = studio.datasets.start(project, 'lazy', [str(data_dir / 'audio')], num_signal=NUM_SIGNAL, lazy=True)
    dataset = build_finished(studio, dataset)
    assert dataset.status == 'ready', dataset.params.get('message')
    assert dataset.lazy and dataset.n_examples == 3
    assert dataset.n_seconds == pytest.approx(6.0, abs=0.05)
    assert '--lazy' in Job.get_by_id(dataset.job_id).command


def test_delete_keeps_files_unless_asked(studio, project, data_dir: Path) -> None:
    synth_audio(data_dir / 'audio', n_files=1, seconds=3.0)
    audio = [str(data_dir / 'audio')]
    first = build_finished(studio, studio.datasets.start(project, 'one', audio, num_signal=NUM_SIGNAL))
    second = build_finished(studio, studio.datasets.start(project, 'two', audio, num_signal=NUM_SIGNAL))
    studio.datasets.delete(first)
    assert Path(first.path, 'data.mdb').exists() and studio.datasets.get(first.id) is None
    studio.datasets.delete(second, remove_files=True)
    assert not Path(second.path).exists()
    assert (data_dir / 'audio' / 'tone_00.wav').exists()


def test_missing_ffprobe_is_named_before_launch_and_ends_the_job(studio, project, data_dir: Path,
                                                                 tmp_path: Path, monkeypatch) -> None:
    synth_audio(data_dir / 'audio', n_files=1, seconds=3.0)
    monkeypatch.setenv('PATH', str(tmp_path / 'empty-bin'))  # no ffmpeg, no ffprobe
    problems = studio.datasets.validate(project, 'x', [str(data_dir / 'audio')], num_signal=NUM_SIGNAL)
    assert any('ffmpeg and ffprobe not found' in p for p in problems)
    dataset = studio.datasets.start(project, 'x', [str(data_dir / 'audio')], num_signal=NUM_SIGNAL)
    dataset = build_finished(studio, dataset, timeout=60)
    assert dataset.status == 'failed'
    assert 'ffprobe or ffmpeg is missing' in dataset.params['message']
    assert not Path(dataset.path).exists()
