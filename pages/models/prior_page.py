"""One prior of a model, as a run's page is: status and progress, live charts of `latent_prediction` and
`validation`, the audio each validation generated, stop with a checkpoint, go on from it, its checkpoints.

Live by events: JobsChanged of one of its jobs reads its new metric lines (the charts append them) and, when its
status or checkpoints changed, redraws the parts that depend on them. Testing the prior (an export per
checkpoint, generation at a temperature and seed, two checkpoints side by side) is pages/models/prior_testing.py.
"""
from __future__ import annotations

from nicegui import ui

from app import theme
from components import cards
from components.audio import audio_card, media_url
from components.job_console import job_console
from components.metric_chart import MetricChart, extend_all
from components.status import status_chip
from pages.models import prior_testing
from pages.models.play.common import attempt
from services import formatting
from services.events import JobsChanged, Subscriber
from services.i18n import N_, _
from services.jobs import Jobs
from services.models import Models
from services.models.play import Play, PlayError, PriorView
from services.projects import ProjectView
from services.training import MetricsView, Training

CHARTS = ((N_('Latent prediction'), 'latent_prediction', 0.6,
           N_('Cross-entropy of the next latent frame on training batches; it falls as the prior learns.')),
          (N_('Validation'), 'val/validation', 0.0, N_('The same on held-out audio; the lowest is best.ckpt.')))
SHOWN_GENERATIONS = 6


def create(play: Play, jobs: Jobs, models: Models, training: Training, events: Subscriber, project: ProjectView,
           run_id: str, prior: str) -> None:
    run = training.run(run_id, project.id)
    try:
        found = play.prior(project.id, run.id, prior) if run is not None else None
    except PlayError:
        found = None
    if run is None or found is None:
        cards.empty_state('search_off', _('No such prior'),
                          _('It may belong to another model or project. A model\'s page lists its priors and '
                            'trains new ones.'),
                          [cards.Action(_('All models'), 'inventory_2', '/models')])
        return
    _PriorPage(play, jobs, models, events, project, run.name, found)


class _PriorPage:
    def __init__(self, play: Play, jobs: Jobs, models: Models, events: Subscriber, project: ProjectView,
                 run_name: str, prior: PriorView) -> None:
        self.play, self.jobs, self.events, self.project = play, jobs, events, project
        self.run_name, self.prior = run_name, prior
        self.metrics: MetricsView = play.prior_metrics(prior)
        self.seen = (prior.status, prior.checkpoints, prior.job_id)
        self.header()
        self.summary()
        self.console = ui.column().classes('w-full')
        self.show_console()
        with ui.element('div').classes('w-full grid grid-cols-1 xl:grid-cols-2 gap-4').mark('prior-charts'):
            self.charts = [self.chart(*spec) for spec in CHARTS]
        self.checkpoints = ui.column().classes('w-full gap-2').mark('prior-checkpoints')
        self.generations = ui.column().classes('w-full gap-2').mark('prior-generations')
        self.fill()
        self.testing = prior_testing.PriorTesting(play, models, events, project, prior, run_name)
        events.on(JobsChanged, self.changed)

    # ---- parts -------------------------------------------------------------------------------------------
    def header(self) -> None:
        prior = self.prior
        with ui.row().classes('w-full items-center gap-3'):
            ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to(f'/models/{prior.run_id}')) \
                .props('flat round dense').tooltip(_('Back to {name}').format(name=self.run_name)) \
                .props['aria-label'] = _('Back to the model')
            with ui.column().classes('gap-0'):
                ui.label(prior.name).classes(theme.TITLE).mark('prior-name')
                ui.label(_('Prior of {name} · fidelity {fidelity} · {device}').format(
                    name=self.run_name, fidelity=formatting.number(prior.fidelity),
                    device=self.play.prior_devices().get(prior.device, prior.device))).classes(theme.SUBTITLE)
            self.chip = ui.row().classes('items-center')
            ui.space()
            self.resume = ui.row().classes('items-center gap-2').mark('prior-resume')

    def summary(self) -> None:
        with ui.card().classes(theme.CARD + ' gap-2').mark('prior-summary'):
            with ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-5 gap-4'):
                self.cells = {key: _figure(_(label)) for key, label in (
                    ('step', N_('Step')), ('rate', N_('Speed')), ('eta', N_('Remaining')),
                    ('loss', N_('Latent prediction')), ('val', N_('Validation')))}
            self.bar = ui.linear_progress(value=0, show_value=False).props('rounded size=10px color=primary') \
                .mark('prior-progress')
            self.note = ui.label('').classes(theme.HINT)

    def chart(self, title: str, key: str, smoothing: float, hint: str) -> MetricChart:
        with ui.card().classes(theme.CARD + ' gap-1').mark(f'chart-{key.removeprefix("val/")}'):
            ui.label(_(title)).classes(theme.SECTION)
            ui.label(_(hint)).classes(theme.HINT)
            return MetricChart(lambda: self.metrics, [key], smoothing=smoothing, height='h-56')

    def show_console(self) -> None:
        self.console.clear()
        if self.prior.job_id is None:
            return
        with self.console, ui.card().classes(theme.CARD + ' gap-1').mark('prior-job'):
            ui.label(_('Job')).classes(theme.SECTION)
            job_console(self.jobs, self.events, self.prior.job_id, height='h-40',
                        stop_label=_('Stop with a checkpoint'))

    # ---- live --------------------------------------------------------------------------------------------
    def changed(self, event: JobsChanged) -> None:
        if not set(event.job_ids) & {*self.prior.jobs, self.prior.job_id}:
            return
        try:
            self.prior = self.play.prior(self.project.id, self.prior.run_id, self.prior.name)
        except PlayError:
            return  # deleted meanwhile
        self.metrics = self.play.prior_metrics(self.prior)
        extend_all(self.charts, self.metrics)
        seen = (self.prior.status, self.prior.checkpoints, self.prior.job_id)
        if seen != self.seen:
            job_changed = seen[2] != self.seen[2]
            self.seen = seen
            if job_changed:
                self.show_console()
            self.fill()
            self.testing.update(self.prior)
        else:
            self.figures()

    def fill(self) -> None:
        """What depends on the status and the checkpoints: the chip, resume, generations, checkpoints."""
        self.chip.clear()
        with self.chip:
            status_chip(self.prior.status)
        self.fill_resume()
        self.figures()
        self.fill_generations()
        self.fill_checkpoints()

    def figures(self) -> None:
        series, prior = self.metrics, self.prior
        total = series.max_steps or prior.max_steps
        step, running = series.step, prior.status == 'running'
        self.cells['step'].set_text(f'{formatting.count(step)} / {formatting.count(total)}' if total else '—')
        self.cells['rate'].set_text(f'{formatting.number(series.rate, 2)} it/s' if series.rate and running else '—')
        eta = (total - step) / series.rate if series.rate and running and total else None
        self.cells['eta'].set_text(formatting.duration(eta) if eta is not None else '—')
        for cell, key in (('loss', 'latent_prediction'), ('val', 'val/validation')):
            value = series.latest(key)
            self.cells[cell].set_text(formatting.significant(value))
        self.bar.set_value(min(1.0, step / total) if total else 0.0)
        self.note.set_text(prior.message if prior.status in ('failed', 'interrupted') and prior.message else
                           _('RAVE validates (and generates audio, writes best.ckpt and last.ckpt) every '
                             'validation interval; a stop writes a checkpoint to go on from.'))

    def fill_resume(self) -> None:
        self.resume.clear()
        prior = self.prior
        if prior.active or not prior.checkpoints:
            return
        reached = max((c.step or 0 for c in prior.steps()), default=0)
        with self.resume:
            steps = ui.number(_('Up to step'), value=max(prior.max_steps, reached * 2, reached + 1), min=reached + 1,
                              step=1000, format='%d').props('outlined dense').classes('w-36').mark('resume-steps')
            steps.tooltip(_('Training goes on from step {step} (its newest checkpoint).').format(
                step=formatting.count(reached)))
            button = ui.button(_('Go on'), icon='play_arrow').props('unelevated color=primary').mark('resume-prior')
            button.on_click(lambda: self.go_on(int(steps.value or 0), button))

    async def go_on(self, max_steps: int, button: ui.button) -> None:
        job = await attempt(self.play.train_prior, self.project.id, self.prior.run_id, '', resume=self.prior.name,
                            max_steps=max_steps, device=self.prior.device, busy=button)
        if job is not None:
            ui.notify(_('The prior {name} goes on training (job {job}).').format(name=self.prior.name, job=job),
                      type='positive')
            self.changed(JobsChanged((job,)))

    def fill_generations(self) -> None:
        self.generations.clear()
        found = self.play.prior_generations(self.prior)
        with self.generations:
            ui.label(_('Generated audio')).classes(theme.SECTION)
            if not found:
                ui.label(_('Each validation generates a few seconds with the prior and the model; they appear here '
                           '(RAVE logs them to TensorBoard as "generation").')).classes(theme.HINT)
            with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-2 xl:grid-cols-3 gap-3'):
                for generation in found[:SHOWN_GENERATIONS]:
                    audio_card(_('Step {step}').format(step=formatting.count(generation.step)),
                               media_url(self.project, generation.path),
                               generation.envelope, generation.seconds, caption=_('prior → decode'),
                               marker=f'generation-{generation.step}')
            if len(found) > SHOWN_GENERATIONS:
                ui.label(_('The newest {shown} of {count}; every one is a WAV under '
                           '{folder}/version_N/generation/.').format(
                    shown=SHOWN_GENERATIONS, count=len(found), folder=self.prior.folder)).classes(theme.HINT)

    def fill_checkpoints(self) -> None:
        self.checkpoints.clear()
        with self.checkpoints, ui.card().classes(theme.CARD + ' gap-1'):
            ui.label(_('Checkpoints')).classes(theme.SECTION)
            found = self.prior.steps()
            if not found:
                ui.label(_('None yet: RAVE writes best.ckpt and last.ckpt at each validation, the studio a stop '
                           'checkpoint when you stop it.')).classes(theme.HINT)
            for checkpoint in found:
                with ui.row().classes('w-full items-center gap-3 no-wrap').mark(f'prior-ckpt-{checkpoint.kind}'):
                    ui.label(_(checkpoint.kind)).classes('text-sm font-medium w-16')
                    step = _('step {step}').format(step=formatting.count(checkpoint.step)) \
                        if checkpoint.step is not None else '—'
                    ui.label(step).classes(f'text-sm w-24 {theme.NUMBER}')
                    ui.label(checkpoint.path.relative_to(self.prior.folder).as_posix()) \
                        .classes(theme.MONO + ' grow truncate')


def _figure(label: str) -> ui.label:
    with ui.column().classes('gap-0'):
        ui.label(label).classes(theme.HINT)
        return ui.label('—').classes(f'text-lg font-semibold {theme.NUMBER}')
