"""Controls of training runs: the run page's action bar (pause, stop & save, cancel, resume from any
checkpoint), its attempts and automatic recovery, and the device queue of the Training page."""
from __future__ import annotations

from pathlib import Path

from nicegui import ui

from app import theme
from components.status import status_chip
from services.jobs import slots_of
from services.store import Checkpoint, Run
from services.training.runs import spec_of

ACTIVE = ('running', 'paused', 'queued')
REASONS = {'start': ('play_circle', 'Started'), 'resume': ('replay', 'Resumed'),
           'recovery': ('healing', 'Recovered after a crash')}


def action_bar(studio, run: Run) -> None:
    """The buttons that fit the run's state, right-aligned in the run header."""
    training = studio.training
    if run.status == 'queued':
        _queue_note(studio, run)
    if run.status == 'running':
        ui.button('Pause', icon='pause', on_click=lambda: training.pause(training.get(run.id))) \
            .props('outline color=primary').mark('pause')
    elif run.status == 'paused':
        ui.button('Continue', icon='play_arrow', on_click=lambda: training.unpause(training.get(run.id))) \
            .props('unelevated color=primary').mark('unpause')
    if run.status in ('running', 'paused'):
        ui.button('Stop & save checkpoint', icon='stop_circle', on_click=lambda: _stop(studio, run)) \
            .props('outline color=primary').mark('stop-save')
    if run.status in ACTIVE:
        ui.button('Cancel', icon='close', on_click=lambda: _confirm_cancel(studio, run)) \
            .props('flat color=negative').mark('cancel-run')
    elif training.checkpoints(run):
        ui.button('Resume from…', icon='replay', on_click=lambda: resume_dialog(studio, run)) \
            .props('outline color=primary').mark('resume')


def run_notes(studio, run: Run) -> None:
    """One line under the header when the state needs words: paused, restarted after a crash, crashed."""
    allowed = int(spec_of(run).recover or 0)
    used = sum(a.reason == 'recovery' for a in studio.training.attempts(run))
    if run.status == 'paused':
        paused = studio.training.metrics(run).paused
        _note('pause_circle', 'text-warning', 'Paused between two steps: the model stays loaded; Continue picks up '
              'at the next step.' if paused else 'Pausing after the current step…', 'paused-note')
    elif run.status in ('running', 'queued') and used:
        _note('healing', 'text-primary', f'Restarted automatically after a crash ({used} of {allowed} restarts '
              'used); see Attempts.', 'recovered-note')
    elif run.status in ('failed', 'interrupted'):
        left = 'no automatic restart left' if allowed else 'automatic restart is off'
        _note('error', 'text-negative', f'It ended without finishing ({left}). "Resume from…" continues from '
              'any checkpoint.', 'crashed-note')


def attempts_card(studio, run: Run) -> None:
    """Each process of the run (start, resumes, recoveries) and the automatic-recovery setting."""
    attempts = studio.training.attempts(run)
    with ui.card().classes(theme.CARD + ' gap-3').mark('attempts'):
        with ui.row().classes('w-full items-center gap-2'):
            ui.label('Attempts').classes(theme.SECTION)
            ui.space()
            _recovery_field(studio, run)
        if not attempts:
            ui.label('None yet.').classes(theme.HINT)
        for attempt in reversed(attempts):
            icon, label = REASONS.get(attempt.reason, ('play_arrow', attempt.reason))
            with ui.row().classes('w-full items-start gap-3 no-wrap text-sm').mark(f'attempt-{attempt.number}'):
                ui.icon(icon, color='primary').classes('mt-0.5')
                with ui.column().classes('gap-0 grow min-w-0'):
                    with ui.row().classes('items-center gap-2'):
                        ui.label(f'#{attempt.number} {label}').classes('font-medium')
                        status_chip(attempt.status)
                    steps = f'from step {_num(attempt.start_step)}'
                    if attempt.end_step is not None:
                        steps += f' to {_num(attempt.end_step)}'
                    where = f' · {Path(attempt.checkpoint).name}' if attempt.checkpoint else ''
                    ui.label(f'{attempt.created:%d %b, %H:%M:%S} · {steps}{where}').classes(theme.HINT)
                    if attempt.message and attempt.status not in ('done', 'running', 'paused', 'queued'):
                        ui.label(attempt.message).classes('text-xs text-negative break-words')


def resume_dialog(studio, run: Run, checkpoint: str | None = None) -> None:
    """Pick any checkpoint (best, epoch, stop…) and how far to train, then continue the run from it."""
    run = studio.training.get(run.id)
    rows = [c for c in studio.training.checkpoints(run) if Path(c.path).exists()]
    if not rows:
        ui.notify('This run has no checkpoint left to resume from.', type='negative')
        return
    newest = max(rows, key=lambda c: (c.step if c.step is not None else -1, c.created))
    options = {c.path: _checkpoint_label(c) for c in sorted(rows, key=lambda c: -(c.step or 0))}
    with ui.dialog() as dialog, ui.card().classes('w-[500px] gap-3').mark('resume-dialog'):
        ui.label(f'Resume {run.name}').classes(theme.SECTION)
        picker = ui.select(options, value=checkpoint if checkpoint in options else newest.path,
                           label='Checkpoint').props('outlined dense').classes('w-full').mark('resume-checkpoint')
        ui.label('Training continues from this checkpoint\'s step, with the same dataset and config; '
                 'every checkpoint is kept.').classes(theme.HINT)
        steps = ui.number('Max steps', min=1, format='%d', suffix='steps').props('outlined dense') \
            .classes('w-full').mark('resume-steps')
        steps_hint = ui.label().classes(theme.HINT)

        def on_pick() -> None:
            chosen = next(c for c in rows if c.path == picker.value)
            start = chosen.step or 0
            max_steps = spec_of(run).max_steps
            steps.set_value(max_steps if max_steps > start else max(2 * max_steps, start + 1))
            steps_hint.set_text(f'It starts at step {_num(start)}; training ends at this step.')

        def go() -> None:
            try:
                studio.training.resume(studio.training.get(run.id), picker.value, int(steps.value or 0))
            except Exception as e:  # noqa: BLE001 — TrainingError, or a checkpoint gone meanwhile
                ui.notify(f'{e}', type='negative', multi_line=True)
                return
            dialog.close()
            ui.notify('Resumed: a new attempt continues from the checkpoint.', type='positive')

        picker.on_value_change(on_pick)
        on_pick()
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Cancel', on_click=dialog.close).props('flat')
            ui.button('Resume', icon='replay', on_click=go).props('unelevated color=primary').mark('resume-go')
    dialog.open()


def queue_panel(studio, project) -> None:
    """Trainings waiting for a device, per device, in start order; the user can move them up and down."""
    queued = [j for j in studio.jobs.queued() if j.kind == 'train']  # devices are shared by every project
    if not queued:
        return
    devices = dict(studio.monitor.devices())
    with ui.card().classes(theme.CARD + ' gap-3').mark('queue'):
        with ui.row().classes('w-full items-center gap-2'):
            ui.icon('schedule', color='primary')
            ui.label('Queue').classes(theme.SECTION)
            ui.label('One training per device; the next in line starts when the device is free.') \
                .classes(theme.HINT)
        for device in dict.fromkeys(j.device for j in queued):
            line = [j for j in queued if j.device == device]
            name = ' + '.join(devices.get(s, s.upper()) for s in slots_of(device))
            ui.label(name).classes(theme.HINT + ' uppercase tracking-wide mt-1')
            for place, job in enumerate(line):
                run = studio.training.get((job.spec or {}).get('run'))
                with ui.row().classes('w-full items-center gap-2 no-wrap text-sm px-2 py-1 rounded-lg '
                                      'bg-gray-50 dark:bg-gray-900').mark(f'queued-{run.name if run else job.id}'):
                    ui.label(f'{place + 1}').classes('w-6 text-center font-semibold text-primary tabular-nums')
                    ui.label(run.name if run else job.title).classes('font-medium grow truncate cursor-pointer') \
                        .on('click', lambda r=run: r and ui.navigate.to(f'/training/runs/{r.id}'))
                    if run is not None:
                        what = {'Resume': 'resume · ', 'Recover': 'recovery · '}.get(job.title.split(' ')[0], '')
                        ui.label(f'{what}{" + ".join(run.configs)} · {_num(spec_of(run).max_steps)} steps') \
                            .classes(theme.HINT)
                    key = run.name if run else job.id
                    ui.button(icon='arrow_upward', on_click=lambda j=job, p=place: _move(studio, j.id, p - 1)) \
                        .props('flat dense round size=sm').tooltip('Move up').mark(f'up-{key}') \
                        .set_enabled(place > 0)
                    ui.button(icon='arrow_downward', on_click=lambda j=job, p=place: _move(studio, j.id, p + 1)) \
                        .props('flat dense round size=sm').tooltip('Move down').mark(f'down-{key}') \
                        .set_enabled(place < len(line) - 1)
                    ui.button(icon='close', on_click=lambda j=job: studio.jobs.cancel(j.id)) \
                        .props('flat dense round size=sm color=negative').tooltip('Remove from the queue')


# ---- helpers ----------------------------------------------------------------------------------------
def _note(icon: str, color: str, text: str, marker: str) -> None:
    with ui.row().classes(f'items-center gap-2 text-sm {color}').mark(marker):
        ui.icon(icon)
        ui.label(text)


def _recovery_field(studio, run: Run) -> None:
    def save(e) -> None:
        studio.training.set_recovery(studio.training.get(run.id), int(e.value or 0))

    with ui.column().classes('gap-0 items-end'):
        ui.number('Restart after a crash', value=int(spec_of(run).recover or 0), min=0, max=20, format='%d',
                  suffix='times', on_change=save).props('outlined dense').classes('w-48').mark('recover')
        ui.label('From the newest checkpoint; 0 = off.').classes(theme.HINT)


def _queue_note(studio, run: Run) -> None:
    position = studio.training.queue_position(run)
    if position is None:
        return
    place, length = position
    device = ' + '.join(dict(studio.monitor.devices()).get(s, s.upper()) for s in slots_of(spec_of(run).device))
    text = 'next in line' if place == 0 else f'{_ordinal(place + 1)} in line'
    ui.label(f'Queued · {text} of {length} for {device}').classes('text-sm text-gray-600 dark:text-gray-300') \
        .mark('queue-position')


def _stop(studio, run: Run) -> None:
    studio.training.stop(studio.training.get(run.id))
    ui.notify('Stopping: a checkpoint is saved after the current step.', type='info')


def _confirm_cancel(studio, run: Run) -> None:
    run = studio.training.get(run.id)
    with ui.dialog() as dialog, ui.card().classes('w-[420px] gap-3'):
        ui.label(f'Cancel {run.name}?').classes(theme.SECTION)
        if run.status == 'queued':
            ui.label('It leaves the queue and does not start.').classes('text-sm')
        else:
            ui.label('The process ends now without saving: training since the last checkpoint is lost. '
                     'Use "Stop & save checkpoint" to keep it.').classes('text-sm')

        def confirm() -> None:
            studio.training.cancel(studio.training.get(run.id))
            dialog.close()

        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Keep training', on_click=dialog.close).props('flat')
            ui.button('Cancel run', icon='close', on_click=confirm).props('unelevated color=negative') \
                .mark('cancel-confirm')
    dialog.open()


def _move(studio, job_id: int, position: int) -> None:
    studio.jobs.reorder(job_id, max(0, position))


def _checkpoint_label(ckpt: Checkpoint) -> str:
    step = f'step {_num(ckpt.step)}' if ckpt.step is not None else 'step —'
    return f'{ckpt.kind} · {step} · {Path(ckpt.path).parent.parent.name}/{Path(ckpt.path).name}'


def _ordinal(n: int) -> str:
    return f'{n}{"th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")}'


def _num(n: int | None) -> str:
    return '—' if n is None else f'{n:,}'.replace(',', ' ')
