"""A model's priors on its page: each with its status and steps, linked to its own page, and "Train a prior", a
dialog with the few settings that matter (name, steps, fidelity, device). Live by JobsChanged of their jobs."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components.status import status_chip
from pages.models.play.common import attempt
from services import formatting
from services.events import JobsChanged, Subscriber
from services.i18n import _, ngettext
from services.models.play import Play, PlayError
from services.projects import ProjectView

STEPS = 100_000  # RAVE's default is 1e6; a prior learns far fewer parameters than the model


def create(play: Play, events: Subscriber, project: ProjectView, run_id: int) -> None:
    """The "Priors" card of a model's page."""
    with ui.card().classes(theme.CARD + ' gap-2').mark('model-priors'):
        with ui.row().classes('w-full items-center gap-2'):
            ui.icon('timeline', color='primary').classes('text-xl')
            ui.label(_('Priors')).classes(theme.SECTION)
            ui.space()
            ui.button(_('Train a prior'), icon='add', on_click=lambda: _dialog(play, project, run_id)) \
                .props('unelevated color=primary').mark('train-prior')
        ui.label(_('A prior learns how the latents move in time, so the model plays on its own (the RAVE VST\'s '
                   'prior mode, generation without input). It trains with RAVE\'s own train_prior.')) \
            .classes(theme.HINT)
        listing = ui.column().classes('w-full gap-1').mark('prior-list')
    shown: set[int] = set()

    def fill() -> None:
        listing.clear()
        shown.clear()
        try:
            priors = play.priors(project.id, run_id)
        except PlayError as e:
            with listing:
                ui.label(str(e)).classes(theme.HINT)
            return
        with listing:
            if not priors:
                ui.label(_('No prior for this model yet.')).classes(theme.HINT)
            for prior in priors:
                shown.update(prior.jobs)
                reached = max((c.step or 0 for c in prior.steps()), default=0)
                with ui.row().classes('w-full items-center gap-3 no-wrap').mark(f'prior-{prior.name}'):
                    ui.link(prior.name, f'/models/{run_id}/priors/{prior.name}').classes('text-sm font-medium')
                    status_chip(prior.status)
                    ui.label(' · '.join((
                        _('step {done} of {total}').format(done=formatting.count(reached),
                                                            total=formatting.count(prior.max_steps)),
                        ngettext('{count} checkpoint', '{count} checkpoints', len(prior.checkpoints)).format(
                            count=len(prior.checkpoints)),
                        _('fidelity {value}').format(value=formatting.number(prior.fidelity))))) \
                        .classes(theme.HINT + ' grow truncate')

    fill()
    events.on(JobsChanged, lambda e: fill() if set(e.job_ids) & shown or _new_prior(e, play, project, shown, run_id)
              else None)


def _new_prior(event: JobsChanged, play: Play, project: ProjectView, shown: set[int], run_id: int) -> bool:
    """A job this card does not show yet may be a new training of one of the run's priors."""
    unknown = set(event.job_ids) - shown
    return bool(unknown) and any(set(p.jobs) & unknown for p in play.priors(project.id, run_id))


def _dialog(play: Play, project: ProjectView, run_id: int) -> None:
    devices = play.prior_devices()
    with ui.dialog() as dialog, ui.card().classes('w-[28rem] gap-3').mark('prior-dialog'):
        ui.label(_('Train a prior')).classes(theme.SECTION)
        name = ui.input(_('Name'), value='prior').props('outlined dense').classes('w-full').mark('prior-name')
        ui.label(_('Letters, digits, dots and dashes; unique in the project.')).classes(theme.HINT)
        steps = ui.number(_('Steps'), value=STEPS, min=2, step=1000, format='%d').props('outlined dense') \
            .classes('w-full').mark('prior-steps')
        ui.label(_('Training stops there; stop it earlier with a checkpoint, go on later.')).classes(theme.HINT)
        fidelity = ui.number(_('Fidelity'), value=0.95, min=0.5, max=0.999, step=0.01).props('outlined dense') \
            .classes('w-full').mark('prior-fidelity')
        ui.label(_('As the export\'s: the share of latent variance kept, which sets the prior\'s latent size.')) \
            .classes(theme.HINT)
        device = ui.select(devices, value='cpu', label=_('Device')).props('outlined dense').classes('w-full') \
            .mark('prior-device')
        ui.label(_('A GPU trains it far faster.') if len(devices) > 1 else
                 _('No GPU on this machine: the prior trains on the CPU.')).classes(theme.HINT)
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            start = ui.button(_('Start'), icon='model_training').props('unelevated color=primary').mark('start-prior')

        async def begin() -> None:
            job = await attempt(play.train_prior, project.id, run_id, (name.value or '').strip(),
                                fidelity=float(fidelity.value or 0.95), max_steps=int(steps.value or 2),
                                device=device.value, busy=start)
            if job is not None:
                dialog.close()
                ui.navigate.to(f'/models/{run_id}/priors/{name.value.strip()}')
        start.on_click(begin)
    dialog.open()
