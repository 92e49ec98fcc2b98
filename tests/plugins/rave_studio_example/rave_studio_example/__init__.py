"""Example RAVE Studio plugin: a dataset check for one recording that dominates the material, a run alert for a
loss stuck above a ceiling, a kind of job with its own progress, and a page."""
from __future__ import annotations

import re

from nicegui import ui

from services.plugins import (
    Alert,
    DatasetCheck,
    ExportTarget,
    Finding,
    JobKind,
    NavEntry,
    Route,
    RunAlert,
    SettingDoc,
    hookimpl,
)


@hookimpl
def register_settings() -> list[SettingDoc]:
    return [SettingDoc('dominant_share', 0.5, 'Warn when one file holds more than this share of the audio (0–1).'),
            SettingDoc('loss_ceiling', 100.0, "Warn when a run's loss is still above this after 1 000 steps.")]


@hookimpl
def register_dataset_checks() -> list[DatasetCheck]:
    return [DatasetCheck('one recording dominates', dominant_recording)]


@hookimpl
def register_run_alerts() -> list[RunAlert]:
    return [RunAlert('loss above the ceiling', loss_above_ceiling)]


@hookimpl
def register_job_kinds() -> list[JobKind]:
    return [JobKind('example-count', parse=parse_count, describe=describe_count, on_finish=counted)]


@hookimpl
def register_routes() -> list[Route]:
    return [Route('/example', 'Example plugin', page)]


@hookimpl
def register_navigation() -> list[NavEntry]:
    return [NavEntry('/example', 'Example', 'extension')]


@hookimpl
def register_export_targets() -> list[ExportTarget]:
    return [ExportTarget('example', 'Example target (a stub)', '.ts', 'Shows how a target is declared: it makes '
                         'the same TorchScript file as nn~, streaming on.', flags={'streaming': True})]


def dominant_recording(survey, settings) -> list[Finding]:
    """A warning when one file holds more than `dominant_share` of the audio of a dataset with several files."""
    timed = [f for f in survey.usable if f.duration]
    total = sum(f.duration for f in timed)
    if len(timed) < 2 or not total:
        return []
    top = max(timed, key=lambda f: f.duration)
    share = top.duration / total
    if share <= settings['dominant_share']:
        return []
    return [Finding('warning', f'{top.path.name} holds {share:.0%} of the audio: the model will mostly learn that '
                               'one recording. Add other material, or leave it out.', [str(top.path)])]


def loss_above_ceiling(steps, values, *, current_step, settings) -> list[Alert]:
    """A warning when the loss is still above `loss_ceiling` once the run has made 1 000 steps."""
    loss = values.get('loss')
    if current_step < 1000 or loss is None or not len(loss) or float(loss[-1]) <= settings['loss_ceiling']:
        return []
    return [Alert('ceiling', 'warning', f'The loss is {float(loss[-1]):g} after {current_step} steps, above the '
                                        f'ceiling of {settings["loss_ceiling"]:g}.')]


TICK = re.compile(r'tick (\d+)/(\d+)')


def parse_count(line: str) -> dict | None:
    """One console line of an example-count job → its progress keys (runs in the job's host process)."""
    match = TICK.search(line)
    return {'done': int(match[1]), 'total': int(match[2])} if match else None


def describe_count(state) -> None:
    done, total = state.last.get('done', 0), state.last.get('total') or 1
    state.progress, state.detail = done / total, f'{done} of {total} ticks'


def counted(job) -> None:
    job.message = 'Counted every tick.'
    job.save()


def page(project) -> None:
    """The plugin's page; like every page builder it names what it needs (here the current project)."""
    ui.label('Example plugin').classes('text-2xl font-semibold tracking-tight')
    ui.label(f'Hello from a plugin, working in the project {project.name}.').mark('example-greeting')
