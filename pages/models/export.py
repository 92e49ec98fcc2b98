"""Export: turn a run's checkpoint into a TorchScript model (.ts) and list the project's exports."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components.audio import media_url
from components.icon_button import icon_button
from components.job_console import job_console
from components.status import status_chip
from services import formatting
from services.events import ExportChanged, Subscriber
from services.jobs import Jobs
from services.models import CheckpointView, ExportError, ExportView, Models, RunCheckpointsView
from services.projects import ProjectView


def create(models: Models, jobs: Jobs, events: Subscriber, project: ProjectView) -> None:
    ui.label('Export').classes(theme.TITLE)
    ui.label('Turn a checkpoint into a TorchScript model (.ts) for nn~, the RAVE VST or the studio\'s explorer.') \
        .classes(theme.SUBTITLE)
    runs = [r for r in models.runs(project.id) if r.checkpoints]
    if runs:
        _export_form(models, jobs, events, project, runs)
    else:
        _empty_state()
    _exports_list(models, events, project)


def _export_form(models: Models, jobs: Jobs, events: Subscriber, project: ProjectView,
                 runs: list[RunCheckpointsView]) -> None:
    by_id = {r.id: r for r in runs}
    wanted = ui.context.client.request.query_params.get('run', '')
    first = int(wanted) if wanted.isdigit() and int(wanted) in by_id else runs[0].id
    with ui.card().classes(theme.CARD + ' gap-3'):
        ui.label('New export').classes(theme.SECTION)
        with ui.grid().classes('w-full gap-4 grid-cols-1 md:grid-cols-2'):
            with ui.column().classes('gap-0'):
                run = ui.select({i: _run_label(e) for i, e in by_id.items()}, value=first, label='Run') \
                    .classes('w-full').mark('run')
                ui.label('A training run of this project, or one imported on the Models page.').classes(theme.HINT)
            with ui.column().classes('gap-0'):
                checkpoint = ui.select({}, label='Checkpoint').classes('w-full').mark('checkpoint')
                ui.label('best.ckpt has the lowest validation loss; epoch checkpoints are the latest state.') \
                    .classes(theme.HINT)
            with ui.column().classes('gap-0'):
                name = ui.input('Name', value=by_id[first].name).classes('w-full').mark('name')
                hint = ui.label().classes(theme.HINT)
            with ui.column().classes('gap-0'):
                fidelity = ui.number('Fidelity', value=0.95, min=0.1, max=0.999, step=0.01, format='%.3f') \
                    .classes('w-full').mark('fidelity')
                ui.label('Share of latent variance kept (0.1–0.999); it sets how many latent dimensions '
                         'the model exposes.').classes(theme.HINT)
        with ui.row().classes('w-full items-center gap-3'):
            streaming = ui.switch('Streaming').mark('streaming')
            ui.label('On for nn~, Max/Pd and the RAVE VST (realtime, cached convolutions). '
                     'Off for the studio\'s explorer.').classes(theme.HINT + ' grow')
            button = ui.button('Export', icon='ios_share').props('unelevated').mark('export')
    console = ui.column().classes('w-full')

    def update_checkpoints() -> None:
        chosen = by_id[run.value]
        options = {c.path: _checkpoint_label(c) for c in chosen.checkpoints}
        checkpoint.set_options(options, value=chosen.best.path)

    def update_hint() -> None:
        file = f'{name.value or "…"}{"_streaming" if streaming.value else ""}.ts'
        hint.set_text(f'Saved as exports/{file} in the project folder.')

    def on_run() -> None:
        update_checkpoints()
        name.set_value(by_id[run.value].name)

    def start() -> None:
        try:
            export = models.start_export(project.id, run.value, checkpoint.value, streaming=streaming.value,
                                         name=name.value, fidelity=float(fidelity.value or 0.95))
        except ExportError as e:
            ui.notify(str(e), type='negative', multi_line=True)
            return
        ui.notify(f'Exporting {export.name}…', type='info')
        console.clear()
        with console, ui.card().classes(theme.CARD):
            with ui.row().classes('w-full items-center gap-2'):
                ui.label(f'Export {export.name}').classes(theme.SECTION + ' grow')
                explore = ui.button('Open in Explorer', icon='graphic_eq',
                                    on_click=lambda: ui.navigate.to(f'/explorer?export={export.id}')) \
                    .props('unelevated color=primary no-caps').mark('open-in-explorer')
                explore.set_visibility(False)
            job_console(jobs, events, export.job_id, height='h-48')

        def finished(event: ExportChanged) -> None:
            if event.export_id == export.id:
                explore.set_visibility(event.status == 'done')
        events.on(ExportChanged, finished)

    run.on_value_change(on_run)
    name.on_value_change(update_hint)
    streaming.on_value_change(update_hint)
    button.on_click(start)
    update_checkpoints()
    update_hint()


def _empty_state() -> None:
    with ui.card().classes(theme.CARD + ' items-center text-center gap-2 py-10').mark('empty'):
        ui.icon('inventory_2', color='primary').classes('text-5xl')
        ui.label('No checkpoint to export yet').classes(theme.SECTION)
        ui.label('RAVE writes checkpoints at each validation of a training. Train a model, or import a run '
                 'folder made with the RAVE command line.').classes(theme.SUBTITLE + ' max-w-xl')
        with ui.row().classes('gap-2'):
            ui.button('New training', icon='model_training', on_click=lambda: ui.navigate.to('/training/new')) \
                .props('unelevated')
            ui.button('Import a run folder', icon='drive_folder_upload',
                      on_click=lambda: ui.navigate.to('/models')).props('outline')


def _exports_list(models: Models, events: Subscriber, project: ProjectView) -> None:
    @ui.refreshable
    def rows() -> None:
        exports = models.exports(project.id)
        if not exports:
            ui.label('No export yet. Exports appear here with their path, size and a download link.') \
                .classes(theme.SUBTITLE)
        for export in exports:
            _export_row(models, project, export, rows.refresh)

    with ui.card().classes(theme.CARD + ' gap-2').mark('exports'):
        ui.label('Exports').classes(theme.SECTION)
        rows()
    events.on(ExportChanged, lambda _: rows.refresh())


def _export_row(models: Models, project: ProjectView, export: ExportView, refresh) -> None:
    exists = export.file.exists
    with ui.row().classes('w-full items-center gap-3 py-2 border-t border-gray-100 dark:border-gray-800 no-wrap') \
            .mark(f'export-{export.id}'):
        ui.icon('memory', color='primary').classes('text-2xl')
        with ui.column().classes('gap-0 grow min-w-0'):
            with ui.row().classes('items-center gap-2'):
                ui.label(export.name).classes('font-medium')
                status_chip(export.status)
                if export.streaming:
                    ui.chip('streaming', icon='stream').props('dense square outline color=primary').classes('text-xs')
            ui.label(export.path).classes(theme.MONO + ' text-gray-500 truncate max-w-full')
            if export.message:
                ui.label(export.message).classes('text-sm text-negative whitespace-pre-wrap')
        ui.label(formatting.size(export.file.size) if exists else '—') \
            .classes(f'{theme.NUMBER} text-sm w-20 shrink-0')
        ui.label(f'{export.created:%d %b %H:%M}') \
            .classes(f'{theme.HINT} w-24 shrink-0 whitespace-nowrap max-sm:hidden')
        with ui.row().classes('w-44 shrink-0 justify-end gap-1 no-wrap'):
            if exists and not export.streaming:
                icon_button('graphic_eq', 'Open in Explorer',
                            lambda: ui.navigate.to(f'/explorer?export={export.id}')).mark('explore')
            icon_button('content_copy', 'Copy the path', lambda: _copy(export.path)).mark('copy-path')
            if exists:
                with ui.link(target=media_url(project, export.path)).props(f'download="{export.name}"') \
                        .mark('download'):
                    icon_button('download', 'Download the .ts file')
            icon_button('delete_outline', 'Delete this export', lambda: _confirm_delete(models, export, refresh),
                        props='flat round dense color=negative').mark('delete')


def _copy(text: str) -> None:
    ui.clipboard.write(text)
    ui.notify('Path copied to the clipboard.')


def _confirm_delete(models: Models, export: ExportView, refresh) -> None:
    with ui.dialog() as dialog, ui.card().classes('gap-3'):
        ui.label(f'Delete {export.name}?').classes(theme.SECTION)
        ui.label(f'This removes the file {export.path}. The run and its checkpoints stay.').classes(theme.SUBTITLE)
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Keep it', on_click=dialog.close).props('flat')

            def delete() -> None:
                models.delete_export(export.id)
                dialog.close()
                refresh()
            ui.button('Delete', icon='delete', on_click=delete).props('unelevated color=negative').mark('confirm')
    dialog.open()


def _run_label(run: RunCheckpointsView) -> str:
    count = len(run.checkpoints)
    return f'{run.name} · {count} checkpoint{"s" if count != 1 else ""}'


def _checkpoint_label(checkpoint: CheckpointView) -> str:
    if not checkpoint.file.exists:
        return f'{checkpoint.name} (missing)'
    step = f'step {checkpoint.step} · ' if checkpoint.step is not None else ''
    return (f'{checkpoint.name} · {checkpoint.version} · {step}{checkpoint.file.modified:%d %b %H:%M} · '
            f'{formatting.size(checkpoint.file.size)}')
