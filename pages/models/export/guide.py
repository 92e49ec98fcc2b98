"""The deployment guide of one export (/export/guide/{export_id}): what goes where for its host, the object
text to type, the buffer that fits its latency, the pitfalls; the same text lies next to the file as
Markdown."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components.audio import media_url
from services.i18n import _
from services.models import Models
from services.projects import ProjectView


def create(models: Models, project: ProjectView, export_id: str) -> None:
    export = models.export(int(export_id)) if export_id.isdigit() else None
    guide = models.guide(export.id) if export is not None and export.id in {
        e.id for e in models.exports(project.id)} else None
    if guide is None:
        ui.label(_('No such export in this project.')).classes(theme.SUBTITLE).mark('missing')
        return
    with ui.row().classes('w-full items-end gap-2'):
        with ui.column().classes('gap-0 grow'):
            ui.label(guide.title).classes(theme.TITLE).mark('guide-title')
            ui.label(_('For {host}. Written next to the export as Markdown too.').format(host=guide.host)) \
                .classes(theme.SUBTITLE)
        ui.button(_('Back to the export'), icon='arrow_back',
                  on_click=lambda: ui.navigate.to(f'/export/view/{export.id}')).props('flat')
        path = models.guide_file(export.id)
        if path is not None and path.is_file():
            with ui.link(target=media_url(project, path)).props(f'download="{path.name}"').mark('guide-download'):
                ui.button(_('Download'), icon='download').props('outline')
    if not export.ready:
        ui.label(_('This export is not verified: follow the guide once it passes its checks.')) \
            .classes('text-sm text-negative')
    for section in guide.sections:
        with ui.card().classes(theme.CARD + ' gap-2').mark(f'section-{section.title}'):
            ui.label(section.title).classes(theme.SECTION)
            code = [line[4:] for line in section.lines if line.startswith('    ')]
            prose = '\n'.join(line for line in section.lines if not line.startswith('    '))
            if code:
                text = '\n'.join(code)
                with ui.row().classes('w-full items-center gap-2 no-wrap'):
                    ui.code(text, language='text').classes('grow').mark('object-text')
                    ui.button(icon='content_copy', on_click=lambda t=text: _copy(t)).props('flat round dense') \
                        .tooltip(_('Copy'))
            if prose.strip():
                ui.markdown(prose).classes('text-sm')


def _copy(text: str) -> None:
    ui.clipboard.write(text)
    ui.notify(_('Copied to the clipboard.'))
