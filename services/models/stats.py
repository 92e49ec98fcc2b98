"""Model statistics of a checkpoint, measured once by the model-stats worker and cached next to it.

The worker (services/workers/model_stats.py) builds the model from the run's config.gin and the checkpoint's
weights — seconds on a CPU — so its answer is kept as `<checkpoint>.stats.json` and read back while the
checkpoint file is the one it measured (same mtime).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from services.i18n import lazy
from services.models.views import ModelStats

TIMEOUT_S = 300


class StatsError(RuntimeError):
    """The worker could not measure the checkpoint, in words."""


def cache_path(checkpoint: str | Path) -> Path:
    path = Path(checkpoint)
    return path.with_name(path.name + '.stats.json')


def cached(checkpoint: str | Path) -> ModelStats | None:
    """The kept measurement of this very checkpoint file, or None."""
    try:
        data = json.loads(cache_path(checkpoint).read_text())
        fresh = data.get('stamp') == Path(checkpoint).stat().st_mtime
    except (OSError, ValueError):
        return None
    return ModelStats.of(data) if fresh and 'error' not in data else None


def measure(python: str, checkpoint: str | Path) -> ModelStats:
    """Run the worker on the checkpoint (blocking: call it off the event loop) and keep its answer."""
    found = cached(checkpoint)
    if found is not None:
        return found
    out = cache_path(checkpoint)
    try:
        done = subprocess.run([python or sys.executable, '-m', 'services.workers.model_stats', str(checkpoint),
                               str(out)], capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
                              cwd=str(Path(__file__).resolve().parents[2]))
    except subprocess.TimeoutExpired as e:
        raise StatsError(lazy('Measuring the model took over {seconds} s; the machine may be busy, try again.',
                              seconds=TIMEOUT_S)) from e
    try:
        data = json.loads(out.read_text())
    except (OSError, ValueError):
        raise StatsError('The model-stats worker ended without an answer: '
                         + (done.stderr.strip().splitlines() or ['no message'])[-1][:300]) from None
    if 'error' in data:
        out.unlink(missing_ok=True)
        raise StatsError(lazy('RAVE could not build this checkpoint\'s model: {error}', error=data['error']))
    return ModelStats.of(data)
