"""The new-sweep wizard: the base run (the training wizard's own dataset and config steps), the parameters to
vary, the objective, budget, method and pruner, then launch — each step checked with sentences before Next.

It builds one SweepSpec; `Sweeps.create` checks it again (and the base run against RAVE's rules) and queues
the first trials. `?from=<run id>` starts from an earlier run's choices.
"""
from __future__ import annotations

from nicegui import ui

from app import theme
from pages.training import sweep_space
from pages.training import wizard_steps as steps
from pages.training.wizard import Wizard, check_config, check_dataset
from services.access import Forbidden
from services.i18n import N_, _
from services.projects import ProjectView
from services.system import System
from services.training import Training
from services.training.sweeps import METHODS, PRUNERS, Budget, Objective, SweepError, Sweeps, SweepSpec
from services.training.sweeps.space import GRID_ERROR

STEPS = (N_('Base run'), N_('Config'), N_('Parameters'), N_('Objective'), N_('Launch'))  # through _()
OBJECTIVES = {'val/validation': N_('Validation (spectral distance of reconstructions)'),
              'loss': N_('Training loss'), 'fullband_spectral_distance': N_('Full-band spectral distance (training)')}


def create(sweeps: Sweeps, training: Training, system: System, project: ProjectView) -> None:
    datasets = {d.id: d for d in training.datasets(project.id)}
    query = ui.context.client.request.query_params
    earlier = training.run(query.get('from', ''), project.id)
    base = Wizard(training, system, project, datasets, earlier.spec if earlier else None)
    if earlier is None:
        base.set(max_steps=20000, val_every=1000)  # a trial is short: many of them make a sweep
    form = SweepForm(sweeps, base, project)
    with ui.row().classes('w-full items-center gap-3'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to('/training/sweeps')) \
            .props('flat round dense').tooltip(_('All sweeps'))
        with ui.column().classes('gap-0 grow'):
            ui.label(_('New sweep')).classes(theme.TITLE)
            ui.label(_('Train many short runs that differ in a few choices, and let Optuna find the best.')) \
                .classes(theme.SUBTITLE)
    if not datasets:
        steps.quick_start(base)
        return
    with ui.stepper().props('flat animated').classes(theme.CARD + ' p-0').mark('sweep-wizard') as stepper:
        for title in STEPS:
            with ui.step(title, title=_(title)).props(f'name="{title}"'):
                body = ui.column().classes('w-full gap-4')
                errors = ui.column().classes('w-full gap-1').mark(f'errors-{_mark(title)}')
                with ui.stepper_navigation().classes('w-full'):
                    form.navigation(title)
            form.panels[title] = (body, errors)
    form.stepper = stepper
    form.draw(STEPS[0])


class SweepForm:
    """The sweep being chosen: the base run (a training wizard), the space rows and the rest."""

    def __init__(self, sweeps: Sweeps, base: Wizard, project: ProjectView) -> None:
        self.sweeps, self.base, self.project = sweeps, base, project
        self.space = sweep_space.Space()
        self.choices: dict = {'name': '', 'metric': 'val/validation', 'mode': 'best', 'step': None,
                              'direction': 'minimize', 'trials': 8, 'gpu_hours': None, 'parallel': 1,
                              'method': 'tpe', 'pruner': 'median', 'startup': 2, 'warmup': 0, 'threshold': None}
        self.panels: dict[str, tuple[ui.column, ui.column]] = {}
        self.stepper: ui.stepper | None = None
        self.estimate: ui.label | None = None

    def spec(self) -> SweepSpec:
        c = self.choices
        return SweepSpec(name=c['name'] or '', base=self.base.current().replace(name='', description=''),
                         params=self.space.params(),
                         objective=Objective(c['metric'] or '', c['mode'], _int(c['step']), c['direction']),
                         budget=Budget(_int(c['trials']) or 0, _float(c['gpu_hours']), _int(c['parallel']) or 0),
                         method=c['method'], pruner=c['pruner'], startup=_int(c['startup']) or 0,
                         warmup=_int(c['warmup']) or 0, threshold=_float(c['threshold']))

    # ---- flow ------------------------------------------------------------------------------------
    def draw(self, title: str) -> None:
        body = self.panels[title][0]
        body.clear()
        with body:
            {'Base run': self._base_step, 'Config': lambda: steps.config_choice(self.base),
             'Parameters': self._space_step, 'Objective': self._objective_step, 'Launch': self._launch_step}[title]()
        self.stepper.set_value(title)

    def navigation(self, title: str) -> None:
        if title != STEPS[0]:
            ui.button(_('Back'), icon='arrow_back', on_click=lambda: self.draw(STEPS[STEPS.index(title) - 1])) \
                .props('flat').mark(f'back-{_mark(title)}')
        ui.space()
        if title != STEPS[-1]:
            ui.button(_('Next'), icon='arrow_forward', on_click=lambda: self.forward(title)) \
                .props('unelevated color=primary').mark(f'next-{_mark(title)}')
        else:
            ui.button(_('Start sweep'), icon='play_arrow', on_click=self.launch) \
                .props('unelevated color=primary size=lg').mark('launch')

    async def forward(self, title: str) -> None:
        problems = await self._check(title)
        steps.show_problems(self.panels[title][1], problems)
        if not problems:
            self.draw(STEPS[STEPS.index(title) + 1])

    async def launch(self) -> None:
        errors = self.panels['Launch'][1]
        problems = self.spec().errors()
        steps.show_problems(errors, problems)
        if problems:
            return
        try:
            made = self.sweeps.create(self.project.id, self.spec())
        except (SweepError, Forbidden) as e:
            steps.show_problems(errors, [str(e)])
            return
        ui.navigate.to(f'/training/sweeps/{made.id}')

    async def _check(self, title: str) -> list[str]:
        spec = self.spec()
        if title == 'Base run':
            return await check_dataset(self.base) or self.base.current().replace(name='base').field_errors()
        if title == 'Config':
            return await check_config(self.base)
        if title == 'Parameters':
            problems = self.space.errors()
            return problems or [e for e in spec.errors() if e == _(GRID_ERROR)]
        if title == 'Objective':
            return spec.errors()
        return []

    # ---- steps -----------------------------------------------------------------------------------
    def _base_step(self) -> None:
        ui.label(_('Every trial trains this run with the parameters of the next step changed.')) \
            .classes(theme.HINT)
        steps.dataset_choice(self.base)
        ui.label(_('Schedule of each trial')).classes(theme.SECTION + ' pt-2')
        with ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-5 gap-x-3'):
            for key, label, hint in (('max_steps', _('Max steps'), _('Each trial ends here.')),
                                     ('val_every', _('Validate every'), _('Pruning judges at each validation.')),
                                     ('n_signal', 'n_signal', _('Samples per crop.')),
                                     ('batch', _('Batch'), _('Examples per step.'))):
                _hinted(ui.number(label, value=getattr(self.base.spec, key), min=1, format='%d',
                          on_change=lambda e, k=key: e.value and self.base.set(**{k: int(e.value)}))
                        .props('outlined dense'), hint).mark(f'base-{key}')
            _hinted(ui.select(dict(self.base.system.devices()), value=self.base.spec.device, label=_('Device'),
                              on_change=lambda e: e.value and self.base.set(devices=(e.value,)))
                    .props('outlined dense'),
                    _('Trials take turns on it.')).mark('base-device')

    def _space_step(self) -> None:
        ui.label(_('What to vary')).classes(theme.SECTION)
        ui.label(_('A training choice or a model value; a range (numbers, whole numbers, log scale) or a list of '
                   'choices separated by commas. A grid needs choices for every row.')).classes(theme.HINT)
        self.space.draw()

    def _objective_step(self) -> None:
        with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-2 gap-x-8 gap-y-3'):
            with ui.column().classes('gap-2'):
                ui.label(_('Sweep')).classes(theme.SECTION)
                self._field(ui.input(_('Sweep name'), placeholder=_('e.g. capacity_lr')), 'name',
                            _('Its trials are runs named <sweep>-t0, <sweep>-t1, …'))
                ui.label(_('Objective')).classes(theme.SECTION + ' pt-2')
                self._field(ui.select({k: _(v) for k, v in OBJECTIVES.items()}, label=_('Metric'),
                                      new_value_mode='add-unique'),
                            'metric', _('Any metric the runs log (their charts name them).'))
                with ui.row().classes('w-full gap-3 no-wrap'):
                    self._field(ui.select({'best': _('Best value'), 'at': _('Value at a step')}, label=_('Read')),
                                'mode',
                                _('The best over the run, or the last one at the step.'))
                    self._field(ui.number(_('At step'), min=1, format='%d'), 'step', _('Only for “value at a step”.'))
                    self._field(ui.select({'minimize': _('Lower is better'), 'maximize': _('Higher is better')},
                                          label=_('Direction')), 'direction', _('Validation: lower is better.'))
            with ui.column().classes('gap-2'):
                ui.label(_('Method and budget')).classes(theme.SECTION)
                self._field(ui.select({k: _(v) for k, v in METHODS.items()}, label=_('Method')), 'method',
                            _('How the next trial is chosen.'))
                with ui.row().classes('w-full gap-3 no-wrap'):
                    self._field(ui.number(_('Trials'), min=1, format='%d'), 'trials', _('At most this many.'))
                    self._field(ui.number(_('Device-hours'), min=0, format='%.3g', placeholder=_('no limit')),
                                'gpu_hours', _('No new trial once spent.'))
                    self._field(ui.number(_('At once'), min=1, format='%d'), 'parallel', _('Trials queued together.'))
                ui.label(_('Pruning')).classes(theme.SECTION + ' pt-2')
                self._field(ui.select({k: _(v) for k, v in PRUNERS.items()}, label=_('Pruner')), 'pruner',
                            _('Stops bad trials at a validation.'))
                with ui.row().classes('w-full gap-3 no-wrap'):
                    self._field(ui.number(_('Start-up trials'), min=0, format='%d'), 'startup',
                                _('Finished before the median judges.'))
                    self._field(ui.number(_('Warm-up steps'), min=0, format='%d'), 'warmup',
                                _('Never pruned before.'))
                    self._field(ui.number(_('Threshold'), format='%.4g'), 'threshold',
                                _('Threshold pruner: the limit.'))
        self.estimate = ui.label().classes('text-sm').mark('estimate')
        self._estimate()

    def _launch_step(self) -> None:
        spec = self.spec()
        with ui.element('div').classes('w-full grid grid-cols-[6rem_1fr] gap-x-3 gap-y-1 text-sm').mark('summary'):
            base = _('{configs} on dataset {dataset}, {steps} steps, validation every {every}').format(
                configs=' + '.join(spec.base.configs), steps=spec.base.max_steps, every=spec.base.val_every,
                dataset=self.base.dataset.name if self.base.dataset else '—')
            for label, value in ((_('Base'), base),
                                 (_('Varies'), '; '.join(p.describe() for p in spec.params)),
                                 (_('Objective'), spec.objective.describe()),
                                 (_('Method'), _(METHODS[spec.method])), (_('Pruner'), _(PRUNERS[spec.pruner]))):
                ui.label(label).classes('text-gray-500')
                ui.label(value)
        ui.label(self.sweeps.estimate(self.project.id, spec)).classes('text-sm font-medium').mark('estimate')

    # ---- helpers ---------------------------------------------------------------------------------
    def _field(self, element, key: str, hint: str):
        element.value = self.choices[key]
        _hinted(element.props('outlined dense'), hint).classes('w-full').mark(f'sweep-{key}')

        def store(e) -> None:
            self.choices[key] = e.value
            self._estimate()
        element.on_value_change(store)
        return element

    def _estimate(self) -> None:
        if self.estimate is not None:
            self.estimate.set_text(self.sweeps.estimate(self.project.id, self.spec()))


def _mark(title: str) -> str:
    return title.lower().replace(' ', '-')


def _int(value) -> int | None:
    return int(value) if value not in (None, '') else None


def _float(value) -> float | None:
    return float(value) if value not in (None, '') else None


def _hinted(field, hint: str):
    """`field` with its hint below (set as a value: a translated hint may hold any character)."""
    field.props['hint'] = hint
    return field
