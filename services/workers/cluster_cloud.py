"""Cloud storage job: push a run folder or an export to an S3-compatible store, or pull one back
(services/cluster/cloud.py), printing its progress for the job engine.

    python -m services.workers.cluster_cloud push|pull S3_URL ENDPOINT LOCAL NAME [MORE_LOCAL…] [--record]

A push of several LOCAL paths sends each under its own name; with --record it writes what stdin holds beside
them as RECORD (an export's record, read back when the export is pulled).

Progress lines: `[cloud] {"done": bytes, "total": bytes, "file": name}`, at most every 0.5 s and at the end.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from services.cluster import cloud

EVERY_S = 0.5


def main() -> int:
    what, url, endpoint, local, name = sys.argv[1:6]
    more = [Path(a) for a in sys.argv[6:] if a != '--record']
    extra = {cloud.RECORD: sys.stdin.buffer.read()} if '--record' in sys.argv[6:] else None
    store = cloud.Store(url, endpoint)
    last = [0.0]

    def progress(done: int, total: int, rel: str) -> None:
        if time.monotonic() - last[0] >= EVERY_S or done == total:
            last[0] = time.monotonic()
            print('[cloud] ' + json.dumps({'done': done, 'total': total, 'file': rel}), flush=True)

    try:
        if what == 'push':
            total = cloud.push(store, [Path(local), *more] if more or extra else Path(local), name, progress, extra)
            print(f'[cloud] pushed {name}: {total} bytes to {url}/{name}', flush=True)
        else:
            target = cloud.pull(store, name, Path(local), progress)
            print(f'[cloud] pulled {name} into {target}', flush=True)
    except cloud.CloudError as e:
        print(f'[cloud] error: {e}', flush=True)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
