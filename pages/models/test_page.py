"""Testing a model (/models/test): pick a checkpoint or an export, pick or upload audio — one file, a folder,
or a dataset's held-out examples — and run it through the model in the model-test worker; then the results
table with the aggregate, and for each file the original beside its reconstruction (test_results.py).

The test is a job: its progress shows here and in the jobs indicator (JobsChanged moves it), and it goes on if
the page closes."""
from __future__ import annotations

from pathlib import Path

from nicegui import ui

from app import theme
from components import cards
from components.uploader import upload_panel
from pages.models import test_results
from services.access import Forbidden
from services.datasets import Datasets
from services.events import JobsChanged, Subscriber
from services.i18n import N_, _
from services.models.testing import ModelSource, ModelTestError, ModelTests, TestView
from services.projects import ProjectView

SOURCES = {'File': N_('File'), 'Folder': N_('Folder'), 'Upload': N_('Upload'), 'Dataset': N_('Dataset')}


def create(model_tests: ModelTests, datasets: Datasets, events: Subscriber, project: ProjectView) -> None:
    query = ui.context.client.request.query_params
    with ui.row().classes('w-full items-center gap-3'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to('/models')).props('flat round dense') \
            .tooltip(_('All models'))
        with ui.column().classes('gap-0 grow'):
            ui.label(_('Test a model')).classes(theme.TITLE)
            ui.label(_('Real audio through a checkpoint or an export: listen, compare, measure.')) \
                .classes(theme.SUBTITLE)
    sources = model_tests.sources(project.id)
    if not sources:
        cards.empty_state('fact_check', _('Nothing to test yet'),
                          _('Testing needs a checkpoint of a run or a finished export. Train a model, or import '
                            'a RAVE run folder.'),
                          [cards.Action(_('Models'), 'inventory_2', '/models')])
        return
    state: dict = {'test': None, 'folder': ''}
    options = {s.path: s.label for s in sources}
    wanted = query.get('checkpoint', '')
    run_id = query.get('run', '')
    first = wanted if wanted in options else next(
        (s.path for s in sources if str(s.run_id) == run_id), sources[0].path)
    with ui.card().classes(theme.CARD + ' gap-3').mark('test-setup'):
        ui.label(_('1 · Which model?')).classes(theme.SECTION)
        model = ui.select(options, value=first, label=_('Checkpoint or export'), with_input=True) \
            .props('outlined dense options-dense').classes('w-full').mark('test-model')
        ui.label(_('A checkpoint is rebuilt from its run\'s config.gin; an export runs as the TorchScript file it is. '
                   'Both encode to the posterior mean and decode.')).classes(theme.HINT)
        ui.label(_('2 · On what audio?')).classes(theme.SECTION + ' mt-2')
        with ui.tabs().props('dense no-caps align=left active-color=primary indicator-color=primary') \
                .classes('w-full').mark('test-sources') as tabs:
            tab_items = {name: ui.tab(name, _(label)).mark(f'source-{name.lower()}') for name, label in SOURCES.items()}
        with ui.tab_panels(tabs, value='File').classes('w-full bg-transparent') as panels:
            with ui.tab_panel(tab_items['File']).classes('p-0 pt-2'):
                files = ui.select({p: _short(p, project) for p in model_tests.audio_choices(project.id)},
                                  multiple=True, label=_('Audio files'), with_input=True) \
                    .props('outlined dense use-chips options-dense').classes('w-full').mark('test-files')
                ui.label(_('Your uploads and your datasets\' source files.')).classes(theme.HINT)
            with ui.tab_panel(tab_items['Folder']).classes('p-0 pt-2'):
                folder = ui.input(_('Folder'), placeholder=str(Path(project.location) / 'uploads')) \
                    .props('outlined dense').classes('w-full').mark('test-folder')
                ui.label(_('Every audio file inside (sub-folders too, at most 200), inside this project or a browse '
                           'root from Settings.')).classes(theme.HINT)
            with ui.tab_panel(tab_items['Upload']).classes('p-0 pt-2'):
                async def uploaded(landed: Path) -> None:
                    state['folder'] = str(landed)
                    uploaded_label.set_text(_('Ready: {name} (every file in it is tested).').format(name=landed.name))
                upload_panel(datasets, project.id, uploaded)
                uploaded_label = ui.label().classes('text-sm').mark('test-uploaded')
            with ui.tab_panel(tab_items['Dataset']).classes('p-0 pt-2'):
                with ui.row().classes('w-full items-center gap-2'):
                    dataset = ui.select(model_tests.datasets(project.id), label=_('Dataset')) \
                        .props('outlined dense options-dense').classes('w-64').mark('test-dataset')
                    limit = ui.number(_('Examples'), value=8, min=1, max=100, format='%d') \
                        .props('outlined dense').classes('w-32').mark('test-limit')
                ui.label(_('Its held-out examples: the validation split `rave train` makes (98 %, seed 42), which '
                           'the model never trained on.')).classes(theme.HINT)
        speech = _speech_switch(model_tests, project, sources, model, dataset)
        with ui.row().classes('w-full items-center gap-3'):
            start = ui.button(_('Run the test'), icon='play_arrow', on_click=lambda: go()) \
                .props('unelevated color=primary').mark('test-start')
            progress = ui.linear_progress(value=0, show_value=False).classes('grow').mark('test-progress')
            progress.set_visibility(False)
            status = ui.label().classes(theme.HINT).mark('test-status')
    results = ui.column().classes('w-full gap-4').mark('test-results')

    def go() -> None:
        try:
            chosen = {'speech': bool(speech.value)}
            if panels.value == 'Dataset':
                view = model_tests.start(project.id, model.value, dataset_id=dataset.value or 0,
                                         limit=int(limit.value or 8), **chosen)
            elif panels.value == 'Folder':
                view = model_tests.start(project.id, model.value, folder=folder.value or '', **chosen)
            elif panels.value == 'Upload':
                view = model_tests.start(project.id, model.value, folder=state['folder'], **chosen)
            else:
                view = model_tests.start(project.id, model.value, files=list(files.value or []), **chosen)
        except (ModelTestError, Forbidden) as e:
            ui.notify(str(e), type='warning', multi_line=True)
            return
        state['test'] = view
        show(view)

    def show(view: TestView) -> None:
        running = view.status in ('queued', 'running')
        start.set_enabled(not running)
        progress.set_visibility(running)
        progress.set_value(view.progress or 0)
        status.set_text((_('Waiting for a free slot…') if view.status == 'queued' else
                         _('Testing… {detail}').format(detail=view.detail)) if running else view.error or '')
        status.classes(replace=theme.HINT if not view.error else 'text-sm text-negative')
        if view.done:
            results.clear()
            with results:
                test_results.create(model_tests, project, view)

    def changed(event: JobsChanged) -> None:
        view = state['test']
        if view is not None and view.job_id in event.job_ids:
            state['test'] = model_tests.test(view.id, view.job_id, view.folder)
            show(state['test'])

    events.on(JobsChanged, changed)


def _speech_switch(model_tests: ModelTests, project: ProjectView, sources: list[ModelSource], model: ui.select,
                   dataset: ui.select) -> ui.switch:
    """The user's say whether the audio is speech (PESQ and STOI mean nothing on music): on by itself for a model
    trained on, or a dataset, marked speech; the user may switch it either way."""
    marked = {s.path: s.speech for s in sources}
    speech_sets = model_tests.speech_datasets(project.id)
    with ui.row().classes('w-full items-center gap-2 mt-1'):
        switch = ui.switch(_('Speech: also PESQ and STOI'), value=marked.get(model.value, False)).mark('test-speech')
        ui.label(_('Speech metrics at 16 kHz (wide-band PESQ, STOI), for voice recordings only. On by itself for a '
                   'dataset marked speech (its category or a tag "speech", on the Datasets page).')).classes(theme.HINT)
    model.on_value_change(lambda e: switch.set_value(marked.get(e.value, False)))
    dataset.on_value_change(lambda e: switch.set_value(e.value in speech_sets))
    return switch


def _short(path: str, project: ProjectView) -> str:
    p = Path(path)
    return str(p.relative_to(project.location)) if p.is_relative_to(project.location) else str(p)
