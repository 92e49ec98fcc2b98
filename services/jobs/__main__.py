"""`python -m services.jobs queue --data-dir D --kind K --title T -- CMD...`: queue a job without launching
it; the studio serving D launches it at its next poll (used by the reliability tests)."""
from __future__ import annotations

import sys
from pathlib import Path

from services.jobs.engine import JobService


def main(argv: list[str] | None = None) -> int:
    """`python -m services.jobs queue --data-dir D --kind K --title T -- CMD...`: queue a job without
    launching it; the studio serving D launches it at its next poll (used by the reliability tests)."""
    import argparse

    from services.store import open_database

    parser = argparse.ArgumentParser(prog='python -m services.jobs')
    parser.add_argument('action', choices=['queue'])
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--kind', default='task')
    parser.add_argument('--title', default='Queued from the command line')
    parser.add_argument('--slot', default=None)
    parser.add_argument('--cwd', default='')
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index('--') if '--' in argv else len(argv)
    args, cmd = parser.parse_args(argv[:split]), argv[split + 1:]
    if not cmd:
        parser.error('give the command after --')
    data_dir = Path(args.data_dir).expanduser().resolve()
    open_database(data_dir / 'studio.db')
    job = JobService(data_dir).submit(args.kind, args.title, cmd, cwd=args.cwd, slot=args.slot, start=False)
    print(job.id)
    return 0



if __name__ == '__main__':
    sys.exit(main())
