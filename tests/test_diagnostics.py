"""Diagnostics: the studio log, the error history (failed jobs and page errors), the bundle without secrets, and
the page that shows them."""
from __future__ import annotations

import io
import logging
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
from nicegui import app, ui
from nicegui.testing import User

from services import doctor, logs
from services.access import Actor, Forbidden, local
from services.diagnostics import Diagnostics, ErrorHistory
from services.doctor import Check, DoctorReport
from services.jobs.host import folder_of
from services.settings import Settings
from services.store import Job, SignIn
from services.store import User as Account

FAKE_PROBE = {'python': '3.11.9', 'executable': '/venv/bin/python',
              'packages': {'acids-rave': '2.3.1', 'torch': '2.1.2', 'torchaudio': '2.1.2'},
              'torch': {'version': '2.1.2+cpu', 'torchaudio': '2.1.2+cpu', 'cuda': None, 'cuda_available': False}}


@pytest.fixture
def fake_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """The job Python's answer without starting it (it imports torch: seconds)."""
    monkeypatch.setattr(doctor, 'probe', lambda python, timeout=120.0: FAKE_PROBE)


def test_the_studio_logs_to_a_rotating_file_at_the_level_of_its_setting(studio) -> None:
    path = logs.folder(studio.data_dir) / logs.FILE
    logging.getLogger('services.somewhere').info('a dataset was indexed')
    assert 'INFO    services.somewhere: a dataset was indexed' in path.read_text()
    settings = Settings(studio.settings, studio.jobs, local())
    settings.save(settings.values().__class__(**{**settings.values().__dict__, 'log_level': 'WARNING'}))
    logging.getLogger('app.frame').info('not kept at WARNING')
    logging.getLogger('services.jobs').warning('kept at WARNING')
    text = path.read_text()
    assert 'not kept' not in text and 'kept at WARNING' in text
    assert logs.tail(studio.data_dir, 1).endswith('kept at WARNING')
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logs.StudioLogHandler))
    assert (handler.maxBytes, handler.backupCount) == (logs.MAX_BYTES, logs.BACKUPS)


def test_the_history_holds_failed_jobs_and_page_errors_in_sentences(studio) -> None:
    job = Job.create(kind='train', title='Train drums', argv=[], status='failed',
                     message='RAVE stopped: CUDA out of memory. Lower the batch size.')
    try:
        {}['missing']
    except KeyError as e:
        studio.diagnostics.errors.record('/datasets/7', e)
    problems = studio.diagnostics.history()
    assert {(p.where, p.job_id) for p in problems} == {('/datasets/7', None), ('job', job.id)}
    page = next(p for p in problems if p.job_id is None)
    assert 'KeyError' not in page.what and page.what.startswith('Something went wrong')
    assert next(p for p in problems if p.job_id).what.startswith('RAVE stopped')
    assert 'KeyError' in (logs.folder(studio.data_dir) / logs.FILE).read_text()  # the traceback is in the log


def test_the_history_file_is_trimmed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr('services.diagnostics.KEEP', 10)
    history = ErrorHistory(tmp_path)
    for n in range(30):
        history.record('/', RuntimeError(f'error {n}'))
    entries = history.entries()
    assert len(entries) <= 12 and entries[-1]['what'] == 'RuntimeError: error 29'


def test_the_bundle_has_the_versions_logs_and_failed_job_but_no_secret(studio, fake_probe) -> None:
    hash_ = 'scrypt$16384$8$1$' + 'ab' * 16 + '$' + 'cd' * 32
    Account.create(name='ada', password_hash=hash_, admin=True)
    SignIn.create(key='f' * 64, user=Account.get(), created=0.0, seen=0.0)
    (studio.data_dir / '.storage_secret').write_text('the-storage-secret-value')
    job = Job.create(kind='train', title='Train drums', argv=[], status='failed', message='It failed.')
    log = folder_of(studio.jobs.root, job.id)
    log.mkdir(parents=True, exist_ok=True)
    (log / 'log.txt').write_text('epoch 3 ... RuntimeError: CUDA out of memory\n')
    logging.getLogger('services.sessions').warning('signed in %s with token=abcdefghijkl session %s', 'ada', 'f' * 64)
    logging.getLogger('app.security').warning('the secret is the-storage-secret-value')

    content = Diagnostics(studio.diagnostics, local()).bundle()
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        files = {name: z.read(name).decode() for name in z.namelist()}
    assert {'versions.json', 'doctor.txt', 'settings.json', 'studio.log', f'job-{job.id}-log.txt'} <= set(files)
    assert '"acids-rave": "2.3.1"' in files['versions.json'] and 'nicegui' in files['versions.json']
    assert sys.version.split()[0] in files['versions.json'] and 'ffmpeg' in files['versions.json']
    assert 'CUDA out of memory' in files[f'job-{job.id}-log.txt']
    assert 'signed in ada' in files['studio.log']
    assert '"default_device": "cpu"' in files['settings.json']
    everything = '\n'.join(files.values())
    for secret in (hash_, 'f' * 64, 'the-storage-secret-value', 'abcdefghijkl', 'cd' * 32):
        assert secret not in everything


def test_diagnostics_are_for_whoever_may_change_the_settings(studio) -> None:
    guest = Diagnostics(studio.diagnostics, Actor(user_id=2, name='guest', shared=True, admin=False))
    assert not guest.allowed
    for call in (guest.history, guest.report, guest.bundle):
        with pytest.raises(Forbidden):
            call()


def test_the_doctor_says_what_to_do_when_a_check_fails(studio, fake_probe, monkeypatch) -> None:
    report = studio.diagnostics.doctor.run()
    by_name = {c.name: c for c in report.checks}
    assert set(by_name) == {'ffmpeg', 'ffprobe', 'Python for jobs', 'torch and torchaudio', 'Disk space',
                            'GPU and driver', 'Write access'}
    assert by_name['ffmpeg'].status == 'ok' and 'ffmpeg version' in by_name['ffmpeg'].detail
    assert by_name['torch and torchaudio'].status == 'ok'
    assert all(c.fix for c in report.checks if c.status != 'ok')

    monkeypatch.setenv('PATH', '/nonexistent')
    monkeypatch.setattr(doctor, 'probe', lambda python, timeout=120.0: {
        **FAKE_PROBE, 'torch': {**FAKE_PROBE['torch'], 'torchaudio': '2.0.1'}})  # before 2.9: one torch each
    monkeypatch.setattr('services.doctor.check_python', lambda python: f'{python} does not exist.')
    monkeypatch.setattr('shutil.disk_usage', lambda path: shutil._ntuple_diskusage(100, 99, 512 * 1024 ** 2))
    report = studio.diagnostics.doctor.run()
    by_name = {c.name: c for c in report.checks}
    fix = {c.name: str(c.fix) for c in report.checks}  # what a check says is put into words when read
    assert by_name['ffprobe'].status == 'fail' and 'apt-get install ffmpeg' in fix['ffprobe']
    assert by_name['Python for jobs'].status == 'fail' and 'pip install acids-rave' in fix['Python for jobs']
    assert by_name['torch and torchaudio'].status == 'warn' and 'torchaudio==2.1' in fix['torch and torchaudio']
    assert by_name['Disk space'].status == 'fail' and '0.5 GB free' in str(by_name['Disk space'].detail)
    assert by_name['GPU and driver'].status == 'warn'
    assert studio.diagnostics.doctor.last is report


def test_the_doctor_asks_the_job_python_itself(tmp_path: Path) -> None:
    """The real probe, in a child process (test_architecture keeps torch out of the UI process): the studio's own
    Python has RAVE, and its torch and torchaudio import together."""
    found = doctor.probe(sys.executable)
    assert found['packages']['acids-rave'] and found['torch']['version'] and found['torch']['torchaudio']
    assert 'could not be run' in doctor.probe(str(tmp_path / 'no-python'))['error']


async def test_the_page_shows_the_doctor_the_history_and_the_bundle(user: User, fake_probe) -> None:
    Job.create(kind='export', title='Export drums', argv=[], status='failed', message='The export ran out of disk.')
    await user.open('/settings/diagnostics')
    await user.should_see('Install doctor')
    await user.should_see('Disk space — OK', retries=100)
    await user.should_see('The export ran out of disk.')
    await user.should_see('Job 1 · Export drums')
    user.find('Check again').click()
    await user.should_see('Checked', retries=100)
    user.find(marker='download-bundle').click()
    await user.should_see('Download a diagnostics bundle')


async def test_a_page_that_breaks_says_so_in_a_sentence_and_is_remembered(user: User, monkeypatch) -> None:
    def broken(self):
        raise KeyError('browse_roots')
    monkeypatch.setattr(Settings, 'values', broken)
    await user.open('/settings')
    await user.should_see('this page could not be drawn')
    await user.should_not_see('KeyError')
    problems = app.studio.diagnostics.history()
    assert [p.where for p in problems] == ['/settings']
    monkeypatch.undo()
    await user.open('/settings/diagnostics')
    await user.should_see('Page /settings')


def test_a_report_counts_its_failures() -> None:
    report = DoctorReport((Check('a', 'ok', ''), Check('b', 'fail', '', 'x'), Check('c', 'warn', '', 'y')), 0.0, {})
    assert report.failed == 1


async def test_a_handler_that_breaks_is_remembered_with_its_page(user: User) -> None:
    await user.open('/help')
    with user.client.layout:
        ui.button('Break', on_click=lambda: {}['nothing'])
    user.find('Break').click()
    await user.should_see('Something went wrong that the studio did not expect')
    assert [p.where for p in app.studio.diagnostics.history()] == ['/help']


async def test_a_refusal_at_the_page_boundary_is_its_sentence_not_an_error(user: User, monkeypatch) -> None:
    def refused(self):
        raise Forbidden('You may not change studio settings on this shared server.')
    monkeypatch.setattr(Settings, 'values', refused)
    await user.open('/settings')
    await user.should_see('You may not change studio settings on this shared server.')
    assert app.studio.diagnostics.history() == []
