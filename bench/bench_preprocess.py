"""Preprocessing wall time: a dataset built by the studio (DatasetService.start → job runner → RAVE) against
plain `rave preprocess` on the same folder, interleaved in the same run; median of repetitions.

    python bench/bench_preprocess.py [--reps 5] [--seconds 150]

The doctor's survey (probing every file before launch) is timed separately: it runs while the user reads the
review step, before the job starts. Aim (issue 3): studio ÷ plain ≤ 1.03. bench/bench_spine.py times the bare job
runner; this one goes through the datasets service as the wizard does.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / 'tests'), str(ROOT / 'bench')]

from bench_spine import direct
from rave_fixtures import synth_audio


def via_studio(studio, project, audio: Path, name: str) -> tuple[float, float]:
    """(survey seconds, job seconds from submit to registered) for one studio build."""
    from services.store import Dataset
    t = time.monotonic()
    survey = studio.datasets.survey([str(audio)])
    surveyed = time.monotonic()
    dataset = studio.datasets.start(project, name, [str(audio)], num_signal=131072, survey=survey)
    while Dataset.get_by_id(dataset.id).status == 'building':
        time.sleep(0.05)
        studio.poll()
    elapsed = time.monotonic() - surveyed
    row = Dataset.get_by_id(dataset.id)
    assert row.status == 'ready', row.params.get('message')
    studio.datasets.delete(row, remove_files=True)
    return surveyed - t, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--reps', type=int, default=5, help='interleaved repetitions')
    parser.add_argument('--seconds', type=float, default=150.0, help='seconds of synthesized audio')
    args = parser.parse_args()
    from app.studio import Studio
    with tempfile.TemporaryDirectory(prefix='rave-bench-pre-') as tmp:
        work = Path(tmp)
        studio = Studio(work / 'data')
        project = studio.projects.create('bench')
        audio = work / 'data' / 'audio'
        n_files = max(1, round(args.seconds / 30))
        synth_audio(audio, n_files=n_files, seconds=args.seconds / n_files)
        plain, ours, surveys = [], [], []
        for i in range(args.reps):  # interleaved, alternating which goes first
            for which in (('plain', 'studio') if i % 2 == 0 else ('studio', 'plain')):
                if which == 'plain':
                    out = work / f'plain_{i}'
                    plain.append(direct(audio, out))
                    shutil.rmtree(out, ignore_errors=True)
                else:
                    s, t = via_studio(studio, project, audio, f'bench {i}')
                    surveys.append(s)
                    ours.append(t)
        ratios = [b / a for a, b in zip(plain, ours)]
        print(f'preprocess {args.seconds:.0f} s of audio ({n_files} files): '
              f'plain median {statistics.median(plain):.2f} s, '
              f'studio median {statistics.median(ours):.2f} s')
        print(f'studio / plain wall-time ratio: median {statistics.median(ratios):.3f} '
              f'(reps: {", ".join(f"{x:.3f}" for x in ratios)})   aim <= 1.03')
        print(f'doctor survey before launch: median {statistics.median(surveys) * 1000:.0f} ms')


if __name__ == '__main__':
    main()
