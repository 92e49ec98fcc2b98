"""The dataset wizard's Review step: the figures of what was found, the doctor's findings by severity, and the
equivalent RAVE command (pages/datasets/wizard.py draws it once the doctor has answered)."""
from __future__ import annotations

from nicegui import ui

from app import theme
from services import formatting
from services.datasets import Datasets, Finding, PreprocessSpec, Survey
from services.i18n import N_, _
from services.projects import ProjectView

SEVERITY = {'blocker': ('block', 'negative', N_('Must fix')), 'warning': ('warning', 'warning', N_('Worth knowing')),
            'info': ('info', 'info', N_('What will happen'))}


def review_body(datasets: Datasets, project: ProjectView, spec: PreprocessSpec, found: Survey,
                findings: list[Finding]) -> None:
    count = len(found.files) if spec.lazy else found.examples(spec.num_signal or 131072, spec.sr)
    with ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-4 gap-3'):
        for label, value in ((N_('Usable files'), formatting.count(len(found.files))),
                             (N_('Audio'), formatting.duration(found.seconds)),
                             (N_('References') if spec.lazy else N_('Examples'), formatting.count(count)),
                             (N_('Skipped'), formatting.count(len(found.skipped)))):
            with ui.column().classes('gap-0 rounded-lg p-3 bg-gray-50 dark:bg-gray-900'):
                ui.label(_(label)).classes(theme.HINT)
                ui.label(value).classes('text-xl font-semibold tabular-nums').mark(f'figure-{label}')
    if not findings:
        with ui.row().classes('items-center gap-2 text-positive'):
            ui.icon('check_circle')
            ui.label(_('The doctor found nothing to worry about.'))
    for finding in findings:
        icon, color, title = SEVERITY[finding.severity]
        with ui.row().classes('w-full items-start gap-3 no-wrap rounded-lg p-3 border border-gray-200 '
                              'dark:border-gray-800').mark(f'finding-{finding.severity}'):
            ui.icon(icon, color=color).classes('text-xl mt-0.5')
            with ui.column().classes('gap-1 grow min-w-0'):
                ui.label(_(title)).classes(f'text-xs uppercase tracking-wide font-semibold text-{color}')
                ui.label(finding.text).classes('text-sm')
                if finding.files:
                    listed = _('{count} listed').format(count=len(finding.files))
                    with ui.expansion(listed, icon='list').classes('w-full text-sm').props('dense'):
                        for line in finding.files[:200]:
                            ui.label(line).classes(f'{theme.MONO} break-all')
    command = datasets.command(project.id, spec)
    with ui.expansion(_('Equivalent RAVE command'), icon='terminal').classes('w-full text-sm'):
        with ui.row().classes('w-full items-start gap-2 no-wrap'):
            ui.label(command).classes(f'{theme.MONO} grow break-all whitespace-pre-wrap').mark('preprocess-command')
            ui.button(icon='content_copy', on_click=lambda: ui.clipboard.write(command)) \
                .props('flat dense round size=sm aria-label="%s"' % _('Copy the command')).tooltip(_('Copy'))
        if found.needs_staging:
            ui.label(_('Some files are skipped, so RAVE reads links to the usable files from a “sources” folder '
                       'inside the dataset folder instead of your folders.')).classes(theme.HINT)
