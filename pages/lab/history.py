"""Version history of what people edit (run notes, templates, custom gin configs): pick a thing, compare two of
its versions as a diff, restore an old one."""
from __future__ import annotations

from nicegui import run, ui

from app import theme
from components import cards
from services import formatting
from services.access import Forbidden
from services.i18n import _, ngettext
from services.lab.history import KINDS, History, HistoryError, VersionView
from services.projects import ProjectView
from services.training.runs import TrainingError
from services.training.templates import TemplateError

LINE = {'+': 'bg-green-50 dark:bg-green-950 text-green-800 dark:text-green-300',
        '-': 'bg-red-50 dark:bg-red-950 text-red-800 dark:text-red-300', '@': 'text-gray-400'}


def create(history: History, project: ProjectView, kind: str = '', name: str = '') -> None:
    with ui.column().classes('gap-0'):
        ui.label(_('Version history')).classes(theme.TITLE)
        ui.label(_('Every save of the run notes, templates and custom gin configs of {project}: compare two '
                   'versions, restore an old one.').format(project=project.name)).classes(theme.SUBTITLE)
    things = history.names(project.id)
    options = {f'{k}/{n}': f'{_(KINDS[k])} · {_label(k, n)}' for k in KINDS for n in things.get(k, [])}
    if not options:
        cards.empty_state('history', _('Nothing edited yet'), _('Once someone saves run notes, a template or a custom '
                          'gin config, every version of it is kept here.'), mark='history-empty')
        return
    chosen = f'{kind}/{name}' if f'{kind}/{name}' in options else next(iter(options))
    picker = ui.select(options, value=chosen, label=_('What')).props('outlined dense') \
        .classes('w-full sm:w-96').mark('history-thing')
    picker.props['hint'] = _('What has versions')

    @ui.refreshable
    def versions() -> None:
        kind_, name_ = picker.value.split('/', 1)
        found = history.versions(project.id, kind_, name_)
        labels = {v.id: f'{v.created:%Y-%m-%d %H:%M:%S} · '
                  + (_('{author} (current)').format(author=v.author or '—') if v.current else v.author or '—')
                  for v in found}
        with ui.row().classes('w-full items-start gap-4 mt-2'):
            with cards.section(_('Versions'), 'history', classes='md:w-96'):
                for version in found:
                    _version_row(history, version, labels[version.id], versions.refresh)
            with cards.section(_('Changes'), 'difference', classes='grow min-w-0'):
                with ui.row().classes('w-full gap-2'):
                    older = ui.select(labels, value=found[min(1, len(found) - 1)].id, label=_('From')) \
                        .props('outlined dense').classes('grow').mark('diff-from')
                    older.props['hint'] = _('The older version')
                    newer = ui.select(labels, value=found[0].id, label=_('To')) \
                        .props('outlined dense').classes('grow').mark('diff-to')
                    newer.props['hint'] = _('The newer version')
                box = ui.column().classes('w-full gap-0')

                def show() -> None:
                    box.clear()
                    with box:
                        _diff(history, older.value, newer.value)

                older.on_value_change(show)
                newer.on_value_change(show)
                show()

    picker.on_value_change(versions.refresh)
    versions()


def _version_row(history: History, version: VersionView, label: str, changed) -> None:
    with ui.row().classes('w-full items-center gap-2 no-wrap').mark(f'version-{version.id}'):
        ui.icon('radio_button_checked' if version.current else 'radio_button_unchecked', color='primary') \
            .classes('text-sm')
        with ui.column().classes('gap-0 grow'):
            ui.label(label).classes('text-sm')
            ui.label(ngettext('{count} character', '{count} characters', version.size)
                     .format(count=formatting.count(version.size))).classes(theme.HINT)
        if not version.current:
            ui.button(icon='restore', on_click=lambda: _restore(history, version, changed)) \
                .props('flat round dense').tooltip(_('Restore this version')).mark(f'restore-{version.id}')


def _diff(history: History, older: int, newer: int) -> None:
    if older == newer:
        ui.label(history.text(newer)).classes(theme.MONO + ' whitespace-pre-wrap w-full').mark('version-text')
        return
    try:
        lines = history.diff(older, newer)
    except (HistoryError, Forbidden) as e:
        ui.label(str(e)).classes('text-sm text-negative')
        return
    if not lines:
        ui.label(_('The two versions are the same.')).classes('text-sm italic text-gray-500')
    for line in lines[2:]:  # the --- and +++ header lines name the versions the selects show already
        ui.label(line or ' ').classes(f'{theme.MONO} whitespace-pre-wrap w-full px-1 {LINE.get(line[:1], "")}') \
            .mark('diff-line')


async def _restore(history: History, version: VersionView, changed) -> None:
    details = [_('Gin runs the config: it can run Python on this machine.')] if version.kind == 'config' else []
    if not await cards.confirm(_('Restore this version?'),
                               _('The {kind} becomes what it was on {time}; the current one stays in the history.')
                               .format(kind=_(KINDS[version.kind]), time=formatting.moment(version.created)),
                               yes=_('Restore'), icon='restore', color='primary', details=details, mark='restore'):
        return
    try:
        await run.io_bound(history.restore, version.id, code_confirmed=True)
    except (HistoryError, TemplateError, TrainingError, Forbidden) as e:
        ui.notify(str(e), type='negative')
        return
    ui.notify(_('Restored the {kind}.').format(kind=_(KINDS[version.kind])), type='positive')
    changed()


def _label(kind: str, name: str) -> str:
    return _('run {name}').format(name=name) if kind == 'notes' else name
