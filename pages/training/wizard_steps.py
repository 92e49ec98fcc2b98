"""What each step of the new-run wizard draws: the quick start, the dataset and config choices with gin's
composition preview, the parameters bound to the RunSpec, the review (checks, memory, diff, command)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import ui

from app import theme
from pages.training import wizard_executor
from services import formatting
from services.i18n import N_, _, ngettext
from services.training import MODEL_VALUES, RAVE_LR, RAVE_LR_DIS, RunSpec, configs, gin_text

if TYPE_CHECKING:
    from pages.training.wizard import Wizard

QUICK_START = (
    (N_('Pick a dataset'), N_('A ready dataset of this project: RAVE trains on random crops of it.')),
    (N_('Pick a config'),
     N_('A base architecture (v2_small for a first model), optional add-ons such as causal or snake, '
        'and augmentations. Gin checks the combination for real.')),
    (N_('Set the parameters'),
     N_('How long, how often to validate, crop length, batch, learning rate, device, and the '
        'model values worth changing.')),
    (N_('Review and launch'),
     N_('Every choice, the checks, a memory estimate and the exact `rave train` command; then '
        'watch it train live.')))


def quick_start(wizard: Wizard) -> None:
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-[3fr_2fr] gap-6').mark('intro'):
        with ui.column().classes('gap-3'):
            ui.label(_('Quick start')).classes(theme.SECTION)
            for n, (title, text) in enumerate(QUICK_START, start=1):
                with ui.row().classes('items-start gap-3 no-wrap'):
                    ui.label(str(n)) \
                        .classes('w-7 h-7 shrink-0 rounded-full bg-primary/10 text-primary text-sm '
                                             'font-semibold flex items-center justify-center')
                    with ui.column().classes('gap-0'):
                        ui.label(_(title)).classes('text-sm font-semibold')
                        ui.label(_(text)).classes('text-sm text-gray-600 dark:text-gray-300')
        with ui.column().classes('gap-3'):
            ui.label(_('Start from a template')).classes(theme.SECTION)
            templates = {t.name: t for t in wizard.training.templates(wizard.project.id)}
            if templates:
                pick = ui.select(list(templates), label=_('Template')).props('outlined dense clearable') \
                    .classes('w-full').mark('template')
                ui.label(_("Fills every later step with the template's choices; you can still change them.")) \
                    .classes(theme.HINT)
                pick.on_value_change(lambda e: e.value and wizard.apply(templates[e.value].spec))
            else:
                ui.label(_('No templates yet: "Save as template" on the Review step keeps a set of choices here.')) \
                    .classes(theme.HINT)
            with ui.row() \
                .classes('items-start gap-2 no-wrap rounded-lg bg-gray-50 dark:bg-gray-900 p-3 text-sm'):
                ui.icon('tips_and_updates', color='primary')
                ui.label(_("On a CPU expect a few steps per second at best: use it to try things out, train "
                           "real models on a GPU (v2 needs ~16 GB at RAVE's defaults)."))
            if not wizard.datasets:
                with ui.row().classes('items-center gap-2 text-negative text-sm').mark('no-dataset'):
                    ui.icon('error_outline')
                    ui.label(_('No ready dataset in this project yet.'))
                    ui.link(_('Build one'), '/datasets')


def dataset_choice(wizard: Wizard) -> None:
    ui.label(_('Which audio should the model learn?')).classes(theme.SECTION)
    ui.label(_('Only ready datasets of this project are listed.')).classes(theme.HINT)
    grid = ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-2 xl:grid-cols-3 gap-3') \
        .props('role=radiogroup')
    grid.props['aria-label'] = _('Dataset')

    def draw() -> None:
        grid.clear()
        with grid:
            for d in wizard.datasets.values():
                chosen = d.id == wizard.spec.dataset
                with ui.card().classes('p-3 gap-1 cursor-pointer rounded-xl border-2 shadow-none '
                                       + (f'border-[{theme.ACCENT}] bg-primary/5' if chosen else
                                          'border-gray-200 dark:border-gray-800 hover:border-primary/50')) \
                        .props(f'role=radio tabindex=0 aria-checked={"true" if chosen else "false"}') \
                        .on('click', lambda d=d: pick(d.id)).on('keydown.enter', lambda d=d: pick(d.id)) \
                        .mark(f'dataset-{d.name}'):
                    with ui.row().classes('w-full items-center gap-2 no-wrap'):
                        ui.icon('radio_button_checked' if chosen else 'radio_button_unchecked',
                                color='primary')
                        ui.label(d.name).classes('font-semibold truncate grow')
                    ui.label(' · '.join([_examples(d.n_examples), formatting.duration(d.n_seconds or 0),
                                        _khz(d.sr or 44100), _channels(d.channels)]
                                       + ([_('lazy')] if d.lazy else []))).classes(theme.HINT)
                    if d.on_cluster:
                        ui.label(_('On the cluster: for runs on the SLURM cluster only')).classes(theme.HINT) \
                            .mark(f'dataset-{d.name}-cluster')

    def pick(dataset_id: int) -> None:
        wizard.spec = wizard.spec.fitted(wizard.datasets[dataset_id])
        draw()

    draw()


def config_choice(wizard: Wizard) -> None:
    training, spec = wizard.training, wizard.spec
    status = training.verdicts() or {}
    custom = training.custom_configs(wizard.project.id)
    bases = {c.name: _(c.description) for c in training.catalogue('base')}
    bases.update({c.name: c.description or _('Custom config.') for c in custom if c.role == 'base'})
    addons = {c.name: _(c.description) for c in training.catalogue('addon')}
    addons.update({c.name: c.description or _('Custom add-on.') for c in custom if c.role == 'addon'})
    chosen = {'addons': list(spec.addons), 'augment': list(spec.augment)}
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-[1fr_1fr] gap-6'):
        with ui.column().classes('gap-3'):
            ui.label(_('Base')).classes(theme.SECTION)
            base = ui.select({n: n for n in bases}, value=spec.base if spec.base in bases else None,
                             label=_('Base config')).props('outlined dense').classes('w-full').mark('base')
            base_hint = ui.label(bases.get(spec.base, '')).classes(theme.HINT)
            ui.label(_('Add-ons')).classes(theme.SECTION + ' pt-2')
            _toggles(addons, status, chosen['addons'], 'addon', lambda: changed())
            ui.label(_('Augmentations')).classes(theme.SECTION + ' pt-2')
            _toggles({c.name: _(c.description) for c in training.catalogue('augmentation')}, status,
                     chosen['augment'],
                     'augment', lambda: changed())
            if not status:
                ui.label(_('The catalogue has not been checked with gin yet: broken configs are only found '
                           'when you choose them.')).classes(theme.HINT)
        with ui.card() \
            .classes('w-full p-4 gap-3 shadow-none border border-gray-200 dark:border-gray-800 rounded-xl '
                               'self-start lg:sticky lg:top-20').mark('preview'):
            preview = ui.column().classes('w-full gap-2')

    def changed() -> None:
        wizard.set(base=base.value or '', addons=tuple(chosen['addons']), augment=tuple(chosen['augment']))
        base_hint.set_text(bases.get(base.value, ''))
        wizard.entered = {}  # values of another composition no longer apply
        wizard.check(False)
        draw_preview()

    def draw_preview() -> None:
        preview.clear()
        with preview:
            composition_preview(wizard.latest(False), wizard.spec)

    base.on_value_change(changed)
    wizard.listeners[:] = [draw_preview]
    wizard.check(False)
    draw_preview()


def composition_preview(answer: dict | None, spec: RunSpec) -> None:
    """The operative values the run will use and what each add-on changed, from gin's parsed config."""
    ui.label(_('Composition preview')).classes(theme.SECTION)
    ui.label(' + '.join(spec.configs) + ''.join(_(' · augment {name}').format(name=a) for a in spec.augment)) \
        .classes(theme.MONO + ' text-gray-500')
    if answer is None:
        with ui.row().classes('items-center gap-2 text-sm text-gray-500').mark('checking'):
            ui.spinner(size='sm')
            ui.label(_('gin is reading this combination and building the model…'))
        return
    if not answer['ok']:
        with ui.row().classes('items-start gap-2 no-wrap text-sm text-negative').mark('composition-error'):
            ui.icon('block')
            ui.label(_('Does not work: {reason}').format(reason=configs.broken(answer))).classes('break-words min-w-0')
        return
    with ui.row().classes('items-center gap-2 text-sm text-positive').mark('composition-ok'):
        ui.icon('check_circle')
        ui.label(_('gin parses it and builds the model'))
    operative(answer)
    for step in answer.get('changes', [])[1:]:
        if step['changed']:
            with ui.expansion(ngettext('{config} changes {count} binding', '{config} changes {count} bindings',
                                       len(step['changed'])).format(config=step['config'], count=len(step['changed'])),
                              icon='difference') \
                    .classes('w-full text-sm').mark(f'changes-{step["config"]}'):
                for key, (before, after) in step['changed'].items():
                    with ui.row().classes('w-full gap-2 no-wrap text-xs font-mono'):
                        ui.label(key).classes('grow break-all')
                        ui.label(f'{"—" if before is None else before} → {after}') \
                            .classes('text-primary break-all')


def operative(answer: dict) -> None:
    m = answer.get('macros') or {}
    field_ = answer.get('receptive_field')
    sr = m.get('SAMPLING_RATE') or 44100
    compression = answer.get('compression')
    phase = m.get('PHASE_1_DURATION') or 0
    rows = [(_('Sampling rate'), _khz(sr)), (_('Capacity'), m.get('CAPACITY')),
            (_('Latent size'), m.get('LATENT_SIZE')), (_('Bands'), m.get('N_BAND')),
            (_('Ratios'), ' × '.join(map(str, m.get('RATIOS') or [])) or '—'),
            (_('Compression'),
             _('{ratio}× ({frames} latent frames/s)').format(ratio=compression,
                                                             frames=formatting.number(sr / compression, 1))
             if compression else '—'),
            (_('Phase 1'), ngettext('{steps} step', '{steps} steps', phase).format(steps=formatting.count(phase))),
            (_('Receptive field'), _('{past} ms ← x → {future} ms').format(past=round(1000 * field_[0] / sr),
                                                                          future=round(1000 * field_[1] / sr))
             if field_ else '—'),
            (_('Parameters'), _('{count} M (with the discriminator)').format(
                count=formatting.number(answer['parameters'] / 1e6, 2)) if answer.get('parameters') else '—')]
    with ui.element('div').classes('w-full grid grid-cols-[auto_1fr] gap-x-6 gap-y-1 text-sm') \
        .mark('operative'):
        for label, value in rows:
            ui.label(label).classes('text-gray-500')
            ui.label('—' if value is None else str(value)).classes('font-medium tabular-nums')


def parameters(wizard: Wizard) -> None:
    answer = wizard.preview or {}
    wizard.defaults = {**(answer.get('macros') or {}), **(answer.get('settings') or {})}
    dataset = wizard.dataset
    if dataset is not None and dataset.sr and 'SAMPLING_RATE' not in wizard.entered:
        # train at the dataset's rate (an override if it differs)
        wizard.entered['SAMPLING_RATE'] = dataset.sr
    sr = (dataset.sr if dataset else None) or 44100
    count = (dataset.channels if dataset else 1) or 1
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-2 gap-x-8 gap-y-4'):
        with ui.column().classes('gap-2'):
            ui.label(_('Run')).classes(theme.SECTION)
            _field(ui.input(_('Run name'), placeholder=_('e.g. violin_v2small')), wizard, 'name',
                   _('Names the run folder (<name>_<config hash>); letters, digits, . _ - only.'))
            _field(ui.input(_('Description'), placeholder=_('What you are trying')), wizard, 'description',
                   _('Optional; shown with the run.'))
            ui.label(_('Schedule')).classes(theme.SECTION + ' pt-2')
            with ui.element('div').classes('w-full grid grid-cols-3 gap-x-3'):
                _field(ui.number(_('Max steps'), min=1, format='%d', suffix=_('steps')), wizard, 'max_steps',
                       _('Training ends here.'), int)
                _field(ui.number(_('Validate every'), min=1, format='%d', suffix=_('steps')), wizard, 'val_every',
                       _('Also writes a checkpoint.'), int)
                _field(ui.number(_('Save every'), min=1, format='%d', suffix=_('steps')), wizard, 'save_every',
                       _("Extra epoch checkpoints; empty: RAVE's 500 000."), int)
            ui.label(_('Data')).classes(theme.SECTION + ' pt-2')
            with ui.element('div').classes('w-full grid grid-cols-2 gap-x-3'):
                _field(ui.number(_('Crop length (n_signal)'), min=512, step=512, format='%d',
                                 suffix=_('samples')), wizard,
                       'n_signal',
                       _('Samples per example ({seconds} s at {rate}).').format(
                           seconds=formatting.number(wizard.spec.n_signal / sr, 2), rate=_khz(sr)),
                       int)
                _field(ui.number(_('Batch'), min=1, format='%d', suffix=_('examples')), wizard, 'batch',
                       _('Examples per step; lower it if memory runs out.'), int)
                _field(ui.select({c: _channels(c).capitalize() for c in range(1, count + 1)},
                                 label=_('Channels')),
                       wizard, 'channels', _('The dataset has {count}.').format(count=count), int)
                _field(ui.number(_('Data loader workers'), min=0, max=32, format='%d', suffix=_('processes')),
                       wizard,
                       'workers', _('0 reads in the training process.'), int)
        with ui.column().classes('gap-2'):
            ui.label(_('Optimiser and devices')).classes(theme.SECTION)
            with ui.element('div').classes('w-full grid grid-cols-2 gap-x-3'):
                _field(ui.number(_('Learning rate'), min=0, step=0.0001, format='%.6g', value=RAVE_LR), wizard,
                       'lr',
                       _('Generator Adam; RAVE uses 0.001.'), float)
                _field(ui.number(_('Discriminator rate'), min=0, step=0.00001, format='%.6g', value=RAVE_LR_DIS),
                       wizard, 'lr_dis', _('Discriminator Adam; RAVE uses 0.0001.'), float)
                _field(ui.number(_('EMA'), min=0, max=0.99999, step=0.001, format='%.5g', placeholder=_('off')),
                       wizard,
                       'ema', _('Weight averaging, e.g. 0.999; empty: off.'), float)
                _field(ui.select(dict(wizard.system.devices()), multiple=True,
                                 label=_('Devices')).props('use-chips'),
                       wizard, 'devices', _('CPU, or one or several GPUs (--gpu N each).'), tuple)
            wizard_executor.executor_choice(wizard)
            ui.label(_('Model values')).classes(theme.SECTION + ' pt-2')
            ui.label(_('From the composition; a changed value is passed as --override.')).classes(theme.HINT)
            with ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-3 gap-x-3').mark('macros'):
                for value in MODEL_VALUES:
                    _model_value(wizard, value)
            _bindings(wizard)


def show_problems(container: ui.column, problems: list[str]) -> None:
    container.clear()
    with container:
        for problem in problems:
            with ui.row().classes('items-start gap-2 no-wrap text-negative text-sm'):
                ui.icon('error_outline').classes('mt-0.5')
                ui.label(problem)


# ---- helpers ----------------------------------------------------------------------------------------------
def _toggles(options: dict, status: dict, chosen: list, mark: str, on_change) -> None:
    for name, description in options.items():
        verdict = status.get(name)
        broken = verdict is not None and not verdict['ok']
        with ui.column().classes('w-full gap-0'):
            box = ui.checkbox(name, value=name in chosen).props(f'dense data-testid={mark}-{name}') \
                .classes('font-mono text-sm').mark(f'{mark}-{name}')
            with ui.column().classes('gap-0 pl-7 pb-1 min-w-0'):
                ui.label(description).classes('text-xs text-gray-600 dark:text-gray-300')
                if broken:
                    ui.label(_('Broken: {reason}').format(reason=configs.broken(verdict))) \
                        .classes('text-xs text-negative break-words')
                elif verdict and configs.warning(verdict):
                    ui.label(_('Works, but {warning}').format(warning=configs.warning(verdict))) \
                        .classes('text-xs text-warning break-words')
            if broken:
                box.disable()

        def toggle(e, n=name) -> None:
            if e.value and n not in chosen:
                chosen.append(n)
            elif not e.value and n in chosen:
                chosen.remove(n)
            on_change()

        box.on_value_change(toggle)


def _model_value(wizard: Wizard, value) -> None:
    shown = wizard.entered.get(value.key, wizard.defaults.get(value.key))
    with ui.column().classes('w-full gap-0'):
        box = ui.input(_(value.label), value=gin_text(shown),
                       on_change=lambda e, k=value.key: wizard.entered.__setitem__(k, e.value)) \
            .props('outlined dense').classes('w-full').mark(f'macro-{value.key}')
        if value.unit:
            box.props['suffix'] = _(value.unit)
        ui.label(_(value.hint)).classes(theme.HINT + ' mb-2')


def _bindings(wizard: Wizard) -> None:
    may = wizard.training.may_edit_code(wizard.project.id)
    with ui.column().classes('w-full gap-0'):
        box = ui.textarea(_('Other gin bindings'), placeholder='RAVE.valid_signal_crop = True',
                          value='\n'.join(wizard.spec.bindings),
                          on_change=lambda e: wizard.set(bindings=tuple((e.value or '').splitlines()))) \
            .props('outlined dense rows=2').classes('w-full').mark('extra')
        ui.label(_('One binding per line, passed as --override. Gin can run Python: you are asked to confirm '
                   'before it runs them.') if may else
                 _('One binding per line, passed as --override. Gin can run Python: you are asked to confirm '
                   'before it runs them; on this shared studio only admins may add them.')) \
            .classes(theme.HINT + ' mb-2')
    if not may:
        box.disable()


def _field(element, wizard: Wizard, key: str, hint: str, cast=None):
    """A form field bound to the spec's `key`, with its one-line hint below."""
    with ui.column().classes('w-full gap-0') as box:
        element.move(box)
        element.props('outlined dense').classes('w-full').mark(key)
        ui.label(hint).classes(theme.HINT + ' mb-2')
    current = getattr(wizard.spec, key)
    if current is not None:
        element.value = list(current) if isinstance(current, tuple) else current

    def store(e) -> None:
        value = e.value
        if cast and value not in (None, ''):
            try:
                value = cast(value)
            except (TypeError, ValueError):
                return
        wizard.set(**{key: _empty(key, value)})

    element.on_value_change(store)
    return element


def _empty(key: str, value: Any) -> Any:
    """What an emptied field means: nothing (RAVE's default) for optional values, 0 for required numbers."""
    if value not in (None, ''):
        return value
    return None if key in ('save_every', 'ema', 'lr', 'lr_dis') else '' if key in ('name',
                                                                                   'description') else 0


def _channels(count: int | None) -> str:
    if count in (1, 2):
        return _('mono') if count == 1 else _('stereo')
    return ngettext('{count} channel', '{count} channels', count or 0).format(count=count)


def _khz(rate: float) -> str:
    return _('{rate} kHz').format(rate=formatting.number(rate / 1000))


def _examples(count: int | None) -> str:
    if count is None:
        return _('? examples')
    return ngettext('{count} example', '{count} examples', count).format(count=formatting.count(count))
