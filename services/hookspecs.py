"""The plugin hooks: what an area contributes to the studio, and the types the hooks return.

The built-in areas implement these hooks exactly as third-party plugins do (docs/plugins.md is the guide).
Every hook takes no argument and returns a list; the studio fills in each item's `plugin` field itself.
No NiceGUI here: a page builder is just a callable the composition root wraps in the frame.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

PROJECT = 'rave_studio'  # pluggy's project name and the entry-point group plugins are found through

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True)
class Route:
    """A page at `path`; the builder names what it needs (a Session field, `project`, the path's and query's
    parameters). The builder is a function, or 'module:function' to import the page's module on its first
    request (the built-in areas do, so the studio starts without every page)."""
    path: str
    title: str
    builder: Callable[..., Any] | str
    plugin: str = ''


@dataclass(frozen=True)
class NavEntry:
    """An entry of the navigation drawer; `parent` (a path) shows it indented under that entry."""
    path: str
    label: str
    icon: str  # a Material icon name
    order: int = 70  # the built-in areas use 0–90 in steps of 10 (Settings 80, Help 90)
    parent: str = ''
    plugin: str = ''


@dataclass(frozen=True)
class JobKind:
    """A kind of job: how its console lines become progress, how its state is described, what its end does.

    `parse` runs in the job's own host process, so it must be a module-level function (the host imports it by
    name); `describe` and `on_finish` run in the studio."""
    name: str
    parse: Callable[[str], dict | None] | None = None  # one console line → progress keys, or None
    describe: Callable[[Any], None] | None = None  # fills a JobState's progress, detail and ETA from its keys
    on_finish: Callable[[Any], None] | None = None  # called with the finished job
    cooperative: bool = False  # the worker pauses itself between steps (control.json) instead of being frozen
    plugin: str = ''


@dataclass(frozen=True)
class ExportCheck:
    """One verdict of an export's verification, in words ("decodes to silence: …")."""
    name: str
    passed: bool
    message: str


@dataclass(frozen=True)
class ExportTarget:
    """A host a model is exported for (nn~, a VST, Neutone, ONNX): the file, its preset flags, the stages the
    export goes through and the verification that proves the file loads and sounds."""
    name: str  # short and stable: 'nn~', 'vst', 'neutone', 'onnx'
    title: str  # what the export wizard offers: 'Max/MSP or PureData (nn~)'
    makes: str  # the file's suffix: '.ts', '.onnx', '.nm'
    why: str  # one line: why these flags suit this host
    flags: Mapping[str, Any] = field(default_factory=dict)  # preset options: streaming, channels, sr, ema, prior
    stages: tuple[str, ...] = ('load', 'script', 'test methods', 'save', 'verify')  # progress stages, in order
    command: Callable[..., list[str]] | None = None  # (checkpoint, output, options) → argv; None: `rave export`
    verify: str = ''  # 'module:function' run in a fresh process on the file, returning a list of ExportCheck
    plugin: str = ''


@dataclass(frozen=True)
class DatasetCheck:
    """A check the dataset doctor runs over its survey of a new dataset's files.

    `check(survey, *, num_signal, channels, sr, lazy, example_s, settings)` returns a list of
    services.datasets.doctor.Finding; it names only the keyword arguments it uses."""
    name: str
    check: Callable[..., list]
    plugin: str = ''


@dataclass(frozen=True)
class RunAlert:
    """A check over a training run's metrics whose alerts the run page shows.

    `check(steps, values, *, running, current_step, settings)` returns a list of
    services.training.metrics.Alert; it names only the keyword arguments it uses."""
    name: str
    check: Callable[..., list]
    plugin: str = ''


@hookspec
def register_routes() -> list[Route]:
    """Pages this plugin adds: return a list of Route."""


@hookspec
def register_navigation() -> list[NavEntry]:
    """Entries this plugin adds to the navigation drawer: return a list of NavEntry."""


@hookspec
def register_job_kinds() -> list[JobKind]:
    """Kinds of job this plugin runs, with progress parser, describer and finish hook: return a list of JobKind."""


@hookspec
def register_export_targets() -> list[ExportTarget]:
    """Hosts a model can be exported for, with flags, stages and verification: return a list of ExportTarget."""


@hookspec
def register_dataset_checks() -> list[DatasetCheck]:
    """Checks the dataset doctor runs over the survey of a new dataset's files: return a list of DatasetCheck."""


@hookspec
def register_run_alerts() -> list[RunAlert]:
    """Checks over a training run's metrics that raise alerts on its page: return a list of RunAlert."""


@hookspec
def register_settings() -> list:
    """Settings this plugin declares, edited on Settings → Plugins: return a list of SettingDoc."""
