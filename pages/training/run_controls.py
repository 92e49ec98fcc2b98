"""Controls of training runs: the run page's action bar (pause, stop & save, cancel, resume from any
checkpoint, rerun), its attempts and automatic recovery, and the device queue of the Training page."""
from __future__ import annotations

from pathlib import Path

from nicegui import ui

from app import theme
from components import cards
from components.status import status_chip
from services import formatting
from services.access import Forbidden
from services.i18n import N_, _, ngettext
from services.jobs import Jobs
from services.system import System
from services.training import CheckpointView, RunView, Training, TrainingError

REASONS = {'start': ('play_circle', N_('Started')), 'resume': ('replay', N_('Resumed')),
           'recovery': ('healing', N_('Recovered after a crash')),
           'requeue': ('update', N_('Requeued by SLURM at its time limit (or a preemption), from its checkpoint'))}


def action_bar(training: Training, system: System, run: RunView) -> None:
    """The buttons that fit the run's state, right-aligned in the run header."""
    if run.status == 'queued':
        _queue_note(training, system, run)
    if run.status == 'running':
        ui.button(_('Pause'), icon='pause', on_click=lambda: _do(training.pause, run.id)) \
            .props('outline color=primary').mark('pause')
    elif run.status == 'paused':
        ui.button(_('Continue'), icon='play_arrow', on_click=lambda: _do(training.unpause, run.id)) \
            .props('unelevated color=primary').mark('unpause')
    if run.status in ('running', 'paused'):
        ui.button(_('Stop & save checkpoint'), icon='stop_circle', on_click=lambda: _stop(training, run)) \
            .props('outline color=primary').mark('stop-save')
    if run.active:
        ui.button(_('Cancel'), icon='close', on_click=lambda: _confirm_cancel(training, run)) \
            .props('flat color=negative').mark('cancel-run')
    else:
        checkpoints = training.checkpoints(run.id)
        if checkpoints:
            ui.button(_('Resume from…'), icon='replay', on_click=lambda: resume_dialog(training, run.id)) \
                .props('outline color=primary').mark('resume')
        _run_again(training, run, checkpoints)


def run_notes(training: Training, run: RunView) -> None:
    """One line under the header when the state needs words: paused, restarted after a crash, crashed."""
    allowed = run.spec.recover
    used = sum(a.reason == 'recovery' for a in training.attempts(run.id))
    if run.status == 'paused':
        paused = training.metrics(run.id).paused
        _note('pause_circle', 'text-warning',
              _('Paused between two steps: the model stays loaded; Continue picks up at the next step.') if paused
              else _('Pausing after the current step…'), 'paused-note')
    elif run.status in ('running', 'queued') and used:
        _note('healing', 'text-primary',
              _('Restarted automatically after a crash ({used} of {allowed} restarts used); see Attempts.')
              .format(used=used, allowed=allowed), 'recovered-note')
    elif run.status in ('failed', 'interrupted'):
        left = _('no automatic restart left') if allowed else _('automatic restart is off')
        _note('error', 'text-negative', _('It ended without finishing ({why}). "Resume from…" continues from '
              'any checkpoint.').format(why=left), 'crashed-note')


def attempts_card(training: Training, run: RunView) -> None:
    """Each process of the run (start, resumes, recoveries) and the automatic-recovery setting."""
    attempts = training.attempts(run.id)
    with ui.card().classes(theme.CARD + ' gap-3').mark('attempts'):
        with ui.row().classes('w-full items-center gap-2'):
            ui.label(_('Attempts')).classes(theme.SECTION)
            ui.space()
            _recovery_field(training, run)
        if not attempts:
            ui.label(_('None yet.')).classes(theme.HINT)
        for attempt in reversed(attempts):
            icon, label = REASONS.get(attempt.reason, ('play_arrow', attempt.reason))
            with ui.row().classes('w-full items-start gap-3 no-wrap text-sm') \
                .mark(f'attempt-{attempt.number}'):
                ui.icon(icon, color='primary').classes('mt-0.5')
                with ui.column().classes('gap-0 grow min-w-0'):
                    with ui.row().classes('items-center gap-2'):
                        ui.label(f'#{attempt.number}').classes('font-medium')
                        ui.label(_(label)).classes('font-medium')
                        status_chip(attempt.status)
                    start, end = _num(attempt.start_step), _num(attempt.end_step)
                    steps = (_('from step {start}').format(start=start) if attempt.end_step is None else
                             _('from step {start} to {end}').format(start=start, end=end))
                    where = f' · {Path(attempt.checkpoint).name}' if attempt.checkpoint else ''
                    ui.label(f'{formatting.moment(attempt.created)} · {steps}{where}').classes(theme.HINT)
                    if attempt.message and attempt.status not in ('done', 'running', 'paused', 'queued'):
                        ui.label(attempt.message).classes('text-xs text-negative break-words')


def resume_dialog(training: Training, run_id: int, checkpoint: str | None = None) -> None:
    """Pick any checkpoint (best, epoch, stop…) and how far to train, then continue the run from it."""
    run = training.run(run_id)
    rows = [c for c in training.checkpoints(run_id) if c.exists]
    if run is None or not rows:
        ui.notify(_('This run has no checkpoint left to resume from.'), type='negative')
        return
    newest = max(rows, key=lambda c: (c.step if c.step is not None else -1, c.created))
    options = {c.path: _checkpoint_label(c) for c in sorted(rows, key=lambda c: -(c.step or 0))}
    with cards.dialog_on_page() as dialog, ui.card().classes('w-[500px] gap-3').mark('resume-dialog'):
        ui.label(_('Resume {run}').format(run=run.name)).classes(theme.SECTION)
        picker = ui.select(options, value=checkpoint if checkpoint in options else newest.path,
                           label=_('Checkpoint')).props('outlined dense').classes('w-full') \
            .mark('resume-checkpoint')
        ui.label(_("Training continues from this checkpoint's step, with the same dataset and config; "
                   "every checkpoint is kept.")).classes(theme.HINT)
        steps = ui.number(_('Max steps'), min=1, format='%d', suffix=_('steps')).props('outlined dense') \
            .classes('w-full').mark('resume-steps')
        steps_hint = ui.label().classes(theme.HINT)

        def on_pick() -> None:
            start = next(c for c in rows if c.path == picker.value).step or 0
            steps.set_value(run.max_steps if run.max_steps > start else max(2 * run.max_steps, start + 1))
            steps_hint.set_text(_('It starts at step {step}; training ends at this step.').format(step=_num(start)))

        def go() -> None:
            try:
                training.resume(run_id, picker.value, int(steps.value or 0))
            except (TrainingError, Forbidden) as e:
                ui.notify(f'{e}', type='negative', multi_line=True)
                return
            dialog.close()
            ui.notify(_('Resumed: a new attempt continues from the checkpoint.'), type='positive')

        picker.on_value_change(on_pick)
        on_pick()
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            ui.button(_('Resume'), icon='replay',
                      on_click=go).props('unelevated color=primary').mark('resume-go')
    dialog.open()


def queue_panel(training: Training, jobs: Jobs, system: System, redraw) -> set[int]:
    """Trainings waiting for a device, per device, in start order; the user can move them up and down.

    Trainings on the SLURM cluster are listed beside them with their SLURM state. Returns the jobs it shows."""
    queued = training.queue()
    on_cluster = [j for j in jobs.active() if j.kind == 'train' and j.where]
    if not queued and not on_cluster:
        return set()
    devices = dict(system.devices())
    with ui.card().classes(theme.CARD + ' gap-3').mark('queue'):
        with ui.row().classes('w-full items-center gap-2'):
            ui.icon('schedule', color='primary')
            ui.label(_('Queue')).classes(theme.SECTION)
            ui.label(_('One training per device; the next in line starts when the device is free.')) \
                .classes(theme.HINT)
        for device in dict.fromkeys(q.device for q in queued):
            ui.label(_device_name(devices, device)).classes(theme.HINT + ' uppercase tracking-wide mt-1')
            for entry in (q for q in queued if q.device == device):
                _queued_row(training, jobs, entry, redraw)
        if on_cluster:
            ui.label(_('SLURM cluster')).classes(theme.HINT + ' uppercase tracking-wide mt-1')
            for job in on_cluster:
                with ui.row().classes('w-full items-center gap-2 no-wrap text-sm px-2 py-1 rounded-lg bg-gray-50 '
                                      'dark:bg-gray-900').mark(f'cluster-{job.id}'):
                    ui.icon('hourglass_top' if job.status == 'queued' else 'dns', color='primary')
                    ui.label(job.title).classes('font-medium truncate')
                    ui.label(job.where).classes(theme.HINT + ' grow truncate')
    return {q.job_id for q in queued} | {j.id for j in on_cluster}


# ---- helpers ----------------------------------------------------------------------------------------
def _run_again(training: Training, run: RunView, checkpoints: list[CheckpointView]) -> None:
    """One entry for running it again: a new run with the same settings (the wizard opens filled in), or this
    run continued from its best checkpoint (the resume dialog opens on it)."""
    best = max((c for c in checkpoints if c.kind == 'best' and c.exists), key=lambda c: c.step or -1, default=None)
    with ui.dropdown_button(_('Run again'), icon='content_copy', auto_close=True) \
            .props('flat color=primary').mark('rerun'):
        with ui.item(on_click=lambda: ui.navigate.to(f'/training/new?from={run.id}')).mark('rerun-same'):
            with ui.item_section().props('avatar'):
                ui.icon('tune', color='primary')
            with ui.item_section():
                ui.item_label(_('Same settings'))
                ui.item_label(_('A new run: the wizard opens with every choice of this one')).props('caption')
        continued = ui.item(on_click=lambda: resume_dialog(training, run.id, best.path)).mark('continue-best')
        with continued:
            with ui.item_section().props('avatar'):
                ui.icon('fast_forward', color='primary')
            with ui.item_section():
                ui.item_label(_('Continue from its best checkpoint'))
                ui.item_label(_('This run goes on from {where} (step {step})')
                              .format(where=best.where, step=_num(best.step)) if best else
                              _('No best checkpoint yet: RAVE writes one at the first validation')).props('caption')
        continued.set_enabled(best is not None)


def _queued_row(training: Training, jobs: Jobs, entry, redraw) -> None:
    key = entry.name if entry.run_id is not None else entry.job_id
    with ui.row().classes('w-full items-center gap-2 no-wrap text-sm px-2 py-1 rounded-lg bg-gray-50 '
                          'dark:bg-gray-900').mark(f'queued-{key}'):
        ui.label(f'{entry.place + 1}').classes('w-6 text-center font-semibold text-primary tabular-nums')
        ui.label(entry.name).classes('font-medium grow truncate cursor-pointer') \
            .on('click', lambda: entry.run_id and ui.navigate.to(f'/training/runs/{entry.run_id}'))
        if entry.run_id is not None:
            what = {'resume': _('resume') + ' · ', 'recovery': _('recovery') + ' · '}.get(entry.reason, '')
            steps = ngettext('{steps} step', '{steps} steps', entry.max_steps).format(steps=_num(entry.max_steps))
            ui.label(f'{what}{" + ".join(entry.configs)} · {steps}').classes(theme.HINT)

        def move(position: int) -> None:
            training.move(entry.job_id, position)
            redraw()

        ui.button(icon='arrow_upward', on_click=lambda: move(entry.place - 1)) \
            .props('flat dense round size=sm').tooltip(_('Move up')).mark(f'up-{key}') \
                .set_enabled(entry.place > 0)
        ui.button(icon='arrow_downward', on_click=lambda: move(entry.place + 1)) \
            .props('flat dense round size=sm').tooltip(_('Move down')).mark(f'down-{key}') \
            .set_enabled(entry.place < entry.length - 1)
        ui.button(icon='close', on_click=lambda: jobs.cancel(entry.job_id)) \
            .props('flat dense round size=sm color=negative').tooltip(_('Remove from the queue'))


def _note(icon: str, color: str, text: str, marker: str) -> None:
    with ui.row().classes(f'items-center gap-2 text-sm {color}').mark(marker):
        ui.icon(icon)
        ui.label(text)


def _recovery_field(training: Training, run: RunView) -> None:
    with ui.column().classes('gap-0 items-end'):
        ui.number(_('Restart after a crash'), value=run.spec.recover, min=0, max=20, format='%d', suffix=_('times'),
                  on_change=lambda e: _do(training.set_recovery, run.id, int(e.value or 0))) \
            .props('outlined dense').classes('w-48').mark('recover')
        ui.label(_('From the newest checkpoint; 0 = off.')).classes(theme.HINT)


def _queue_note(training: Training, system: System, run: RunView) -> None:
    position = training.queue_position(run.id)
    if position is None:
        return
    place, length = position
    device = _device_name(dict(system.devices()), run.spec.device)
    ui.label(_('Queued · next in line of {length} for {device}').format(length=length, device=device) if place == 0
             else _('Queued · number {place} in line of {length} for {device}').format(place=place + 1, length=length,
                                                                                    device=device)) \
        .classes('text-sm text-gray-600 dark:text-gray-300').mark('queue-position')


def _stop(training: Training, run: RunView) -> None:
    if _do(training.stop, run.id):
        ui.notify(_('Stopping: a checkpoint is saved after the current step.'), type='info')


async def _confirm_cancel(training: Training, run: RunView) -> None:
    text = (_('It leaves the queue and does not start.') if run.status == 'queued' else
            _('The process ends now without saving: training since the last checkpoint is lost. Use "Stop & save '
              'checkpoint" to keep it.'))
    if await cards.confirm(_('Cancel {run}?').format(run=run.name), text, yes=_('Cancel run'), no=_('Keep training'),
                           icon='close', mark='cancel-run'):
        _do(training.cancel, run.id)


def _do(action, *args) -> bool:
    """Run a facade action; a refusal becomes a notification, not a traceback."""
    try:
        action(*args)
    except (TrainingError, Forbidden) as e:
        ui.notify(str(e), type='negative', multi_line=True)
        return False
    return True


def _device_name(devices: dict[str, str], device: str) -> str:
    return ' + '.join(devices.get(s, s.upper()) for s in device.split(',') if s)


def _checkpoint_label(ckpt: CheckpointView) -> str:
    step = _('step {step}').format(step=_num(ckpt.step))
    return f'{_(ckpt.kind)} · {step} · {ckpt.where}'


def _num(n: int | None) -> str:
    return formatting.count(n)
