"""The Generate page's prior card: the priors of the chosen model's run (RAVE's train_prior with the gin the
studio writes), a form to train one, go on with one, and the way to hear one — export the run with its prior."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components.status import status_chip
from services.events import JobsChanged, Subscriber
from services.i18n import _
from services.models.play import Play, PlayError, PlayModel
from services.projects import ProjectView

from .common import attempt


class PriorCard:
    def __init__(self, play: Play, events: Subscriber, project: ProjectView) -> None:
        self.play, self.project = play, project
        self.model: PlayModel | None = None
        with ui.card().classes(theme.CARD + ' gap-2').mark('priors') as self.card:
            with ui.row().classes('w-full items-center gap-2'):
                ui.icon('timeline', color='primary').classes('text-xl')
                ui.label(_('Prior')).classes(theme.SECTION)
                self.note = ui.label('').classes(theme.HINT + ' grow')
            ui.label(_("A prior learns how the run's latents move in time, so the model can play on its own. RAVE's "
                       'own prior config does not load; the studio writes one with the model\'s rate and the export '
                       'fidelity.')).classes(theme.HINT)
            with ui.row().classes('w-full items-start gap-3'):
                with ui.column().classes('gap-0'):
                    self.name = ui.input(_('Prior name'), value='prior').props('outlined dense').classes('w-48') \
                        .mark('prior-name')
                    ui.label(_('Letters, digits, dots, dashes.')).classes(theme.HINT)
                with ui.column().classes('gap-0'):
                    self.fidelity = ui.number(_('Fidelity'), value=0.95, min=0.5, max=0.999, step=0.01) \
                        .props('outlined dense').classes('w-32').mark('prior-fidelity')
                    ui.label(_('As the export: its latent size.')).classes(theme.HINT)
                with ui.column().classes('gap-0'):
                    self.steps = ui.number(_('Steps'), value=100_000, min=2, step=1000, format='%d') \
                        .props('outlined dense').classes('w-36').mark('prior-steps')
                    ui.label(_('Training stops there.')).classes(theme.HINT)
                with ui.column().classes('gap-0'):
                    devices = play.prior_devices()
                    self.device = ui.select(devices, value='cpu', label=_('Device')) \
                        .props('outlined dense').classes('w-32').mark('prior-device')
                    ui.label(_('A GPU trains it far faster.') if len(devices) > 1 else _('No GPU here: the CPU.')) \
                        .classes(theme.HINT)
                self.train = ui.button(_('Train a prior'), icon='model_training', on_click=lambda: self._start('')) \
                    .props('unelevated').mark('train-prior')
            self.list = ui.column().classes('w-full gap-1').mark('prior-list')
        events.on(JobsChanged, lambda _e: self.fill())

    def show(self, model: PlayModel | None) -> None:
        """The priors of `model`'s run (the card hides for a model without a run)."""
        self.model = model
        self.card.set_visibility(bool(model and model.run_id))
        self.fill()

    def fill(self) -> None:
        self.list.clear()
        if not self.model or not self.model.run_id:
            return
        try:
            priors = self.play.priors(self.project.id, self.model.run_id)
        except PlayError as e:
            self.note.set_text(str(e))
            return
        self.note.set_text(_('{count} for this run').format(count=len(priors)) if priors
                           else _('None for this run yet.'))
        with self.list:
            for prior in priors:
                with ui.row().classes('w-full items-center gap-3 no-wrap'):
                    ui.link(prior.name, f'/models/{prior.run_id}/priors/{prior.name}').classes('text-sm font-medium')
                    status_chip(prior.status)
                    ui.label(', '.join(p.stem for p in prior.checkpoints) or _('no checkpoint yet')) \
                        .classes(theme.HINT + ' grow truncate')
                    if prior.checkpoints and prior.status not in ('queued', 'running'):
                        ui.button(_('Go on'), icon='play_arrow', on_click=lambda n=prior.name: self._start(n)) \
                            .props('flat dense').tooltip(_('Resume from its last checkpoint, up to the steps above'))
                    ui.button(_('Export with it'), icon='ios_share', on_click=lambda: ui.navigate.to('/export')) \
                        .props('flat dense') \
                        .tooltip(_('RAVE and this prior as one .ts: the Export page\'s prior option'))

    async def _start(self, resume: str) -> None:
        if not self.model or not self.model.run_id:
            return
        job = await attempt(self.play.train_prior, self.project.id, self.model.run_id, self.name.value or '',
                            fidelity=float(self.fidelity.value or 0.95), max_steps=int(self.steps.value or 2),
                            device=self.device.value, resume=resume, busy=self.train)
        if job is not None:
            ui.notify(_('The prior {name} is training (job {job}); its progress is in the jobs panel.').format(
                name=resume or self.name.value, job=job), type='positive')
            self.fill()
