"""Models: the project's runs with their checkpoints and exports; import run folders made by the RAVE CLI."""
from __future__ import annotations

from pathlib import Path

from nicegui import ui

from app import theme
from components.status import status_chip
from services import formatting
from services.events import ExportChanged, RunChanged, Subscriber
from services.models import ExportError, Models, RunCheckpointsView
from services.models.views import FileFacts
from services.projects import ProjectView


def create(models: Models, events: Subscriber, project: ProjectView) -> None:
    with ui.row().classes('w-full items-end gap-2'):
        with ui.column().classes('gap-0 grow'):
            ui.label('Models').classes(theme.TITLE)
            ui.label('Runs of this project with their checkpoints and exported models.').classes(theme.SUBTITLE)
        ui.button('Export', icon='ios_share', on_click=lambda: ui.navigate.to('/export')).props('outline')
        ui.button('Explorer', icon='graphic_eq', on_click=lambda: ui.navigate.to('/explorer')).props('outline')

    @ui.refreshable
    def content() -> None:
        _import_card(models, project, content.refresh)
        runs = models.runs(project.id)
        if not runs:
            _empty_state()
        with ui.grid().classes('w-full gap-4 grid-cols-1 lg:grid-cols-2'):
            for run in runs:
                _run_card(run)

    content()
    events.on(ExportChanged, lambda _: content.refresh())
    events.on(RunChanged, lambda _: content.refresh())


def _import_card(models: Models, project: ProjectView, refresh) -> None:
    with ui.card().classes(theme.CARD + ' gap-2').mark('import'):
        ui.label('Import a RAVE run folder').classes(theme.SECTION)
        with ui.row().classes('w-full items-start gap-2 no-wrap'):
            with ui.column().classes('gap-0 grow'):
                path = ui.input('Run folder', placeholder=str(Path(project.location) / 'runs' / 'name_0123456789')) \
                    .classes('w-full').mark('import-path')
                ui.label('The <name>_<hash> folder `rave train` made (it holds config.gin). It must be inside '
                         'this project or a browse root from Settings.').classes(theme.HINT)
            ui.button('Import', icon='drive_folder_upload', on_click=lambda: do_import(path.value)) \
                .props('unelevated').classes('mt-2').mark('import-button')
        found = models.discover(project.id)
        if found:
            ui.label('Found in this project\'s runs/ folder:').classes('text-sm mt-2')
            for folder in found:
                with ui.row().classes('w-full items-center gap-2'):
                    ui.icon('folder', color='primary')
                    ui.label(str(folder)).classes(theme.MONO + ' grow truncate')
                    ui.button('Import', on_click=lambda f=folder: do_import(str(f))).props('flat dense') \
                        .mark('import-found')

    def do_import(folder: str) -> None:
        try:
            run = models.import_run(project.id, folder)
        except ExportError as e:
            ui.notify(str(e), type='negative', multi_line=True)
            return
        ui.notify(f'Imported run {run.name} with {len(run.checkpoints)} checkpoint(s).', type='positive')
        refresh()


def _run_card(run: RunCheckpointsView) -> None:
    with ui.card().classes(theme.CARD + ' gap-3').mark(f'run-{run.id}'):
        with ui.row().classes('w-full items-center gap-2 no-wrap'):
            ui.icon('model_training', color='primary').classes('text-2xl')
            with ui.column().classes('gap-0 grow min-w-0'):
                ui.label(run.name).classes('text-lg font-semibold truncate max-w-full')
                ui.label(run.folder or 'no run folder yet') \
                    .classes(theme.MONO + ' text-gray-500 truncate max-w-full').tooltip(run.folder)
            status_chip(run.status)
        if run.configs:
            ui.label('config: ' + ', '.join(run.configs)).classes(theme.HINT)
        ui.label('Checkpoints').classes('text-sm font-medium')
        if not run.checkpoints:
            ui.label('None yet: RAVE writes one at each validation.').classes(theme.HINT)
        for checkpoint in run.checkpoints:
            _file_line(checkpoint.name, checkpoint.file, checkpoint.kind,
                       f'step {checkpoint.step}' if checkpoint.step is not None else '')
        ui.label('Exports').classes('text-sm font-medium')
        if not run.exports:
            ui.label('None yet.').classes(theme.HINT)
        for export in run.exports:
            tag = export.status if export.status != 'done' else 'streaming' if export.streaming else 'non-streaming'
            _file_line(export.name, export.file, tag, '')
        with ui.row().classes('w-full justify-end gap-2'):
            if run.checkpoints:
                ui.button('Export', icon='ios_share', on_click=lambda: ui.navigate.to(f'/export?run={run.id}')) \
                    .props('flat dense').mark('export-run')
            playable = [e for e in run.exports if e.playable]
            if playable:
                ui.button('Explore', icon='graphic_eq',
                          on_click=lambda: ui.navigate.to(f'/explorer?export={playable[0].id}')) \
                    .props('flat dense').mark('explore-run')


def _file_line(name: str, file: FileFacts, tag: str, extra: str) -> None:
    size = formatting.size(file.size) if file.exists else 'missing'
    when = f'{file.modified:%d %b %H:%M}' if file.modified else ''
    with ui.row().classes('w-full items-center gap-2 text-sm no-wrap'):
        ui.label(name).classes('font-mono text-xs grow truncate')
        ui.chip(tag).props('dense square outline').classes('text-xs')
        ui.label(extra).classes(theme.HINT)
        ui.label(when).classes(theme.HINT + ' w-24 max-sm:hidden')
        ui.label(size).classes(f'{theme.NUMBER} text-xs w-16')


def _empty_state() -> None:
    with ui.card().classes(theme.CARD + ' items-center text-center gap-2 py-10').mark('empty'):
        ui.icon('inventory_2', color='primary').classes('text-5xl')
        ui.label('No run in this project yet').classes(theme.SECTION)
        ui.label('A run is one RAVE training: its folder holds config.gin and checkpoints. Start a training, '
                 'or import a run folder made by `rave train` above.').classes(theme.SUBTITLE + ' max-w-xl')
        ui.button('New training', icon='model_training', on_click=lambda: ui.navigate.to('/training/new')) \
            .props('unelevated')
