"""The job engine with real child processes: lifecycle, failure, cancel, queue, pause, stop, progress, reconcile."""
from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from waiting import poll_until

from services.jobs import JobService
from services.store import Job, open_database

TIMEOUT = 60.0  # generous: the CI machine has two busy cores


def py(code: str) -> list[str]:
    return [sys.executable, '-u', '-c', textwrap.dedent(code)]


def status(job_id: int) -> str:
    return Job.get_by_id(job_id).status


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def jobs(data_dir: Path):
    open_database(data_dir / 'studio.db')
    svc = JobService(data_dir)
    yield svc
    for job in Job.select().where(Job.status.in_(('running', 'paused'))):
        try:
            os.killpg(job.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, TypeError):
            pass
    for child in list(svc._children.values()) + svc._reaping:
        child.wait(timeout=10)


TICKER = '''
    import sys, time
    for i in range({n}):
        print(f'tick {{i}}', flush=True)
        time.sleep({dt})
'''


def test_submit_runs_to_done_with_exit_code_and_log(jobs: JobService, tmp_path: Path):
    job = jobs.submit('task', 'hello', py('print("hello from the job"); import sys; sys.exit(0)'), cwd=tmp_path)
    assert status(job.id) == 'running'
    row = Job.get_by_id(job.id)
    assert row.pid and row.pid_started and row.started
    poll_until(lambda: status(job.id) == 'done', TIMEOUT, studio=jobs, message='waiting for done')
    row = Job.get_by_id(job.id)
    assert row.exit_code == 0 and row.ended is not None
    assert 'hello from the job' in jobs.log_tail(job.id)
    assert jobs.states[job.id].status == 'done' and jobs.states[job.id].progress == 1.0
    result = json.loads((Path(row.folder) / 'result.json').read_text())
    assert result['status'] == 'done' and result['exit_code'] == 0
    poll_until(lambda: gone(row.pid), TIMEOUT, studio=jobs, message='waiting for host reaped')


def test_failure_reports_last_error_line(jobs: JobService):
    job = jobs.submit('task', 'fails', py('''
        print('loading things')
        print('still fine')
        raise ValueError('bad input number 42')
    '''))
    poll_until(lambda: status(job.id) == 'failed', TIMEOUT, studio=jobs, message='waiting for failed')
    row = Job.get_by_id(job.id)
    assert row.exit_code == 1
    assert 'exit code 1' in row.message
    assert 'ValueError: bad input number 42' in row.message


def test_missing_program_fails_with_a_message(jobs: JobService, tmp_path: Path):
    job = jobs.submit('task', 'no such program', [str(tmp_path / 'no-such-program')])
    poll_until(lambda: status(job.id) == 'failed', TIMEOUT, studio=jobs, message='waiting for failed')
    assert 'Could not start' in Job.get_by_id(job.id).message


FAMILY = '''
    import os, subprocess, sys, time
    pidfile = sys.argv[1]
    grand = "import time\\nwhile True: time.sleep(0.1)"
    child = ("import subprocess, sys, time\\np = subprocess.Popen([sys.executable, '-c', %r])\\n"
             "print(p.pid, flush=True)\\nwhile True: time.sleep(0.1)" % grand)
    c = subprocess.Popen([sys.executable, '-c', child], stdout=subprocess.PIPE, text=True)
    g = int(c.stdout.readline())
    with open(pidfile + '.tmp', 'w') as f:
        f.write(f'{os.getpid()} {c.pid} {g}')
    os.replace(pidfile + '.tmp', pidfile)
    print('family started', flush=True)
    while True:
        time.sleep(0.1)
'''


def test_cancel_kills_the_whole_process_group(jobs: JobService, tmp_path: Path):
    pidfile = tmp_path / 'pids'
    job = jobs.submit('task', 'family', py(FAMILY) + [str(pidfile)])
    poll_until(pidfile.exists, TIMEOUT, studio=jobs, message='waiting for the family to start')
    pids = [int(p) for p in pidfile.read_text().split()] + [Job.get_by_id(job.id).pid]
    assert all(not gone(p) for p in pids)
    jobs.cancel(job.id)
    poll_until(lambda: status(job.id) == 'cancelled', TIMEOUT, studio=jobs, message='waiting for cancelled')
    poll_until(lambda: all(gone(p) for p in pids), 20, studio=jobs, message='waiting for no orphans')
    assert Job.get_by_id(job.id).message.startswith('Cancelled')


def test_grandchild_holding_the_output_does_not_hang_the_job(jobs: JobService, tmp_path: Path):
    pidfile = tmp_path / 'orphan'
    job = jobs.submit('task', 'leaves an orphan', py(f'''
        import subprocess, sys
        p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])
        open({str(pidfile)!r}, 'w').write(str(p.pid))
        print('parent exits, its child keeps our stdout open')
    '''))
    poll_until(lambda: status(job.id) == 'done', TIMEOUT, studio=jobs,
               message='waiting for done although an orphan held the pipe')
    poll_until(lambda: gone(int(pidfile.read_text())), 20, studio=jobs,
               message='waiting for the orphan ended')


def test_queue_runs_one_job_at_a_time_per_slot(jobs: JobService):
    jobs.limits['cpu'] = 1
    first = jobs.submit('task', 'first', py(TICKER.format(n=10, dt=0.1)), slot='cpu')
    second = jobs.submit('task', 'second', py(TICKER.format(n=2, dt=0.05)), slot='cpu')
    other = jobs.submit('task', 'other slot', py('print(1)'), slot='gpu')
    assert status(first.id) == 'running'
    assert status(second.id) == 'queued'
    assert status(other.id) == 'running'  # another slot is not held up
    poll_until(lambda: status(first.id) == 'done' and status(second.id) != 'queued', TIMEOUT, studio=jobs,
               message='waiting for second started')
    poll_until(lambda: status(second.id) == 'done', TIMEOUT, studio=jobs, message='waiting for second done')
    a, b = Job.get_by_id(first.id), Job.get_by_id(second.id)
    assert b.started >= a.ended


def test_pause_really_stops_progress_and_resume_continues(jobs: JobService):
    # stall_s: the watchdog must not count the paused time as a stall
    job = jobs.submit('task', 'counter', py(TICKER.format(n=60, dt=0.05)), stall_s=3)
    poll_until(lambda: jobs.log_size(job.id) > 40, TIMEOUT, studio=jobs, message='waiting for some output')
    jobs.pause(job.id)
    assert status(job.id) == 'paused'
    poll_until(lambda: psutil.Process(Job.get_by_id(job.id).pid).status() == psutil.STATUS_STOPPED, TIMEOUT,
               message='waiting for host stopped')
    time.sleep(0.5)  # output already in the pipe may still land
    size = jobs.log_size(job.id)
    time.sleep(4.0)  # longer than stall_s
    jobs.poll()
    assert jobs.log_size(job.id) == size, 'output grew while paused'
    assert status(job.id) == 'paused'
    jobs.resume(job.id)
    assert status(job.id) == 'running'
    poll_until(lambda: jobs.log_size(job.id) > size, TIMEOUT, studio=jobs, message='waiting for output again')
    poll_until(lambda: status(job.id) in ('done', 'failed'), TIMEOUT, studio=jobs, message='waiting for end')
    assert status(job.id) == 'done', Job.get_by_id(job.id).message
    assert 'tick 59' in jobs.log_tail(job.id)


def test_request_stop_writes_control_json(jobs: JobService):
    script = f'''
        import glob, json, time
        for i in range(600):
            hits = glob.glob({str(jobs.root)!r} + '/*/control.json')
            if hits and json.load(open(hits[0])).get('stop'):
                print('stop requested: stopping gracefully', flush=True)
                break
            print('working', i, flush=True)
            time.sleep(0.1)
        else:
            raise SystemExit(3)
    '''
    job = jobs.submit('task', 'stoppable', py(script))
    poll_until(lambda: 'working' in jobs.log_tail(job.id), TIMEOUT, studio=jobs, message='waiting for work')
    jobs.pause(job.id)
    assert status(job.id) == 'paused'
    jobs.request_stop(job.id)  # a paused job is woken up so that it can stop
    assert status(job.id) == 'running'
    control = json.loads((Path(Job.get_by_id(job.id).folder) / 'control.json').read_text())
    assert control['stop'] is True
    poll_until(lambda: status(job.id) == 'done', TIMEOUT, studio=jobs, message='waiting for graceful end')
    assert 'stopping gracefully' in jobs.log_tail(job.id)


def test_progress_is_read_incrementally(jobs: JobService):
    script = '''
        import sys, time
        for i in range(1, 21):
            print(f'dataset length: 0:00:{i:02d}.500000: : {i}it [00:00, 23.22it/s]', end='\\r', flush=True)
            time.sleep(0.1)
        print()
    '''
    job = jobs.submit('preprocess', 'fake preprocess', py(script))
    seen = []
    deadline = time.monotonic() + TIMEOUT
    while status(job.id) == 'running' and time.monotonic() < deadline:
        jobs.poll()
        if 'items' in jobs.states[job.id].last:
            seen.append(jobs.states[job.id].last['items'])
        time.sleep(0.05)
    assert status(job.id) == 'done'
    assert seen == sorted(seen) and len(set(seen)) >= 2, seen  # it was read while running
    state = jobs.states[job.id]
    assert state.last['items'] == 20 and state.last['seconds'] == pytest.approx(20.5)
    path = Path(Job.get_by_id(job.id).folder) / 'progress.jsonl'
    assert jobs._offsets[job.id] == path.stat().st_size  # everything consumed, once
    row = Job.get_by_id(job.id)
    with open(path, 'a') as f:
        f.write('{"items": 9')  # a half-written line is left for the next tick
    jobs._read_progress(row)
    assert state.last['items'] == 20
    with open(path, 'a') as f:
        f.write('99}\n')
    jobs._read_progress(row)
    assert state.last['items'] == 999
    assert jobs._offsets[job.id] == path.stat().st_size


def test_preprocess_hang_pattern_ends_the_job(jobs: JobService):
    job = jobs.submit('preprocess', 'hangs like RAVE', py('''
        import time
        print("(TypeError('cannot unpack non-iterable NoneType object'),)", flush=True)
        time.sleep(600)
    '''))
    poll_until(lambda: status(job.id) == 'failed', TIMEOUT, studio=jobs, message='waiting for failed')
    assert 'could not be decoded' in Job.get_by_id(job.id).message


def test_stall_watchdog_ends_a_silent_job(jobs: JobService):
    job = jobs.submit('task', 'silent', py('import time; print("start", flush=True); time.sleep(600)'), stall_s=2)
    poll_until(lambda: status(job.id) == 'failed', TIMEOUT, studio=jobs, message='waiting for failed')
    assert 'No output for 2 s' in Job.get_by_id(job.id).message


def test_reconcile_settles_dead_finished_and_live_jobs(jobs: JobService, data_dir: Path):
    dead = jobs.submit('task', 'dies with its host', py(TICKER.format(n=600, dt=0.1)))
    finished = jobs.submit('task', 'ends while the studio is down', py('print("all done")'))
    live = jobs.submit('preprocess', 'still running', py('''
        import time
        for i in range(1, 31):
            print(f'dataset length: 0:00:{i:02d}.000000: : {i}it [00:00, 23.22it/s]', flush=True)
            time.sleep(0.4)  # long enough to still run after the restart on a loaded machine
    '''))
    # the studio "goes down": nobody polls; meanwhile one host is killed and one job finishes
    dead_pid = Job.get_by_id(dead.id).pid
    poll_until(lambda: 'tick 1' in jobs.log_tail(dead.id), TIMEOUT, message='waiting for dead job output')
    os.killpg(dead_pid, signal.SIGKILL)
    poll_until(lambda: (Path(Job.get_by_id(finished.id).folder) / 'result.json').exists(), TIMEOUT,
               message='waiting for result')
    poll_until(lambda: gone(dead_pid), TIMEOUT, message='waiting for host killed')
    poll_until(lambda: 'dataset length' in jobs.log_tail(live.id), TIMEOUT,
               message='waiting for live job progress')
    assert {status(j.id) for j in (dead, finished, live)} == {'running'}

    restarted = JobService(data_dir)  # a new studio process on the same data folder
    restarted.reconcile()
    row = Job.get_by_id(dead.id)
    assert row.status == 'interrupted' and 'studio was not running' in row.message
    row = Job.get_by_id(finished.id)
    assert row.status == 'done' and row.exit_code == 0
    assert status(live.id) == 'running'
    assert restarted.states[live.id].last.get('items', 0) >= 1  # progress so far was read on reattach
    poll_until(lambda: status(live.id) == 'done', TIMEOUT, studio=restarted,
               message='waiting for reattached job done')
    assert restarted.states[live.id].last['items'] == 30
    assert 'dataset length: 0:00:30' in restarted.log_tail(live.id)
