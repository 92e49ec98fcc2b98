"""Worker: the UMAP twin of an explorer map, on an even sample of its points (numpy and umap-learn, no torch).

    python -m services.workers.latent_umap --map MAP.npz --out MAP-umap.npz [--points 2000] [--seed 0]

MAP.npz is a PCA map the model server made (services/models/play/latents.py): `frames[N, L]` holds each
point's latent. OUT gets `coords[M, dims]` and `keep[M]`, the indices of the points it placed, so the map's
files, times and latents follow. The seed makes the layout repeatable.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from services.workers.latent import even_sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--map', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--points', type=int, default=2000)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    try:
        with np.load(args.map) as data:
            frames, dims = data['frames'].astype(np.float32), int(data['coords'].shape[1])
    except (OSError, KeyError, ValueError) as e:
        print(f'error: the map {args.map} cannot be read ({e}); build the map again.', flush=True)
        return 2
    keep = even_sample(frames.shape[0], args.points)
    if keep.size < 10:
        print(f'error: {keep.size} points are too few for UMAP; map more audio.', flush=True)
        return 2
    started = time.perf_counter()
    print(f'UMAP of {keep.size} of {frames.shape[0]} points in {dims} dimensions', flush=True)
    import umap  # only here: numba compiles on import, seconds the studio process must not spend
    coords = umap.UMAP(n_components=dims, n_neighbors=min(15, keep.size - 1), min_dist=0.1,
                       random_state=args.seed).fit_transform(frames[keep])
    out = Path(args.out)
    partial = out.with_name(out.stem + '.part.npz')
    np.savez(partial, coords=np.asarray(coords, np.float32), keep=keep.astype(np.int64))
    partial.replace(out)
    print(f'UMAP written to {out} in {time.perf_counter() - started:.1f} s', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
