"""Load of the live pages: N real socket.io clients (NiceGUI's browser protocol) on a run page while a real
tiny v2_small training runs, and on the dashboard; and launch → first page against a trivial 8-page NiceGUI
app.

    python bench/bench_clients.py [--clients 25] [--window 30] [--reps 2] [--launch-runs 5]
        [--target NAME=CHECKOUT[:VENV][@EXPERIMENT]]...   # several: interleaved in one run (before/after)
        [--pages run,dashboard] [--share] [--token T]
        [--url URL [--run-id ID] [--pid PID]]   # a studio that is already running instead of the targets

Each target's studio runs under a probe (its own `rave-studio` CLI with counters: timer and event callbacks,
SQL statements, socket messages, a 20 ms event-loop lag sampler); a separate process GETs /favicon.ico every
100 ms (the cheap request). Per page: server CPU (cores, the studio process only), the cheap request's latency
p95 idle → with clients, the clients' join (HTML received, socket handshake answered) and the longest stall of
the cheap request while they join, RSS before / at the end of the window / 30 s after they left, clients and
timers left behind, per-client callbacks, queries and messages per second, and the training's steps/s.
Aims (issue 7): lag p95 ≤ 50 ms, 25 joins without a stall over 200 ms, RSS back near idle after they leave;
launch ÷ trivial ≤ 1.3. Issue 12 adds CPU ≤ 0.5 core and every client's chart in step (`stale` = clients that
got no message in the window's last 5 s). The client (`BrowserClient`) is reusable by the soak test.
Experiment `@one-build`: the target's page requests take turns (see `_one_build_at_a_time`).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = str(Path(__file__).resolve())
TRIVIAL = str(Path(__file__).with_name('trivial_app.py'))
TOKEN_URL = re.compile(r'https?://\S+?[?&]token=([\w.~%-]+)')
PASSWORD = 'bench-admin-password'


# ---- inside the studio process: its own CLI with counters ---------------------------------------------
def _time_gc(counts: collections.Counter) -> None:
    """Count and time Python's own collections (a full one over a big heap holds the loop like a block)."""
    import gc
    started = [0.0]

    def timed(phase: str, info: dict) -> None:
        if phase == 'start':
            started[0] = time.perf_counter()
            return
        spent = time.perf_counter() - started[0]
        key = f"gc{info['generation']}"
        counts[key] += 1
        counts[f'busy {key}'] += spent
        counts[f'max {key} ms'] = max(counts.get(f'max {key} ms', 0), spent * 1000)
    gc.callbacks.append(timed)


def probe_serve(out: Path, argv: list[str]) -> None:
    """Run the target's `rave-studio` CLI with counters, dumped as JSON to `out` every second."""
    import peewee
    from nicegui import Event, app, background_tasks, event, outbox, timer
    from nicegui.client import Client
    from nicegui.elements.timer import Timer as UiTimer

    counts: collections.Counter = collections.Counter()
    ui_timers: set = set()
    sql_table = re.compile(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"')

    def name(fn) -> str:
        fn = getattr(fn, 'func', fn)
        return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}"

    invoke = timer.Timer._invoke_callback

    async def counted_invoke(self) -> None:
        key = f"timer.{'ui' if isinstance(self, UiTimer) else 'app'}"
        what = name(self.callback)
        start = time.perf_counter()
        try:
            await invoke(self)
        finally:
            counts[key] += 1
            counts[f'{key}:{what}'] += 1
            counts[f'busy {key}:{what}'] += time.perf_counter() - start

    ui_init = UiTimer.__init__

    def tracked_init(self, *args, **kwargs) -> None:
        ui_init(self, *args, **kwargs)
        ui_timers.add(self)

    def counting(deliver):
        """An event delivery (NiceGUI's, which the studio's bridge also uses, one subscriber per turn), counted
        and timed."""
        def counted(callback, *args, **kwargs):
            start = time.perf_counter()
            try:
                return deliver(callback, *args, **kwargs)
            finally:
                counts['event'] += 1
                counts[f'event:{name(callback.func)}'] += 1
                counts[f'busy event:{name(callback.func)}'] += time.perf_counter() - start
        return counted

    execute = peewee.Database.execute_sql

    def counted_sql(self, sql, *args, **kwargs):
        table = sql_table.search(sql)
        counts['sql'] += 1
        counts[f'sql:{sql.split(None, 1)[0]} {table.group(1) if table else "?"}'] += 1
        return execute(self, sql, *args, **kwargs)

    emit = outbox.Outbox._emit

    async def counted_emit(self, message) -> None:
        counts['emit'] += 1
        counts[f'emit:{message[1]}'] += 1
        await emit(self, message)

    if os.environ.get('BENCH_EXPERIMENT') == 'one-build':
        _one_build_at_a_time()
    timer.Timer._invoke_callback = counted_invoke
    UiTimer.__init__ = tracked_init
    event._invoke_and_forget = counting(event._invoke_and_forget)
    peewee.Database.execute_sql = counted_sql
    outbox.Outbox._emit = counted_emit
    _time_gc(counts)

    def dump() -> None:
        clients = list(Client.instances.values())
        alive = [t for t in list(ui_timers) if not t._is_canceled and not t.is_deleted]
        ui_timers.intersection_update(alive)
        state = {'t': time.time(), 'counts': dict(counts), 'clients': len(clients),
                 'elements': sum(len(c.elements) for c in clients), 'ui_timers': len(alive),
                 'event_subscribers': sum(len(e.callbacks) for e in list(Event.instances)),
                 'tasks': len(asyncio.all_tasks())}
        out.with_suffix('.tmp').write_text(json.dumps(state))
        os.replace(out.with_suffix('.tmp'), out)

    lags = open(out.with_suffix('.lag'), 'a', buffering=1)  # noqa: SIM115 (open while the studio runs)

    async def sample() -> None:
        """Every 20 ms: how late the loop woke up (wall), and how much CPU its thread used meanwhile (what
        blocked it, whatever the machine's load)."""
        last = 0.0
        while True:
            start, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.02)
            lags.write(f'{time.time():.3f} {(time.perf_counter() - start - 0.02) * 1000:.1f} '
                       f'{(time.thread_time() - cpu) * 1000:.1f}\n')
            if time.time() - last >= 1.0:
                last = time.time()
                if out.with_suffix('.trim').exists():
                    out.with_suffix('.trim').unlink()
                    trim()
                dump()

    def trim() -> None:
        """Collect garbage and hand free heap back to the OS: RSS that stays is memory still referenced."""
        import ctypes
        import gc
        gc.collect()
        ctypes.CDLL('libc.so.6').malloc_trim(0)
        _heap_by_type(out)

    if os.environ.get('BENCH_DIAG'):
        _diagnose(out)
    app.on_startup(lambda: background_tasks.create(sample(), name='bench probe'))
    from app.main import cli
    sys.argv = ['rave-studio', *argv]
    cli()


def _heap_by_type(out: Path) -> None:
    """BENCH_DIAG=1: what the heap holds, by type, at each trim (`.types.N.json`: before/after the clients)."""
    import gc
    if not os.environ.get('BENCH_DIAG'):
        return
    import ctypes
    import tracemalloc
    if os.environ.get('BENCH_TRACEMALLOC'):  # what was allocated since the first trim and is still held
        if tracemalloc.is_tracing():
            held_since = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
            top = held_since.statistics('traceback')[:60]
            out.with_suffix('.survivors.txt').write_text('\n\n'.join(
                f'{s.size / 1024:.0f} KiB in {s.count} blocks\n' + '\n'.join(s.traceback.format(limit=12))
                for s in top))
        else:
            tracemalloc.start(12)
    held = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    n = len(list(out.parent.glob(out.stem + '.types.*.json')))
    out.with_suffix(f'.types.{n}.json').write_text(json.dumps(held.most_common(400)))

    class MallInfo2(ctypes.Structure):
        _fields_ = [(f, ctypes.c_size_t) for f in ('arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks',
                                                    'fsmblks', 'uordblks', 'fordblks', 'keepcost')]
    libc = ctypes.CDLL('libc.so.6')
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    rollup = Path('/proc/self/smaps_rollup').read_text()
    saved = os.dup(2)  # sys._debugmallocstats writes pymalloc's arenas to the C stderr
    with open(out.with_suffix(f'.pymalloc.{n}.txt'), 'w') as f:
        os.dup2(f.fileno(), 2)
        sys._debugmallocstats()
        os.dup2(saved, 2)
    os.close(saved)
    out.with_suffix(f'.heap.{n}.json').write_text(json.dumps({
        'threads': len(os.listdir('/proc/self/task')),
        'malloc': {f: getattr(info, f) / 2**20 for f, _ in MallInfo2._fields_},
        'rollup': rollup}))


def _diagnose(out: Path) -> None:
    """BENCH_DIAG=1: what holds the event loop. A watchdog thread looks at the loop's heartbeat every 10 ms; while
    the loop has not come round for over 50 ms it samples the loop thread's stack (`.slow`, one JSON line per
    sample: when, how long the loop has been held, the innermost 40 frames)."""
    import threading
    import traceback
    beat = [time.perf_counter()]
    loop_thread: list[int] = []
    slow = open(out.with_suffix('.slow'), 'a', buffering=1)  # noqa: SIM115 (open while the studio runs)

    async def heartbeat() -> None:
        loop_thread.append(threading.get_ident())
        while True:
            beat[0] = time.perf_counter()
            await asyncio.sleep(0.005)

    def watch() -> None:
        while True:
            time.sleep(0.01)
            held = time.perf_counter() - beat[0]
            if loop_thread and held > 0.05:
                frame = sys._current_frames().get(loop_thread[0])
                stack = [f'{f.filename.rsplit("site-packages/", 1)[-1]}:{f.lineno} {f.name}'
                         for f in traceback.extract_stack(frame)[-40:]] if frame else []
                slow.write(json.dumps({'t': time.time(), 'held_ms': round(held * 1000), 'stack': stack}) + '\n')
    from nicegui import app, background_tasks
    app.on_startup(lambda: background_tasks.create(heartbeat(), name='bench heartbeat'))
    threading.Thread(target=watch, name='bench watchdog', daemon=True).start()


EXPERIMENTS = {'one-build': 'page requests take turns: one page is built and rendered at a time'}


def _one_build_at_a_time() -> None:
    """Experiment: every ui.page handler holds one lock while it builds and renders its page, so 25 joins
    queue instead of all being ready on the event loop at once (each one blocking it in turn)."""
    import functools

    from nicegui import page
    wrap = page.page._wrap
    lock: list[asyncio.Lock] = []

    def serialised(self, func):
        decorated = wrap(self, func)

        @functools.wraps(decorated)
        async def one_at_a_time(*args, **kwargs):
            if not lock:
                lock.append(asyncio.Lock())
            async with lock[0]:
                response = await decorated(*args, **kwargs)
            await asyncio.sleep(0)  # what waited behind this build runs before the next one starts
            return response
        one_at_a_time.__signature__ = decorated.__signature__
        return one_at_a_time
    page.page._wrap = serialised


# ---- the cheap request, from its own process ------------------------------------------------------------
def ping_loop(url: str, out: Path, cookie: str) -> None:
    """GET `url` every 100 ms on a kept-alive connection; append `wall_start latency_ms status` lines."""
    import http.client
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    conn = None
    with open(out, 'a', buffering=1) as log:
        while True:
            begin, wall = time.perf_counter(), time.time()
            try:
                conn = conn or http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                conn.request('GET', parts.path, headers={'Cookie': cookie} if cookie else {})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn, status = None, 0
            latency = time.perf_counter() - begin
            log.write(f'{wall:.3f} {latency * 1000:.2f} {status}\n')
            time.sleep(max(0.0, 0.1 - latency))


# ---- one browser tab ------------------------------------------------------------------------------------
@dataclass
class BrowserClient:
    """One tab as static/nicegui.js drives it: GET the page (cookies kept; `?token=` on the first request),
    take the socket query from the HTML, connect to /_nicegui_ws/socket.io over a websocket with that query
    (implicit handshake), follow messages in `_id` order, acknowledge every 3 s, answer JavaScript requests.
    It runs no JavaScript, so it sends no UI events of its own (no Plotly relayouts, no clicks)."""
    base: str
    token: str = ''
    assets: bool = False
    http: object = None
    sio: object = None
    client_id: str = ''
    next_id: int = 0
    acked: int = -1
    t_html: float = 0.0  # seconds from the GET until the HTML was received
    t_connected: float = 0.0  # … until the socket handshake was answered
    elements: dict = field(default_factory=dict)  # the page's elements as its HTML carried them
    messages: int = 0
    by_type: collections.Counter = field(default_factory=collections.Counter)
    last_message: float = 0.0
    opened: str = ''  # the last path a server `open` message (ui.navigate.to) asked for
    errors: list[str] = field(default_factory=list)
    _acker: asyncio.Task | None = None

    def _ensure_http(self) -> None:
        import httpx
        if self.http is None:
            self.http = httpx.AsyncClient(base_url=self.base, follow_redirects=True, timeout=180,
                                          headers={'User-Agent': 'bench_clients (NiceGUI browser protocol)'})

    async def open(self, path: str) -> None:
        """Load a page and connect its socket, as a tab does."""
        self._ensure_http()
        start = time.monotonic()
        first = self.token and not self.http.cookies
        response = await self.http.get(path, params={'token': self.token} if first else None)
        response.raise_for_status()
        self.t_html = time.monotonic() - start
        await self._connect(response.text, start)

    async def _connect(self, html: str, start: float) -> None:
        import socketio
        query, transports = _socket_options(html)
        self.client_id, self.next_id, self.acked = query['client_id'], int(query['next_message_id']), -1
        self.elements = _elements(html)
        browser_query = {**{k: _js(v) for k, v in query.items()}, 'document_id': str(uuid.uuid4()),
                         'tab_id': str(uuid.uuid4()), 'old_tab_id': 'null'}
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on('*', self._message)
        from urllib.parse import urlencode
        await self.sio.connect(f'{self.base}/?{urlencode(browser_query)}',
                               socketio_path='/_nicegui_ws/socket.io',
                               transports=['websocket'] if 'websocket' in transports else ['polling'],
                               headers={'Cookie': self.cookie_header(), 'Origin': self.base},
                               wait_timeout=180)
        self.t_connected = time.monotonic() - start
        self._acker = asyncio.create_task(self._ack_every(3.0))
        if self.assets:
            await asyncio.gather(*(self.http.get(url) for url in _asset_urls(html)))

    async def close(self) -> None:
        if self._acker:
            self._acker.cancel()
        if self.sio is not None:
            await self.sio.disconnect()
            self.sio = None

    async def aclose(self) -> None:
        await self.close()
        if self.http is not None:
            await self.http.aclose()

    def cookie_header(self) -> str:
        return '; '.join(f'{c.name}={c.value}' for c in self.http.cookies.jar) if self.http else ''

    async def event(self, element_id: int, kind: str, *args: object) -> None:
        """What a browser emits for a listener of `kind` on an element ('click'; 'update:' matches the
        element's value event, 'update:value' or 'update:modelValue')."""
        listener = next(e for e in self.elements[str(element_id)]['events']
                        if e['type'] == kind or (kind == 'update:' and e['type'].startswith(kind)))
        await self.sio.emit('event', {'id': element_id, 'client_id': self.client_id,
                                      'listener_id': listener['listener_id'],
                                      'args': [json.dumps(a) for a in args]})

    async def login(self, name: str, password: str) -> None:
        """Sign in (share mode) as a user would: fill in and post the sign-in form, or, where /login is a
        NiceGUI page, type into its inputs and click its button."""
        self._ensure_http()
        form = await self.http.get('/login')
        if 'createApp' not in form.text and '<form' in form.text:
            import html
            hidden = {html.unescape(k): html.unescape(v) for k, v in
                      re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.text)}
            answer = await self.http.post('/login', data={**hidden, 'name': name, 'password': password},
                                          headers={'Origin': self.base, 'Referer': str(form.url)},
                                          follow_redirects=False)  # the page it leads to is opened next
            if answer.status_code >= 400 or answer.headers.get('location', '/login').startswith('/login'):
                raise RuntimeError(f'sign-in refused ({answer.status_code}): wrong password?')
            return
        await self._connect(form.text, time.monotonic())  # the NiceGUI sign-in page: its socket, its events
        labelled = {str(e.get('props', {}).get('label') or e.get('text')): int(i)
                    for i, e in self.elements.items()}
        await self.event(labelled['Name'], 'update:', name)
        await self.event(labelled['Password'], 'update:', password)
        await self.event(labelled['Sign in'], 'click', {})
        for _ in range(300):
            if self.opened:
                break
            await asyncio.sleep(0.05)
        await self.close()
        if not self.opened:
            raise RuntimeError('the login page did not navigate on: wrong password?')

    async def _message(self, kind: str, data: object = None) -> None:
        if isinstance(data, dict) and '_id' in data:
            if data['_id'] < self.next_id:
                return  # a replayed message, as the browser drops it
            self.next_id = data['_id'] + 1
        self.messages += 1
        self.by_type[kind] += 1
        self.last_message = time.monotonic()
        if kind == 'run_javascript' and data.get('request_id'):
            await self.sio.emit('javascript_response', {'request_id': data['request_id'],
                                                        'client_id': self.client_id, 'result': None})
        elif kind == 'open':
            self.opened = data.get('path', '')
        elif kind == 'load_js_components' and self.assets:
            version = re.search(r'/_nicegui/([\d.]+)/', str(self.http.base_url) + '/_nicegui/x/')
            for c in data.get('components', []):
                await self.http.get(f"/_nicegui/{version.group(1) if version else ''}/components/{c['key']}")

    async def _ack_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            if self.sio is not None and self.next_id > self.acked:
                await self.sio.emit('ack', {'client_id': self.client_id, 'next_message_id': self.next_id})
                self.acked = self.next_id


def _socket_options(html: str) -> tuple[dict, list[str]]:
    import ast
    query = re.search(r'\bquery: (\{.*?\}),\n', html)
    transports = re.search(r'\btransports: (\[.*?\]),\n', html)
    if not query:
        raise RuntimeError(f'no NiceGUI page in the answer: {html[:300]!r}')
    return ast.literal_eval(query.group(1)), (ast.literal_eval(transports.group(1)) if transports
                                              else ['websocket'])


def _elements(html: str) -> dict:
    raw = re.search(r'parseElements\(String\.raw`(.*?)`\)', html, re.DOTALL)
    if not raw:
        return {}
    text = raw.group(1)
    for escaped, plain in (('&#36;', '$'), ('&#96;', '`'), ('&gt;', '>'), ('&lt;', '<'), ('&amp;', '&')):
        text = text.replace(escaped, plain)
    return json.loads(text)


def _asset_urls(html: str) -> list[str]:
    return sorted(set(re.findall(r'(?:src|href)="(/_nicegui/[^"]+)"', html)))


def _js(value: object) -> str:
    """A query value as socket.io's client encodes it (JavaScript's String())."""
    if value is None or isinstance(value, bool):
        return {True: 'true', False: 'false', None: 'null'}[value]
    return str(value)


# ---- a target: a checkout and its venv ------------------------------------------------------------------
@dataclass
class Target:
    name: str
    checkout: Path
    venv: Path
    experiment: str = ''  # a probe experiment (EXPERIMENTS) run in this target's studio

    @property
    def python(self) -> str:
        return str(self.venv / 'bin' / 'python')

    @property
    def studio(self) -> str:
        return str(self.venv / 'bin' / 'rave-studio')

    @classmethod
    def parse(cls, text: str) -> Target:
        name, _, rest = text.partition('=')
        rest, _, experiment = rest.partition('@')
        checkout, _, venv = rest.partition(':')
        if experiment and experiment not in EXPERIMENTS:
            raise argparse.ArgumentTypeError(f'unknown experiment {experiment!r}: {", ".join(EXPERIMENTS)}')
        return cls(name, Path(checkout).resolve(), Path(venv).resolve() if venv else Path(sys.prefix),
                   experiment)


PREPARE = r'''
import json, sys
from pathlib import Path
from app.studio import Studio
from services.store import Dataset, Job
data_dir, db, entries = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
studio = Studio(data_dir)
project = studio.projects.current(None)
dataset = Dataset.create(project=project, name='tones', path=db, status='ready', sr=44100, channels=1,
                         n_examples=entries, n_seconds=entries * 2 * 65536 / 44100,
                         params={'num_signal': 65536})
settings = dict(max_steps=100000, val_every=100000, n_signal=65536, batch=2, channels=1, device='cpu', workers=0)
try:  # a checkout with RunSpec (since the house issue)
    from services.training.spec import RunSpec
except ImportError:  # an older checkout (a "before" target)
    run = studio.training.start(project, dataset, 'load', config='v2_small', **settings)
else:
    settings['devices'] = (settings.pop('device'),)
    run = studio.training.start(project, RunSpec(dataset=dataset.id, name='load', base='v2_small', **settings))
job = Job.get_by_id(run.job_id)
print(json.dumps({'run': run.id, 'job': job.id, 'folder': job.folder, 'pid': job.pid}))
'''
CANCEL = ('import sys; from pathlib import Path; from app.studio import Studio; '
          'Studio(Path(sys.argv[1])).jobs.cancel(int(sys.argv[2]))')


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_', 'VIRTUAL_ENV'))}
    return {**env, **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def make_dataset(work: Path) -> tuple[Path, int]:
    """Three 12 s tones preprocessed by the plain `rave preprocess` (as tests/rave_fixtures does)."""
    sys.path.insert(0, str(ROOT / 'tests'))
    from rave_fixtures import run_cli, synth_audio
    db = work / 'db'
    if not db.exists():
        synth_audio(work / 'audio', n_files=3, seconds=12.0)
        run_cli(['preprocess', '--input_path', str(work / 'audio'), '--output_path', str(db), '--num_signal',
                 '65536', '--channels', '1', '--sampling_rate', '44100'], work)
    import lmdb
    env = lmdb.open(str(db), readonly=True, lock=False)
    entries = env.stat()['entries']
    env.close()
    return db, entries


@dataclass
class Studio:
    """A studio under load: its process, its URL, its live run, its probe and pinger files."""
    url: str
    pid: int
    run_id: int | None
    token: str = ''
    share: bool = False
    probe: Path | None = None
    pings: Path | None = None
    metrics: Path | None = None
    procs: list = field(default_factory=list)

    def counters(self) -> dict:
        try:
            return json.loads(self.probe.read_text()) if self.probe else {}
        except (OSError, ValueError):
            return {}


def start_studio(target: Target, work: Path, db: Path, entries: int, share: bool) -> tuple[Studio, dict]:
    data_dir = work / 'data'
    out = subprocess.run([target.python, '-c', PREPARE, str(data_dir), str(db), str(entries)],
                         cwd=target.checkout, env=clean_env(), capture_output=True, text=True, timeout=300,
                         check=False)
    if out.returncode:
        raise RuntimeError(f'could not start the training in {target.name}:\n{out.stderr[-3000:]}')
    run = json.loads(out.stdout.strip().splitlines()[-1])
    port = free_port()
    probe = work / 'probe.json'
    log = open(work / 'studio.log', 'wb')  # noqa: SIM115 (the child keeps it)
    proc = subprocess.Popen([target.python, BENCH, '--probe', str(probe), '--', '--no-browser', '--port',
                             str(port), '--data-dir', str(data_dir), *(['--share'] if share else [])],
                            cwd=work, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=clean_env(RAVE_STUDIO_ADMIN_PASSWORD=PASSWORD,
                                          BENCH_EXPERIMENT=target.experiment))
    log.close()
    url = f'http://127.0.0.1:{port}'
    served = wait_page(proc, url, work / 'studio.log', timeout=180)
    studio = Studio(url, proc.pid, run['run'], token=served[1], share=share, probe=probe,
                    pings=work / 'pings.txt', metrics=Path(run['folder']) / 'metrics.jsonl', procs=[proc])
    return studio, run


def stop_studio(target: Target, studio: Studio, work: Path, run: dict | None) -> None:
    for proc in reversed(studio.procs):
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if run:
        subprocess.run([target.python, '-c', CANCEL, str(work / 'data'), str(run['job'])],
                       cwd=target.checkout, env=clean_env(), capture_output=True, timeout=120, check=False)
        time.sleep(2)
        try:  # the job host we launched leads its own process group
            os.killpg(run['pid'], signal.SIGTERM)
        except (OSError, TypeError):
            pass


def wait_page(proc: subprocess.Popen | None, url: str, log: Path | None, timeout: float,
              since: float | None = None) -> tuple[float, str]:
    """(seconds from `since` until a NiceGUI page was served, the launch token if the studio printed one).

    Redirects are followed with their cookies, so a token exchanged for a cookie or a login page counts once
    the page it leads to has been served."""
    import httpx
    start = since or time.monotonic()
    token = ''
    with httpx.Client(base_url=url, follow_redirects=True, timeout=10) as http:
        while time.monotonic() - start < timeout:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f'the server exited with {proc.returncode}:\n' +
                                   (log.read_text(errors='replace')[-3000:] if log else ''))
            if log is not None and not token and (found := TOKEN_URL.search(log.read_text(errors='replace'))):
                token = found.group(1)
            try:
                response = http.get('/', params={'token': token} if token else None)
                if response.status_code == 200 and ('createApp' in response.text or '<form' in response.text):
                    return time.monotonic() - start, token  # a page, or the sign-in form a page led to
            except httpx.HTTPError:
                pass
            time.sleep(0.025)
    raise RuntimeError(f'no page from {url} within {timeout} s')


# ---- one page under N clients ---------------------------------------------------------------------------
async def load_phase(studio: Studio, path: str, args: argparse.Namespace) -> dict:
    import psutil
    proc = psutil.Process(studio.pid) if studio.pid else None

    def cpu() -> float:
        return sum(proc.cpu_times()[:2]) if proc else float('nan')

    def rss() -> float:
        return proc.memory_info().rss / 2**20 if proc else float('nan')

    warm = BrowserClient(studio.url, token=studio.token)  # the first build of a page pays its lazy imports
    if studio.share:
        await warm.login('admin', args.password)
    await warm.open(path)
    await asyncio.sleep(1.0)
    await warm.aclose()
    await asyncio.sleep(8.0)  # past NiceGUI's reconnect timeout (3 s): the warm-up client is gone
    r: dict = {'page': path, 'load_start': os.getloadavg()[0]}
    w0, c0, p0 = time.time(), cpu(), studio.counters()
    await asyncio.sleep(args.idle)
    w1, c1, p1 = time.time(), cpu(), studio.counters()
    r.update(cpu_idle=(c1 - c0) / (w1 - w0), rss_idle=rss(), idle=(w0, w1))
    if os.environ.get('BENCH_DIAG') and studio.probe:  # the heap by type before the clients
        studio.probe.with_suffix('.trim').touch()
        await asyncio.sleep(2.5)
        r['rss_idle_trim'] = rss()

    clients = [BrowserClient(studio.url, token=studio.token, assets=args.assets) for _ in range(args.clients)]
    if studio.share:
        for c in clients:  # each tab is its own browser: its own session, signed in before the measured join
            await c.login('admin', args.password)
    join_start, join_cpu = time.time(), cpu()

    async def join(c: BrowserClient, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await c.open(path)
        except Exception as e:  # noqa: BLE001 (a failed join is a figure, not the end of the bench)
            c.errors.append(f'{type(e).__name__}: {e}')

    await asyncio.gather(*(join(c, i * args.stagger) for i, c in enumerate(clients)))
    join_end = time.time()
    joined = [c for c in clients if not c.errors]
    r.update(join=(join_start, join_end), joined=len(joined),
             join_errors=[e for c in clients for e in c.errors][:3],
             html=[c.t_html for c in joined], connected=[c.t_connected for c in joined])
    await asyncio.sleep(2.0)  # the joins' own follow-up messages settle
    w2, c2, p2 = time.time(), cpu(), studio.counters()
    idle_rate = r['cpu_idle']
    r['join_cpu'] = c2 - join_cpu - idle_rate * (w2 - join_start)  # CPU seconds the joins cost
    before = [c.messages for c in clients]
    samples = []  # (s, MB) once a second: is RSS still growing at the end of the window?
    while time.time() < w2 + args.window:
        samples.append((time.time() - w2, rss()))
        await asyncio.sleep(min(1.0, max(0.0, w2 + args.window - time.time())))
    w3, c3, p3 = time.time(), cpu(), studio.counters()
    tail = samples[len(samples) // 2:]
    r['rss_slope'] = statistics.linear_regression(*zip(*tail)).slope if len(tail) > 2 and proc else NAN
    now = time.monotonic()
    r['gc'] = {k: round(v, 1) if k.startswith('max') else round(v - p2.get('counts', {}).get(k, 0), 3)
               for k, v in p3.get('counts', {}).items() if 'gc' in k.split()[-1][:3]}  # the window's collections
    r.update(window=(w2, w3), cpu_window=(c3 - c2) / (w3 - w2), rss_end=rss(), load_end=os.getloadavg()[0],
             msgs=[(c.messages - b) / (w3 - w2) for c, b in zip(clients, before) if not c.errors],
             stale=sum(1 for c in joined if now - c.last_message > 5.0),
             per_client=_per_client(p0, p1, p2, p3, len(joined)),
             timers_per_client=((p3.get('ui_timers', 0) - p1.get('ui_timers', 0)) / max(1, len(joined))),
             subscribers_per_client=((p3.get('event_subscribers', 0) - p1.get('event_subscribers', 0))
                                     / max(1, len(joined))))
    await asyncio.gather(*(c.aclose() for c in clients))
    await asyncio.sleep(args.after)
    r['rss_after'], p4 = rss(), studio.counters()
    if studio.probe:
        studio.probe.with_suffix('.trim').touch()
        await asyncio.sleep(2.5)
    r.update(after=args.after, rss_trim=rss(), clients_left=p4.get('clients', NAN),
             timers_left=p4.get('ui_timers'),
             subscribers_left=p4.get('event_subscribers', 0) - p1.get('event_subscribers', 0),
             clients_idle=p1.get('clients'))
    r.update(_pings(studio, r), **_training(studio.metrics, r))
    return r


def _per_client(p0: dict, p1: dict, p2: dict, p3: dict, n: int) -> dict[str, float]:
    """Per client and second: window rate minus idle rate, for every counter (and busy seconds → ms/s)."""
    if not p3 or not n:
        return {}
    idle_s, window_s = max(1e-9, p1['t'] - p0['t']), max(1e-9, p3['t'] - p2['t'])
    c0, c1, c2, c3 = (p.get('counts', {}) for p in (p0, p1, p2, p3))
    out = {}
    for key in set(c3) | set(c1):
        rate = (c3.get(key, 0) - c2.get(key, 0)) / window_s - (c1.get(key, 0) - c0.get(key, 0)) / idle_s
        out[key] = rate / n * (1000 if key.startswith('busy ') else 1)
    return out


def _pings(studio: Studio, r: dict) -> dict:
    """The cheap request's latency (idle, window, while joining), and the probe's own event-loop lag."""
    def read(path: Path | None) -> list[list[float]]:
        return [[float(v) for v in line.split()] for line in path.read_text().splitlines()] \
            if path and path.exists() else []

    pings, lags = read(studio.pings), read(studio.probe.with_suffix('.lag') if studio.probe else None)

    def within(rows: list[list[float]], span: tuple[float, float]) -> list[float]:
        return [row[1] for row in rows if row[0] + row[1] / 1000 >= span[0] and row[0] <= span[1]]

    join = (r['join'][0], r['join'][1] + 1.0)
    window = within(pings, r['window'])
    blocks = [row[2] for row in lags if len(row) > 2 and join[0] <= row[0] <= join[1]]
    window_blocks = [row[2] for row in lags if len(row) > 2 and r['window'][0] <= row[0] <= r['window'][1]]
    return {'lag_idle_p95': p95(within(pings, r['idle'])), 'lag_p95': p95(window),
            'lag_max': max(window, default=NAN), 'stall': max(within(pings, join), default=NAN),
            'refused': sum(1 for row in pings if r['idle'][0] <= row[0] <= r['window'][1] and row[2] != 200),
            'loop_p95': p95(within(lags, r['window'])), 'loop_stall': max(within(lags, join), default=NAN),
            'block_join': max(blocks, default=NAN), 'block_window': max(window_blocks, default=NAN)}


def _training(path: Path | None, r: dict) -> dict:
    """Steps/s of the live training while idle and during the window (from its metrics.jsonl timestamps)."""
    if path is None or not path.exists():
        return {}
    stamps = []
    for line in path.read_text().splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if 'loss' in d and 't' in d:
            stamps.append((d['t'], d['step']))

    def rate(span: tuple[float, float]) -> float:
        inside = [(t, s) for t, s in stamps if span[0] <= t <= span[1]]
        if len(inside) < 2:
            return float('nan')
        return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])

    return {'train_idle': rate(r['idle']), 'train_window': rate(r['window']),
            'train_step': stamps[-1][1] if stamps else 0}


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))] if values else float('nan')


async def wait_training(metrics: Path | None, steps: int, timeout: float) -> None:
    """Until the live run has logged `steps` steps (it is past RAVE's start-up and training steadily)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metrics and metrics.exists() and metrics.read_text().count('"loss"') >= steps:
            return
        await asyncio.sleep(1.0)
    raise RuntimeError(f'the training logged fewer than {steps} steps in {timeout:.0f} s ({metrics})')


def load_rep(target: Target, work: Path, db: Path, entries: int, args: argparse.Namespace) -> list[dict]:
    work.mkdir(parents=True)
    studio, run = start_studio(target, work, db, entries, args.share)
    studio.procs.insert(0, start_pinger(studio))
    try:
        asyncio.run(wait_training(studio.metrics, 3, timeout=600))
        return [asyncio.run(load_phase(studio, page_path(page, studio.run_id), args)) for page in args.pages]
    finally:
        stop_studio(target, studio, work, run)


def page_path(page: str, run_id: int | None) -> str:
    return {'run': f'/training/runs/{run_id}', 'dashboard': '/'}.get(page, page)


def start_pinger(studio: Studio) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, BENCH, '--ping', f'{studio.url}/favicon.ico', str(studio.pings)],
                            stdin=subprocess.DEVNULL)


def external_load(args: argparse.Namespace) -> list[dict]:
    """The load phases against a studio someone else started (`--url`, optional `--pid`, `--run-id`)."""
    work = Path(tempfile.mkdtemp(prefix='bench_clients_ext_'))
    studio = Studio(args.url.rstrip('/'), args.pid or 0, args.run_id, token=args.token, share=args.share,
                    pings=work / 'pings.txt')
    pinger = start_pinger(studio)
    try:
        return [asyncio.run(load_phase(studio, page_path(page, args.run_id), args)) for page in args.pages
                if page != 'run' or args.run_id]
    finally:
        pinger.terminate()
        pinger.wait()


# ---- launch → first page, and what the first page imports ----------------------------------------------
def launch_once(cmd: list[str], work: Path, cwd: Path) -> float:
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix=f'launch_{port}_', dir=work))
    cmd = [c.replace('{port}', str(port)).replace('{data}', str(data / 'data')) for c in cmd]
    log = data / 'out.log'
    with open(log, 'wb') as out:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=clean_env())
    try:
        return wait_page(proc, f'http://127.0.0.1:{port}', log, timeout=180, since=start)[0]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def launches(targets: list[Target], runs: int, work: Path) -> dict[str, dict[str, list[float]]]:
    """Interleaved: targets alternate, and which of studio / trivial goes first alternates per round.
    Targets that differ only by a probe experiment launch like their plain twin: they are left out."""
    targets = [t for t in targets if not t.experiment]
    out = {t.name: {'studio': [], 'trivial': [], 'load': []} for t in targets}
    for i in range(runs):
        for t in (targets if i % 2 == 0 else targets[::-1]):
            cmds = {'studio': [t.studio, '--no-browser', '--port', '{port}', '--data-dir', '{data}'],
                    'trivial': [t.python, TRIVIAL, '--port', '{port}']}
            for kind in (('studio', 'trivial') if i % 2 == 0 else ('trivial', 'studio')):
                out[t.name][kind].append(launch_once(cmds[kind], work, work))
            out[t.name]['load'].append(os.getloadavg()[0])
            print(f"launch round {i} {t.name}: studio {out[t.name]['studio'][-1]:.2f} s, trivial "
                  f"{out[t.name]['trivial'][-1]:.2f} s (load {os.getloadavg()[0]:.2f})", flush=True)
    return out


def import_times(target: Target, statement: str) -> list[tuple[int, int, int, str]]:
    """(cumulative µs, self µs, depth, module) of `python -X importtime -c statement` in the target."""
    out = subprocess.run([target.python, '-X', 'importtime', '-c', statement], cwd='/tmp', env=clean_env(),
                         capture_output=True, text=True, timeout=300, check=True)
    rows = []
    for line in out.stderr.splitlines():
        m = re.match(r'import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)', line)
        if m:
            rows.append((int(m.group(2)), int(m.group(1)), len(m.group(3)) // 2, m.group(4)))
    return rows


def print_imports(target: Target, top: int) -> None:
    rows = min((import_times(target, 'import app.main') for _ in range(3)),
               key=lambda r: sum(x[1] for x in r))
    base = {m for *_, m in import_times(target, 'import nicegui')}
    total = sum(x[1] for x in rows) / 1000
    print(f'\nimport app.main in {target.name}: {total:.0f} ms of imports (best of 3), '
          f'{sum(x[1] for x in rows if x[3] not in base) / 1000:.0f} ms of them beyond `import nicegui`')
    for title, chosen in ((f'top {top} by cumulative time', rows),
                          (f'top {top} of what the studio adds beyond `import nicegui`',
                           [x for x in rows if x[3] not in base])):
        print(f'  {title} (cumulative ms, self ms, nesting depth, module):')
        for c, own, depth, module in sorted(chosen, reverse=True)[:top]:
            print(f'    {c / 1000:7.1f} {own / 1000:7.1f}  {depth}  {module}')


# ---- report ---------------------------------------------------------------------------------------------
NAN = float('nan')
LEGEND_WALL = """\
  load: 1-min load average at the start/end of the page; cpu, p95 (of the cheap request): idle → with
  the clients; join: longest time to a handshake; stall: longest cheap request while they joined (ms);
  rss after: 30 s after they left, trim: then after gc + malloc_trim; left: clients more than before;
  steps/s: the live training idle → with the clients. Aims: p95 ≤ 50 ms, stall ≤ 200 ms, cpu ≤ 0.5
  core, rss after ≈ idle."""
LEGEND_CPU = """\
  cpu ms/s: studio CPU per client and second with the clients, minus idle; join ms: studio CPU per
  joining client; block join/live: longest event-loop-thread CPU between two 20 ms sampler ticks (ms)
  while they join / once joined; timers: ui.timers per client; cb/s: timer + event callbacks per
  client; msg/s: socket messages each client received per second."""


def print_phase(name: str, rep: int, r: dict) -> None:
    pc = r.get('per_client', {})
    n = max(1, r['joined'])
    errors = f" {r['join_errors']}" if r['join_errors'] else ''
    print(f"\n[{name} rep {rep}] {r['page']}: load average {r['load_start']:.2f} → {r['load_end']:.2f}, "
          f"{r['joined']} of {r['joined'] + len(r['join_errors'])} clients joined{errors}", flush=True)
    print(f"  studio cpu {r['cpu_idle']:.2f} → {r['cpu_window']:.2f} cores "
          f"({(r['cpu_window'] - r['cpu_idle']) * 1000 / n:.1f} ms/s per client); cheap request p95 "
          f"{r['lag_idle_p95']:.0f} → {r['lag_p95']:.0f} ms, max {r['lag_max']:.0f} ms "
          f"({r['refused']} not 200); loop lag p95 {r['loop_p95']:.0f} ms, longest loop-thread CPU between "
          f"two 20 ms ticks {r['block_window']:.0f} ms")
    print(f"  join: HTML median {_med(r['html']):.2f} s, max {max(r['html'], default=NAN):.2f} s; handshake "
          f"max {max(r['connected'], default=NAN):.2f} s; longest stall of the cheap request "
          f"{r['stall']:.0f} ms (loop lag {r['loop_stall']:.0f} ms, loop-thread CPU "
          f"{r['block_join']:.0f} ms); "
          f"the joins cost {r['join_cpu']:.2f} CPU s ({r['join_cpu'] * 1000 / n:.0f} ms per client)")
    print(f"  rss {r['rss_idle']:.0f} → {r['rss_end']:.0f} → {r['rss_after']:.0f} MB (idle, window end, "
          f"{r['after']:.0f} s after; {r['rss_slope']:+.2f} MB/s over the window's second half), "
          f"{r['rss_trim']:.0f} MB after gc + malloc_trim; left: {r['clients_left']} clients "
          f"(idle {r['clients_idle']}), {r['timers_left']} ui timers, {r['subscribers_left']} more event "
          f"subscribers; training {r.get('train_idle', NAN):.2f} → {r.get('train_window', NAN):.2f} steps/s")
    if not pc:
        return
    print(f"  per client: {r['timers_per_client']:.1f} ui timers, {r['subscribers_per_client']:.1f} event "
          f"subscribers; per s {pc.get('timer.ui', 0):.2f} ui-timer + {pc.get('timer.app', 0):.2f} "
          f"app-timer + {pc.get('event', 0):.2f} event callbacks, {pc.get('sql', 0):.2f} SQL statements, "
          f"{pc.get('emit', 0):.2f} socket messages (received: median {_med(r['msgs']):.2f}, "
          f"min {min(r['msgs'], default=NAN):.2f}; stale {r['stale']})")
    top = sorted(((v, k) for k, v in pc.items() if ':' in k and not k.startswith('busy ') and v > 0.05),
                 reverse=True)[:10]
    if r.get('gc'):
        print('  Python gc in the window (count, busy s, longest ms; longest since start): '
              + ', '.join(f'{k} {v}' for k, v in sorted(r['gc'].items())))
    print('  top, per client and s (ms: time in the callback per client and s): ' + '; '.join(
        f'{k} {v:.2f}' if k.startswith(('sql', 'emit')) else
        f"{k.split(':', 1)[1]} {v:.2f} ({pc.get('busy ' + k, 0):.2f} ms)" for v, k in top))


def _med(values: list[float]) -> float:
    return statistics.median(values) if values else NAN


def _table(rows: list[tuple], head: tuple, widths: tuple) -> None:
    print(' '.join(f'{h:>{w}}' for h, w in zip(head, widths)))
    for cells in rows:
        print(' '.join(f'{c:>{w}}' for c, w in zip(cells, widths)))


def summary(results: dict[str, list[list[dict]]], launch: dict | None) -> None:
    wall, cpu = [], []
    for name, reps in results.items():
        for i in range(len(reps[0]) if reps else 0):
            best = min((rep[i] for rep in reps), key=lambda x: x['lag_p95'])
            for k, r in enumerate(rep[i] for rep in reps):
                pc, n = r.get('per_client', {}), max(1, r['joined'])
                label = (f"{name}{'*' if r is best else ''}", k,
                         'run' if r['page'].startswith('/training') else 'dashboard',
                         f"{r['load_start']:.1f}/{r['load_end']:.1f}")
                wall.append((*label, f"{r['cpu_idle']:.2f}→{r['cpu_window']:.2f}",
                             f"{r['lag_idle_p95']:.0f}→{r['lag_p95']:.0f}", f"{r['lag_max']:.0f}",
                             f"{max(r['connected'], default=NAN):.2f}", f"{r['stall']:.0f}",
                             f"{r['rss_idle']:.0f}/{r['rss_end']:.0f}/{r['rss_after']:.0f}/{r['rss_trim']:.0f}",
                             f"{r['clients_left'] - (r['clients_idle'] or 0)}",
                             f"{r.get('train_idle', NAN):.2f}→{r.get('train_window', NAN):.2f}"))
                cpu.append((*label, f"{(r['cpu_window'] - r['cpu_idle']) * 1000 / n:.1f}",
                            f"{r['join_cpu'] * 1000 / n:.0f}", f"{r['block_join']:.0f}",
                            f"{r['block_window']:.0f}",
                            f"{r['timers_per_client']:.1f}",
                            f"{pc.get('timer.ui', 0) + pc.get('timer.app', 0) + pc.get('event', 0):.1f}",
                            f"{pc.get('sql', 0):.1f}", f"{_med(r['msgs']):.1f}"))
    print("\n== wall-clock figures (they grow with the machine's load; *: the rep kept, lower p95) ==")
    _table(wall, ('target', 'rep', 'page', 'load', 'cpu cores', 'p95 ms', 'max', 'join s', 'stall',
                  'rss MB idle/end/after/trim', 'left', 'steps/s'), (9, 3, 9, 9, 11, 8, 5, 6, 6, 26, 4, 11))
    print(LEGEND_WALL)
    print('\n== CPU figures (the work itself, little changed by the load), per client ==')
    _table(cpu, ('target', 'rep', 'page', 'load', 'cpu ms/s', 'join ms', 'block join', 'block live',
                 'timers', 'cb/s', 'sql/s', 'msg/s'), (9, 3, 9, 9, 8, 7, 10, 10, 6, 5, 5, 5))
    print(LEGEND_CPU)
    if launch:
        print('\nlaunch → first page (medians; rounds interleaved):')
        for name, d in launch.items():
            s, t = statistics.median(d['studio']), statistics.median(d['trivial'])
            print(f"  {name:<10} rave-studio {s:.2f} s ÷ trivial 8-page app {t:.2f} s = {s / t:.2f}× "
                  f"(aim ≤ 1.3×); studio {', '.join(f'{x:.2f}' for x in d['studio'])}; trivial "
                  f"{', '.join(f'{x:.2f}' for x in d['trivial'])}; "
                  f"load {min(d['load']):.1f}–{max(d['load']):.1f}")
    print(f'machine: {os.cpu_count()} CPUs, load average now {os.getloadavg()[0]:.2f}')


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == '--probe':
        probe_serve(Path(sys.argv[2]), sys.argv[4:] if sys.argv[3:4] == ['--'] else sys.argv[3:])
        return
    if len(sys.argv) > 2 and sys.argv[1] == '--ping':
        ping_loop(sys.argv[2], Path(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else '')
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--target', action='append', type=Target.parse, metavar='NAME=CHECKOUT[:VENV]',
                        help='a checkout and its venv (default: this checkout, this venv); repeat to compare')
    parser.add_argument('--clients', type=int, default=25)
    parser.add_argument('--pages', type=lambda v: v.split(','), default=['run', 'dashboard'],
                        help='pages loaded one after another in each studio: run, dashboard or a path '
                             '(default run,dashboard; run,run,run shows whether RSS grows per wave)')
    parser.add_argument('--window', type=float, default=30.0, help='seconds measured with all clients joined')
    parser.add_argument('--idle', type=float, default=15.0, help='seconds measured before the clients join')
    parser.add_argument('--after', type=float, default=30.0, help='seconds after they left until RSS is read')
    parser.add_argument('--stagger', type=float, default=0.0, help='seconds between two clients joining')
    parser.add_argument('--reps', type=int, default=2)
    parser.add_argument('--launch-runs', type=int, default=5, help='launches of each kind (0: skip)')
    parser.add_argument('--no-load', action='store_true', help='only the launch figures')
    parser.add_argument('--assets', action='store_true', help='clients also GET what a cold browser loads')
    parser.add_argument('--share', action='store_true', help='studio in --share mode; clients sign in first')
    parser.add_argument('--password', default=PASSWORD, help='admin password for --share')
    parser.add_argument('--token', default='', help='launch token of an external studio (--url)')
    parser.add_argument('--url', help='load an already running studio instead of starting the targets')
    parser.add_argument('--pid', type=int, help='its process id (for CPU and RSS)')
    parser.add_argument('--run-id', type=int, help='its live run')
    args = parser.parse_args()
    if args.url:
        for rep in range(args.reps):
            for r in external_load(args):
                print_phase('external', rep, r)
        return
    targets = args.target or [Target('current', ROOT, Path(sys.prefix))]
    work = Path(tempfile.mkdtemp(prefix='bench_clients_'))
    print(f'work folder {work}; targets: ' + ', '.join(
        f"{t.name}={t.checkout} ({t.venv}{', ' + t.experiment if t.experiment else ''})" for t in targets),
          flush=True)
    launch = None
    if args.launch_runs:
        launch = launches(targets, args.launch_runs, work)
        for t in targets:
            if not t.experiment:
                print_imports(t, 15)
    results: dict[str, list[list[dict]]] = {t.name: [] for t in targets}
    if not args.no_load:
        db, entries = make_dataset(work)
        for rep in range(args.reps):
            for t in (targets if rep % 2 == 0 else targets[::-1]):
                phases = load_rep(t, work / f'{t.name}_{rep}', db, entries, args)
                results[t.name].append(phases)
                for r in phases:
                    print_phase(t.name, rep, r)
    summary(results, launch)


if __name__ in {'__main__', '__mp_main__'}:
    main()
