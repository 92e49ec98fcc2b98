"""The new-run wizard's steps: what each one draws, the gin checker behind the config step, and the choices
turned into `TrainingService.start` arguments, overrides, a template or a diff against an earlier run."""
from __future__ import annotations

import asyncio
import json

from nicegui import run, ui

from app import theme
from pages.training.configs import may_edit
from services.training import configs
from services.store import Run
from services.training.templates import TemplateError
from services.training.runs import learning_rate_env

# the config values worth exposing (RAVE_NOTES §3), as `--override` names them: (key, label, hint, suffix)
MACRO_FIELDS = (
    ('SAMPLING_RATE', 'Sampling rate', 'Keep it equal to the dataset\'s rate.', 'Hz'),
    ('CAPACITY', 'Capacity', 'Channel width: quality, memory and time grow with it.', ''),
    ('N_BAND', 'PQMF bands', 'Sub-bands the audio is split into (a power of 2).', 'bands'),
    ('LATENT_SIZE', 'Latent size', 'Dimensions of the latent space.', 'dims'),
    ('RATIOS', 'Ratios', 'Down-sampling ratios; compression = bands × their product.', ''),
    ('PHASE_1_DURATION', 'Phase 1 length', 'Warm-up steps before adversarial training starts.', 'steps'),
    ('NOISE_AUGMENTATION', 'Noise augmentation', 'Noise dimensions added to the latent (0 = off).', 'dims'),
    ('BetaWarmupCallback.initial_value', 'β start', 'KL weight at step 0.', ''),
    ('BetaWarmupCallback.target_value', 'β target', 'KL weight once the β warm-up is over.', ''),
    ('BetaWarmupCallback.warmup_len', 'β warm-up', 'Steps from β start to β target.', 'steps'),
    ('RAVE.update_discriminator_every', 'Discriminator every', 'Train the discriminator every N steps.', 'steps'),
)
DIFF_KEYS = (('dataset', 'Dataset'), ('configs', 'Configs'), ('augment', 'Augmentations'),
             ('overrides', 'Overrides'), ('max_steps', 'Max steps'), ('val_every', 'Validate every'),
             ('save_every', 'Save every'), ('n_signal', 'n_signal'), ('batch', 'Batch'), ('channels', 'Channels'),
             ('device', 'Device'), ('workers', 'Workers'), ('lr', 'Learning rate'), ('ema', 'EMA'))


def initial_state(studio, datasets: dict) -> dict:
    first = next(iter(datasets.values()), None)
    return {'dataset': first.id if first else None, 'base': 'v2_small', 'addons': [], 'augment': [],
            'macros': {}, 'extra': '', 'name': '', 'description': '', 'max_steps': 100000, 'val_every': 1000,
            'save_every': None, 'n_signal': 131072, 'batch': 8, 'channels': (first.channels if first else 1) or 1,
            'workers': 0, 'lr': 0.001, 'lr_dis': 0.0001, 'ema': None,
            'devices': [studio.settings.get('default_device') or 'cpu'], 'ui': {}}


class Checker:
    """Runs the gin worker for the current composition, once per distinct composition, off the event loop."""

    def __init__(self, studio, project, state: dict) -> None:
        self.studio, self.project, self.state = studio, project, state
        self.answers: dict[str, dict] = {}
        self.tasks: dict[str, asyncio.Task] = {}
        self.listeners: list = []

    def composition(self, with_overrides: bool) -> dict:
        s = self.state
        custom = {c['name']: c['path'] for c in self.studio.templates.configs(self.project)}
        return {'configs': [custom.get(n, n) for n in [s['base'], *s['addons']]], 'augment': list(s['augment']),
                'override': overrides(s) if with_overrides else [], 'channels': int(s['channels'] or 1),
                'receptive_field': True}

    def start(self, with_overrides: bool = False) -> asyncio.Task:
        comp = self.composition(with_overrides)
        key = json.dumps(comp, sort_keys=True)
        if key not in self.tasks:
            self.tasks[key] = asyncio.create_task(self._run(key, comp))
        return self.tasks[key]

    def latest(self, with_overrides: bool = False) -> dict | None:
        return self.answers.get(json.dumps(self.composition(with_overrides), sort_keys=True))

    async def wait(self) -> dict | None:
        return await self.start(False)

    async def final(self) -> dict | None:
        answer = await self.start(True)
        self.state['answer'] = answer
        return answer

    async def _run(self, key: str, comp: dict) -> dict:
        try:
            answer = (await run.io_bound(configs.check, self.studio.settings.python, [comp]))[0]
        except (RuntimeError, OSError, ValueError) as e:
            answer = {'ok': False, 'stage': 'worker', 'error': {'message': str(e)}}
        self.answers[key] = answer
        for listener in list(self.listeners):
            listener()
        return answer


# ---- steps ------------------------------------------------------------------------------------------------
def quick_start(studio, project, state: dict, datasets: dict) -> None:
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-[3fr_2fr] gap-6').mark('intro'):
        with ui.column().classes('gap-3'):
            ui.label('Quick start').classes(theme.SECTION)
            for n, (title, text) in enumerate((
                    ('Pick a dataset', 'A ready dataset of this project: RAVE trains on random crops of it.'),
                    ('Pick a config', ('A base architecture (v2_small for a first model), optional add-ons such '
                                       'as causal or snake, and augmentations. Gin checks the combination for real.')),
                    ('Set the parameters', ('How long, how often to validate, crop length, batch, learning rate, '
                                            'device, and the model values worth changing.')),
                    ('Review and launch', ('Every choice, the checks, a memory estimate and the exact `rave train` '
                                           'command; then watch it train live.'))), start=1):
                with ui.row().classes('items-start gap-3 no-wrap'):
                    ui.label(str(n)).classes('w-7 h-7 shrink-0 rounded-full bg-primary/10 text-primary text-sm '
                                             'font-semibold flex items-center justify-center')
                    with ui.column().classes('gap-0'):
                        ui.label(title).classes('text-sm font-semibold')
                        ui.label(text).classes('text-sm text-gray-600 dark:text-gray-300')
        with ui.column().classes('gap-3'):
            ui.label('Start from a template').classes(theme.SECTION)
            templates = {t['name']: t for t in studio.templates.templates(project)}
            if templates:
                pick = ui.select(list(templates), label='Template').props('outlined dense clearable') \
                    .classes('w-full').mark('template')
                ui.label('Fills every later step with the template\'s choices; you can still change them.') \
                    .classes(theme.HINT)
                pick.on_value_change(lambda e: e.value and apply_choices(state, templates[e.value]['choices'],
                                                                         datasets))
            else:
                ui.label('No templates yet: "Save as template" on the Review step keeps a set of choices here.') \
                    .classes(theme.HINT)
            with ui.row().classes('items-start gap-2 no-wrap rounded-lg bg-gray-50 dark:bg-gray-900 p-3 text-sm'):
                ui.icon('tips_and_updates', color='primary')
                ui.label('On a CPU expect a few steps per second at best: use it to try things out, train real '
                         'models on a GPU (v2 needs ~16 GB at RAVE\'s defaults).')
            if not datasets:
                with ui.row().classes('items-center gap-2 text-negative text-sm').mark('no-dataset'):
                    ui.icon('error_outline')
                    ui.label('No ready dataset in this project yet.')
                    ui.link('Build one', '/datasets')


def dataset_choice(state: dict, datasets: dict) -> None:
    ui.label('Which audio should the model learn?').classes(theme.SECTION)
    ui.label('Only ready datasets of this project are listed.').classes(theme.HINT)
    grid = ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-2 xl:grid-cols-3 gap-3')

    def draw() -> None:
        grid.clear()
        with grid:
            for d in datasets.values():
                chosen = d.id == state['dataset']
                with ui.card().classes('p-3 gap-1 cursor-pointer rounded-xl border-2 shadow-none '
                                       + (f'border-[{theme.ACCENT}] bg-primary/5' if chosen else
                                          'border-gray-200 dark:border-gray-800 hover:border-primary/50')) \
                        .on('click', lambda d=d: pick(d.id)).mark(f'dataset-{d.name}'):
                    with ui.row().classes('w-full items-center gap-2 no-wrap'):
                        ui.icon('radio_button_checked' if chosen else 'radio_button_unchecked', color='primary')
                        ui.label(d.name).classes('font-semibold truncate grow')
                    minutes = (d.n_seconds or 0) / 60
                    ui.label(f'{d.n_examples or "?"} examples · {minutes:.1f} min · {(d.sr or 44100) / 1000:g} kHz · '
                             f'{ {1: "mono", 2: "stereo"}.get(d.channels, f"{d.channels} ch") }'
                             f'{" · lazy" if d.lazy else ""}').classes(theme.HINT)

    def pick(dataset_id: int) -> None:
        state['dataset'] = dataset_id
        state['channels'] = datasets[dataset_id].channels or 1
        draw()

    draw()


def config_choice(studio, project, state: dict, checker: Checker) -> None:
    status = studio.config_status.cached() or {}
    custom = studio.templates.configs(project)
    bases = {c.name: c.description for c in configs.of_kind('base')}
    bases.update({c['name']: c.get('description') or 'Custom config.' for c in custom if c['role'] == 'base'})
    state['custom_paths'] = {c['name']: c['path'] for c in custom}
    addons = {c.name: c.description for c in configs.of_kind('addon')}
    addons.update({c['name']: c.get('description') or 'Custom add-on.' for c in custom if c['role'] == 'addon'})
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-[1fr_1fr] gap-6'):
        with ui.column().classes('gap-3'):
            ui.label('Base').classes(theme.SECTION)
            base = ui.select({n: n for n in bases}, value=state['base'], label='Base config') \
                .props('outlined dense').classes('w-full').mark('base')
            base_hint = ui.label(bases.get(state['base'], '')).classes(theme.HINT)
            ui.label('Add-ons').classes(theme.SECTION + ' pt-2')
            _toggles(addons, status, state['addons'], 'addon', lambda: changed())
            ui.label('Augmentations').classes(theme.SECTION + ' pt-2')
            _toggles({c.name: c.description for c in configs.of_kind('augmentation')}, status, state['augment'],
                     'augment', lambda: changed())
            if not status:
                ui.label('The catalogue has not been checked with gin yet: broken configs are only found when you '
                         'choose them.').classes(theme.HINT)
        with ui.card().classes('w-full p-4 gap-3 shadow-none border border-gray-200 dark:border-gray-800 rounded-xl '
                               'self-start lg:sticky lg:top-20').mark('preview'):
            preview = ui.column().classes('w-full gap-2')

    def changed() -> None:
        state['base'] = base.value
        base_hint.set_text(bases.get(base.value, ''))
        state['macros'] = {}  # values of another composition no longer apply
        checker.start(False)
        draw_preview()

    def draw_preview() -> None:
        preview.clear()
        with preview:
            composition_preview(checker.latest(False), state)

    base.on_value_change(lambda: changed())
    checker.listeners[:] = [draw_preview]
    checker.start(False)
    draw_preview()


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
                    ui.label(f'Broken: {verdict["reason"]}').classes('text-xs text-negative break-words')
                elif verdict and verdict.get('warning'):
                    ui.label(verdict['warning'][:1].upper() + verdict['warning'][1:]).classes('text-xs text-warning break-words')
            if broken:
                box.disable()

        def toggle(e, n=name) -> None:
            if e.value and n not in chosen:
                chosen.append(n)
            elif not e.value and n in chosen:
                chosen.remove(n)
            on_change()

        box.on_value_change(toggle)


def composition_preview(answer: dict | None, state: dict) -> None:
    """The operative values the run will use and what each add-on changed, from gin's parsed config."""
    title = ' + '.join([state['base'], *state['addons']]) + ''.join(f' · augment {a}' for a in state['augment'])
    ui.label('Composition preview').classes(theme.SECTION)
    ui.label(title).classes(theme.MONO + ' text-gray-500')
    if answer is None:
        with ui.row().classes('items-center gap-2 text-sm text-gray-500').mark('checking'):
            ui.spinner(size='sm')
            ui.label('gin is reading this combination and building the model…')
        return
    if not answer['ok']:
        with ui.row().classes('items-start gap-2 no-wrap text-sm text-negative').mark('composition-error'):
            ui.icon('block')
            ui.label(f'Does not work: {configs.reason(answer)}').classes('break-words min-w-0')
        return
    with ui.row().classes('items-center gap-2 text-sm text-positive').mark('composition-ok'):
        ui.icon('check_circle')
        ui.label('gin parses it and builds the model')
    operative(answer)
    for step in answer.get('changes', [])[1:]:
        if step['changed']:
            with ui.expansion(f'{step["config"]} changes {len(step["changed"])} binding(s)', icon='difference') \
                    .classes('w-full text-sm').mark(f'changes-{step["config"]}'):
                for key, (before, after) in step['changed'].items():
                    with ui.row().classes('w-full gap-2 no-wrap text-xs font-mono'):
                        ui.label(key).classes('grow break-all')
                        ui.label(f'{"—" if before is None else before} → {after}').classes('text-primary break-all')


def operative(answer: dict) -> None:
    m = answer.get('macros') or {}
    field_ = answer.get('receptive_field')
    sr = m.get('SAMPLING_RATE') or 44100
    rows = [('Sampling rate', f'{sr / 1000:g} kHz'), ('Capacity', m.get('CAPACITY')),
            ('Latent size', m.get('LATENT_SIZE')), ('Bands', m.get('N_BAND')),
            ('Ratios', ' × '.join(map(str, m.get('RATIOS') or [])) or '—'),
            ('Compression', f'{answer.get("compression")}× ({sr / answer["compression"]:.1f} latent frames/s)'
             if answer.get('compression') else '—'),
            ('Phase 1', f'{m.get("PHASE_1_DURATION") or 0:,} steps'.replace(',', ' ')),
            ('Receptive field', f'{1000 * field_[0] / sr:.0f} ms ← x → {1000 * field_[1] / sr:.0f} ms' if field_ else '—'),
            ('Parameters', f'{answer["parameters"] / 1e6:.2f} M (with the discriminator)' if answer.get('parameters') else '—')]
    with ui.element('div').classes('w-full grid grid-cols-[auto_1fr] gap-x-6 gap-y-1 text-sm').mark('operative'):
        for label, value in rows:
            ui.label(label).classes('text-gray-500')
            ui.label('—' if value is None else str(value)).classes('font-medium tabular-nums')


def parameters(studio, project, state: dict, datasets: dict) -> None:
    answer = state.get('preview') or {}
    defaults = {**(answer.get('macros') or {}), **(answer.get('settings') or {})}
    dataset = datasets.get(state['dataset'])
    if dataset is not None and dataset.sr and 'SAMPLING_RATE' not in state['macros']:
        state['macros']['SAMPLING_RATE'] = dataset.sr  # train at the dataset's rate (an override if it differs)
    devices = dict(studio.monitor.devices())
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-2 gap-x-8 gap-y-4'):
        with ui.column().classes('gap-2'):
            ui.label('Run').classes(theme.SECTION)
            _field(ui.input('Run name', placeholder='e.g. violin_v2small'), state, 'name',
                   'Names the run folder (<name>_<config hash>); letters, digits, . _ - only.')
            _field(ui.input('Description', placeholder='What you are trying'), state, 'description',
                   'Optional; shown with the run.')
            ui.label('Schedule').classes(theme.SECTION + ' pt-2')
            with ui.element('div').classes('w-full grid grid-cols-3 gap-x-3'):
                _field(ui.number('Max steps', min=1, format='%d', suffix='steps'), state, 'max_steps',
                       'Training ends here.', int)
                _field(ui.number('Validate every', min=1, format='%d', suffix='steps'), state, 'val_every',
                       'Also writes a checkpoint.', int)
                _field(ui.number('Save every', min=1, format='%d', suffix='steps'), state, 'save_every',
                       'Extra epoch checkpoints; empty: RAVE\'s 500 000.', int)
            ui.label('Data').classes(theme.SECTION + ' pt-2')
            with ui.element('div').classes('w-full grid grid-cols-2 gap-x-3'):
                sr = (dataset.sr if dataset else None) or 44100
                _field(ui.number('Crop length (n_signal)', min=512, step=512, format='%d', suffix='samples'), state,
                       'n_signal', f'Samples per example ({state["n_signal"] / sr:.2f} s at {sr / 1000:g} kHz).', int)
                _field(ui.number('Batch', min=1, format='%d', suffix='examples'), state, 'batch',
                       'Examples per step; lower it if memory runs out.', int)
                count = (dataset.channels if dataset else 1) or 1
                _field(ui.select({c: {1: 'Mono', 2: 'Stereo'}.get(c, f'{c} channels') for c in range(1, count + 1)},
                                 label='Channels'), state, 'channels', f'The dataset has {count}.', int)
                _field(ui.number('Data loader workers', min=0, max=32, format='%d', suffix='processes'), state,
                       'workers', '0 reads in the training process.', int)
        with ui.column().classes('gap-2'):
            ui.label('Optimiser and devices').classes(theme.SECTION)
            with ui.element('div').classes('w-full grid grid-cols-2 gap-x-3'):
                _field(ui.number('Learning rate', min=0, step=0.0001, format='%.6g'), state, 'lr',
                       'Generator Adam; RAVE uses 0.001.', float)
                _field(ui.number('Discriminator rate', min=0, step=0.00001, format='%.6g'), state, 'lr_dis',
                       'Discriminator Adam; RAVE uses 0.0001.', float)
                _field(ui.number('EMA', min=0, max=0.99999, step=0.001, format='%.5g', placeholder='off'), state,
                       'ema', 'Weight averaging, e.g. 0.999; empty: off.', float)
                _field(ui.select(devices, multiple=True, label='Devices').props('use-chips'), state, 'devices',
                       'CPU, or one or several GPUs (--gpu N each).')
            ui.label('Model values').classes(theme.SECTION + ' pt-2')
            ui.label('From the composition; a changed value is passed as --override.').classes(theme.HINT)
            with ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-3 gap-x-3').mark('macros'):
                for key, label, hint, suffix in MACRO_FIELDS:
                    value = state['macros'].get(key, defaults.get(key))
                    with ui.column().classes('w-full gap-0'):
                        ui.input(label, value=_show(value),
                                 on_change=lambda e, k=key: state['macros'].__setitem__(k, e.value)) \
                            .props(f'outlined dense {"suffix=" + suffix if suffix else ""}').classes('w-full') \
                            .mark(f'macro-{key}')
                        ui.label(hint).classes(theme.HINT + ' mb-2')
            extra = _field(ui.textarea('Other gin bindings', placeholder='RAVE.valid_signal_crop = True')
                           .props('rows=2'), state, 'extra', 'One binding per line, passed as --override; gin can run '
                           'Python, so on a shared studio only admins may add them.')
            if not may_edit():
                extra.disable()
    state['defaults'] = defaults


def review(studio, project, state: dict, datasets: dict) -> None:
    answer = state.get('answer') or {}
    dataset = datasets.get(state['dataset'])
    problems = errors(studio, project, state, datasets, answer)
    warns = studio.training.warnings(project, dataset, state['name'], answer)
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-[3fr_2fr] gap-6'):
        with ui.column().classes('gap-2').mark('review'):
            ui.label('Your choices').classes(theme.SECTION)
            with ui.element('div').classes('w-full grid grid-cols-[auto_1fr] gap-x-6 gap-y-1 text-sm'):
                for label, value in summary(state, dataset):
                    ui.label(label).classes('text-gray-500')
                    ui.label(value).classes('font-medium break-words min-w-0')
            ui.label('Operative values (gin)').classes(theme.SECTION + ' pt-3')
            operative(answer)
        with ui.column().classes('gap-3'):
            _checks(problems, warns)
            _memory(state, answer)
            _diff_panel(studio, project, state, dataset)
    command_block(studio, project, state, datasets)
    with ui.row().classes('w-full items-center gap-2'):
        ui.button('Save as template', icon='bookmark_add', on_click=lambda: _save_template(studio, project, state)) \
            .props('outline color=primary no-caps').mark('save-template')
        ui.label('Keeps these choices (not the run name) for the next run of this project.').classes(theme.HINT)


def launch_summary(studio, project, state: dict, datasets: dict) -> None:
    dataset = datasets.get(state['dataset'])
    with ui.column().classes('w-full items-center text-center gap-2 py-4').mark('ready'):
        ui.icon('rocket_launch', color='primary').classes('text-5xl')
        ui.label(f'Ready to train {state["name"]}').classes('text-xl font-semibold')
        ui.label(f'{" + ".join([state["base"], *state["addons"]])} on {dataset.name if dataset else "?"} · '
                 f'{state["max_steps"]:,} steps · {_devices(state)}'.replace(',', ' ', 1)) \
            .classes('text-sm text-gray-600 dark:text-gray-300')
        ui.label('The run page opens with live charts; stop it any time with a checkpoint.').classes(theme.HINT)
    command_block(studio, project, state, datasets)


def command_block(studio, project, state: dict, datasets: dict) -> None:
    dataset = datasets.get(state['dataset'])
    if dataset is None:
        return
    args = start_arguments(state)
    flags = studio.training.arguments(
        dataset, args['name'] or '<name>', args['config'], studio.projects.folder(project, 'runs'),
        args['max_steps'], args['val_every'], args['n_signal'], args['batch'], args['channels'], args['device'],
        args['workers'], addons=args['addons'], augment=args['augment'], overrides=args['overrides'],
        save_every=args['save_every'], ema=args['ema'])
    env = ''.join(f'{k}={v} ' for k, v in learning_rate_env(args).items())
    with ui.expansion('Equivalent RAVE command', icon='terminal', value=True).classes('w-full text-sm'):
        ui.code(env + studio.training.command(flags).replace(' --', ' \\\n    --'), language='bash') \
            .classes('w-full text-xs').mark('command')
        if env:
            ui.label('The learning-rate variables are read by the studio\'s training worker (plain `rave train` '
                     'always uses 0.001 / 0.0001).').classes(theme.HINT)


# ---- checks and conversions ------------------------------------------------------------------------------
def show_problems(container, problems: list[str]) -> None:
    container.clear()
    with container:
        for problem in problems:
            with ui.row().classes('items-start gap-2 no-wrap text-negative text-sm'):
                ui.icon('error_outline').classes('mt-0.5')
                ui.label(problem)


def field_problems(state: dict) -> list[str]:
    problems = []
    if not state['name'].strip():
        problems.append('Give the run a name.')
    for key in ('max_steps', 'val_every', 'n_signal', 'batch'):
        if not state.get(key):
            problems.append(f'Fill in {key.replace("_", " ")}.')
    if not state['devices']:
        problems.append('Choose a device: the CPU or one or more GPUs.')
    ratios = state['macros'].get('RATIOS')
    if ratios not in (None, ''):
        try:
            value = json.loads(ratios) if isinstance(ratios, str) else ratios
            assert isinstance(value, list) and value and all(isinstance(r, int) and r > 0 for r in value)
        except (ValueError, AssertionError):
            problems.append('Ratios must be a list of whole numbers, e.g. [4, 2, 2, 2].')
    return problems


def errors(studio, project, state: dict, datasets: dict, answer: dict) -> list[str]:
    dataset = datasets.get(state['dataset'])
    args = start_arguments(state)
    problems = studio.training.validate(project, dataset, args['name'], args['config'], args['n_signal'],
                                        args['batch'], args['channels'], args['max_steps'], args['val_every'],
                                        composition=answer, save_every=args['save_every'], lr=args['lr'],
                                        ema=args['ema'])
    return problems + studio.training.device_errors(args['device'])


def overrides(state: dict) -> list[str]:
    """Changed model values and the extra bindings, as `--override` strings."""
    defaults = state.get('defaults') or {}
    out = []
    for key, *_ in MACRO_FIELDS:
        value = state['macros'].get(key)
        if value in (None, '') or _show(value) == _show(defaults.get(key)):
            continue
        out.append(f'{key}={_show(value)}')
    out += [line.strip() for line in (state.get('extra') or '').splitlines() if line.strip()]
    return out


def start_arguments(state: dict) -> dict:
    custom_paths = state.get('custom_paths') or {}
    return {'name': state['name'].strip(), 'config': custom_paths.get(state['base'], state['base']), 'max_steps': int(state['max_steps'] or 0),
            'val_every': int(state['val_every'] or 0), 'n_signal': int(state['n_signal'] or 0),
            'batch': int(state['batch'] or 0), 'channels': int(state['channels'] or 1),
            'device': ','.join(state['devices']), 'workers': int(state['workers'] or 0),
            'addons': [custom_paths.get(a, a) for a in state['addons']], 'augment': list(state['augment']),
            'overrides': overrides(state), 'save_every': int(state['save_every']) if state['save_every'] else None,
            'ema': float(state['ema']) if state['ema'] else None,
            'lr': _rate(state['lr'], 0.001), 'lr_dis': _rate(state['lr_dis'], 0.0001),
            'description': state['description'], 'composition': state.get('answer')}


def choices(state: dict) -> dict:
    """What a template keeps: everything but the run's name, description and the UI."""
    keep = ('dataset', 'base', 'addons', 'augment', 'macros', 'extra', 'max_steps', 'val_every', 'save_every',
            'n_signal', 'batch', 'channels', 'workers', 'lr', 'lr_dis', 'ema', 'devices')
    return json.loads(json.dumps({k: state[k] for k in keep}))


def apply_choices(state: dict, chosen: dict, datasets: dict) -> None:
    for key, value in chosen.items():
        if key == 'dataset' and value not in datasets:
            continue  # that dataset is gone or not ready: keep the current one
        if key in state and key not in ('ui', 'name'):
            state[key] = value
    ui.notify('Template applied: check the following steps.', type='info')


def summary(state: dict, dataset) -> list[tuple[str, str]]:
    args = start_arguments(state)
    return [('Run', args['name'] + (f' — {args["description"]}' if args['description'] else '')),
            ('Dataset', f'{dataset.name} ({dataset.n_examples} examples, {(dataset.sr or 44100) / 1000:g} kHz)'
             if dataset else '—'),
            ('Config', ' + '.join([state['base'], *state['addons']])),
            ('Augmentations', ', '.join(state['augment']) or 'none'),
            ('Overrides', ', '.join(args['overrides']) or 'none'),
            ('Schedule', (f'{args["max_steps"]} steps, validate every {args["val_every"]}, save every '
                          f'{args["save_every"] or "500000 (RAVE default)"}')),
            ('Data', (f'n_signal {args["n_signal"]} samples, batch {args["batch"]}, {args["channels"]} channel(s), '
                      f'{args["workers"]} loader worker(s)')),
            ('Optimiser', f'Adam {args["lr"] or 0.001:g} / {args["lr_dis"] or 0.0001:g}, EMA {args["ema"] or "off"}'),
            ('Devices', _devices(state))]


def run_choices(run: Run) -> dict:
    p = run.params or {}
    return {'dataset': run.dataset.name if run.dataset else '—', 'configs': ' + '.join(run.configs),
            'augment': ', '.join(p.get('augment') or []) or 'none', 'overrides': ', '.join(p.get('overrides') or [])
            or 'none', **{k: _show(p.get(k)) for k, _ in DIFF_KEYS[4:]}}


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


def _memory(state: dict, answer: dict) -> None:
    defaults = state.get('defaults') or {}
    macros = answer.get('macros') or {}
    estimate = configs.estimate_gpu_memory(state['base'], int(state['batch'] or 1), int(state['n_signal'] or 1),
                                           macros.get('CAPACITY'), answer.get('parameters'), defaults.get('CAPACITY'))
    with ui.column().classes('w-full gap-0').mark('memory'):
        ui.label('GPU memory').classes(theme.SECTION)
        if estimate is None:
            ui.label(f'No README figure for {state["base"]}: no estimate.').classes(theme.HINT)
            return
        ui.label(f'≈ {estimate["gb"]:g} GB (estimate)').classes('text-xl font-semibold tabular-nums')
        ui.label(estimate['basis'] + '.').classes(theme.HINT)


def _diff_panel(studio, project, state: dict, dataset) -> None:
    runs = studio.training.list(project)
    with ui.column().classes('w-full gap-1').mark('diff'):
        ui.label('Compare with a previous run').classes(theme.SECTION)
        if not runs:
            ui.label('No earlier run in this project.').classes(theme.HINT)
            return
        pick = ui.select({r.id: r.name for r in runs}, value=runs[0].id, label='Run') \
            .props('outlined dense').classes('w-full').mark('diff-run')
        table = ui.column().classes('w-full gap-0')

        def draw() -> None:
            table.clear()
            mine = _current_for_diff(state, dataset)
            theirs = run_choices(studio.training.get(pick.value))
            rows = [(label, theirs.get(k, '—'), mine.get(k, '—')) for k, label in DIFF_KEYS
                    if str(theirs.get(k, '—')) != str(mine.get(k, '—'))]
            with table:
                if not rows:
                    ui.label('Same choices as that run.').classes(theme.HINT)
                with ui.element('div').classes('w-full grid grid-cols-[auto_1fr_1fr] gap-x-3 gap-y-0.5 text-xs'):
                    for label, old, new in rows:
                        ui.label(label).classes('text-gray-500')
                        ui.label(str(old)).classes('font-mono line-through decoration-gray-400 break-all')
                        ui.label(str(new)).classes('font-mono text-primary break-all')

        pick.on_value_change(draw)
        draw()


def _current_for_diff(state: dict, dataset) -> dict:
    args = start_arguments(state)
    return {'dataset': dataset.name if dataset else '—', 'configs': ' + '.join([state['base'], *state['addons']]),
            'augment': ', '.join(args['augment']) or 'none', 'overrides': ', '.join(args['overrides']) or 'none',
            **{k: _show(args.get(k)) for k, _ in DIFF_KEYS[4:]}}


def _save_template(studio, project, state: dict) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-96 gap-3'):
        ui.label('Save as template').classes(theme.SECTION)
        name = ui.input('Template name').props('outlined dense').classes('w-full').mark('template-name')
        ui.label('Offered on the first step of the next new run.').classes(theme.HINT)
        message = ui.label('').classes('text-sm text-negative')

        def save() -> None:
            try:
                studio.templates.save_template(project, name.value or '', choices(state), state['description'])
            except TemplateError as e:
                message.set_text(str(e))
                return
            dialog.close()
            ui.notify(f'Template "{name.value}" saved.', type='positive')

        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Cancel', on_click=dialog.close).props('flat')
            ui.button('Save', on_click=save).props('unelevated color=primary').mark('template-save')
    dialog.open()


def _field(element, state: dict, key: str, hint: str, cast=None):
    """A form field bound to state[key], with its one-line hint below."""
    with ui.column().classes('w-full gap-0') as box:
        element.move(box)
        element.props('outlined dense').classes('w-full').mark(key)
        ui.label(hint).classes(theme.HINT + ' mb-2')
    if state.get(key) is not None:
        element.value = state[key]

    def store(e) -> None:
        v = e.value
        if cast and v not in (None, ''):
            try:
                v = cast(v)
            except (TypeError, ValueError):
                return
        state[key] = None if v == '' else v

    element.on_value_change(store)
    return element


def _devices(state: dict) -> str:
    return ', '.join('CPU' if d == 'cpu' else d.replace('gpu:', 'GPU ') for d in state['devices'])


def _rate(value, rave_default: float) -> float | None:
    """A learning rate to pass to the worker's hook; None when it is RAVE's own (nothing to change)."""
    return float(value) if value and float(value) != rave_default else None


def _show(value) -> str:
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(map(str, value)) + ']'
    return '' if value is None else str(value)
