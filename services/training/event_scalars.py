"""The scalars of a run's TensorBoard event files as the metric lines the studio's training worker writes.

A run made by the plain CLI has no metrics.jsonl, only Lightning's `version_N/events.out.tfevents.*`. They are
TFRecord files of `Event` protobufs; RAVE logs scalars as `simple_value`s. They are read once (here with the
protobuf classes tensorboard ships, no TensorFlow) into a metrics.jsonl in the studio's cache, which is what the
run's series is read from afterwards, as for a run the studio trained.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

from services.training.metrics import LOSS_TERMS, VALIDATION_TERMS

SKIPPED = ('epoch', 'hp_metric')


def cached_lines(run_root: str | Path, cache: Path) -> Path | None:
    """The run's scalars as metric lines in `cache` (written again only when its event files changed);
    None when it has no event files."""
    events = sorted(Path(run_root).glob('version_*/events.out.tfevents.*'))
    if not events:
        return None
    stamp = [[str(p), os.stat(p).st_size] for p in events]
    index = cache.with_suffix('.json')
    try:
        if json.loads(index.read_text()) == stamp and cache.is_file():
            return cache
    except (OSError, ValueError):
        pass
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache, 'w') as out:
        for line in lines(events):
            out.write(json.dumps(line) + '\n')
    index.write_text(json.dumps(stamp))
    return cache


def lines(event_files: list[Path]) -> list[dict]:
    """One training line per step (with `loss`, the sum of the generator's terms) and one validation line per
    validation step, in step order."""
    train: dict[int, dict] = {}
    validation: dict[int, dict] = {}
    times: dict[int, float] = {}
    for path in event_files:
        for step, wall_time, tag, value in scalars(path):
            if tag in SKIPPED:
                continue
            target = validation if tag.startswith(VALIDATION_TERMS) else train
            target.setdefault(step, {})[tag] = value
            times[step] = wall_time
    out = []
    for step in sorted(set(train) | set(validation)):
        if step in train:
            values = train[step]
            losses = [v for k, v in values.items() if k.startswith(LOSS_TERMS)]
            out.append({'step': step, 't': times[step], **values, **({'loss': sum(losses)} if losses else {})})
        if step in validation:
            out.append({'step': step, 't': times[step], 'event': 'validation', **validation[step]})
    return out


def scalars(path: Path):
    """(step, wall time, tag, value) of each scalar in one event file; a torn last record ends it."""
    from tensorboard.compat.proto import event_pb2  # protobuf only, on first use

    with open(path, 'rb') as f:
        while True:
            header = f.read(12)  # uint64 length, uint32 masked CRC of the length
            if len(header) < 12:
                return
            (length,) = struct.unpack('<Q', header[:8])
            data = f.read(length)
            if len(data) < length or len(f.read(4)) < 4:  # the data's CRC follows
                return
            event = event_pb2.Event.FromString(data)
            for value in event.summary.value:
                if value.WhichOneof('value') == 'simple_value':
                    yield event.step, event.wall_time, value.tag, float(value.simple_value)
