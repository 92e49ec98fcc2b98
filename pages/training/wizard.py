"""The new-run wizard: intro → dataset → config → parameters → review → launch, each step checked before Next.

It builds one RunSpec. Its configs are checked by gin in a worker (`Training.check`); the answer gives the
real compression ratio, receptive field and operative values that the parameter checks, the review and the
memory estimate use. Extra gin bindings are code: before gin first runs them the wizard asks, once, whether
Python may run on this machine. `?from=<run id>` starts from an earlier run's choices (rerun).
"""
from __future__ import annotations

import asyncio
import json

from nicegui import run, ui

from app import theme
from pages.training import gin_code, wizard_executor, wizard_review
from pages.training import wizard_steps as steps
from services.access import Forbidden
from services.cluster import Cluster
from services.i18n import N_, _
from services.projects import ProjectView
from services.system import System
from services.training import RunSpec, Training, TrainingData, TrainingError, configs
from services.training.model_values import model_values

STEPS = (N_('Start'), N_('Dataset'), N_('Config'), N_('Parameters'), N_('Review'), N_('Launch'))  # shown through _()


def create(training: Training, system: System, project: ProjectView, cluster: Cluster) -> None:
    """The wizard; an earlier run (`?from=`), a dataset (`?dataset=`, from the dataset's page) or a template
    may pre-fill it."""
    datasets = {d.id: d for d in training.datasets(project.id)}
    query = ui.context.client.request.query_params
    earlier = training.run(query.get('from', ''), project.id)
    wizard = Wizard(training, system, project, datasets, earlier.spec if earlier else None)
    wizard.cluster = cluster
    chosen = datasets.get(int(query['dataset'])) if query.get('dataset', '').isdigit() else None
    if chosen is not None:
        wizard.spec = wizard.spec.fitted(chosen)
    with ui.row().classes('w-full items-center gap-3'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to('/training')).props('flat round dense') \
            .tooltip(_('All runs'))
        with ui.column().classes('gap-0 grow'):
            ui.label(_('New training')).classes(theme.TITLE)
            ui.label(_("Starting from {run}'s choices.").format(run=earlier.name) if earlier else
                     _('Six short steps; every choice is checked before you move on.')).classes(theme.SUBTITLE)
        ui.button(_('Config catalogue'), icon='menu_book',
                  on_click=lambda: ui.navigate.to('/training/configs')) \
            .props('flat no-caps color=primary')
    with ui.stepper().props('flat animated').classes(theme.CARD + ' p-0').mark('wizard') as stepper:
        for title in STEPS:
            with ui.step(title, title=_(title)).props(f'name="{title}"'):
                body = ui.column().classes('w-full gap-4')
                errors = ui.column().classes('w-full gap-1').mark(f'errors-{title.lower()}')
                with ui.stepper_navigation().classes('w-full'):
                    _navigation(title, wizard)
            wizard.panels[title] = (body, errors)
    wizard.stepper = stepper
    wizard.draw(STEPS[0])


class Wizard:
    """The run being chosen, the gin checks behind it and the step flow."""

    def __init__(self, training: Training, system: System, project: ProjectView,
                 datasets: dict[int, TrainingData], earlier: RunSpec | None) -> None:
        self.training, self.system, self.project, self.datasets = training, system, project, datasets
        first = next(iter(datasets.values()), None)
        self.spec = earlier.replace(name='') if earlier else RunSpec(devices=(training.default_device(),))
        if first is not None and self.spec.dataset not in datasets:
            self.spec = self.spec.fitted(first)
        self.entered: dict = dict(self.spec.macros)  # the model-value fields as typed
        self.defaults: dict = {}  # the composition's own values, from gin
        self.preview: dict | None = None  # gin's answer for the configs alone (config step)
        self.answer: dict | None = None  # with the model values and bindings (parameters step on)
        self.code_confirmed = False
        self.answers: dict[str, dict] = {}
        self.tasks: dict[str, asyncio.Task] = {}
        self.listeners: list = []
        self.panels: dict[str, tuple[ui.column, ui.column]] = {}
        self.stepper: ui.stepper | None = None
        self.executor = training.executor(project.id)  # where it trains: the project's choice to begin with
        self.partitions = [self.executor.partition] if self.executor.partition else []
        self.cluster: Cluster | None = None  # for the review's cost estimate

    @property
    def dataset(self) -> TrainingData | None:
        return self.datasets.get(self.spec.dataset)

    def current(self) -> RunSpec:
        """The spec with the model values that differ from the composition's."""
        return self.spec.replace(macros=model_values(self.entered, self.defaults))

    def set(self, **changes) -> None:
        self.spec = self.spec.replace(**changes)

    def apply(self, template: RunSpec) -> None:
        """A template's choices, keeping this run's name, description and (if the template's is gone)
        dataset."""
        dataset = template.dataset if template.dataset in self.datasets else self.spec.dataset
        self.spec = template.replace(name=self.spec.name, description=self.spec.description, dataset=dataset)
        self.entered = dict(template.macros)
        ui.notify(_('Template applied: check the following steps.'), type='info')

    # ---- gin checks ------------------------------------------------------------------------------
    def check(self, with_overrides: bool = False) -> asyncio.Task:
        """gin's answer for the current configs (with model values and bindings), once per distinct choice."""
        spec = self.current()
        key = _key(spec, with_overrides)
        if key not in self.tasks:
            self.tasks[key] = asyncio.create_task(self._run(key, spec, with_overrides))
        return self.tasks[key]

    def latest(self, with_overrides: bool = False) -> dict | None:
        return self.answers.get(_key(self.current(), with_overrides))

    async def final(self) -> dict | list[str]:
        """The full check before a run is validated, or the problems that keep it from running."""
        if self.spec.has_code and not self.code_confirmed:
            self.code_confirmed = await gin_code.confirm(_('These gin bindings run Python on this machine'),
                                                         list(self.spec.bindings))
            if not self.code_confirmed:
                return [_('The extra gin bindings run only once you confirm it: confirm, or remove them.')]
        answer = await self.check(True)
        if answer.get('stage') == 'refused':
            return [configs.broken(answer)]
        self.answer = answer
        return answer

    async def _run(self, key: str, spec: RunSpec, with_overrides: bool) -> dict:
        try:
            answer = await run.io_bound(self.training.check, self.project.id, spec, with_overrides,
                                        code_confirmed=self.code_confirmed)
        except (TrainingError, Forbidden) as e:
            self.tasks.pop(key, None)  # a refusal is not gin's verdict: ask again next time
            return {'ok': False, 'stage': 'refused', 'reason': str(e)}
        except (RuntimeError, OSError, ValueError) as e:
            answer = {'ok': False, 'stage': 'worker', 'reason': str(e)}
        self.answers[key] = answer
        for listener in list(self.listeners):
            listener()
        return answer

    # ---- flow ------------------------------------------------------------------------------------
    def draw(self, title: str) -> None:
        body = self.panels[title][0]
        body.clear()
        with body:
            DRAW[title](self)
        self.stepper.set_value(title)

    async def forward(self) -> None:
        title = self.stepper.value
        problems = await CHECK[title](self)
        steps.show_problems(self.panels[title][1], problems)
        if not problems:
            self.draw(STEPS[STEPS.index(title) + 1])

    def back(self) -> None:
        self.draw(STEPS[STEPS.index(self.stepper.value) - 1])

    async def launch(self) -> None:
        errors = self.panels['Launch'][1]
        problems = await check_review(self)
        steps.show_problems(errors, problems)
        if problems:
            return
        try:
            started = self.training.start(self.project.id, self.current(), self.answer,
                                          code_confirmed=self.code_confirmed, executor=self.executor)
        except (TrainingError, Forbidden) as e:
            steps.show_problems(errors, [str(e)])
            ui.notify(str(e), type='negative', multi_line=True)
            return
        ui.navigate.to(f'/training/runs/{started.id}')


def _navigation(title: str, wizard: Wizard) -> None:
    if title != STEPS[0]:
        ui.button(_('Back'), icon='arrow_back', on_click=wizard.back) \
            .props(f'flat data-testid=back-{title.lower()}').mark(f'back-{title.lower()}')
    ui.space()
    if title != STEPS[-1]:
        ui.button(_('Next'), icon='arrow_forward', on_click=wizard.forward) \
            .props(f'unelevated color=primary data-testid=next-{title.lower()}').mark(f'next-{title.lower()}')
    else:
        ui.button(_('Start training'), icon='play_arrow', on_click=wizard.launch) \
            .props('unelevated color=primary size=lg data-testid=launch').mark('launch')


def _key(spec: RunSpec, with_overrides: bool) -> str:
    # with no model value and no binding the full check composes what the plain one does: gin answers once
    overrides = [dict(spec.macros), list(spec.bindings)] if with_overrides and (spec.macros or spec.bindings) else []
    return json.dumps([spec.configs, spec.augment, spec.channels, overrides], sort_keys=True, default=str)


# ---- what each step checks before Next -------------------------------------------------------------------
async def check_intro(wizard: Wizard) -> list[str]:
    if wizard.datasets:
        return []
    return [_('This project has no ready dataset yet: build one on the Datasets page first.')]


async def check_dataset(wizard: Wizard) -> list[str]:
    chosen = wizard.dataset
    if chosen is None:
        return [_('Choose a dataset.')]
    wizard.set(channels=min(wizard.spec.channels or chosen.channels or 1, chosen.channels or 1))
    return []


async def check_config(wizard: Wizard) -> list[str]:
    answer = await wizard.check(False)
    wizard.preview = answer
    if answer.get('stage') == 'refused':
        return [configs.broken(answer)]
    if not answer['ok']:
        return [_('This combination does not work: {reason}. Remove the add-on or augmentation that causes it, or '
             'pick another base.').format(reason=configs.broken(answer))]
    return []


async def check_parameters(wizard: Wizard) -> list[str]:
    problems = wizard.current().field_errors() + wizard_executor.problems(wizard)
    if problems:
        return problems
    return await check_review(wizard)


async def check_review(wizard: Wizard) -> list[str]:
    answer = await wizard.final()
    if isinstance(answer, list):
        return answer
    return wizard.training.validate(wizard.project.id, wizard.current(), answer, wizard.executor)


DRAW = {'Start': steps.quick_start, 'Dataset': steps.dataset_choice, 'Config': steps.config_choice,
        'Parameters': steps.parameters, 'Review': wizard_review.review,
        'Launch': wizard_review.launch_summary}
CHECK = {'Start': check_intro, 'Dataset': check_dataset, 'Config': check_config,
         'Parameters': check_parameters,
         'Review': check_review, 'Launch': check_review}
