"""Play benchmark (P6 of issue 11): latent-control latency through the model server, its throughput against raw
TorchScript in one process, and the build time of a latent map of 10k frames.

- control change → 10 s re-rendered: the content is encoded once and its z cached in the client; each "slider
  move" sends z with a new bias on dimension 0 and gets 10 s of audio back (p50/p95 over --repeats, plus the
  first call at that length, which includes the warm-up). Aim: ≤ 300 ms for v2_small on these CPUs.
- throughput: the same decode as raw `model.decode(z)` in this process, interleaved with the server calls so
  both see the same load; reported as server throughput ÷ raw throughput. Aim: ≥ 0.9.
- map: encode --map-frames frames of audio (deterministic) and PCA them to 3-D, end to end; PCA alone too.
- UMAP: the explorer's UMAP job on that map (services/workers/latent_umap.py as its own process, on the
  UMAP_POINTS sample the studio gives it), start to file written — numba's compile on import included.

Without --model it makes a tiny v2_small export with the plain RAVE CLI first (as the test fixtures do, ~2 min):
its speed is that of any v2_small, whatever it sounds like.

    python bench/bench_play.py [--model M.ts] [--seconds 10] [--repeats 20] [--threads 2] [--map-frames 10000]
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'tests'))

from rave_fixtures import TINY_TRAIN, run_cli, synth_audio

from services.models.server import Controls, ModelServer, read_audio
from services.workers import latent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', type=Path, help='a non-streaming .ts export (default: make a tiny v2_small one)')
    parser.add_argument('--seconds', type=float, default=10.0)
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--map-frames', type=int, default=10_000)
    args = parser.parse_args()
    print(f'load average at start: {_load()}  ({os.cpu_count()} CPUs, {args.threads} torch threads)')
    with tempfile.TemporaryDirectory(prefix='bench_play_') as tmp:
        work = Path(tmp)
        model = args.model or make_export(work)
        started = time.perf_counter()
        server = ModelServer.start(model, threads=args.threads)
        print(f'server ready in {time.perf_counter() - started:.1f} s: {server.info.path} '
              f'(latent {server.info.latent_size}, {server.info.frame_rate:.2f} frames/s), RSS {_mb(server.rss_bytes)}')
        try:
            content = synth_audio(work / 'content', n_files=1, seconds=args.seconds)[0]
            audio, sr = read_audio(content)
            z = control_latency(server, audio, sr, args.repeats)
            throughput(server, model, z, args.repeats, args.threads)
            latent_map(server, work, args.map_frames)
            print(f'server RSS at the end: {_mb(server.rss_bytes)}')
        finally:
            server.close()
    print(f'load average at end: {_load()}')


def make_export(work: Path) -> Path:
    started = time.perf_counter()
    synth_audio(work / 'audio', n_files=3, seconds=12.0)
    run_cli(['preprocess', '--input_path', str(work / 'audio'), '--output_path', str(work / 'db'),
             '--num_signal', '65536', '--channels', '1', '--sampling_rate', '44100'], work)
    run_cli(['train', *TINY_TRAIN, '--db_path', str(work / 'db'), '--out_path', str(work / 'runs'), '--name', 'bench',
             '--max_steps', '4', '--val_every', '2'], work)
    run_cli(['export', '--run', str(next((work / 'runs').glob('bench_*'))), '--output', str(work / 'exports'),
             '--name', 'bench'], work)
    print(f'made a tiny v2_small export in {time.perf_counter() - started:.0f} s')
    return next((work / 'exports').glob('bench*.ts'))


def control_latency(server: ModelServer, audio: np.ndarray, sr: int, repeats: int) -> np.ndarray:
    started = time.perf_counter()
    z = server.encode(audio, sr)
    print(f'encode {audio.shape[1] / sr:.1f} s once (deterministic, first call with warm-up): '
          f'{time.perf_counter() - started:.2f} s → z {list(z.shape)}')
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    server.decode(z, seed=1, controls=Controls(bias=(0.0,)))
    first = time.perf_counter() - started
    times, inside = [], []
    for _ in range(repeats):
        controls = Controls(bias=(float(rng.uniform(-3, 3)),), scale=(float(rng.uniform(0.5, 2)),))
        started = time.perf_counter()
        render = server.decode(z, seed=1, controls=controls)
        times.append(time.perf_counter() - started)
        inside.append(render.elapsed_s)
    p50, p95 = np.percentile(times, 50), np.percentile(times, 95)
    overhead = np.median(np.subtract(times, inside))
    print(f'control change → {render.seconds:.1f} s re-rendered: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms '
          f'— aim ≤ 300 ms: {"met" if p95 <= 0.3 else "NOT met"}; first call at this length {first:.2f} s')
    print(f'  of which the server handling the request: p50 {np.median(inside) * 1000:.0f} ms; the way there and '
          f'back (client, frames, transfer of {render.audio.nbytes / 2 ** 20:.1f} MiB): p50 {overhead * 1000:.1f} ms')
    return z


def throughput(server: ModelServer, model: Path, z: np.ndarray, repeats: int, threads: int) -> None:
    import torch  # the benchmark's own raw TorchScript reference; the UI process never does this
    torch.set_num_threads(threads)
    raw = torch.jit.load(str(model), map_location='cpu').eval()
    tensor = torch.from_numpy(z)[None]
    with torch.no_grad():
        for _ in range(2):
            raw.decode(tensor)
        raw_times, served_times = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            raw.decode(tensor)
            raw_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            server.decode(z, seed=1)
            served_times.append(time.perf_counter() - started)
    raw_s, served_s = statistics.median(raw_times), statistics.median(served_times)
    ratio = raw_s / served_s
    print(f'throughput: raw TorchScript decode {raw_s * 1000:.0f} ms, through the server {served_s * 1000:.0f} ms '
          f'(medians, interleaved) → {ratio:.2f} × raw — aim ≥ 0.9: {"met" if ratio >= 0.9 else "NOT met"}')


def latent_map(server: ModelServer, work: Path, frames: int) -> None:
    seconds = frames * server.info.ratio / server.info.sr
    n_files = max(1, math.ceil(seconds / 12.0))
    paths = synth_audio(work / 'map', n_files=n_files, seconds=seconds / n_files, seed=1)
    files = [read_audio(p) for p in paths]
    started = time.perf_counter()
    mapped = server.latent_map(files, [p.name for p in paths], dims=3, max_frames=frames)
    total = time.perf_counter() - started
    started = time.perf_counter()
    latent.pca(mapped.frames, 3)
    pca_s = time.perf_counter() - started
    print(f'map of {mapped.frames_total} frames ({seconds:.0f} s of audio in {n_files} files) to 3-D: '
          f'{total:.2f} s end to end (encode + PCA); PCA alone {pca_s * 1000:.1f} ms')
    umap_job(work, mapped)


def umap_job(work: Path, mapped) -> None:
    """The UMAP job as the studio runs it: a 2-D map file in, the worker process, its layout out."""
    from services.models.play.latents import UMAP_POINTS
    source, out = work / 'map2.npz', work / 'map2-umap.npz'
    np.savez(source, coords=mapped.coords[:, :2], frames=mapped.frames)
    started = time.perf_counter()
    subprocess.run([sys.executable, '-m', 'services.workers.latent_umap', '--map', str(source), '--out', str(out),
                    '--points', str(UMAP_POINTS)], cwd=ROOT, check=True, capture_output=True, text=True)
    with np.load(out) as data:
        placed = data['coords'].shape[0]
    print(f'UMAP job on {placed} of {mapped.frames.shape[0]} frames to 2-D: {time.perf_counter() - started:.1f} s '
          'start to file (numba compile included)')


def _load() -> str:
    return ', '.join(f'{x:.2f}' for x in os.getloadavg())


def _mb(n: int) -> str:
    return f'{n / 2 ** 20:.0f} MiB'


if __name__ == '__main__':
    main()
