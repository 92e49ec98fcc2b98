"""What the export pages share: the stage stepper, the verdict chip, labels of checkpoints and targets."""
from __future__ import annotations

from nicegui import ui

from app import theme
from services import formatting
from services.i18n import N_, _, ngettext
from services.models import ExportView, TargetView
from services.training import CheckpointView

VERDICT = {'ready': ('positive', 'check_circle'), 'caveat': ('warning', 'info'), 'offline': ('grey-7', 'cloud_off'),
           'no': ('negative', 'block')}
VERDICT_WORDS = {'ready': N_('ready'), 'caveat': N_('caveat'), 'offline': N_('offline'), 'no': N_('no')}
TARGET_ICONS = {'nn~': 'cable', 'vst': 'piano', 'neutone': 'tune', 'onnx': 'hub', 'explorer': 'graphic_eq',
                'custom': 'tune'}
# the flags of `rave export` as a user reads them
FLAG_WORDS = {'streaming': N_('streaming'), 'fidelity': N_('fidelity'), 'channels': N_('channels'),
              'sr': N_('sample rate'), 'ema_weights': N_('EMA weights'), 'prior': N_('prior')}


def stage_steps(export: ExportView) -> None:
    """The export's stages in order: done ones ticked, the current one spinning, a failed one crossed."""
    stages = export.stages or (N_('export'), N_('verify'))
    current = _current_index(export, stages)
    with ui.row().classes('items-center gap-1 flex-wrap').mark(f'stages-{export.id}'):
        for i, stage in enumerate(stages):
            if export.status == 'done' or i < current:
                color, icon = 'positive', 'check'
            elif i == current and export.status in ('failed', 'cancelled'):
                color, icon = 'negative', 'close'
            elif i == current:
                color, icon = 'primary', 'autorenew'
            else:
                color, icon = 'grey-5', 'radio_button_unchecked'
            chip = ui.chip(_(stage), icon=icon, color=color, text_color='white' if color != 'grey-5' else None) \
                .props('dense square' + (' outline' if color == 'grey-5' else '')).classes('text-xs')
            if i == current and export.status == 'running' and export.progress is not None:
                percent = f'{formatting.number(export.progress * 100, 0)} %'
                chip.tooltip(f'{export.detail} ({percent})' if export.detail else percent)
            if i < len(stages) - 1:
                ui.icon('chevron_right').classes('text-gray-400')
        if export.status == 'running' and export.detail:
            ui.label(export.detail).classes(theme.HINT + ' ml-2').mark('stage-detail')


def verdict_chip(export: ExportView) -> None:
    if export.status == 'done':
        ui.chip(_('verified'), icon='verified', color='positive', text_color='white').props('dense square') \
            .classes('text-xs').mark('verified')
    elif export.verified == 'failed':
        failed = sum(1 for c in export.checks if c.ok is False)
        ui.chip(ngettext('{count} check failed', '{count} checks failed', failed).format(count=failed),
                icon='gpp_bad', color='negative', text_color='white').props('dense square').classes('text-xs') \
            .mark('verification-failed')


def host_chip(verdict: str) -> None:
    color, icon = VERDICT.get(verdict, ('grey-7', 'help'))
    ui.chip(_(VERDICT_WORDS.get(verdict, verdict)), icon=icon, color=color, text_color='white') \
        .props('dense square').classes('text-xs')


def checkpoint_label(checkpoint: CheckpointView) -> str:
    """What a checkpoint is: kind, step, the validation logged at that step, where it lies, its size."""
    if not checkpoint.exists:
        return _('{where} (missing)').format(where=checkpoint.where)
    step = _('step {step}').format(step=formatting.count(checkpoint.step)) if checkpoint.step is not None \
        else _('step ?')
    shown = ' · ' + _('validation {value}').format(value=formatting.significant(checkpoint.validation)) \
        if checkpoint.validation is not None else ''
    return f'{_(checkpoint.kind)} · {step}{shown} · {checkpoint.where} · {formatting.size(checkpoint.size)}'


def flag_words(export: ExportView) -> str:
    """The flags an export was made with, as a user reads them (`streaming, fidelity 0.95`)."""
    words = [_(FLAG_WORDS.get(k, k)) + ('' if v is True else f' {flag_value(v)}') for k, v in export.options
             if v not in (None, False)]
    return ', '.join(words) or _("RAVE's defaults")


def target_title(targets: list[TargetView], name: str) -> str:
    return next((_(t.title) for t in targets if t.name == name), name)


def flag_value(value: object) -> str:
    """A flag's value as a user reads it: a figure with the language's decimal mark."""
    return formatting.number(value) if isinstance(value, float) else str(value)


def _current_index(export: ExportView, stages: tuple[str, ...]) -> int:
    if export.status == 'done':
        return len(stages)
    stage = export.stage
    if stage in stages:
        return stages.index(stage)
    if stage == 'wrap' and 'wrap' in stages:
        return stages.index('wrap')
    if stage == 'verify':
        return len(stages) - 1
    if export.status in ('failed', 'cancelled') and export.reached:
        last = export.reached[-1]
        return stages.index(last) if last in stages else 0
    return 0
