"""The library of exports (/export/library): by target, each with its source run and checkpoint, its verdict, the
file to download (and on a local studio its path to copy and a folder to open), re-export and delete."""
from __future__ import annotations

from pathlib import Path

from nicegui import ui

from app import theme
from components.audio import media_url
from components.status import status_chip
from pages.models.export import cloud_card
from pages.models.export.parts import TARGET_ICONS, stage_steps, target_title, verdict_chip
from services import formatting
from services.cluster import Cluster
from services.events import ExportChanged, JobsChanged, Subscriber
from services.i18n import _
from services.jobs import Jobs
from services.models import ExportError, ExportView, Models, TargetView
from services.projects import ProjectView


def create(models: Models, events: Subscriber, project: ProjectView, cluster: Cluster, jobs: Jobs) -> None:
    with ui.row().classes('w-full items-end gap-2'):
        with ui.column().classes('gap-0 grow'):
            ui.label(_('Exports')).classes(theme.TITLE)
            ui.label(_('Every exported model of this project, by the host it was made for. Only a verified export '
                       'is ready.')).classes(theme.SUBTITLE)
        ui.button(_('New export'), icon='ios_share', on_click=lambda: ui.navigate.to('/export')) \
            .props('unelevated') \
            .mark('new-export')
    targets = models.targets()
    state = {'tab': 'all'}

    @ui.refreshable
    def content() -> None:
        exports = models.exports(project.id)
        if not exports:
            ui.label(_('No export yet. Exports appear here with their verdict, a download and a deployment guide.')) \
                .classes(theme.SUBTITLE).mark('no-exports')
            return
        counts = {t.name: sum(1 for e in exports if e.target == t.name) for t in targets}
        with ui.tabs(value=state['tab'], on_change=lambda e: state.update(tab=e.value) or content.refresh()) \
                .props('dense align=left no-caps').classes('w-full').mark('target-tabs'):
            ui.tab('all', _('All ({count})').format(count=len(exports)))
            for target in targets:
                if counts[target.name]:
                    ui.tab(target.name, f'{_(target.title)} ({counts[target.name]})').mark(f'tab-{target.name}')
        shown = [e for e in exports if state['tab'] in ('all', e.target)]
        with ui.card().classes(theme.CARD + ' gap-0 p-0').mark('exports'):
            for export in shown:
                _row(models, project, targets, export, content.refresh)

    content()
    events.on(ExportChanged, lambda _event: content.refresh())
    events.on(JobsChanged, lambda _event: content.refresh())
    cloud_card.create(cluster, jobs, events, project,  # what the cloud store holds, pulled back here
                      {e.id: Path(e.path).name for e in models.exports(project.id) if e.status == 'done'})


def _row(models: Models, project: ProjectView, targets: list[TargetView], export: ExportView, refresh) -> None:
    with ui.row().classes('w-full items-start gap-3 p-3 border-b border-gray-100 dark:border-gray-800 '
                          'flex-wrap lg:flex-nowrap').mark(f'export-{export.id}'):
        ui.icon(TARGET_ICONS.get(export.target, 'memory'), color='primary').classes('text-2xl mt-1')
        with ui.column().classes('gap-1 grow min-w-0 max-lg:w-[calc(100%-3rem)]'):
            with ui.row().classes('items-center gap-2'):
                ui.link(export.name, f'/export/view/{export.id}').classes('font-medium').mark('open')
                status_chip('ready' if export.status == 'done' else export.status)
                verdict_chip(export)
                if export.streaming:
                    ui.chip(_('streaming'), icon='stream').props('dense square outline color=primary') \
                        .classes('text-xs')
            step = ' · ' + _('step {step}').format(step=formatting.count(export.checkpoint_step)) \
                if export.checkpoint_step is not None else ''
            ui.label(f'{target_title(targets, export.target)} · {export.run_name or _("run removed")} · '
                     f'{export.checkpoint.rsplit("/", 1)[-1]}{step}').classes(theme.HINT)
            if models.local():
                ui.label(export.path).classes(theme.MONO + ' text-gray-500 truncate max-w-full').mark('path')
            if export.status == 'running':
                stage_steps(export)
            if export.message:
                ui.label(export.message).classes('text-sm text-negative whitespace-pre-wrap line-clamp-3') \
                    .mark('export-message')
        with ui.row().classes('items-center gap-3 no-wrap shrink-0 max-lg:w-full max-lg:pl-10'):
            ui.label(formatting.size(export.file.size) if export.file.exists else '—') \
                .classes(f'{theme.NUMBER} text-sm w-20 shrink-0')
            ui.label(formatting.moment(export.created)).classes(f'{theme.HINT} w-32 shrink-0 max-lg:grow')
            with ui.row().classes('shrink-0 justify-end gap-0 no-wrap'):
                actions(models, project, targets, export, refresh)


def actions(models: Models, project: ProjectView, targets: list[TargetView], export: ExportView, refresh,
            *, after_delete: str = '') -> None:
    """The library's controls for one export (also on its viewer)."""
    if export.playable:  # the natural next step: play with it, this export chosen
        ui.button(icon='graphic_eq', on_click=lambda: ui.navigate.to(f'/explorer?export={export.id}')) \
            .props('flat round dense').tooltip(_('Open in the Explorer')).mark('open-explorer')
    if export.ready:
        ui.button(icon='menu_book', on_click=lambda: ui.navigate.to(f'/export/guide/{export.id}')) \
            .props('flat round dense').tooltip(_('Deployment guide')).mark('guide')
        with ui.link(target=media_url(project, export.path)).props(f'download="{export.file_name}"') \
                .mark('download'):
            ui.button(icon='download').props('flat round dense') \
                .tooltip(_('Download {file}').format(file=export.file_name))
    if models.local():
        ui.button(icon='content_copy', on_click=lambda: _copy(export.path)).props('flat round dense') \
            .tooltip(_('Copy the path')).mark('copy-path')
        if models.can_reveal() and export.file.exists:
            ui.button(icon='folder_open', on_click=lambda: _reveal(models, export)).props('flat round dense') \
                .tooltip(_('Show in folder')).mark('reveal')
    if export.run_id is not None and export.status != 'running':
        _reexport_menu(models, targets, export, refresh)
    ui.button(icon='delete_outline', on_click=lambda: _confirm_delete(models, export, refresh, after_delete)) \
        .props('flat round dense color=negative').tooltip(_('Delete this export')).mark('delete')


def _reexport_menu(models: Models, targets: list[TargetView], export: ExportView, refresh) -> None:
    runs = {r.id: r for r in models.runs_of(export.id)}
    run = runs.get(export.run_id)
    with ui.button(icon='replay').props('flat round dense').tooltip(_('Re-export')).mark('reexport'), \
            ui.menu().mark('reexport-menu'):
        ui.menu_item(_('Same flags onto another checkpoint:')).props('disable')
        for checkpoint in (run.checkpoints if run else ()):
            if checkpoint.path != export.checkpoint:
                step = _('step {step}').format(step=formatting.count(checkpoint.step)) if checkpoint.step is not None \
                    else checkpoint.name
                ui.menu_item(f'  {_(checkpoint.kind)} · {step}', on_click=lambda c=checkpoint.path: _reexport(
                    models, export, refresh, checkpoint=c)).mark('reexport-checkpoint')
        ui.separator()
        ui.menu_item(_('Same checkpoint to another target:')).props('disable')
        for target in targets:
            if target.name != export.target:
                ui.menu_item(f'  {_(target.title)}', on_click=lambda t=target.name: _reexport(
                    models, export, refresh, target=t)).mark(f'reexport-{target.name}')


def _reexport(models: Models, export: ExportView, refresh, **change) -> None:
    try:
        again = models.reexport(export.id, **change)
    except ExportError as e:
        ui.notify(str(e), type='negative', multi_line=True)
        return
    ui.notify(_('Exporting {name} with the flags of {source}.').format(name=again.name, source=export.name),
              type='info')
    refresh()


def _copy(text: str) -> None:
    ui.clipboard.write(text)
    ui.notify(_('Path copied to the clipboard.'))


def _reveal(models: Models, export: ExportView) -> None:
    try:
        models.reveal(export.id)
    except ExportError as e:
        ui.notify(str(e), type='warning')


def _confirm_delete(models: Models, export: ExportView, refresh, after: str) -> None:
    with ui.dialog() as dialog, ui.card().classes('gap-3'):
        ui.label(_('Delete {name}?').format(name=export.name)).classes(theme.SECTION)
        ui.label(_('This removes {path} and its deployment guide. The run and its checkpoints stay.').format(
            path=export.path)) \
            .classes(theme.SUBTITLE)
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_('Keep it'), on_click=dialog.close).props('flat')

            def delete() -> None:
                models.delete_export(export.id)
                dialog.close()
                if after:
                    ui.navigate.to(after)
                else:
                    refresh()
            ui.button(_('Delete'), icon='delete', on_click=delete).props('unelevated color=negative').mark('confirm')
    dialog.open()
