"""A corpus of bad inputs, each ending in a clear message and a consistent database, none hanging.

The corpus lives in one folder so the doctor and real `rave preprocess` meet all of it in a few runs. Tests run as
root, where chmod 000 does not stop reading: "unreadable" is made with a FIFO named x.wav, a folder named x.wav and
a dangling link instead (they are what a permission problem looks like to RAVE: a path it cannot decode).
"""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from rave_fixtures import synth_audio
from waiting import build_finished

from services.datasets.preprocessing import DatasetError
from services.store import Dataset, Job

NUM_SIGNAL = 16384  # 0.74 s examples
CASE_TIMEOUT_S = 120


@pytest.fixture(autouse=True)
def _no_case_hangs():
    """Per-case timeout: a hang fails the test instead of stalling the suite."""
    def _boom(*_):
        raise TimeoutError(f'case took more than {CASE_TIMEOUT_S} s')
    old = signal.signal(signal.SIGALRM, _boom)
    signal.alarm(CASE_TIMEOUT_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture
def project(studio):
    return studio.projects.create('Bad inputs')


def _tone(seconds: float, sr: int = 44100, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = 0.4 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))
    return np.stack([x] * channels, axis=1)


def build_corpus(root: Path) -> dict[str, tuple[Path, str]]:
    """{case: (path, expected)} where expected is 'usable', 'ignored' or the words the skip reason must hold."""
    root.mkdir(parents=True)
    cases: dict[str, tuple[Path, str]] = {}

    def wav(name: str, seconds: float = 2.0, sr: int = 44100, channels: int = 1, subtype: str = 'PCM_16',
            data: np.ndarray | None = None, fmt: str | None = None) -> Path:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, _tone(seconds, sr, channels) if data is None else data, sr, subtype=subtype, format=fmt)
        return path

    cases['corrupt wav'] = (root / 'corrupt.wav', 'not readable as audio')
    cases['corrupt wav'][0].write_bytes(b'RIFF\x24\x00\x00\x00WAVEfmt ' + b'\x00' * 64)
    cases['zero-length file'] = (root / 'zero.wav', 'empty file (0 bytes)')
    cases['zero-length file'][0].write_bytes(b'')
    cases['0-byte flac'] = (root / 'empty.flac', 'empty file (0 bytes)')
    cases['0-byte flac'][0].write_bytes(b'')
    cases['header but no frames'] = (wav('noframes.wav', data=np.zeros((0, 1))), 'no audio')
    cases['non-audio renamed .wav'] = (root / 'notes.wav', 'not readable as audio')
    cases['non-audio renamed .wav'][0].write_text('these are my lyrics, not audio\n' * 50)
    cases['huge-header garbage'] = (root / 'huge.wav', 'not readable as audio')
    cases['huge-header garbage'][0].write_bytes(b'RIFF\xff\xff\xff\x7fWAVEfmt \xff\xff\xff\x7f'
                                                + os.urandom(4096))
    cases['fifo named x.wav'] = (root / 'pipe.wav', 'not a regular file')
    os.mkfifo(cases['fifo named x.wav'][0])
    cases['folder named x.wav'] = (root / 'folder.wav', 'folder whose name ends like an audio file')
    (root / 'folder.wav').mkdir()
    cases['dangling link'] = (root / 'gone.wav', 'broken link')
    os.symlink(root / 'does-not-exist.wav', root / 'gone.wav')
    cases['symlink loop'] = (root / 'nested' / 'loop', 'loops back')
    (root / 'nested').mkdir()
    os.symlink(root, root / 'nested' / 'loop')
    cases['silence'] = (wav('silence.wav', data=np.zeros((44100 * 2, 1))), 'usable')
    cases['8-bit wav'] = (wav('eight.wav', subtype='PCM_U8'), 'usable')
    cases['24-bit wav'] = (wav('twentyfour.wav', subtype='PCM_24'), 'usable')
    cases['float wav'] = (wav('float.wav', subtype='FLOAT'), 'usable')
    cases['stereo among mono'] = (wav('stereo.wav', channels=2), 'usable')
    cases['22.05 kHz among 44.1'] = (wav('low.wav', sr=22050), 'usable')
    cases['48 kHz among 44.1'] = (wav('high.wav', sr=48000), 'usable')
    cases['name with spaces'] = (wav('my take 01.wav'), 'usable')
    cases['unicode name'] = (wav('Größe – café 音.wav'), 'usable')
    cases['quotes in name'] = (wav('it\'s "the" take.wav'), 'usable')
    cases['newline in name'] = (wav('two\nlines.wav'), 'usable')
    cases['nested folders'] = (wav('a/b/c/deep.wav'), 'usable')
    cases['upper-case extension'] = (wav('LOUD.WAV'), 'usable')
    cases['shorter than one example'] = (wav('blip.wav', seconds=0.3), 'usable')
    cases['wrong extension (wav named .txt)'] = (wav('hidden.txt', fmt='WAV'), 'ignored')
    mp3 = root / 'full.mp3'
    subprocess.run(['ffmpeg', '-v', 'error', '-y', '-i', str(root / 'my take 01.wav'), str(mp3)], check=True)
    data = mp3.read_bytes()
    cases['truncated mp3'] = (root / 'truncated.mp3', 'usable')  # ffmpeg decodes what is there
    cases['truncated mp3'][0].write_bytes(data[:len(data) // 2])
    mp3.unlink()
    return cases


@pytest.fixture
def corpus(data_dir: Path) -> tuple[Path, dict]:
    return data_dir / 'messy', build_corpus(data_dir / 'messy')


def test_the_doctor_lists_every_bad_file_and_explains_the_rest(studio, project, corpus) -> None:
    root, cases = corpus
    assert len(cases) >= 25
    survey = studio.datasets.survey([str(root)])
    skipped = {str(p): why for p, why in survey.skipped}
    usable = {str(p) for p in survey.files}
    for case, (path, expected) in cases.items():
        if expected == 'usable':
            assert str(path) in usable, case
        elif expected == 'ignored':
            assert str(path) not in usable and str(path) not in skipped, case
        else:
            assert expected in skipped.get(str(path), ''), f'{case}: {skipped.get(str(path))!r}'
    findings = studio.datasets.doctor(project, 'messy', [str(root)], num_signal=NUM_SIGNAL, survey=survey)
    text = {f.severity: '\n'.join(x.text for x in findings if x.severity == f.severity) for f in findings}
    assert 'blocker' not in text
    assert 'cannot be used and will be skipped' in text['warning']
    assert 'shorter than one example' in text['warning']
    assert 'Only about' in text['warning'] and 'at least 51 examples' in text['warning']
    assert 'ffmpeg resamples them to 44.1 kHz' in text['info'] and '22.05 kHz' in text['info']
    assert '48 kHz' in text['info']
    assert 'keeps only their first (left) channel' in text['info']
    listed = next(f for f in findings if 'will be skipped' in f.text).files
    assert any('corrupt.wav' in line for line in listed)


def test_rave_builds_the_usable_files_and_reports_the_skipped(studio, project, corpus) -> None:
    root, cases = corpus
    dataset = studio.datasets.start(project, 'messy', [str(root)], num_signal=NUM_SIGNAL)
    dataset = build_finished(studio, dataset)
    assert dataset.status == 'ready', dataset.params.get('message')
    survey = studio.datasets.survey([str(root)])
    expected = survey.examples(NUM_SIGNAL, 44100)
    assert expected - 1 <= dataset.n_examples <= expected  # the truncated mp3's header still claims its full length
    skipped = '\n'.join(dataset.params['skipped'])
    for case, (path, expected) in cases.items():
        if expected not in ('usable', 'ignored'):
            assert str(path) in skipped, case
    assert dataset.params['staged'] and Path(dataset.path, 'sources').is_dir()
    assert not Dataset.select().where(Dataset.status == 'building').exists()
    assert all(p.exists() or p.is_symlink() for p, _ in cases.values())  # sources untouched


def test_lazy_dataset_keeps_valid_references_to_the_usable_files(studio, project, corpus) -> None:
    import lmdb
    from udls.generated import AudioExample
    root, cases = corpus
    dataset = build_finished(studio, studio.datasets.start(project, 'lazy', [str(root)], num_signal=NUM_SIGNAL,
                                                           lazy=True))
    assert dataset.status == 'ready', dataset.params.get('message')
    usable = [p for p, expected in cases.values() if expected == 'usable']
    assert dataset.n_examples == len(usable)
    env = lmdb.open(dataset.path, readonly=True, lock=False)
    with env.begin() as txn:
        paths = [AudioExample.FromString(v).metadata['path'] for _, v in txn.cursor()]
    env.close()
    assert all(Path(p).exists() for p in paths)  # the links RAVE stored lead to the real files
    assert {os.path.realpath(p) for p in paths} == {os.path.realpath(p) for p in usable}


def test_only_bad_files_is_a_blocker(studio, project, data_dir: Path) -> None:
    folder = data_dir / 'bad'
    folder.mkdir()
    (folder / 'a.wav').write_bytes(b'junk' * 100)
    (folder / 'b.flac').write_bytes(b'')
    problems = studio.datasets.validate(project, 'bad', [str(folder)], num_signal=NUM_SIGNAL)
    assert any('None of the files can be read as audio' in p for p in problems)


def test_empty_folder_and_only_short_files_are_blockers(studio, project, data_dir: Path) -> None:
    (data_dir / 'empty').mkdir()
    problems = studio.datasets.validate(project, 'e', [str(data_dir / 'empty')])
    assert any('No audio files ending in' in p for p in problems)
    synth_audio(data_dir / 'short', n_files=2, seconds=1.0)
    problems = studio.datasets.validate(project, 's', [str(data_dir / 'short')], num_signal=131072)
    assert any('Every file is shorter than one example (5.9 s)' in p for p in problems)


def test_folder_outside_the_roots_is_refused(studio, project, tmp_path: Path) -> None:
    synth_audio(tmp_path / 'outside', n_files=1, seconds=2.0)
    problems = studio.datasets.validate(project, 'o', [str(tmp_path / 'outside')])
    assert any('outside the folders the studio may read' in p for p in problems)


def test_upload_over_the_limit_is_refused_and_names_are_sanitized(studio, project) -> None:
    studio.settings.set('max_upload_mb', 1)
    with pytest.raises(DatasetError, match=r'big.wav is 3 MB, over the upload limit of 1 MB'):
        studio.datasets.upload_target(project, 'batch', 'big.wav', 3 * 1024 ** 2)
    uploads = studio.datasets.uploads(project)
    for folder, name in (('../../etc', '../../passwd.wav'), ('ok', '/abs/x.wav'), ('', '.hidden.wav'),
                         ('a/../..', 'new\nline "q".wav')):
        target = studio.datasets.upload_target(project, folder, name, 10)
        assert target.is_relative_to(uploads.resolve()) and '\n' not in target.name and '"' not in target.name
        assert not target.name.startswith('.')
    first = studio.datasets.upload_target(project, 'b', 'x.wav', 10)
    first.write_bytes(b'1')
    assert studio.datasets.upload_target(project, 'b', 'x.wav', 10).name == 'x (2).wav'  # never overwrites


def test_uploaded_zips_that_must_not_unpack(studio, project, tmp_path: Path) -> None:
    """Not a zip, a link inside the archive, a damaged member: each refused or skipped in words, nothing
    half-written left in uploads/, no archive left behind."""
    studio.settings.set('max_upload_mb', 5)
    uploads = studio.datasets.uploads(project)

    fake = studio.datasets.incoming_archive(project)
    fake.write_bytes(b'this is no zip')
    with pytest.raises(DatasetError, match='fake.zip is not a readable .zip archive'):
        studio.datasets.unpack_upload(project, 'batch', fake, 'fake.zip')
    assert not fake.exists()

    linked = studio.datasets.incoming_archive(project)
    with zipfile.ZipFile(linked, 'w') as zf:
        link = zipfile.ZipInfo('takes/passwd.wav')
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, '/etc/passwd')
        zf.writestr('takes/real.wav', b'RIFF....')
    unpacked = studio.datasets.unpack_upload(project, 'links', linked, 'links.zip')
    assert [p.name for p in unpacked.written] == ['real.wav'] and 'a link, not a file' in unpacked.skipped[0]
    assert not (uploads / 'links' / 'takes' / 'passwd.wav').exists() and not linked.exists()

    damaged = studio.datasets.incoming_archive(project)
    with zipfile.ZipFile(damaged, 'w') as zf:  # stored, so the second member's bytes are easy to find
        zf.writestr('set/first.wav', b'A' * 4096)
        zf.writestr('set/second.wav', b'B' * 4096)
    data = bytearray(damaged.read_bytes())
    data[data.index(b'B' * 4096) + 100] = ord('C')  # its CRC no longer matches
    damaged.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match='broken.zip could not be unpacked .* Nothing was kept'):
        studio.datasets.unpack_upload(project, 'broken', damaged, 'broken.zip')
    assert not (uploads / 'broken').exists() and not damaged.exists()  # first.wav, already written, removed too
    assert not list(uploads.glob('.incoming-*'))


def test_output_folder_already_used_is_a_blocker(studio, project, data_dir: Path) -> None:
    synth_audio(data_dir / 'audio', n_files=1, seconds=3.0)
    out = studio.datasets.output_path(project, 'taken')
    out.mkdir(parents=True)
    (out / 'data.mdb').write_bytes(b'someone else')
    problems = studio.datasets.validate(project, 'taken', [str(data_dir / 'audio')], num_signal=NUM_SIGNAL)
    assert any('already holds files' in p for p in problems)
    with pytest.raises(DatasetError, match='already in use'):
        studio.datasets.start(project, 'taken', [str(data_dir / 'audio')], num_signal=NUM_SIGNAL)
    assert (out / 'data.mdb').read_bytes() == b'someone else'


@pytest.mark.parametrize('params, words', [
    ({'num_signal': 'lots'}, 'must be a whole number of samples'),
    ({'num_signal': 1.5}, 'must be a whole number of samples'),
    ({'channels': 3}, 'Channels must be 1 (mono) or 2 (stereo)'),
    ({'sr': 12345}, 'Pick a sampling rate'),
    ({'max_db_size': 0}, 'maximum database size must be a whole number of GB'),
    ({'ext': []}, 'at least one audio file type'),
], ids=['num_signal-not-a-number', 'num_signal-fraction', 'channels-3', 'odd-rate', 'db-size-0', 'no-ext'])
def test_bad_parameters_are_named(studio, project, data_dir: Path, params: dict, words: str) -> None:
    synth_audio(data_dir / 'audio', n_files=1, seconds=3.0)
    problems = studio.datasets.validate(project, 'p', [str(data_dir / 'audio')], **params)
    assert any(words in p for p in problems), problems


def test_too_small_db_size_and_disk_are_explained(studio, project, data_dir: Path) -> None:
    from services.datasets.doctor import estimated_bytes, pca_ok, split_sizes
    assert split_sizes(51) == (49, 2) and pca_ok(51) and not pca_ok(50)
    assert estimated_bytes(10, NUM_SIGNAL, 2) > estimated_bytes(10, NUM_SIGNAL, 1)
    synth_audio(data_dir / 'audio', n_files=1, seconds=3.0)
    findings = studio.datasets.doctor(project, 'd', [str(data_dir / 'audio')], num_signal=NUM_SIGNAL, dyndb=False,
                                      max_db_size=100000)
    assert any('With dynamic growth off' in f.text for f in findings if f.severity == 'warning')


def test_a_file_that_disappears_before_rave_reads_it_is_named(studio, project, data_dir: Path) -> None:
    folder = data_dir / 'audio'
    synth_audio(folder, n_files=2, seconds=3.0)
    (folder / 'broken.wav').write_bytes(b'junk')  # forces the staging folder of links
    survey = studio.datasets.survey([str(folder)])
    (folder / 'tone_01.wav').unlink()  # gone between the doctor's check and RAVE's read
    dataset = build_finished(studio, studio.datasets.start(project, 'gone', [str(folder)], num_signal=NUM_SIGNAL,
                                                     survey=survey))
    assert dataset.status == 'failed'
    assert 'tone_01.wav' in dataset.params['message'] and 'disappeared' in dataset.params['message']
    assert not Path(dataset.path).exists()  # no half-written LMDB
    assert Job.get_by_id(dataset.job_id).status == 'failed'
