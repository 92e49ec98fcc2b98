"""Turn lines of RAVE's console output into structured progress events (plain dicts)."""
from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable

Parser = Callable[[str], 'dict | None']

_PREPROCESS = re.compile(r'dataset length: (?:(\d+) days?, )?(\d+):(\d+):([\d.]+)\D.*?(\d+)it\b')
_EPOCH = re.compile(r'Epoch (\d+):\s+(\d+)%\|.*?\|\s*(\d+)/(\d+)')
_EXPORTED = re.compile(r'model exported to (.+?)\s*$')
_EXAMPLES = re.compile(r'^(train|val) set: (\d+) examples')
_RATIO = re.compile(r'Compression ratio: (\d+)x')
_STATS = re.compile(r'^\[dataset_stats\] ([\d.]+) (.*)$')


def parse_preprocess(line: str) -> dict | None:
    m = _PREPROCESS.search(line)
    if not m:
        return None
    days, h, mnt, s, items = m.groups()
    seconds = int(days or 0) * 86400 + int(h) * 3600 + int(mnt) * 60 + float(s)
    return {'seconds': seconds, 'items': int(items)}


def parse_train(line: str) -> dict | None:
    if m := _EXAMPLES.search(line):
        return {f'{m.group(1)}_examples': int(m.group(2))}
    if m := _RATIO.search(line):
        return {'compression_ratio': int(m.group(1))}
    if m := _EPOCH.search(line):
        if '\x1b[A' in line:  # validation bars are drawn one line up
            return None
        return {'epoch': int(m.group(1)), 'batch': int(m.group(3)), 'batches': int(m.group(4))}
    return None


def parse_export(line: str) -> dict | None:
    if stage := parse_stage(line):
        return stage
    m = _EXPORTED.search(line)
    return {'exported': m.group(1)} if m else None


def parse_stage(line: str) -> dict | None:
    """An export worker's `{"stage": ...}` JSON line (services/workers/stages.py), as it is."""
    if not line.startswith('{"stage"'):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def parse_reconstruct(line: str) -> dict | None:
    return {'stage': line.split(']', 1)[1].strip()} if line.startswith('[reconstruct]') else None


def parse_dataset_stats(line: str) -> dict | None:
    """`[dataset_stats] 0.420 what` → {'fraction': 0.42, 'stage': 'what'}."""
    m = _STATS.match(line.strip())
    return {'fraction': float(m.group(1)), 'stage': m.group(2)} if m else None


def parse_umap(line: str) -> dict | None:
    """latent_umap's two lines ("UMAP of N of M points …", "UMAP written to … in 4.2 s") → {'stage': line}."""
    return {'stage': line.strip()} if line.startswith('UMAP ') else None


def parser_for(kind: str, name: str = '') -> Parser:
    """The console parser of a job: the 'module:function' its JobKind declared (job.json `parser`), or for a job
    queued without one (an older studio, `python -m services.jobs queue`) the built-in parser of its kind."""
    if name:
        module, _, function = name.partition(':')
        return getattr(importlib.import_module(module), function)
    return {'preprocess': parse_preprocess, 'train': parse_train, 'export': parse_export,
            'reconstruct': parse_reconstruct, 'dataset_stats': parse_dataset_stats,
            'export_onnx': parse_stage, 'export_neutone': parse_stage, 'verify_export': parse_stage,
            'latent_umap': parse_umap, 'train_prior': parse_train}.get(
        kind, lambda _line: None)
