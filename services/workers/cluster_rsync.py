"""Copy a dataset folder to the cluster's file system with rsync, never leaving a silent half copy.

    python -m services.workers.cluster_rsync SOURCE TARGET

rsync fills `TARGET.partial/` (`--partial` keeps a file cut midway, so running it again resumes), printing its
whole-copy progress (`--info=progress2`) for the job engine; only when rsync ends well is `TARGET.partial`
renamed to TARGET. A TARGET that exists already is refused.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def main() -> int:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    if target.exists():
        print(f'[rsync] error: {target} exists already: copy into a new folder.', flush=True)
        return 1
    if not source.is_dir():
        print(f'[rsync] error: {source} is not a folder.', flush=True)
        return 1
    partial = target.with_name(target.name + '.partial')
    partial.parent.mkdir(parents=True, exist_ok=True)
    code = subprocess.call(['rsync', '-a', '--partial', '--info=progress2', '--no-inc-recursive',
                            f'{source}/', f'{partial}/'])
    if code != 0:
        print(f'[rsync] error: rsync ended with code {code}; {partial} keeps what arrived: copy again to resume.',
              flush=True)
        return code
    os.replace(partial, target)
    print(f'[rsync] copied {source} to {target}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
