"""Diagnostics: the install doctor, the error history and the bundle for a bug report."""
from __future__ import annotations

import time

from nicegui import run, ui

from app import theme
from components import cards
from services.diagnostics import Diagnostics, Problem
from services.doctor import DoctorReport

MARKS = {'ok': ('check_circle', 'positive', 'OK'), 'warn': ('warning', 'warning', 'Warning'),
         'fail': ('error', 'negative', 'Fails')}


def create(diagnostics: Diagnostics) -> None:
    with ui.column().classes('gap-0'):
        ui.label('Diagnostics').classes(theme.TITLE)
        ui.label('Is everything RAVE needs in place, what went wrong lately, and what to attach to a bug report.') \
            .classes(theme.SUBTITLE)
    if not diagnostics.allowed:
        ui.label('Diagnostics show the whole studio (every user\'s jobs, the settings, this machine): only an '
                 'administrator may see them on a shared server.').classes('text-sm').mark('diagnostics-refused')
        return
    _doctor(diagnostics)
    _history(diagnostics.history())
    _bundle(diagnostics)


def _doctor(diagnostics: Diagnostics) -> None:
    with cards.section('Install doctor', 'medical_services').mark('doctor'):
        ui.label('Checks what every job needs: ffmpeg, the Python that runs RAVE and its torch, disk space, the '
                 'GPU and write access. Each problem says what to do.').classes(theme.HINT)
        results = ui.column().classes('w-full gap-2').mark('doctor-results')
        with ui.row().classes('items-center gap-2'):
            again = ui.button('Check again', icon='refresh', on_click=lambda: check()) \
                .props('outline no-caps').mark('doctor-again')
            when = ui.label().classes(theme.HINT).props('aria-live=polite')

    def show(report: DoctorReport) -> None:
        results.clear()
        with results:
            for c in report.checks:
                icon, color, word = MARKS[c.status]
                with ui.row().classes('w-full items-start gap-3 no-wrap').mark(f'check-{c.status}'):
                    ui.icon(icon, color=color).classes('text-xl mt-0.5').props(f'aria-label="{word}"')
                    with ui.column().classes('gap-0 grow min-w-0'):
                        ui.label(f'{c.name} — {word}').classes('text-sm font-medium')
                        ui.label(c.detail).classes('text-sm break-words')
                        if c.fix:
                            ui.label(f'What to do: {c.fix}').classes('text-sm text-gray-700 dark:text-gray-300')
        when.set_text(f'Checked {time.strftime("%H:%M:%S", time.localtime(report.when))}'
                      + (f' · {report.failed} problem(s)' if report.failed else ' · all essential checks pass'))

    async def check() -> None:
        again.props('loading')
        when.set_text('Checking (the job Python loads torch: this takes a few seconds)…')
        try:
            show(await run.io_bound(diagnostics.check))
        finally:
            again.props(remove='loading')

    report = diagnostics.report()
    if report is not None:
        show(report)
    else:
        ui.timer(0.1, check, once=True)  # the first visit starts the check; the page draws at once


def _history(problems: list[Problem]) -> None:
    with cards.section('Error history', 'history').mark('error-history'):
        ui.label('Failed jobs and errors the studio did not expect, newest first (the last 50).').classes(theme.HINT)
        if not problems:
            ui.label('Nothing has gone wrong so far.').classes('text-sm').mark('no-errors')
            return
        with ui.column().classes('w-full gap-1'):
            for p in problems:
                where = f'Job {p.job_id} · {p.title}' if p.job_id is not None else f'Page {p.where}'
                with ui.row().classes('w-full items-start gap-3 no-wrap px-2 py-1 rounded-lg '
                                      'bg-gray-50 dark:bg-gray-900').mark('problem'):
                    ui.label(time.strftime('%Y-%m-%d %H:%M', time.localtime(p.when))) \
                        .classes(theme.MONO + ' whitespace-nowrap mt-0.5')
                    with ui.column().classes('gap-0 grow min-w-0'):
                        ui.label(where).classes('text-sm font-medium truncate')
                        ui.label(p.what).classes('text-sm break-words')


def _bundle(diagnostics: Diagnostics) -> None:
    with cards.section('For a bug report', 'bug_report').mark('bundle'):
        ui.label('A zip with the versions (Python, torch, torchaudio, RAVE, NiceGUI, ffmpeg), the GPU and driver, '
                 'the doctor\'s findings, the settings, the last lines of the studio log and the last failed '
                 'job\'s log. Passwords, tokens and session ids are left out.').classes(theme.HINT)
        ui.label(f'The studio log: {diagnostics.log_file}').classes(theme.MONO + ' break-all')

        async def download() -> None:
            button.props('loading')
            try:
                content = await run.io_bound(diagnostics.bundle)
            finally:
                button.props(remove='loading')
            ui.download.content(content, f'rave-studio-diagnostics-{time.strftime("%Y%m%d-%H%M%S")}.zip',
                                'application/zip')
        button = ui.button('Download a diagnostics bundle', icon='download', on_click=download) \
            .props('unelevated no-caps color=primary').mark('download-bundle')
