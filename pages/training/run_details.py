"""A run's Details tab: what it is (the full RunSpec, RAVE's operative config.gin, the equivalent `rave train`
command, description, dataset, the machine it trained on, its device time) and its deletion (running it again,
with the same settings or from its best checkpoint, is the header's "Run again" menu: run_controls.py).

Built when the tab first opens: the config file and the job's first metrics lines are read then, not on every
visit of the run page.
"""
from __future__ import annotations

from nicegui import ui

from app import theme
from pages.models import deletion
from services import formatting
from services.access import Forbidden
from services.i18n import N_, _
from services.models import Models
from services.training import RunView, Training, TrainingError
from services.training.experiments import Experiments
from services.training.views import RunDetails

# the RunSpec's fields as a person reads them, in order (the rest follow under their own names)
LABELS = {'name': N_('Name'), 'description': N_('Description'), 'dataset': N_('Dataset (id)'),
          'base': N_('Base config'), 'addons': N_('Add-ons'), 'augment': N_('Augmentations'),
          'macros': N_('Model values'), 'bindings': N_('Extra bindings'), 'max_steps': N_('Max steps'),
          'val_every': N_('Validate every'), 'save_every': N_('Save every'), 'n_signal': N_('n_signal (samples)'),
          'batch': N_('Batch'), 'channels': N_('Channels'), 'devices': N_('Devices'),
          'workers': N_('Data workers'), 'ema': N_('EMA'), 'lr': N_('Learning rate'),
          'lr_dis': N_('Discriminator rate'), 'recover': N_('Automatic recoveries')}  # shown through _()


def tab(training: Training, experiments: Experiments, models: Models, run: RunView):
    """The tab's builder for run_monitor.create: draws on first open."""
    def build(is_open):
        body = ui.column().classes('w-full gap-4').mark('details-tab')

        def show() -> None:
            if not body.default_slot.children:
                with body:
                    create(training, experiments, models, run)
        return show
    return build


def create(training: Training, experiments: Experiments, models: Models, run: RunView) -> None:
    try:
        details = experiments.details(run.id)
    except (TrainingError, Forbidden) as e:
        ui.label(str(e)).classes('text-sm text-negative')
        return
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-2 gap-4'):
        _about(details)
        _life(models, run)
    _command(details)
    _spec(details)
    _config(details)


def _about(details: RunDetails) -> None:
    with ui.card().classes(theme.CARD + ' gap-2').mark('details-about'):
        ui.label(_('About this run')).classes(theme.SECTION)
        if details.spec.description:
            ui.label(details.spec.description).classes('text-sm')
        with ui.element('div').classes('grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm'):
            ui.label(_('Dataset')).classes(theme.HINT)
            if details.dataset_id is not None:
                ui.link(details.dataset_name, f'/datasets/{details.dataset_id}').mark('details-dataset')
            else:
                ui.label(_('not recorded (a plain `rave train` folder names none)')).classes(theme.HINT)
            ui.label(_('Training time')).classes(theme.HINT)
            ui.label(formatting.duration(details.seconds) if details.seconds else '—').classes(theme.MONO)
            ui.label(_('Device time')).classes(theme.HINT)
            ui.label(details.device_time.label if details.device_time else '—').classes(theme.MONO) \
                .mark('details-device-time') \
                .tooltip(_('Training time × devices: GPU-hours on GPUs, CPU-hours on the CPU'))
            machine = details.machine
            for label, value in ((_('Host'), machine.host), (_('Device'), machine.device), ('PyTorch', machine.torch),
                                 ('RAVE', machine.rave)):
                ui.label(label).classes(theme.HINT)
                ui.label(value or '—').classes(theme.MONO)
        if not details.machine.recorded:
            ui.label(_('The machine was not recorded: plain `rave train` does not write it.') if details.imported else
                     _('The machine was not recorded: the run started before the studio recorded it; the device is the '
                       'one it asked for.')) \
                .classes(theme.HINT).mark('machine-unrecorded')


def _life(models: Models, run: RunView) -> None:
    with ui.card().classes(theme.CARD + ' gap-2').mark('details-life'):
        ui.label(_('Delete')).classes(theme.SECTION)
        ui.label(_('Removes the run from the studio; its folder and exports only when you ask. The dialog names '
                   'everything that goes. "Run again" in the header starts it anew or continues it.')) \
            .classes(theme.HINT)
        with ui.row().classes('gap-2'):
            ui.button(_('Delete…'), icon='delete', on_click=lambda: deletion.delete_run(models, run.id, '/training')) \
                .props('flat color=negative').mark('delete-run').set_enabled(not run.active)


def _command(details: RunDetails) -> None:
    with ui.card().classes(theme.CARD + ' gap-2').mark('details-command'):
        ui.label(_('The same run with the plain RAVE command line')).classes(theme.SECTION)
        ui.code(details.command, language='bash').classes('w-full text-xs')


def _spec(details: RunDetails) -> None:
    values = details.spec.to_dict()
    with ui.card().classes(theme.CARD + ' gap-2').mark('details-spec'):
        ui.label(_('Every choice (RunSpec)')).classes(theme.SECTION)
        ui.label(_('Every choice of the run as the studio keeps it (the wizard, rerun and resume read it).')) \
            .classes(theme.HINT)
        with ui.element('div').classes('grid grid-cols-[auto_1fr] md:grid-cols-[auto_1fr_auto_1fr] gap-x-4 '
                                       'gap-y-1 text-sm'):
            for key in [*LABELS, *(k for k in values if k not in LABELS)]:
                if key in values:
                    ui.label(_(LABELS[key]) if key in LABELS else key).classes(theme.HINT)
                    ui.label(_value(values[key])).classes(theme.MONO + ' break-all')


def _config(details: RunDetails) -> None:
    with ui.card().classes(theme.CARD + ' gap-2').mark('details-config'):
        with ui.expansion(_('Operative config.gin'), icon='description').classes('w-full') \
                .props('dense header-class="text-base font-medium"'):
            if details.config_gin:
                ui.label(details.config_path).classes(theme.MONO + ' text-gray-500')
                ui.code(details.config_gin, language='python').classes('w-full text-xs max-h-[32rem] overflow-auto')
            else:
                ui.label(_('RAVE writes it into the run folder when training starts.')).classes(theme.HINT)


def _value(value) -> str:
    if value in (None, '', [], {}, ()):
        return '—'
    if isinstance(value, dict):
        return ', '.join(f'{k}={v}' for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ', '.join(str(v) for v in value)
    return str(value)
