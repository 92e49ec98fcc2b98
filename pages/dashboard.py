"""Dashboard: what runs now, what the machine is doing, where to start, and the project's recent work."""
from __future__ import annotations

import asyncio

from nicegui import ui

from app import theme
from components.cards import section
from components.status import JobList, status_chip
from components.tour import start_example
from services import formatting
from services.events import (
    DatasetChanged,
    ExportChanged,
    JobsChanged,
    RunChanged,
    RunMetrics,
    Subscriber,
    SystemSample,
)
from services.example import Example, ExampleView
from services.i18n import N_, _, ngettext
from services.jobs import Jobs
from services.projects import ProjectOverview, Projects, ProjectView, shown_description
from services.system import System, SystemFigures

START = [  # (label, hint, icon, target): each opens the form it names, one click for one intent
    (N_('New dataset'), N_('Turn a folder of audio into a RAVE dataset'), 'library_add', '/datasets?new'),
    (N_('New training'), N_('Teach a model your sounds'), 'model_training', '/training/new'),
    (N_('Export a model'), N_('Make a .ts file for nn~ and the Explorer'), 'ios_share', '/export'),
    (N_('Explore'), N_('Hear how a model rebuilds your audio'), 'graphic_eq', '/explorer'),
]


EXAMPLE_STAGES = ((N_('Dataset'), N_('48 s of synthesised tones, preprocessed')),
                  (N_('Training'), N_('A short v2_small run on the CPU')),
                  (N_('Export'), N_('A .ts model the Explorer plays')))
RUNNING_EMPTY = N_('Nothing is running. Preprocessing, training and export jobs show their progress here.')


async def create(projects: Projects, jobs: Jobs, system: System, example: Example, events: Subscriber,
                 project: ProjectView) -> None:
    with ui.row().classes('w-full items-end gap-2'):
        ui.label(project.name).classes(theme.TITLE)
        ui.label(shown_description(project)).classes(theme.SUBTITLE + ' pb-1 truncate')
    if example.view(project.id) is not None:
        _example(example, projects, events, project)
    with ui.grid().classes('w-full gap-4 grid-cols-1 md:grid-cols-2 xl:grid-cols-[2fr_1.3fr_1fr]'):
        _running(jobs, events)
        _machine(system, events)
        _start(example, projects)

    @ui.refreshable
    def recent() -> None:
        overview = projects.overview(project.id)
        _recent_runs(overview)
        with ui.grid().classes('w-full gap-4 grid-cols-1 lg:grid-cols-2'):
            _recent_datasets(overview)
            _recent_exports(overview)

    await asyncio.sleep(0)  # drawn in two parts: the loop serves what waits in between (app/turns.py)
    recent()
    for kind in (RunChanged, DatasetChanged, ExportChanged):  # rare events: a rebuild is cheap then
        events.on(kind, lambda _: recent.refresh())


def _running(jobs: Jobs, events: Subscriber) -> None:
    with section(_('Running'), 'play_circle', classes='md:col-span-2 xl:col-span-1').mark('running'):
        rows = JobList(jobs, _(RUNNING_EMPTY))
    events.on(JobsChanged, lambda _: rows.update())


def _machine(system: System, events: Subscriber) -> None:
    with section(_('This machine'), 'memory').mark('machine'):
        box = ui.column().classes('w-full gap-2')
    meters: dict[str, _Meter] = {}

    def show(_sample: SystemSample | None = None) -> None:
        now = system.now
        if set(meters) != set(_figures(now, system.cpu_history())):  # a GPU came or went: lay out again
            box.clear()
            meters.clear()
            with box:
                for key, (label, _fraction, _figure, tip, spark) in _figures(now, []).items():
                    meters[key] = _Meter(label, tip, spark=spark is not None)
                if not now.gpus:
                    with ui.row().classes('items-center gap-2 text-sm text-gray-500'):
                        ui.icon('info_outline')
                        ui.label(_('No GPU — jobs run on the CPU.')).mark('no-gpu')
        for key, (_label, fraction, figure, _tip, spark) in _figures(now, system.cpu_history()).items():
            meters[key].show(fraction, figure, spark)

    show()
    events.on(SystemSample, show)


def _figures(now: SystemFigures, cpu_history: list[float]) -> dict[str, tuple]:
    """(label, fraction, figure, tooltip, sparkline values or None) of each meter of the machine card."""
    ram = now.ram_used / now.ram_total if now.ram_total else 0
    figures = {'cpu': (_('CPU · last 2 min'), now.cpu / 100, f'{now.cpu:.0f} %', '', cpu_history),
               'ram': (_('RAM'), ram, f'{formatting.size(now.ram_used)} / {formatting.size(now.ram_total)}', '', None)}
    for gpu in now.gpus:
        mem = gpu.mem_used / gpu.mem_total if gpu.mem_total else 0
        figures[f'gpu{gpu.index}'] = (_('GPU {index}').format(index=gpu.index), gpu.util / 100, f'{gpu.util:.0f} %',
                                      gpu.name, None)
        figures[f'gpu{gpu.index}-mem'] = (_('GPU {index} memory').format(index=gpu.index), mem,
                                          f'{formatting.size(gpu.mem_used)} / '
                                          f'{formatting.size(gpu.mem_total)}', '', None)
    return figures


class _Meter:
    """A label and its figure on one line, a bar (or the recent history as a sparkline) below; updated in
    place."""

    def __init__(self, label: str, tip: str, *, spark: bool) -> None:
        with ui.column().classes('w-full gap-1'):
            with ui.row().classes('w-full items-baseline gap-2 no-wrap text-sm'):
                name = ui.label(label).classes('grow text-gray-500 truncate')
                if tip:
                    name.tooltip(tip)
                self.figure = ui.label().classes(theme.NUMBER + ' font-medium')
            if spark:
                self.spark = ui.html('', sanitize=False).classes('w-full h-7 text-primary')
            else:
                self.bar = ui.linear_progress(value=0, show_value=False).props('rounded size=8px') \
                    .classes('w-full')

    def show(self, fraction: float, figure: str, spark: list[float] | None) -> None:
        self.figure.set_text(figure)
        if spark is not None:
            self.spark.set_content(_sparkline(spark))
        else:
            self.bar.set_value(round(max(0.0, min(1.0, fraction)), 3))


def _sparkline(values: list[float]) -> str:
    """An inline SVG of CPU % over the sampled history (0–100 on the y axis)."""
    if len(values) < 2:
        values = values * 2 or [0.0, 0.0]
    step = 100 / (len(values) - 1)
    points = ' '.join(f'{i * step:.1f},{27 - 25 * min(v, 100) / 100:.1f}' for i, v in enumerate(values))
    return (f'<svg viewBox="0 0 100 28" width="100%" height="28" preserveAspectRatio="none">'
            f'<polygon points="0,28 {points} 100,28" fill="currentColor" fill-opacity="0.12"/>'
            f'<polyline points="{points}" fill="none" stroke="currentColor" stroke-width="1.5" '
            f'vector-effect="non-scaling-stroke" stroke-linejoin="round"/></svg>')


def _start(example: Example, projects: Projects) -> None:
    with section(_('Start'), 'rocket_launch').mark('start'):
        for label, hint, icon, target in START:
            with ui.link(target=target).classes('w-full flex items-center gap-3 no-wrap no-underline text-inherit '
                                                'rounded-lg px-2 py-1 hover:bg-primary/10') \
                    .mark(f'start-{target.strip("/").split("?")[0]}'):
                ui.icon(icon, color='primary').classes('text-xl')
                with ui.column().classes('gap-0'):
                    ui.label(_(label)).classes('text-sm font-medium')
                    ui.label(_(hint)).classes(theme.HINT)
        with ui.element('div').classes('w-full flex items-center gap-3 no-wrap rounded-lg px-2 py-1 cursor-pointer '
                                       'hover:bg-primary/10') \
                .props('role=button tabindex=0') \
                .on('click', lambda: start_example(example, projects)) \
                .on('keydown.enter', lambda: start_example(example, projects)).mark('start-example'):
            ui.icon('science', color='primary').classes('text-xl')
            with ui.column().classes('gap-0'):
                ui.label(_('Try the example')).classes('text-sm font-medium')
                ui.label(_('A model from synthesised tones, on this CPU, in minutes')).classes(theme.HINT)


def _example(example: Example, projects: Projects, events: Subscriber, project: ProjectView) -> None:
    """Where the example project stands, with the way to each stage's page; follows its dataset, run and
    export."""
    @ui.refreshable
    def card() -> None:
        view = example.view(project.id)
        with ui.card().classes(theme.CARD + ' gap-3 border-primary/40 bg-primary/5').mark('example'):
            with ui.row().classes('w-full items-center gap-2'):
                ui.icon('science', color='primary').classes('text-xl')
                ui.label(_('Example project')).classes(theme.SECTION + ' grow')
                ui.label(_example_stage(view)).classes('text-sm font-medium').mark('example-stage')
            with ui.row().classes('w-full gap-2 items-stretch'):
                for number, (title, text) in enumerate(EXAMPLE_STAGES, start=1):
                    done = view.number > number or view.stage == 'ready'
                    here = view.number == number
                    with ui.column().classes('gap-0 grow basis-40 rounded-lg p-2 border ' +
                                             ('border-primary bg-white dark:bg-gray-900' if here else
                                              'border-gray-200 dark:border-gray-800')):
                        with ui.row().classes('items-center gap-1 no-wrap'):
                            ui.icon('check_circle' if done else 'radio_button_unchecked',
                                    color='positive' if done else 'primary' if here else 'grey-5')
                            ui.label(_(title)).classes('text-sm font-semibold')
                        ui.label(_(text)).classes(theme.HINT)
            with ui.row().classes('w-full items-center gap-2'):
                _example_actions(view, example, projects)

    card()
    for kind in (DatasetChanged, RunChanged, ExportChanged):
        events.on(kind, lambda _: card.refresh())
    events.on(RunMetrics, lambda e: card.refresh() if e.step % 50 == 0 else None)


def _example_stage(view: ExampleView) -> str:
    if view.stage == 'failed':
        return _('Stopped')
    if view.stage == 'ready':
        return _('Ready to hear')
    if view.stage == 'training':
        return _('Step 2 of 3 · training, step {step} of {steps}').format(step=formatting.count(view.step),
                                                                           steps=formatting.count(view.max_steps))
    return _('Step {number} of 3').format(number=view.number)


def _example_actions(view: ExampleView, example: Example, projects: Projects) -> None:
    if view.stage == 'failed':
        ui.label(view.message).classes('text-sm text-negative grow')
        ui.button(_('Start a new example'), icon='refresh', on_click=lambda: start_example(example, projects)) \
            .props('flat no-caps color=primary')
        return
    ui.label(_('The studio moves it on by itself; leave this page open or come back later.')) \
        .classes(theme.HINT + ' grow')
    if view.dataset_id:
        ui.button(_('Open the dataset'), on_click=lambda: ui.navigate.to(f'/datasets/{view.dataset_id}')) \
            .props('flat no-caps color=primary')
    if view.run_id:
        ui.button(_('Watch the run'), icon='monitoring',
                  on_click=lambda: ui.navigate.to(f'/training/runs/{view.run_id}')) \
            .props('flat no-caps color=primary').mark('example-run')
    if view.stage == 'ready':
        ui.button(_('Hear it in the Explorer'), icon='graphic_eq',
                  on_click=lambda: ui.navigate.to(f'/explorer?export={view.export_id}')) \
            .props('unelevated no-caps color=primary').mark('example-explore')


def _empty(text: str, action: str, target: str) -> None:
    with ui.column().classes('w-full items-start gap-2 py-2'):
        ui.label(text).classes('text-sm text-gray-500')
        ui.button(action, icon='add', on_click=lambda: ui.navigate.to(target)).props('flat dense color=primary')


def _recent_runs(overview: ProjectOverview) -> None:
    with section(_('Recent runs'), 'model_training').mark('recent-runs'):
        if not overview.runs:
            _empty(_('No training yet. A run teaches a RAVE model to rebuild the sounds of a dataset; '
                     'it saves checkpoints you can export.'), _('New training'), '/training/new')
        for r in overview.runs:
            with ui.link(target=f'/training/runs/{r.id}').classes(_ROW):
                ui.label(r.name).classes('font-medium grow truncate')
                ui.label(r.dataset or '—').classes('text-gray-500 max-sm:hidden w-32 truncate')
                ui.label(' + '.join(r.configs or []) or '—').classes('text-gray-500 max-sm:hidden w-32 truncate')
                steps = ngettext('{steps} step', '{steps} steps', r.step).format(steps=formatting.count(r.step))
                ui.label(steps).classes(theme.NUMBER + ' w-28')
                _chip(r.status)


def _recent_datasets(overview: ProjectOverview) -> None:
    with section(_('Recent datasets'), 'library_music').mark('recent-datasets'):
        if not overview.datasets:
            _empty(_('No dataset yet. A dataset is your audio, cut and packed by RAVE\'s preprocess into an LMDB '
                     'folder that training reads.'), _('New dataset'), '/datasets?new')
        for d in overview.datasets:
            with ui.link(target=f'/datasets/{d.id}').classes(_ROW):
                ui.label(d.name).classes('font-medium grow truncate')
                ui.label(formatting.duration(d.seconds) if d.seconds else '—').classes(theme.NUMBER + ' w-24')
                ui.label(f'{formatting.number(d.sr / 1000)} kHz' if d.sr else '') \
                    .classes(theme.NUMBER + ' w-20 max-sm:hidden')
                _chip(d.status)


def _recent_exports(overview: ProjectOverview) -> None:
    with section(_('Recent exports'), 'ios_share').mark('recent-exports'):
        if not overview.exports:
            _empty(_('No export yet. Exporting turns a checkpoint into a TorchScript .ts file that the Explorer, '
                     'Max/MSP and Pure Data (nn~) can play.'), _('Export a model'), '/export')
        for e in overview.exports:
            with ui.link(target=f'/explorer?export={e.id}').classes(_ROW):
                ui.label(e.name).classes('font-medium grow truncate')
                ui.label(_('streaming') if e.streaming else _('offline')).classes('text-gray-500 w-20')
                ui.label(formatting.day(e.created)).classes(theme.NUMBER + ' w-28 max-sm:hidden')
                _chip(e.status)


def _chip(status: str) -> None:
    with ui.element('div').classes('w-24 shrink-0 flex justify-end'):
        status_chip(status)


_ROW = ('w-full flex items-center gap-3 no-wrap px-2 py-1 rounded-lg no-underline text-inherit text-sm '
        'hover:bg-gray-100 dark:hover:bg-gray-800')
