"""The lab soak (issue 12, not in CI): N real socket.io clients (NiceGUI's browser protocol, bench_clients'
`BrowserClient`) connecting, navigating between pages, losing their socket and coming back, leaving and
returning, for many minutes while jobs start and end — does the studio hold it?

    python bench/bench_soak.py [--minutes 30] [--clients 25] [--job-every 10] [--share]

The studio runs under bench_clients' probe (clients, ui timers, event subscribers, asyncio tasks, a 20 ms
event-loop lag sampler). A separate process queues a cheap job every few seconds (a 4 s sleep; every fifth
exits 1, as failing jobs do) for the studio's poller to launch and finish. Each client, in a loop: opens a
random page, stays 2-12 s, then navigates on, or drops its socket for 0.3-1.5 s and reconnects to the same
page (a network blip, within NiceGUI's reconnect timeout), or leaves and comes back 1-8 s later.

Figures: studio RSS with the clients once warmed up → at the end (aim: growth ≤ 10 %) and its slope over the
second half; RSS idle before → after they left (after gc + malloc_trim); errors (failed page loads or socket
connects, tracebacks in the studio log, jobs that ended otherwise than planned); what was left behind once
every client had gone: clients, ui timers, event subscribers, tasks (aim: none more than before); event-loop
lag p95 and the cheap request's p95; studio CPU.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_clients import BENCH as PROBE  # noqa: E402
from bench_clients import (  # noqa: E402 (BrowserClient and its helpers, a page's socket query)
    PASSWORD,
    BrowserClient,
    Studio,
    _elements,
    _js,
    _socket_options,
    clean_env,
    free_port,
    p95,
    start_pinger,
    wait_page,
)

ROOT = Path(__file__).resolve().parent.parent
PAGES = ('/', '/projects', '/datasets', '/training', '/experiments', '/models', '/export', '/team', '/history',
         '/settings', '/audit', '/help', '/training/sweeps')
SLEEP_S = 4.0  # how long each cheap job runs
FAIL_EVERY = 5  # every fifth job exits 1: failing is part of a job's life


# ---- the job driver, in its own process -------------------------------------------------------------------
def drive_jobs(data_dir: Path, every: float) -> None:
    """Queue a cheap job every `every` seconds until killed; the studio serving `data_dir` launches them."""
    sys.path.insert(0, str(ROOT))
    from services.jobs.engine import JobService
    from services.store import open_database
    open_database(data_dir / 'studio.db')
    jobs = JobService(data_dir)
    for n in range(1, 1_000_000):
        code = f'import time, sys; time.sleep({SLEEP_S}); sys.exit({int(n % FAIL_EVERY == 0)})'
        jobs.submit('task', f'soak {n}', [sys.executable, '-c', code], cwd=str(data_dir), start=False)
        time.sleep(every)


# ---- one tab ------------------------------------------------------------------------------------------------
@dataclass
class Tab(BrowserClient):
    """A BrowserClient that can lose its socket and reconnect it to the same page, as socket.io does in a
    browser: same document, same tab id (NiceGUI pins a client's tab id at its first handshake and refuses
    another), and the next message id it expects, so the server replays what it missed."""
    html: str = ''
    ids: tuple[str, str] = ('', '')  # (document id, tab id) of the page it shows

    async def _connect(self, html: str, start: float) -> None:
        """A new page (BrowserClient._connect's steps, with ids kept for a reconnect)."""
        query = _socket_options(html)[0]
        self.html, self.ids = html, (str(uuid.uuid4()), str(uuid.uuid4()))
        self.client_id, self.next_id, self.acked = query['client_id'], int(query['next_message_id']), -1
        self.elements = _elements(html)
        await self._socket()
        self.t_connected = time.monotonic() - start

    async def blip(self, seconds: float) -> None:
        """The socket drops and comes back to the same client (NiceGUI keeps it for its reconnect timeout)."""
        await self.close()
        await asyncio.sleep(seconds)
        await self._socket()

    async def _socket(self) -> None:
        import socketio
        query, transports = _socket_options(self.html)
        browser = {**{k: _js(v) for k, v in query.items()}, 'next_message_id': str(self.next_id),
                   'document_id': self.ids[0], 'tab_id': self.ids[1], 'old_tab_id': 'null'}
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on('*', self._message)
        await self.sio.connect(f'{self.base}/?{urlencode(browser)}', socketio_path='/_nicegui_ws/socket.io',
                               transports=['websocket'] if 'websocket' in transports else ['polling'],
                               headers={'Cookie': self.cookie_header(), 'Origin': self.base}, wait_timeout=180)
        self._acker = asyncio.create_task(self._ack_every(3.0))


@dataclass
class Tally:
    moves: collections.Counter = field(default_factory=collections.Counter)
    errors: collections.Counter = field(default_factory=collections.Counter)
    examples: list[str] = field(default_factory=list)

    def failed(self, what: str, error: BaseException) -> None:
        self.errors[f'{what}: {type(error).__name__}'] += 1
        if len(self.examples) < 5:
            self.examples.append(f'{what}: {type(error).__name__}: {str(error)[:200]}')


async def browse(tab: Tab, deadline: float, tally: Tally, rng: random.Random, share: bool) -> None:
    if share:
        await tab.login('admin', PASSWORD)
    while time.monotonic() < deadline:
        path = rng.choice(PAGES)
        try:
            await tab.open(path)
            tally.moves['page'] += 1
            await asyncio.sleep(rng.uniform(2.0, 12.0))
            move = rng.random()
            if move < 0.2:
                await tab.blip(rng.uniform(0.3, 1.5))
                tally.moves['reconnect'] += 1
                await asyncio.sleep(rng.uniform(1.0, 5.0))
            await tab.close()  # navigating on closes this page's socket, as the browser does
            if move > 0.75:
                tally.moves['leave and return'] += 1
                await asyncio.sleep(rng.uniform(1.0, 8.0))
        except Exception as e:  # noqa: BLE001 (an error is a figure, not the end of the soak)
            tally.failed(path, e)
            await tab.close()
            await asyncio.sleep(1.0)
    await tab.aclose()


# ---- the soak ----------------------------------------------------------------------------------------------
def start(work: Path, share: bool) -> tuple[Studio, subprocess.Popen]:
    data_dir = work / 'data'
    port, probe, log_path = free_port(), work / 'probe.json', work / 'studio.log'
    with open(log_path, 'wb') as log:
        proc = subprocess.Popen([sys.executable, PROBE, '--probe', str(probe), '--', '--no-browser', '--port',
                                 str(port), '--data-dir', str(data_dir), *(['--share'] if share else [])],
                                cwd=work, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=clean_env(RAVE_STUDIO_ADMIN_PASSWORD=PASSWORD))
    url = f'http://127.0.0.1:{port}'
    token = wait_page(proc, url, log_path, timeout=180)[1]
    return Studio(url, proc.pid, None, token=token, share=share, probe=probe, pings=work / 'pings.txt'), proc


async def soak(studio: Studio, work: Path, args: argparse.Namespace) -> dict:
    import psutil
    proc = psutil.Process(studio.pid)

    def rss() -> float:
        return proc.memory_info().rss / 2**20

    async def trimmed() -> float:
        studio.probe.with_suffix('.trim').touch()
        await asyncio.sleep(2.5)
        return rss()

    warm, tally = Tab(studio.url, token=studio.token), Tally()  # every page's first build pays its lazy imports
    if args.share:
        await warm.login('admin', PASSWORD)
    for path in PAGES:
        try:
            await warm.open(path)
        except Exception as e:  # noqa: BLE001 (counted with the others)
            tally.failed(f'warm-up {path}', e)
        await warm.close()
    await warm.aclose()
    await asyncio.sleep(8.0)  # past NiceGUI's reconnect timeout: the warm-up client is gone
    idle = studio.counters()
    r: dict = {'rss_idle': await trimmed(), 'idle': idle, 'cpu0': sum(proc.cpu_times()[:2]), 't0': time.time()}

    driver = subprocess.Popen([sys.executable, __file__, '--drive', str(work / 'data'), str(args.job_every)],
                              cwd=ROOT, env=clean_env(), stdin=subprocess.DEVNULL)
    rng = random.Random(12)
    seconds = args.minutes * 60
    deadline = time.monotonic() + seconds
    samples: list[tuple[float, float]] = []  # (s since the start, MB)

    async def sample() -> None:
        while time.monotonic() < deadline:
            samples.append((time.time() - r['t0'], rss()))
            await asyncio.sleep(5.0)

    tabs = [Tab(studio.url, token=studio.token) for _ in range(args.clients)]

    async def staggered(i: int, tab: Tab) -> None:
        await asyncio.sleep(i * 0.4)
        await browse(tab, deadline, tally, random.Random(rng.random()), args.share)

    try:
        await asyncio.gather(sample(), *(staggered(i, t) for i, t in enumerate(tabs)))
    finally:
        driver.terminate()
        driver.wait()
    r.update(t1=time.time(), cpu1=sum(proc.cpu_times()[:2]), tally=tally, samples=samples)
    await asyncio.sleep(SLEEP_S + 8.0)  # the last jobs end; past the reconnect timeout every client is gone
    r.update(left=studio.counters(), rss_after=await trimmed())
    return r


def report(r: dict, work: Path, args: argparse.Namespace) -> None:
    samples = r['samples']
    warm_s = min(60.0, args.minutes * 60 * 0.15)  # the clients have opened every page and their first blips
    window = max(15.0, min(60.0, args.minutes * 60 * 0.15))
    first = [mb for s, mb in samples if warm_s <= s < warm_s + window]
    last = [mb for s, mb in samples if s >= samples[-1][0] - window] if samples else []
    start_mb, end_mb = statistics.median(first or [float('nan')]), statistics.median(last or [float('nan')])
    half = samples[len(samples) // 2:]
    slope = statistics.linear_regression(*zip(*half)).slope * 60 if len(half) > 2 else float('nan')
    tally, idle, left = r['tally'], r['idle'], r['left']
    jobs = _jobs(work / 'data' / 'studio.db')
    log = (work / 'studio.log').read_text(errors='replace')
    tracebacks = log.count('Traceback (most recent call last)')
    lags = [float(line.split()[1]) for line in studio_lines(work / 'probe.lag')
            if r['t0'] <= float(line.split()[0]) <= r['t1']]
    pings = [float(line.split()[1]) for line in studio_lines(work / 'pings.txt')
             if r['t0'] <= float(line.split()[0]) <= r['t1']]
    cores = (r['cpu1'] - r['cpu0']) / (r['t1'] - r['t0'])
    growth = (end_mb - start_mb) / start_mb * 100
    print(f"\n== soak: {args.clients} clients, {args.minutes:g} min, a job every {args.job_every:g} s ==")
    print(f"moves: {dict(tally.moves)}")
    print(f"rss with the clients: {start_mb:.0f} MB once warmed up → {end_mb:.0f} MB at the end: "
          f"{growth:+.1f} % (aim ≤ 10 %); slope over the second half {slope:+.2f} MB/min")
    print(f"rss idle: {r['rss_idle']:.0f} MB before → {r['rss_after']:.0f} MB after they left (gc + malloc_trim)")
    print(f"errors: {sum(tally.errors.values())} client ({dict(tally.errors) or 'none'}), {tracebacks} "
          f"tracebacks in the studio log, jobs {jobs} (planned: every {FAIL_EVERY}th fails)")
    for example in tally.examples:
        print(f'  e.g. {example}')
    print('left once they had gone (idle before → after): ' + ', '.join(
        f"{key} {idle.get(key, 0)} → {left.get(key, 0)}" for key in ('clients', 'ui_timers', 'event_subscribers',
                                                                     'tasks', 'elements')))
    print(f"event-loop lag p95 {p95(lags):.0f} ms, max {max(lags, default=float('nan')):.0f} ms; cheap request "
          f"p95 {p95(pings):.0f} ms; studio cpu {cores:.2f} cores; load average {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} CPUs")
    print(f'work folder {work}')


def studio_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _jobs(db: Path) -> dict[str, int]:
    """The soak's jobs by how they ended, and those that ended as not planned."""
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT title, status FROM job WHERE title LIKE 'soak %'").fetchall()
    found = collections.Counter(status for _, status in rows)
    wrong = sum(1 for title, status in rows if status in ('done', 'failed')
                and (status == 'failed') != (int(title.split()[1]) % FAIL_EVERY == 0))
    return {**found, 'unplanned': wrong + found.get('interrupted', 0)}


def main() -> None:
    if len(sys.argv) > 3 and sys.argv[1] == '--drive':
        drive_jobs(Path(sys.argv[2]), float(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--minutes', type=float, default=30.0)
    parser.add_argument('--clients', type=int, default=25)
    parser.add_argument('--job-every', type=float, default=10.0, help='seconds between two queued jobs')
    parser.add_argument('--share', action='store_true', help='studio in --share mode; clients sign in first')
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix='bench_soak_'))
    studio, proc = start(work, args.share)
    pinger = start_pinger(studio)
    try:
        result = asyncio.run(soak(studio, work, args))
    finally:
        for child in (pinger, proc):
            child.terminate()
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
    report(result, work, args)


if __name__ in {'__main__', '__mp_main__'}:
    main()
