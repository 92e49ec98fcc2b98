"""The checkpoint browser of a model page: every checkpoint with its step, the validation at that step and its
size; export it (the wizard opens with it picked), resume from it, measure it, delete it, or pick two for A/B
listening."""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from nicegui import ui

from app import theme
from pages.models import deletion
from pages.training import run_controls
from services import formatting
from services.i18n import N_, _, ngettext
from services.models import Models
from services.training import CheckpointView, RunView, Training

COLUMNS = 'grid-cols-[auto_auto_auto_auto_minmax(0,1fr)_auto]'


def create(models: Models, training: Training, run: RunView, *, on_measure: Callable[[str], None] | None = None,
           on_ab: Callable[[str], None] | None = None) -> list[CheckpointView]:
    rows = [c for c in training.checkpoints(run.id) if c.exists]
    with ui.card().classes(theme.CARD + ' gap-2').mark('checkpoint-browser'):
        with ui.row().classes('w-full items-center gap-2'):
            ui.label(_('Checkpoints')).classes(theme.SECTION)
            ui.label(ngettext('{count} on disk · {size}', '{count} on disk · {size}', len(rows)).format(
                count=len(rows), size=formatting.size(sum(c.size for c in rows)))).classes(theme.HINT)
        if not rows:
            ui.label(_('None on disk: RAVE writes one at each validation.')).classes(theme.HINT)
            return rows
        with ui.element('div').classes(f'w-full grid {COLUMNS} gap-x-4 gap-y-1 items-center text-sm'):
            for title in (N_('Kind'), N_('Step'), N_('Validation'), N_('Size'), N_('File'), ''):
                ui.label(_(title)).classes(theme.HINT + ' uppercase tracking-wide'
                                        + (' text-right' if title in ('Step', 'Validation', 'Size') else ''))
            for ckpt in sorted(rows, key=lambda c: -(c.step or 0)):
                _row(models, training, run, ckpt, on_measure, on_ab)
    return rows


def _row(models: Models, training: Training, run: RunView, ckpt: CheckpointView, on_measure, on_ab) -> None:
    with ui.row().classes('items-center gap-2 no-wrap'):
        ui.icon({'best': 'star', 'stop': 'stop_circle'}.get(ckpt.kind, 'save'), color='primary')
        ui.label(_(ckpt.kind)).classes('font-medium')
    ui.label(formatting.count(ckpt.step) if ckpt.step is not None else '—').classes(theme.NUMBER)
    ui.label(formatting.significant(ckpt.validation)) \
        .classes(theme.NUMBER + ' text-gray-500').tooltip(_('Validation at that step (lower is better)'))
    ui.label(formatting.size(ckpt.size)).classes(theme.NUMBER + ' whitespace-nowrap')
    ui.label(ckpt.where).classes(theme.MONO + ' truncate').tooltip(ckpt.path)
    with ui.row().classes('justify-end gap-0 no-wrap').mark(f'checkpoint-{ckpt.step}'):
        ui.button(icon='ios_share', on_click=lambda: ui.navigate.to(
            f'/export?run={run.id}&checkpoint={quote(ckpt.path)}')) \
            .props('flat dense round color=primary').tooltip(_('Export this checkpoint')).mark('checkpoint-export')
        ui.button(icon='fact_check', on_click=lambda: ui.navigate.to(
            f'/models/test?run={run.id}&checkpoint={quote(ckpt.path)}')) \
            .props('flat dense round color=primary').tooltip(_('Test it on audio')).mark('checkpoint-test')
        if on_measure is not None:
            ui.button(icon='analytics', on_click=lambda: on_measure(ckpt.path)) \
                .props('flat dense round color=primary').tooltip(_('Statistics and architecture of this checkpoint')) \
                .mark('checkpoint-measure')
        if on_ab is not None:
            ui.button(icon='compare', on_click=lambda: on_ab(ckpt.path)) \
                .props('flat dense round color=primary').tooltip(_('Pick it for A/B listening')).mark('checkpoint-ab')
        ui.button(icon='replay', on_click=lambda: run_controls.resume_dialog(training, run.id, ckpt.path)) \
            .props('flat dense round color=primary').tooltip(_('Resume the run from it')) \
            .mark('checkpoint-resume').set_enabled(not run.active)
        ui.button(icon='delete', on_click=lambda: deletion.delete_checkpoint(models, run.id, ckpt.path)) \
            .props('flat dense round color=grey').tooltip(_('Delete this checkpoint')).mark('checkpoint-delete') \
            .set_enabled(not run.active)
