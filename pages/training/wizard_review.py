"""The new-run wizard's last two steps: the review (every choice, gin's operative values, the checks, a memory
estimate, a diff with an earlier run, the equivalent command, save as template) and the launch summary."""
from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from app import theme
from pages.training import wizard_executor
from pages.training.wizard_steps import operative
from services import formatting
from services.training import RAVE_LR, RAVE_LR_DIS, RunSpec, TemplateError

if TYPE_CHECKING:
    from pages.training.wizard import Wizard


def review(wizard: Wizard) -> None:
    training, spec, answer = wizard.training, wizard.current(), wizard.answer or {}
    problems = training.validate(wizard.project.id, spec, answer)
    warns = training.warnings(wizard.project.id, spec, answer)
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-[3fr_2fr] gap-6'):
        with ui.column().classes('gap-2').mark('review'):
            ui.label('Your choices').classes(theme.SECTION)
            with ui.element('div').classes('w-full grid grid-cols-[auto_1fr] gap-x-6 gap-y-1 text-sm'):
                for label, value in summary(spec, wizard.dataset):
                    ui.label(label).classes('text-gray-500')
                    ui.label(value).classes('font-medium break-words min-w-0')
            ui.label('Operative values (gin)').classes(theme.SECTION + ' pt-3')
            operative(answer)
        with ui.column().classes('gap-3'):
            _checks(problems, warns)
            _memory(wizard, spec, answer)
            wizard_executor.review_line(wizard)
            _diff_panel(wizard, spec)
    command_block(wizard)
    with ui.row().classes('w-full items-center gap-2'):
        ui.button('Save as template', icon='bookmark_add', on_click=lambda: _save_template(wizard)) \
            .props('outline color=primary no-caps').mark('save-template')
        ui.label('Keeps these choices (not the run name) for the next run of this project.') \
            .classes(theme.HINT)


def launch_summary(wizard: Wizard) -> None:
    spec, dataset = wizard.spec, wizard.dataset
    with ui.column().classes('w-full items-center text-center gap-2 py-4').mark('ready'):
        ui.icon('rocket_launch', color='primary').classes('text-5xl')
        ui.label(f'Ready to train {spec.name}').classes('text-xl font-semibold')
        ui.label(f'{" + ".join(spec.configs)} on {dataset.name if dataset else "?"} · '
                 f'{formatting.count(spec.max_steps)} steps · {_devices(spec)}').classes('text-sm text-gray-600 '
                                                                             'dark:text-gray-300')
        ui.label('The run page opens with live charts; stop it any time with a checkpoint.') \
            .classes(theme.HINT)
    command_block(wizard)


def command_block(wizard: Wizard) -> None:
    spec = wizard.current()
    try:
        command = wizard.training.command(wizard.project.id, spec)
    except ValueError as e:  # a model value that is not a gin literal: the checks above say which
        ui.label(f'No command yet: {e}').classes(theme.HINT)
        return
    with ui.expansion('Equivalent RAVE command', icon='terminal', value=True).classes('w-full text-sm'):
        ui.code(command.replace(' --', ' \\\n    --'),
                language='bash').classes('w-full text-xs').mark('command')
        if spec.env():
            ui.label('The learning-rate variables are read by the studio\'s training worker (plain `rave '
                     'train` always uses 0.001 / 0.0001).').classes(theme.HINT)


def summary(spec: RunSpec, dataset) -> list[tuple[str, str]]:
    return [('Run', spec.name + (f' — {spec.description}' if spec.description else '')),
            ('Dataset',
             f'{dataset.name} ({dataset.n_examples} examples, {(dataset.sr or 44100) / 1000:g} kHz)'
             if dataset else '—'),
            ('Config', ' + '.join(spec.configs)),
            ('Augmentations', ', '.join(spec.augment) or 'none'),
            ('Overrides', spec.summary()['overrides']),
            ('Schedule', (f'{spec.max_steps} steps, validate every {spec.val_every}, save every '
                         f'{spec.save_every or "500000 (RAVE default)"}')),
            ('Data', (f'n_signal {spec.n_signal} samples, batch {spec.batch}, {spec.channels} channel(s), '
                     f'{spec.workers} loader worker(s)')),
            ('Optimiser',
             f'Adam {spec.lr or RAVE_LR:g} / {spec.lr_dis or RAVE_LR_DIS:g}, EMA {spec.ema or "off"}'),
            ('Devices', _devices(spec))]


# ---- helpers ----------------------------------------------------------------------------------------------
def _checks(problems: list[str], warns: list[str]) -> None:
    with ui.column().classes('w-full gap-1').mark('checks'):
        ui.label('Checks').classes(theme.SECTION)
        if not problems and not warns:
            with ui.row().classes('items-center gap-2 text-sm text-positive'):
                ui.icon('check_circle')
                ui.label('Everything RAVE needs is in place.')
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
        ui.label('GPU memory').classes(theme.SECTION)
        if estimate is None:
            ui.label(f'No README figure for {spec.base}: no estimate.').classes(theme.HINT)
            return
        ui.label(f'≈ {estimate["gb"]:g} GB (estimate)').classes('text-xl font-semibold tabular-nums')
        ui.label(estimate['basis'] + '.').classes(theme.HINT)


def _diff_panel(wizard: Wizard, spec: RunSpec) -> None:
    runs = {r.id: r for r in wizard.training.runs(wizard.project.id)}
    names = {**{r.dataset_id: r.dataset_name for r in runs.values()},
             **{d.id: d.name for d in wizard.datasets.values()}}
    with ui.column().classes('w-full gap-1').mark('diff'):
        ui.label('Compare with a previous run').classes(theme.SECTION)
        if not runs:
            ui.label('No earlier run in this project.').classes(theme.HINT)
            return
        pick = ui.select({i: r.name for i, r in runs.items()}, value=next(iter(runs)), label='Run') \
            .props('outlined dense').classes('w-full').mark('diff-run')
        table = ui.column().classes('w-full gap-0')

        def draw() -> None:
            table.clear()
            rows = runs[pick.value].spec.diff(spec, names)
            with table:
                if not rows:
                    ui.label('Same choices as that run.').classes(theme.HINT)
                with ui.element('div') \
                    .classes('w-full grid grid-cols-[auto_1fr_1fr] gap-x-3 gap-y-0.5 text-xs'):
                    for label, old, new in rows:
                        ui.label(label).classes('text-gray-500')
                        ui.label(old).classes('font-mono line-through decoration-gray-400 break-all')
                        ui.label(new).classes('font-mono text-primary break-all')

        pick.on_value_change(draw)
        draw()


def _save_template(wizard: Wizard) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-96 gap-3'):
        ui.label('Save as template').classes(theme.SECTION)
        name = ui.input('Template name').props('outlined dense').classes('w-full').mark('template-name')
        ui.label('Offered on the first step of the next new run.').classes(theme.HINT)
        message = ui.label('').classes('text-sm text-negative')

        def save() -> None:
            try:
                wizard.training.save_template(wizard.project.id, name.value or '', wizard.current(),
                                              wizard.spec.description)
            except TemplateError as e:
                message.set_text(str(e))
                return
            dialog.close()
            ui.notify(f'Template "{name.value}" saved.', type='positive')

        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Cancel', on_click=dialog.close).props('flat')
            ui.button('Save', on_click=save).props('unelevated color=primary').mark('template-save')
    dialog.open()


def _devices(spec: RunSpec) -> str:
    return ', '.join('CPU' if d == 'cpu' else d.replace('gpu:', 'GPU ') for d in spec.devices)

