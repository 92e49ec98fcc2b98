"""The new-run wizard: intro → dataset → config → parameters → review → launch, each step checked before Next.

The composition (base + add-ons + augmentations + overrides) is checked by gin in a worker
(services.configs.check); its answer gives the real compression ratio, receptive field and operative values
that the parameter checks, the review and the memory estimate use.
"""
from __future__ import annotations

from nicegui import ui

from app import theme
from pages.training import wizard_steps as parts
from services.training import configs
from services.training.runs import TrainingError

STEPS = ('Start', 'Dataset', 'Config', 'Parameters', 'Review', 'Launch')


def create(studio, project) -> None:
    """The wizard; a template or earlier choices may pre-fill it."""
    datasets = {d.id: d for d in studio.datasets.list(project) if d.status == 'ready'}
    state = parts.initial_state(studio, datasets)
    with ui.row().classes('w-full items-center gap-3'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to('/training')).props('flat round dense') \
            .tooltip('All runs')
        with ui.column().classes('gap-0 grow'):
            ui.label('New training').classes(theme.TITLE)
            ui.label('Six short steps; every choice is checked before you move on.').classes(theme.SUBTITLE)
        ui.button('Config catalogue', icon='menu_book', on_click=lambda: ui.navigate.to('/training/configs')) \
            .props('flat no-caps color=primary')

    checker = parts.Checker(studio, project, state)
    with ui.stepper().props('flat animated').classes(theme.CARD + ' p-0').mark('wizard') \
            as stepper:
        for title in STEPS:
            step = ui.step(title).props(f'name="{title}"')
            with step:
                body = ui.column().classes('w-full gap-4')
                errors = ui.column().classes('w-full gap-1').mark(f'errors-{title.lower()}')
                with ui.stepper_navigation().classes('w-full'):
                    if title != STEPS[0]:
                        ui.button('Back', icon='arrow_back', on_click=lambda: back()).props(f'flat data-testid=back-{title.lower()}') \
                            .mark(f'back-{title.lower()}')
                    ui.space()
                    if title != STEPS[-1]:
                        ui.button('Next', icon='arrow_forward', on_click=lambda: forward()) \
                            .props(f'unelevated color=primary data-testid=next-{title.lower()}').mark(f'next-{title.lower()}')
                    else:
                        ui.button('Start training', icon='play_arrow', on_click=lambda: launch()) \
                            .props('unelevated color=primary size=lg data-testid=launch').mark('launch')
            state['ui'][title] = {'body': body, 'errors': errors}

    def draw(title: str) -> None:
        body = state['ui'][title]['body']
        body.clear()
        with body:
            DRAW[title](studio, project, state, datasets, checker)

    async def forward() -> None:
        title = stepper.value
        problems = await CHECK[title](studio, project, state, datasets, checker)
        parts.show_problems(state['ui'][title]['errors'], problems)
        if problems:
            return
        following = STEPS[STEPS.index(title) + 1]
        draw(following)
        stepper.set_value(following)

    def back() -> None:
        title = STEPS[STEPS.index(stepper.value) - 1]
        draw(title)
        stepper.set_value(title)

    async def launch() -> None:
        problems = await check_review(studio, project, state, datasets, checker)
        parts.show_problems(state['ui']['Launch']['errors'], problems)
        if problems:
            return
        try:
            run_ = studio.training.start(project, datasets[state['dataset']], **parts.start_arguments(state))
        except TrainingError as e:
            parts.show_problems(state['ui']['Launch']['errors'], [str(e)])
            ui.notify(str(e), type='negative', multi_line=True)
            return
        ui.navigate.to(f'/training/runs/{run_.id}')

    state['redraw'] = lambda: draw(stepper.value)
    draw(STEPS[0])


# ---- steps ------------------------------------------------------------------------------------------------
def draw_intro(studio, project, state, datasets, checker) -> None:
    parts.quick_start(studio, project, state, datasets)


def draw_dataset(studio, project, state, datasets, checker) -> None:
    parts.dataset_choice(state, datasets)


def draw_config(studio, project, state, datasets, checker) -> None:
    parts.config_choice(studio, project, state, checker)


def draw_parameters(studio, project, state, datasets, checker) -> None:
    parts.parameters(studio, project, state, datasets)


def draw_review(studio, project, state, datasets, checker) -> None:
    parts.review(studio, project, state, datasets)


def draw_launch(studio, project, state, datasets, checker) -> None:
    parts.launch_summary(studio, project, state, datasets)


async def check_intro(studio, project, state, datasets, checker) -> list[str]:
    return [] if datasets else ['This project has no ready dataset yet: build one on the Datasets page first.']


async def check_dataset(studio, project, state, datasets, checker) -> list[str]:
    chosen = datasets.get(state['dataset'])
    if chosen is None:
        return ['Choose a dataset.']
    state['channels'] = min(state.get('channels') or chosen.channels or 1, chosen.channels or 1)
    return []


async def check_config(studio, project, state, datasets, checker) -> list[str]:
    answer = await checker.wait()
    if answer is None:
        return ['The gin check did not finish: try Next again.']
    state['preview'] = answer
    if not answer['ok']:
        return [(f'This combination does not work: {configs.reason(answer)}. Remove the add-on or augmentation '
                 'that causes it, or pick another base.')]
    return []


async def check_parameters(studio, project, state, datasets, checker) -> list[str]:
    problems = parts.field_problems(state)
    if problems:
        return problems
    answer = await checker.final()
    if answer is None:
        return ['The gin check did not finish: try Next again.']
    return parts.errors(studio, project, state, datasets, answer)


async def check_review(studio, project, state, datasets, checker) -> list[str]:
    answer = await checker.final()
    if answer is None:
        return ['The gin check did not finish: try again.']
    return parts.errors(studio, project, state, datasets, answer)


DRAW = {'Start': draw_intro, 'Dataset': draw_dataset, 'Config': draw_config, 'Parameters': draw_parameters,
        'Review': draw_review, 'Launch': draw_launch}
CHECK = {'Start': check_intro, 'Dataset': check_dataset, 'Config': check_config, 'Parameters': check_parameters,
         'Review': check_review, 'Launch': check_review}

