"""The report buttons of a run's Details tab and of the compare view: one self-contained HTML file, or the same
report as PDF (services/models/report.py), made off the event loop and downloaded."""
from __future__ import annotations

import time

from nicegui import run, ui

from services.access import Forbidden
from services.i18n import _
from services.models import report
from services.models.testing import ModelTests
from services.training import Training, TrainingError
from services.training.experiments import Experiments


def buttons(experiments: Experiments, training: Training, model_tests: ModelTests, run_ids: list[int],
            name: str) -> None:
    async def make(pdf: bool) -> None:
        ui.notify(_('Making the report… (printing with Chromium)') if pdf else _('Making the report…'))
        try:
            page = await run.io_bound(report.html_report, experiments, training.audio, run_ids,
                                      model_tests.data_path)
            content = await run.io_bound(report.pdf_of, page) if pdf else page.encode()
        except (report.ReportError, TrainingError, Forbidden, OSError) as e:
            ui.notify(str(e), type='warning', multi_line=True)
            return
        ui.download.content(content, f'{name}-report-{time.strftime("%Y%m%d-%H%M")}.{"pdf" if pdf else "html"}',
                    media_type='application/pdf' if pdf else 'text/html')
    ui.button(_('Report'), icon='description', on_click=lambda: make(False)).props('outline color=primary') \
        .mark('report-html').tooltip(_('One HTML file with the charts and audio embedded (works offline)'))
    ui.button('PDF', icon='picture_as_pdf', on_click=lambda: make(True)).props('flat color=primary') \
        .mark('report-pdf').tooltip(_('The same report as PDF'))
