"""Dataset inspector benchmark on a synthetic RAVE LMDB of 100 000 examples (built here, in a temp folder).

The database has RAVE's exact format: keys f"{i:08d}", udls AudioExample values with an int16 "waveform" buffer
(channels one after another, RAVE's wrong `shape`), and metadata.yaml. Examples are short (2 × num_signal samples,
default num_signal 8192 → 0.37 s at 44.1 kHz) to keep the build quick; 64 distinct synthesized signals are cycled.

Measured (aims from issue 3): open + first page (≤ 200 ms), page flip (≤ 50 ms), waveform + spectrogram of
one example (≤ 100 ms) — the data work the page does, with the file's pages dropped from the OS cache first
("cold") and again warm; with --browser, the same through a real Chromium on a running studio.

    python bench/bench_inspector.py [--examples 100000] [--num-signal 8192] [--browser]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import lmdb
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.datasets import lmdb_reader

PAGE = 25  # the inspector's default page size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--examples', type=int, default=100_000)
    parser.add_argument('--num-signal', type=int, default=8192, help='each example holds 2 × this many samples')
    parser.add_argument('--browser', action='store_true', help='also time the rendered page in Chromium')
    parser.add_argument('--port', type=int, default=8957)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='bench_inspector_') as tmp:
        db = Path(tmp) / 'db'
        started = time.perf_counter()
        build(db, args.examples, args.num_signal)
        size = (db / 'data.mdb').stat().st_size
        print(f'built {args.examples:,} examples × {2 * args.num_signal} samples (int16 mono, 44.1 kHz) '
              f'= {size / 2**30:.2f} GiB in {time.perf_counter() - started:.1f} s')
        data_work(db, args.examples)
        if args.browser:
            browser(db, Path(tmp) / 'studio', args.port, args.examples)


def build(db: Path, count: int, num_signal: int, sr: int = 44100) -> None:
    """Write a RAVE-format regular dataset, as `rave preprocess` would (preprocess.py:137-155, 281)."""
    db.mkdir(parents=True)
    n = 2 * num_signal
    rng = np.random.default_rng(0)
    t = np.arange(n) / sr
    values = []
    for k in range(64):
        f0 = 55 * 2 ** (k / 12)
        x = 0.3 * sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 6)) + rng.normal(0, 0.02, n)
        data = np.floor(np.clip(x, -1, 1) * (2**15 - 1)).astype(np.int16).tobytes()
        buffer = lmdb_reader.AudioExample.AudioBuffer(shape=(1, len(data)), sampling_rate=sr, data=data,
                                                      precision=lmdb_reader.AudioExample.Precision.INT16)
        values.append(lmdb_reader.AudioExample(buffers={'waveform': buffer}).SerializeToString())
    env = lmdb.open(str(db), map_size=count * (len(values[0]) + 4096) + (1 << 30), writemap=True,
                    map_async=True, sync=False)
    for first in range(0, count, 10_000):
        with env.begin(write=True) as txn:
            txn.cursor().putmulti(((lmdb_reader.key(i), values[i % 64])
                                   for i in range(first, min(count, first + 10_000))),
                                  append=True)
    env.sync(True)
    env.close()
    (db / 'metadata.yaml').write_text(yaml.safe_dump({'lazy': False, 'channels': 1, 'sr': sr,
                                                      'n_seconds': count * n / sr}))


def data_work(db: Path, count: int) -> None:
    """Time what the inspector does per action (services/lmdb_reader, the same calls the page makes)."""
    rng = random.Random(1)
    opens = []
    for _ in range(5):
        lmdb_reader.release(db)
        drop_cache(db)
        started = time.perf_counter()
        reader = lmdb_reader.reader(db)
        rows = reader.page(0, PAGE)
        total = len(reader)
        opens.append(time.perf_counter() - started)
    assert total == count and len(rows) == PAGE
    report('open + first page (cold cache)', opens, 0.200)

    drop_cache(db)
    starts = [rng.randrange(0, count - PAGE) // PAGE * PAGE for _ in range(200)]
    for label, pages in (('page flip → next page (cold cache)', [PAGE * k for k in range(1, 201)]),
                         ('page flip, jump to a random page (cold cache)', starts),
                         ('page flip, the same random pages again (warm)', starts)):
        flips = []
        for start in pages:
            started = time.perf_counter()
            reader.page(start, PAGE)
            flips.append(time.perf_counter() - started)
        report(label, flips, 0.050)

    drop_cache(db)
    views = []
    for index in rng.sample(range(count), 50):
        started = time.perf_counter()
        view = lmdb_reader.view(db, index)
        views.append(time.perf_counter() - started)
    report('waveform + spectrogram of one example (cold)', views, 0.100)
    started = time.perf_counter()
    lmdb_reader.view(db, index)
    print(f'  same example again (cached): {1000 * (time.perf_counter() - started):.3f} ms; '
          f'spectrogram {view["spectrogram"]["db"].shape[1]} frames × {view["spectrogram"]["db"].shape[0]} bins')

    started = time.perf_counter()
    final = None
    for final in reader.check(every=10_000):
        pass
    print(f'integrity check of all {count:,} examples: {time.perf_counter() - started:.1f} s, '
          f'{final.problem_count} problems')


def browser(db: Path, data_dir: Path, port: int, count: int) -> None:
    """Time the rendered inspector in headless Chromium against a studio started on a fresh data folder."""
    from playwright.sync_api import sync_playwright

    register = (f'import sys; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; '
                'from app.studio import Studio; from services.store import Dataset; '
                f's = Studio(Path({str(data_dir)!r})); '
                f'Dataset.create(project=s.projects.current(None), name="bench", path={str(db)!r}, status="ready", '
                f'sr=44100, channels=1, n_examples={count})')
    subprocess.run([sys.executable, '-c', register], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_'))}
    studio = subprocess.Popen([str(Path(sys.executable).with_name('rave-studio')), '--no-browser', '--port', str(port),
                               '--data-dir', str(data_dir)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_http(f'http://127.0.0.1:{port}/help')
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path='/usr/bin/chromium',
                                         args=['--no-sandbox', '--disable-gpu', '--disable-background-networking'])
            page = chromium.new_page(viewport={'width': 1366, 'height': 860})
            page.goto(f'http://127.0.0.1:{port}/help')  # warm up: first page load compiles the frame
            frames = []
            for _ in range(5):  # the reference: a page with the frame and little else
                started = time.perf_counter()
                page.goto(f'http://127.0.0.1:{port}/help')
                page.wait_for_selector('text=Keyboard', state='attached')
                frames.append(time.perf_counter() - started)
            report('browser: /help (reference: frame + text only)', frames, None)
            loads = []
            for _ in range(5):
                started = time.perf_counter()
                page.goto(f'http://127.0.0.1:{port}/datasets/1/inspect')
                page.wait_for_selector(f'text=1–{PAGE} of {count:,}'.replace(',', ' '))
                page.wait_for_selector('.inspector-example .js-plotly-plot .heatmaplayer', state='attached')
                loads.append(time.perf_counter() - started)
            report('browser: open inspector until list + spectrogram drawn', loads, None)
            flips = []
            for k in range(1, 11):
                started = time.perf_counter()
                page.keyboard.press('ArrowRight')
                page.wait_for_selector(f'text=Example {k * PAGE + 1}', state='attached')
                page.wait_for_selector('.inspector-example .js-plotly-plot .heatmaplayer', state='attached')
                flips.append(time.perf_counter() - started)
            report('browser: → page flip until new example drawn', flips, None)
            chromium.close()
    finally:
        studio.terminate()
        studio.wait(10)


def drop_cache(db: Path) -> None:
    """Evict the database file's pages from the OS page cache (no root needed for clean pages)."""
    fd = os.open(db / 'data.mdb', os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def report(label: str, seconds: list[float], aim: float | None) -> None:
    ms = sorted(1000 * s for s in seconds)
    median, p95 = statistics.median(ms), ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    verdict = '' if aim is None else ('  ✓ within aim' if p95 <= 1000 * aim else f'  ✗ aim {1000 * aim:.0f} ms')
    print(f'{label:<52} median {median:8.2f} ms   p95 {p95:8.2f} ms   max {ms[-1]:8.2f} ms{verdict}')


if __name__ == '__main__':
    main()
