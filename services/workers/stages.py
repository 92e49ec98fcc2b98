"""Stages of an export worker: one JSON progress line per stage on stdout, and the worker's result file.

A progress line is a JSON object on its own line, starting with `{"stage"`:
    {"stage": "script", "fraction": 0.6, "message": "Compiling the model to TorchScript"}
`services.progress.parse_stage` turns it into the job's progress.jsonl event as it is. The result file is
written once, atomically, when the worker ends (done or failed); it also lists every stage with its duration.
Light on purpose: the runner side imports nothing heavy from here.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

RECORDED = ('method',)  # facts of a progress line also kept in the result's list of stages


class Stages:
    """The stages a worker went through, reported as they start."""

    def __init__(self) -> None:
        self.started = time.time()
        self.done: list[dict] = []
        self._current: dict | None = None

    def enter(self, stage: str, fraction: float, message: str = '', **facts: object) -> None:
        """Start `stage` (ending the previous one) and print its progress line."""
        now = time.time()
        if self._current is not None:
            self._current['s'] = round(now - self._current.pop('t0'), 3)
            self.done.append(self._current)
        self._current = {'stage': stage, 't0': now, **{k: v for k, v in facts.items() if k in RECORDED}}
        line = {'stage': stage, 'fraction': round(fraction, 3), 'message': message, **facts}
        print(json.dumps(line), flush=True)

    def finish(self) -> list[dict]:
        """Close the current stage; the list of {stage, s} for the result file."""
        if self._current is not None:
            self._current['s'] = round(time.time() - self._current.pop('t0'), 3)
            self.done.append(self._current)
            self._current = None
        return self.done

    def elapsed(self) -> float:
        return round(time.time() - self.started, 3)


def job_dir() -> Path:
    """The job folder the runner gives the worker (RAVE_STUDIO_JOB_DIR), else the working directory."""
    return Path(os.environ.get('RAVE_STUDIO_JOB_DIR') or os.getcwd())


def write_result(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix('.tmp')
    tmp.write_text(json.dumps(data, indent=1, default=str))
    os.replace(tmp, path)
