"""Testing a prior on its page: export the model with one of its checkpoints (RAVE + prior in one .ts, an
export job with its stages and progress), generate with the prior at a temperature and a seed through the model
server, and hear two checkpoints side by side at the same settings.

Live by events: ExportChanged and JobsChanged of the exports' jobs redraw the list of exports."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components.render_player import RenderPlayer
from components.status import status_chip
from pages.models.play.common import attempt
from services import formatting
from services.events import ExportChanged, JobsChanged, Subscriber
from services.i18n import _
from services.models import ExportError, Models
from services.models.play import GenerateSettings, Play, PriorView
from services.models.prior import PriorCheckpoint, export_plan, exported_with
from services.models.views import ExportView
from services.projects import ProjectView


class PriorTesting:
    def __init__(self, play: Play, models: Models, events: Subscriber, project: ProjectView, prior: PriorView,
                 run_name: str) -> None:
        self.play, self.models, self.project, self.prior, self.run_name = play, models, project, prior, run_name
        self.exports: list[ExportView] = []
        with ui.card().classes(theme.CARD + ' gap-3').mark('prior-testing'):
            ui.label(_('Test the prior')).classes(theme.SECTION)
            ui.label(_('A prior plays inside an export: export the model with one of its checkpoints (RAVE + prior '
                       'in one .ts, what nn~ and the RAVE VST load), then generate with it. Two exports of two '
                       'checkpoints at the same seed and temperature compare them.')).classes(theme.HINT)
            self.listing = ui.column().classes('w-full gap-1').mark('prior-exports')
            with ui.row().classes('w-full items-start gap-3'):
                self.a = ui.select({}, label=_('Checkpoint A')).props('outlined dense').classes('w-64').mark('prior-a')
                self.b = ui.select({}, label=_('Checkpoint B (optional)'), clearable=True).props('outlined dense') \
                    .classes('w-64').mark('prior-b')
                with ui.column().classes('gap-0'):
                    self.temperature = ui.number(_('Temperature'), value=1.0, min=0, max=10, step=0.1) \
                        .props('outlined dense').classes('w-32').mark('prior-temperature')
                    ui.label(_('Below 1: safer; above: wilder.')).classes(theme.HINT)
                with ui.column().classes('gap-0'):
                    self.seed = ui.number(_('Seed'), value=0, min=0, step=1, format='%d').props('outlined dense') \
                        .classes('w-28').mark('prior-seed')
                    ui.label(_('The same for both.')).classes(theme.HINT)
                with ui.column().classes('gap-0'):
                    self.duration = ui.number(_('Seconds'), value=4.0, min=0.5, max=60, step=0.5) \
                        .props('outlined dense').classes('w-28').mark('prior-seconds')
                    ui.label(_('Of audio to generate.')).classes(theme.HINT)
                self.generate = ui.button(_('Generate'), icon='auto_awesome', on_click=self.render) \
                    .props('unelevated color=primary').mark('prior-generate')
            with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-2 gap-4'):
                self.players = (RenderPlayer(project, 'A', marker='prior-render-a'),
                                RenderPlayer(project, 'B', marker='prior-render-b', color=theme.COLORS['warning']))
        self.fill()
        events.on(ExportChanged, lambda e: self.fill() if e.export_id in {x.id for x in self.exports}
                  or e.status == 'running' else None)
        events.on(JobsChanged, lambda e: self.fill() if set(e.job_ids) & self._export_jobs() else None)

    def update(self, prior: PriorView) -> None:
        """The prior changed (a new checkpoint, a new status)."""
        self.prior = prior
        self.fill()

    def fill(self) -> None:
        self.exports = [e for e in self.models.exports(self.project.id) if exported_with(self.prior, e.option)]
        ready = {e.path: _label(e) for e in self.exports if e.playable}
        for select in (self.a, self.b):
            select.set_options(ready, value=select.value if select.value in ready else None)
        if self.a.value is None and ready:
            self.a.set_value(next(iter(ready)))
        self.generate.set_enabled(bool(ready))
        exported = {e.option.get('prior') for e in self.exports if e.status in ('running', 'done')}
        self.listing.clear()
        with self.listing:
            for checkpoint in self.prior.steps():
                with ui.row().classes('w-full items-center gap-3 no-wrap').mark(f'prior-export-{checkpoint.kind}'):
                    ui.label(_checkpoint(checkpoint)).classes('text-sm w-40')
                    export = next((e for e in self.exports if e.option.get('prior') == str(checkpoint.path)), None)
                    if export is not None:
                        status_chip(export.status)
                        ui.label(_progress(export)).classes(theme.HINT + ' grow truncate')
                    else:
                        ui.label(_('not exported yet')).classes(theme.HINT + ' grow')
                    if str(checkpoint.path) not in exported:
                        ui.button(_('Export with it'), icon='ios_share',
                                  on_click=lambda c=checkpoint: self.export(c)).props('flat dense') \
                            .mark('prior-export')

    async def export(self, checkpoint: PriorCheckpoint) -> None:
        name, options = export_plan(self.prior, self.run_name, checkpoint)
        try:
            view = self.models.start_export(self.project.id, self.prior.run_id, self.prior.model, name=name,
                                            options=options)
        except ExportError as e:
            ui.notify(str(e), type='negative', multi_line=True)
            return
        ui.notify(_('Exporting {name} with the prior ({stage}); it is listed here as it goes.').format(
            name=view.name, stage=_(view.stage)),
                  type='positive')
        self.fill()

    async def render(self) -> None:
        settings = GenerateSettings(seed=int(self.seed.value or 0), temperature=float(self.temperature.value or 0),
                                    duration_s=float(self.duration.value or 4.0), spread='prior')
        chosen = [(player, path) for player, path in zip(self.players, (self.a.value, self.b.value)) if path]
        labels = {e.path: _label(e) for e in self.exports}
        await attempt(self.play.models, self.project.id)  # a new export is one of the playable models now
        for player, path in chosen:
            render = await attempt(self.play.generate, self.project.id, path, settings, busy=self.generate)
            if render is None:
                return
            player.show(render, caption=_('{label} · seed {seed} · temperature {temperature}').format(
                label=labels.get(path, path), seed=settings.seed, temperature=formatting.number(settings.temperature)))

    def _export_jobs(self) -> set[int]:
        return {job for e in self.exports if e.status == 'running' for job in e.job_ids}


def _checkpoint(checkpoint: PriorCheckpoint) -> str:
    step = _('step {step}').format(step=formatting.count(checkpoint.step)) if checkpoint.step is not None \
        else checkpoint.path.name
    return f'{_(checkpoint.kind)} · {step}'


def _label(export: ExportView) -> str:
    return f'{export.name} ({formatting.moment(export.created)})'


def _progress(export: ExportView) -> str:
    if export.status == 'running':
        share = f' {round(export.progress * 100)} %' if export.progress is not None else ''
        return f'{_(export.stage)}{share} · {export.detail}'.strip(' ·')
    return export.message or export.file_name
