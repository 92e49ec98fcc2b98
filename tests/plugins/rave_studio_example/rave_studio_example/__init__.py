"""Example RAVE Studio plugin: a dataset check for one recording that dominates the material, and a page."""
from __future__ import annotations

from nicegui import ui

from services.plugins import DatasetCheck, ExportTarget, Finding, NavEntry, Route, SettingDoc, hookimpl


@hookimpl
def register_settings() -> list[SettingDoc]:
    return [SettingDoc('dominant_share', 0.5, 'Warn when one file holds more than this share of the audio (0–1).')]


@hookimpl
def register_dataset_checks() -> list[DatasetCheck]:
    return [DatasetCheck('one recording dominates', dominant_recording)]


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


def page(project) -> None:
    """The plugin's page; like every page builder it names what it needs (here the current project)."""
    ui.label('Example plugin').classes('text-2xl font-semibold tracking-tight')
    ui.label(f'Hello from a plugin, working in the project {project.name}.').mark('example-greeting')
