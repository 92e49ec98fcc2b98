"""Kill -9 the real `rave-studio` while a job runs: the job survives and is reattached; a job that dies
while the studio is down becomes 'interrupted', never a stale 'running'."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
import textwrap
from pathlib import Path

import psutil
import pytest
from studio_process import StudioProcess, http_get, queue_job
from waiting import poll_until

TIMEOUT = 90.0

# Prints RAVE-preprocess-style progress lines until a release file appears, then ends cleanly. Its length
# is driven by the test, not by a guess of how slow the machine is.
TICKER = '''
    import os, sys, time
    release = sys.argv[1]
    i = 0
    while not os.path.exists(release):
        i += 1
        print(f'tick {i}', flush=True)
        print(f'dataset length: 0:00:{i // 10:02d}.{i % 10}00000: : {i}it [00:00, 10.00it/s]', flush=True)
        time.sleep(0.1)
    print(f'released after {i} ticks', flush=True)
'''


def job_row(data_dir: Path, job_id: int) -> dict:
    con = sqlite3.connect(f'file:{data_dir / "studio.db"}?mode=ro', uri=True, timeout=30)
    try:
        con.row_factory = sqlite3.Row
        return dict(con.execute('SELECT * FROM job WHERE id = ?', (job_id,)).fetchone())
    finally:
        con.close()


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return False


def ticks(log: str) -> list[int]:
    return [int(line.split()[1]) for line in log.splitlines() if line.startswith('tick ')]


def start_ticker(data_dir: Path, tmp_path: Path) -> tuple[int, Path]:
    release = tmp_path / 'release'
    argv = [sys.executable, '-u', '-c', textwrap.dedent(TICKER), str(release)]
    return queue_job(data_dir, 'preprocess', 'long job', argv), release


def test_job_survives_kill_9_of_the_studio_and_is_reattached(data_dir: Path, tmp_path: Path):
    job_id, release = start_ticker(data_dir, tmp_path)
    studio = StudioProcess(data_dir).start()
    try:
        poll_until(lambda: job_row(data_dir, job_id)['status'] == 'running', TIMEOUT,
                   message='waiting for the studio launched the job')
        row = job_row(data_dir, job_id)
        pid, folder = row['pid'], Path(row['folder'])
        poll_until(lambda: len(ticks((folder / 'log.txt').read_text())) >= 5, TIMEOUT,
                   message='waiting for first output')

        studio.kill9()
        assert alive(pid), 'the job died with the studio'
        size = (folder / 'log.txt').stat().st_size
        poll_until(lambda: (folder / 'log.txt').stat().st_size > size + 100, TIMEOUT,
                   message='waiting for the job to go on alone')
        assert job_row(data_dir, job_id)['status'] == 'running'

        studio = StudioProcess(data_dir).start()
        row = job_row(data_dir, job_id)
        assert row['status'] == 'running' and row['pid'] == pid  # the same process, reattached
        assert alive(pid)
        _, _, html = http_get(studio.url + '/')
        assert 'long job' in html and 'running' in html, 'the dashboard does not show the reattached job'
        release.touch()
        poll_until(lambda: job_row(data_dir, job_id)['status'] != 'running', TIMEOUT,
                   message='waiting for the job to end')
        row = job_row(data_dir, job_id)
        assert row['status'] == 'done' and row['exit_code'] == 0, row['message']
        assert row['ended']
    finally:
        release.touch()
        studio.stop()

    log = (folder / 'log.txt').read_text()
    n = ticks(log)
    assert n == list(range(1, len(n) + 1)), 'the log lost or repeated lines across the restart'
    assert f'released after {n[-1]} ticks' in log
    events = [json.loads(line) for line in (folder / 'progress.jsonl').read_text().splitlines()]
    assert [e['items'] for e in events] == n  # every progress line was parsed, also while the studio was down
    assert json.loads((folder / 'result.json').read_text())['status'] == 'done'
    assert not alive(pid)


def test_job_killed_while_the_studio_is_down_becomes_interrupted(data_dir: Path, tmp_path: Path):
    job_id, release = start_ticker(data_dir, tmp_path)
    studio = StudioProcess(data_dir).start()
    try:
        poll_until(lambda: job_row(data_dir, job_id)['status'] == 'running', TIMEOUT,
                   message='waiting for the studio launched the job')
        pid = job_row(data_dir, job_id)['pid']
        studio.kill9()
        os.killpg(pid, signal.SIGKILL)  # the whole job dies while nobody watches
        poll_until(lambda: not alive(pid), TIMEOUT, message='waiting for the job to die')
        assert job_row(data_dir, job_id)['status'] == 'running'  # stale until a studio looks

        studio = StudioProcess(data_dir).start()
        row = job_row(data_dir, job_id)  # settled before the first page was served
        assert row['status'] == 'interrupted'
        assert 'studio was not running' in row['message'] and 'start it again' in row['message']
        assert row['ended']
    finally:
        release.touch()
        studio.stop()


@pytest.mark.slow  # RAVE's own preprocess
def test_real_rave_preprocess_survives_a_studio_kill(data_dir: Path, tmp_path: Path):
    """The same with RAVE's own preprocess on synthesized audio: killed studio, reattached, complete dataset."""
    import lmdb
    import yaml
    from rave_fixtures import synth_audio
    audio = data_dir / 'audio'
    synth_audio(audio, n_files=10, seconds=30.0)
    out = data_dir / 'db'
    argv = [sys.executable, '-m', 'scripts.preprocess', '--input_path', str(audio), '--output_path', str(out),
            '--num_signal', '65536', '--channels', '1', '--sampling_rate', '44100']
    job_id = queue_job(data_dir, 'preprocess', 'real preprocess', argv)
    studio = StudioProcess(data_dir).start()
    try:
        poll_until(lambda: job_row(data_dir, job_id)['status'] == 'running', TIMEOUT,
                   message='waiting for the studio launched the job')
        row = job_row(data_dir, job_id)
        pid, folder = row['pid'], Path(row['folder'])
        progress = folder / 'progress.jsonl'
        poll_until(lambda: progress.exists() and progress.stat().st_size > 0, TIMEOUT,
                   message='waiting for first progress')
        studio.kill9()
        assert alive(pid) and not (folder / 'result.json').exists(), 'RAVE was done before the studio was killed'
        studio = StudioProcess(data_dir).start()
        at_restart = job_row(data_dir, job_id)['status']
        print('status when the studio came back:', at_restart)
        assert at_restart in ('running', 'done')  # done: it ended while the studio was down
        poll_until(lambda: job_row(data_dir, job_id)['status'] != 'running', 300,
                   message='waiting for RAVE to finish')
        row = job_row(data_dir, job_id)
        assert row['status'] == 'done' and row['exit_code'] == 0, row['message']
    finally:
        studio.stop()
    meta = yaml.safe_load((out / 'metadata.yaml').read_text())
    assert meta['channels'] == 1 and meta['sr'] == 44100
    env = lmdb.open(str(out), readonly=True, lock=False)
    entries = env.stat()['entries']
    env.close()
    events = [json.loads(line) for line in progress.read_text().splitlines()]
    assert events and events[-1]['items'] == entries  # the last progress line came in, none lost
    assert [e['items'] for e in events] == sorted(e['items'] for e in events)
