"""The processes of one export's life, as argv: the export itself, the Neutone wrap, the verification.

An export of any target is a chain of jobs, each a fresh process: export → (wrap, for Neutone) → verify.
Chained jobs rather than one job with two processes, because each step then has its own log and result file
(RAVE's warnings stay in the export's log, the verdict in the verification's), the job engine reattaches to
whichever step runs when the studio restarts, and the verification starts only once the exporting process
has exited: the file it loads was closed by a process that is gone, as a host will meet it.
"""
from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.files import AUDIO_SUFFIXES
from services.hookspecs import ExportTarget
from services.models.targets import worker_of

RESULT_FILES = {'export': 'export.json', 'export_onnx': 'export_onnx.json', 'export_neutone': 'export_neutone.json',
                'verify_export': 'verification.json'}


@dataclass(frozen=True)
class Step:
    """One process of an export: its job kind, title, argv and the equivalent command the user can type."""
    kind: str
    stage: str  # export | wrap | verify
    title: str
    argv: list[str]
    command: str


def planned_path(target: ExportTarget, folder: Path, name: str, streaming: bool) -> Path:
    """The file an export of `target` named `name` makes in the exports folder."""
    if target.makes == '.onnx':
        return folder / f'{name}.onnx.json'
    if target.makes == '.nm':
        return folder / name / 'model.nm'
    return folder / f'{name}{"_streaming" if streaming else ""}{target.makes}'


def export_step(python: str, target: ExportTarget, checkpoint: str, folder: Path, name: str,
                options: dict[str, Any]) -> Step:
    """The first process: RAVE's export (or the studio's ONNX exporter, or a plugin's command)."""
    if target.command is not None:
        argv = [python if a == 'python' else a for a in target.command(checkpoint, folder, {**options, 'name': name})]
        return Step('export', 'export', f'Export {name} for {target.title}', argv, shlex.join(argv))
    if worker_of(target) == 'export_onnx':
        flags = ['--run', checkpoint, '--output', str(folder), '--name', name, '--fidelity', f'{options["fidelity"]:g}']
        flags += ['--ema_weights'] if options.get('ema_weights') else []
        return Step('export_onnx', 'export', f'Export {name}.onnx', [python, '-m', 'services.workers.export_onnx',
                                                                     *flags], shlex.join(['rave-studio-onnx', *flags]))
    output = folder / name if target.makes == '.nm' else folder
    flags = ['--run', checkpoint, '--output', str(output), '--name', name, '--fidelity', f'{options["fidelity"]:g}']
    if options.get('streaming') or target.makes == '.nm':
        flags.append('--streaming')
    if options.get('channels'):
        flags += ['--channels', str(int(options['channels']))]
    if options.get('sr'):
        flags += ['--sr', str(int(options['sr']))]
    if options.get('ema_weights'):
        flags.append('--ema_weights')
    if options.get('prior'):
        flags += ['--prior', str(options['prior'])]
    return Step('export', 'export', f'Export {name}{"_streaming" if "--streaming" in flags else ""}.ts',
                [python, '-m', 'services.workers.export', *flags], shlex.join(['rave', 'export', *flags]))


def wrap_step(python: str, streaming_ts: str, folder: Path, name: str, card: dict[str, Any]) -> Step:
    """Neutone's second process: the streaming .ts wrapped as model.nm through the SDK (offline)."""
    flags = ['--model', streaming_ts, '--output', str(folder), '--name', name[:30]]
    for author in card.get('authors') or ():
        flags += ['--author', author]
    if card.get('description'):
        flags += ['--description', card['description'][:150]]
    for tag in card.get('tags') or ():
        flags += ['--tag', tag]
    for example in card.get('examples') or ():
        flags += ['--example', example]
    argv = [python, '-m', 'services.workers.export_neutone', *flags]
    return Step('export_neutone', 'wrap', f'Wrap {name} for Neutone', argv, shlex.join(argv[2:]))


def card_examples(sources: Sequence[str], limit: int = 2) -> list[str]:
    """Audio for a Neutone model card: the first files (by name) of the run's dataset sources that still
    exist — the SDK renders each (its first 10 s) through the model, so the card shows what the model does."""
    found: list[str] = []
    for source in map(Path, sources):
        if source.is_file():
            files = [source]
        else:
            files = sorted(p for p in source.rglob('*') if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
        found += [str(f) for f in files[:limit - len(found)]]
        if len(found) >= limit:
            break
    return found


def verify_step(python: str, target: ExportTarget, path: str, checkpoint: str, name: str) -> Step:
    """The last process: the export loaded and played in a fresh process, one verdict per check.
    A target's own verification is a `module:function` taking the same argv and writing the same result."""
    flags = ['--export', path, '--checkpoint', checkpoint]
    module, _, function = (target.verify or 'services.workers.verify_export:main').partition(':')
    if function in ('', 'main') and module == 'services.workers.verify_export':
        argv = [python, '-m', module, *flags]
    else:
        argv = [python, '-c', f'import sys; from {module} import {function or "main"} as f; sys.exit(f(sys.argv[1:]))',
                *flags]
    return Step('verify_export', 'verify', f'Verify {name}', argv, shlex.join(argv[2:]))


def result_of(job) -> dict | None:
    """The result file a job's worker wrote (export.json, verification.json, ...), or None."""
    try:
        return json.loads((Path(job.folder) / RESULT_FILES.get(job.kind, 'result.json')).read_text())
    except (OSError, ValueError):
        return None


def files_of(export) -> list[Path]:
    """Every file an export made: the .ts, the ONNX manifest and graphs, the Neutone folder, the guide."""
    path = Path(export.path)
    if path.name == 'model.nm':
        return [path.parent]
    files = [path]
    if path.name.endswith('.onnx.json'):
        stem = path.name.removesuffix('.onnx.json')
        files += [path.with_name(f'{stem}.encode.onnx'), path.with_name(f'{stem}.decode.onnx')]
    from services.models.guide import guide_path
    return [*files, guide_path(export)]


def step_of(checkpoint: str | Path) -> int | None:
    """The training step a checkpoint was saved at (read from the file, without torch)."""
    from services.training.checkpoints import read_info
    info = read_info(checkpoint) if Path(str(checkpoint)).is_file() else None
    return info.step if info else None


def slug(text: str) -> str:
    """`text` kept to the characters an export name may hold."""
    return re.sub(r'[^A-Za-z0-9._-]+', '', text) or 'target'
