"""The new-run wizard's last two steps: the review (every choice, gin's operative values, the checks, a memory
estimate, a diff with an earlier run, the equivalent command, save as template) and the launch summary."""
from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from app import theme
from pages.training import wizard_executor
from pages.training.wizard_steps import operative
from services import formatting
from services.i18n import _, ngettext
from services.training import RAVE_LR, RAVE_LR_DIS, RunSpec, TemplateError

if TYPE_CHECKING:
    from pages.training.wizard import Wizard


def review(wizard: Wizard) -> None:
    training, spec, answer = wizard.training, wizard.current(), wizard.answer or {}
    problems = training.validate(wizard.project.id, spec, answer)
    warns = training.warnings(wizard.project.id, spec, answer)
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-[3fr_2fr] gap-6'):
        with ui.column().classes('gap-2').mark('review'):
            ui.label(_('Your choices')).classes(theme.SECTION)
            with ui.element('div').classes('w-full grid grid-cols-[auto_1fr] gap-x-6 gap-y-1 text-sm'):
                for label, value in summary(spec, wizard.dataset):
                    ui.label(label).classes('text-gray-500')
                    ui.label(value).classes('font-medium break-words min-w-0')
            ui.label(_('Operative values (gin)')).classes(theme.SECTION + ' pt-3')
            operative(answer)
        with ui.column().classes('gap-3'):
            _checks(problems, warns)
            _memory(wizard, spec, answer)
            wizard_executor.review_line(wizard)
            _diff_panel(wizard, spec)
    command_block(wizard)
    with ui.row().classes('w-full items-center gap-2'):
        ui.button(_('Save as template'), icon='bookmark_add', on_click=lambda: _save_template(wizard)) \
            .props('outline color=primary no-caps').mark('save-template')
        ui.label(_('Keeps these choices (not the run name) for the next run of this project.')) \
            .classes(theme.HINT)


def launch_summary(wizard: Wizard) -> None:
    spec, dataset = wizard.spec, wizard.dataset
    with ui.column().classes('w-full items-center text-center gap-2 py-4').mark('ready'):
        ui.icon('rocket_launch', color='primary').classes('text-5xl')
        ui.label(_('Ready to train {run}').format(run=spec.name)).classes('text-xl font-semibold')
        ui.label(_('{configs} on {dataset} · {steps} · {devices}').format(
            configs=' + '.join(spec.configs), dataset=dataset.name if dataset else '?', devices=_devices(spec),
            steps=_steps(spec.max_steps))) \
            .classes('text-sm text-gray-600 dark:text-gray-300')
        ui.label(_('The run page opens with live charts; stop it any time with a checkpoint.')) \
            .classes(theme.HINT)
    command_block(wizard)


def command_block(wizard: Wizard) -> None:
    spec = wizard.current()
    try:
        command = wizard.training.command(wizard.project.id, spec)
    except ValueError as e:  # a model value that is not a gin literal: the checks above say which
        ui.label(_('No command yet: {error}').format(error=e)).classes(theme.HINT)
        return
    with ui.expansion(_('Equivalent RAVE command'), icon='terminal', value=True).classes('w-full text-sm'):
        ui.code(command.replace(' --', ' \\\n    --'),
                language='bash').classes('w-full text-xs').mark('command')
        if spec.env():
            ui.label(_("The learning-rate variables are read by the studio's training worker (plain `rave "
                       "train` always uses 0.001 / 0.0001).")).classes(theme.HINT)


def summary(spec: RunSpec, dataset) -> list[tuple[str, str]]:
    steps = _steps(spec.max_steps)
    return [(_('Run'), spec.name + (f' — {spec.description}' if spec.description else '')),
            (_('Dataset'),
             _('{dataset} ({examples}, {rate} kHz)').format(
                 dataset=dataset.name, rate=formatting.number((dataset.sr or 44100) / 1000),
                 examples=ngettext('{count} example', '{count} examples', dataset.n_examples or 0)
                 .format(count=formatting.count(dataset.n_examples)))
             if dataset else '—'),
            (_('Config'), ' + '.join(spec.configs)),
            (_('Augmentations'), ', '.join(spec.augment) or _('none')),
            (_('Overrides'), spec.summary()['overrides']),
            (_('Schedule'), _('{steps}, validate every {validate}, save every {save}').format(
                steps=steps, validate=formatting.count(spec.val_every),
                save=formatting.count(spec.save_every) if spec.save_every else _('500 000 (RAVE default)'))),
            (_('Data'), _('n_signal {samples} samples, batch {batch}, {channels}, {workers}').format(
                samples=formatting.count(spec.n_signal), batch=spec.batch,
                channels=ngettext('{count} channel', '{count} channels', spec.channels).format(count=spec.channels),
                workers=ngettext('{count} loader worker', '{count} loader workers', spec.workers)
                .format(count=spec.workers))),
            (_('Optimiser'), _('Adam {lr} / {lr_dis}, EMA {ema}').format(
                lr=formatting.significant(spec.lr or RAVE_LR),
                lr_dis=formatting.significant(spec.lr_dis or RAVE_LR_DIS),
                ema=formatting.significant(spec.ema, 5) if spec.ema else _('off'))),
            (_('Devices'), _devices(spec))]


# ---- helpers ----------------------------------------------------------------------------------------------
def _checks(problems: list[str], warns: list[str]) -> None:
    with ui.column().classes('w-full gap-1').mark('checks'):
        ui.label(_('Checks')).classes(theme.SECTION)
        if not problems and not warns:
            with ui.row().classes('items-center gap-2 text-sm text-positive'):
                ui.icon('check_circle')
                ui.label(_('Everything RAVE needs is in place.'))
        for problem in problems:
            with ui.row().classes('items-start gap-2 no-wrap text-sm text-negative'):
                ui.icon('error_outline').classes('mt-0.5')
                ui.label(problem)
        for warning in warns:
            with ui.row().classes('items-start gap-2 no-wrap text-sm text-warning').mark('warning'):
                ui.icon('warning_amber').classes('mt-0.5')
                ui.label(warning)


def _memory(wizard: Wizard, spec: RunSpec, answer: dict) -> None:
    estimate = wizard.training.memory(spec, answer, wizard.defaults.get('CAPACITY'))
    with ui.column().classes('w-full gap-0').mark('memory'):
        ui.label(_('GPU memory')).classes(theme.SECTION)
        if estimate is None:
            ui.label(_('No README figure for {config}: no estimate.').format(config=spec.base)).classes(theme.HINT)
            return
        ui.label(_('≈ {size} GB (estimate)').format(size=formatting.number(estimate['gb']))) \
            .classes('text-xl font-semibold tabular-nums')
        ui.label(estimate['basis']).classes(theme.HINT)


def _diff_panel(wizard: Wizard, spec: RunSpec) -> None:
    runs = {r.id: r for r in wizard.training.runs(wizard.project.id)}
    names = {**{r.dataset_id: r.dataset_name for r in runs.values()},
             **{d.id: d.name for d in wizard.datasets.values()}}
    with ui.column().classes('w-full gap-1').mark('diff'):
        ui.label(_('Compare with a previous run')).classes(theme.SECTION)
        if not runs:
            ui.label(_('No earlier run in this project.')).classes(theme.HINT)
            return
        pick = ui.select({i: r.name for i, r in runs.items()}, value=next(iter(runs)), label=_('Run')) \
            .props('outlined dense').classes('w-full').mark('diff-run')
        table = ui.column().classes('w-full gap-0')

        def draw() -> None:
            table.clear()
            rows = runs[pick.value].spec.diff(spec, names)
            with table:
                if not rows:
                    ui.label(_('Same choices as that run.')).classes(theme.HINT)
                with ui.element('div') \
                    .classes('w-full grid grid-cols-[auto_1fr_1fr] gap-x-3 gap-y-0.5 text-xs'):
                    for label, old, new in rows:
                        ui.label(_(label)).classes('text-gray-500')
                        ui.label(old).classes('font-mono line-through decoration-gray-400 break-all')
                        ui.label(new).classes('font-mono text-primary break-all')

        pick.on_value_change(draw)
        draw()


def _save_template(wizard: Wizard) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-96 gap-3'):
        ui.label(_('Save as template')).classes(theme.SECTION)
        name = ui.input(_('Template name')).props('outlined dense').classes('w-full').mark('template-name')
        ui.label(_('Offered on the first step of the next new run.')).classes(theme.HINT)
        message = ui.label('').classes('text-sm text-negative')

        def save() -> None:
            try:
                wizard.training.save_template(wizard.project.id, name.value or '', wizard.current(),
                                              wizard.spec.description)
            except TemplateError as e:
                message.set_text(str(e))
                return
            dialog.close()
            ui.notify(_('Template “{name}” saved.').format(name=name.value), type='positive')

        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            ui.button(_('Save'), on_click=save).props('unelevated color=primary').mark('template-save')
    dialog.open()


def _devices(spec: RunSpec) -> str:
    return ', '.join('CPU' if d == 'cpu' else d.replace('gpu:', 'GPU ') for d in spec.devices)



def _steps(count: int) -> str:
    return ngettext('{steps} step', '{steps} steps', count).format(steps=formatting.count(count))
