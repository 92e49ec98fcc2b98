"""Diagnostics: the install doctor, the error history and the bundle for a bug report."""
from __future__ import annotations

import time

from nicegui import run, ui

from app import theme
from components import cards
from services import formatting
from services.diagnostics import Diagnostics, Problem
from services.doctor import DoctorReport
from services.i18n import N_, _

MARKS = {'ok': ('check_circle', 'positive', N_('OK')), 'warn': ('warning', 'warning', N_('Warning')),
         'fail': ('error', 'negative', N_('Fails'))}


def create(diagnostics: Diagnostics) -> None:
    with ui.column().classes('gap-0'):
        ui.label(_('Diagnostics')).classes(theme.TITLE)
        ui.label(_('Is everything RAVE needs in place, what went wrong lately, and what to attach to a bug report.')) \
            .classes(theme.SUBTITLE)
    if not diagnostics.allowed:
        ui.label(_("Diagnostics show the whole studio (every user's jobs, the settings, this machine): only an "
                   'administrator may see them on a shared server.')).classes('text-sm').mark('diagnostics-refused')
        return
    _doctor(diagnostics)
    _history(diagnostics.history())
    _bundle(diagnostics)


def _doctor(diagnostics: Diagnostics) -> None:
    with cards.section(_('Install doctor'), 'medical_services').mark('doctor'):
        ui.label(_('Checks what every job needs: ffmpeg, the Python that runs RAVE and its torch, disk space, the '
                   'GPU and write access. Each problem says what to do.')).classes(theme.HINT)
        results = ui.column().classes('w-full gap-2').mark('doctor-results')
        with ui.row().classes('items-center gap-2'):
            again = ui.button(_('Check again'), icon='refresh', on_click=lambda: check()) \
                .props('outline no-caps').mark('doctor-again')
            when = ui.label().classes(theme.HINT).props('aria-live=polite')

    def show(report: DoctorReport) -> None:
        results.clear()
        with results:
            for c in report.checks:
                icon, color, word = MARKS[c.status]
                word = _(word)
                with ui.row().classes('w-full items-start gap-3 no-wrap').mark(f'check-{c.status}'):
                    ui.icon(icon, color=color).classes('text-xl mt-0.5').props['aria-label'] = word
                    with ui.column().classes('gap-0 grow min-w-0'):
                        ui.label(f'{_(c.name)} — {word}').classes('text-sm font-medium')
                        ui.label(str(c.detail)).classes('text-sm break-words')
                        if str(c.fix):
                            ui.label(_('What to do: {fix}').format(fix=c.fix)) \
                                .classes('text-sm text-gray-700 dark:text-gray-300')
        checked = _('Checked {time}').format(time=time.strftime('%H:%M:%S', time.localtime(report.when)))
        when.set_text(checked + ' · ' + (_('{count} problem(s)').format(count=report.failed) if report.failed else
                                         _('all essential checks pass')))

    async def check() -> None:
        again.props('loading')
        when.set_text(_('Checking (the job Python loads torch: this takes a few seconds)…'))
        try:
            report = await run.io_bound(diagnostics.check)
            if report is not None:  # None: the page was left (or the studio stops) while it ran
                show(report)
        finally:
            again.props(remove='loading')

    report = diagnostics.report()
    if report is not None:
        show(report)
    else:
        ui.timer(0.1, check, once=True)  # the first visit starts the check; the page draws at once


def _history(problems: list[Problem]) -> None:
    with cards.section(_('Error history'), 'history').mark('error-history'):
        ui.label(_('Failed jobs and errors the studio did not expect, newest first (the last 50).')) \
            .classes(theme.HINT)
        if not problems:
            ui.label(_('Nothing has gone wrong so far.')).classes('text-sm').mark('no-errors')
            return
        with ui.column().classes('w-full gap-1'):
            for p in problems:
                where = _('Job {id} · {title}').format(id=p.job_id, title=p.title) if p.job_id is not None else \
                    _('Page {path}').format(path=p.where)
                with ui.row().classes('w-full items-start gap-3 no-wrap px-2 py-1 rounded-lg '
                                      'bg-gray-50 dark:bg-gray-900').mark('problem'):
                    ui.label(formatting.moment(p.when)) \
                        .classes(theme.MONO + ' whitespace-nowrap mt-0.5')
                    with ui.column().classes('gap-0 grow min-w-0'):
                        ui.label(where).classes('text-sm font-medium truncate')
                        ui.label(p.what).classes('text-sm break-words')


def _bundle(diagnostics: Diagnostics) -> None:
    with cards.section(_('For a bug report'), 'bug_report').mark('bundle'):
        ui.label(_("A zip with the versions (Python, torch, torchaudio, RAVE, NiceGUI, ffmpeg), the GPU and driver, "
                   "the doctor's findings, the settings, the last lines of the studio log and the last failed job's "
                   'log. Passwords, tokens and session ids are left out.')).classes(theme.HINT)
        ui.label(_('The studio log: {file}').format(file=diagnostics.log_file)).classes(theme.MONO + ' break-all')

        async def download() -> None:
            button.props('loading')
            try:
                content = await run.io_bound(diagnostics.bundle)
            finally:
                button.props(remove='loading')
            ui.download.content(content, f'rave-studio-diagnostics-{time.strftime("%Y%m%d-%H%M%S")}.zip',
                                'application/zip')
        button = ui.button(_('Download a diagnostics bundle'), icon='download', on_click=download) \
            .props('unelevated no-caps color=primary').mark('download-bundle')
