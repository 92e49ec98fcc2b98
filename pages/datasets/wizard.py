"""The "New dataset" wizard: name → sources → parameters → review (the doctor) → run.

Each step shows the datasets facade's own rule for it (the same sentences the doctor reports and `start`
refuses with); the page decides nothing itself."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from nicegui import run, ui

from app import theme
from components.audio_preview import audio_preview
from components.file_picker import source_browser
from components.icon_button import icon_button
from components.job_console import job_console
from components.uploader import upload_panel
from pages.datasets.cluster_places import cluster_switch, on_cluster
from pages.datasets.folder_access import offer_allow
from pages.datasets.wizard_review import review_body
from services import formatting, i18n
from services.access import Forbidden
from services.cluster import Cluster, ClusterSettingsError
from services.datasets import (
    DEFAULT_MAX_DB_GB,
    MAX_NUM_SIGNAL,
    MIN_NUM_SIGNAL,
    RAVE_EXTENSIONS,
    SAMPLING_RATES,
    DatasetError,
    Datasets,
    DatasetView,
    Finding,
    FolderRefused,
    PreprocessSpec,
    Survey,
    example_seconds,
)
from services.events import DatasetChanged, Subscriber
from services.i18n import N_, _, ngettext, pgettext
from services.jobs import Jobs
from services.projects import ProjectView
from services.settings import Settings

STEPS = (N_('Name'), N_('Sources'), N_('Parameters'), N_('Review'), N_('Run'))  # the steps' names; shown through _()


def wizard(datasets: Datasets, settings: Settings, jobs: Jobs, events: Subscriber, project: ProjectView,
           on_close, cluster: Cluster | None = None) -> None:
    """Build a dataset in five steps, each checked before the next; the last one shows the live build (on this
    machine, or as a SLURM job when the parameters step's cluster switch is on)."""
    s = {'folders': [], 'survey': None}
    with ui.card().classes(theme.CARD + ' gap-2 p-0').mark('wizard'):
        with ui.row().classes('w-full items-center px-5 pt-4'):
            ui.icon('library_add', color='primary').classes('text-2xl')
            ui.label(_('New dataset')).classes('text-lg font-semibold grow')
            icon_button('close', _('Close the wizard'), on_click=on_close).mark('close')
        with ui.stepper().props('flat animated alternative-labels').classes('w-full') as stepper:
            with ui.step(STEPS[0], title=_(STEPS[0]), icon='edit'):
                name = _name_step(datasets, project)
                name_next = _nav(stepper, STEPS[0], lambda: datasets.check_name(project.id, name.value),
                                 first=True, marker='name')
                name.on('keydown.enter', name_next)
            with ui.step(STEPS[1], title=_(STEPS[1]), icon='folder_open'):
                survey_label, ext, folder_list = _sources_step(datasets, settings, project, s, lambda: _survey())
                _nav(stepper, STEPS[1], lambda: _check_sources(datasets, project, s, ext.value), marker='sources')
            with ui.step(STEPS[2], title=_(STEPS[2]), icon='tune'):
                p = _params_step(datasets, project, s, name, cluster)
                _nav(stepper, STEPS[2], lambda: datasets.check_params(_spec(name, s, ext, p)), marker='params',
                     on_next=lambda: _review())
            with ui.step(STEPS[3], title=_(STEPS[3]), icon='fact_check'):
                review = ui.column().classes('w-full gap-3').mark('review')
                with ui.stepper_navigation():
                    ui.button(_('Back'), on_click=lambda: stepper.set_value(STEPS[2])).props('flat').mark('back-review')
                    start = ui.button(_('Start preprocessing'), icon='play_arrow', on_click=lambda: _start()) \
                        .props('unelevated color=primary').mark('start')
            with ui.step(STEPS[4], title=pgettext('dataset wizard', 'Run'), icon='play_arrow'):
                running = ui.column().classes('w-full gap-3').mark('running')

    async def _survey() -> None:
        s['survey'] = None
        if s['folders']:
            survey_label.set_text(_('Looking for audio…'))
            s['survey'] = await run.io_bound(i18n.carrying(datasets.survey), project.id, list(s['folders']),
                                             list(ext.value or []))
        _show_survey(s['survey'], survey_label)
        p['refresh']()
        folder_list.refresh()

    async def _review() -> None:
        review.clear()
        with review:
            ui.spinner(size='lg').classes('self-center')
            ui.label(_('The doctor is checking every file…')).classes(theme.HINT + ' self-center')
        spec = _spec(name, s, ext, p)
        s['survey'] = found = await run.io_bound(i18n.carrying(datasets.survey), project.id, list(spec.inputs),
                                                 list(spec.ext or []))
        try:
            findings = await run.io_bound(i18n.carrying(datasets.doctor), project.id, spec, found)
        except Exception as e:  # noqa: BLE001 - whatever broke, the spinner must not spin on forever
            logging.getLogger(__name__).exception('the dataset doctor failed')
            findings = [Finding('blocker', _('The doctor could not check these files ({error}). Go Back, then Next to '
                                             'try again; Settings → Diagnostics has the log.')
                                .format(error=f'{type(e).__name__}: {e}'))]
        review.clear()
        with review:
            review_body(datasets, project, spec, found, findings)
        start.set_enabled(not any(f.severity == 'blocker' for f in findings))

    async def _start() -> None:
        try:
            if on_cluster(p):
                dataset = datasets.get(cluster.preprocess(project.id, _spec(name, s, ext, p), s['survey']))
            else:
                dataset = datasets.start(project.id, _spec(name, s, ext, p), s['survey'])
        except (DatasetError, ClusterSettingsError, Forbidden) as e:
            ui.notify(str(e), type='negative', multi_line=True)
            return
        running.clear()
        with running:
            _running(datasets, jobs, events, dataset, on_close)
        stepper.set_value(STEPS[4])


# ---- steps ----------------------------------------------------------------------------------------------
def _name_step(datasets: Datasets, project: ProjectView) -> ui.input:
    ui.label(_('A dataset is your recordings cut into short examples and stored in one fast database folder '
               '(LMDB) for training. Your original files are only read, never changed.')).classes(theme.HINT)
    name = ui.input(_('Name'), placeholder=_('e.g. violin takes')).props('outlined dense autofocus') \
        .classes('w-full max-w-md').mark('name')
    hint = ui.label().classes(theme.HINT)

    def _where() -> None:
        value = (name.value or '').strip()
        hint.set_text(_('Stored in {folder}').format(folder=datasets.output_path(project.id, value)) if value else
                      _('Shown in the studio; also names the dataset folder.'))
    name.on_value_change(_where)
    _where()
    return name


def _sources_step(datasets: Datasets, settings: Settings, project: ProjectView, s: dict, resurvey):
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-5 gap-4'):
        with ui.column().classes('lg:col-span-3 gap-2 min-w-0'):
            ui.label(_('Browse')).classes(theme.SECTION)
            ext = ui.select(RAVE_EXTENSIONS, value=list(RAVE_EXTENSIONS), multiple=True, label=_('File types')) \
                .props('outlined dense use-chips options-dense').classes('w-full').mark('ext')
            ui.label(_('Only files ending in these types (lower or upper case) are listed and used.')) \
                .classes(theme.HINT)
            browser = source_browser(datasets, project.id, lambda p: _add(p), lambda p: _preview(p),
                                     ext=lambda: list(ext.value or []))
            preview_slot = ui.column().classes('w-full')
        with ui.column().classes('lg:col-span-2 gap-2 min-w-0'):
            ui.label(_('Input folders')).classes(theme.SECTION)

            @ui.refreshable
            def folder_list() -> None:
                if not s['folders']:
                    ui.label(_('No folder yet: add one from the browser, paste a path or upload files.')) \
                        .classes(theme.HINT)
                for path in s['folders']:
                    with ui.row().classes('w-full items-center gap-2 no-wrap rounded-lg px-2 py-1 '
                                          'bg-gray-50 dark:bg-gray-900').mark('input-folder'):
                        ui.icon('folder', color='primary')
                        ui.label(path).classes(f'{theme.MONO} grow break-all')
                        icon_button('close', _('Remove {folder}').format(folder=path), lambda p=path: _remove(p),
                                    props='flat round dense size=sm').mark('remove-folder')
            folder_list()
            with ui.row().classes('w-full items-center gap-2 no-wrap'):
                paste = ui.input(placeholder=_('Paste a folder path')).props('outlined dense clearable') \
                    .classes('grow').mark('folder-path')
                paste.props['aria-label'] = _('Paste a folder path')
                paste.on('keydown.enter', lambda: _add(paste.value))
                icon_button('add', _('Add the pasted folder'), lambda: _add(paste.value), props='flat round') \
                    .mark('add-folder')
            ui.label(_('Enter adds it. Any folder of this machine you may read; one outside the browsable folders '
                       'is offered to be allowed.')).classes(theme.HINT)
            refused = ui.column().classes('w-full gap-0').mark('refused')
            survey_label = ui.label().classes('text-sm text-gray-600 dark:text-gray-300').mark('survey')
            ui.label(_('Upload')).classes(theme.SECTION + ' mt-2')
            upload_panel(datasets, project.id, on_uploaded=lambda folder: _uploaded(folder))

    async def _add(path: str | None) -> None:
        path = (path or '').strip()
        if not path:
            return
        refused.clear()
        try:
            resolved = str(datasets.input_folder(project.id, path))
        except FolderRefused as e:
            folder = e.path
            with refused:
                offer_allow(settings, e, lambda: _allowed(folder))
            return
        except DatasetError as e:
            ui.notify(str(e), type='negative')
            return
        if resolved not in s['folders']:
            s['folders'].append(resolved)
        paste.set_value('')
        await resurvey()

    async def _allowed(folder: Path) -> None:
        """The folder became browsable: add it, and show it in the browser."""
        await _add(str(folder))
        await browser.show_folder(folder)

    async def _remove(path: str) -> None:
        s['folders'].remove(path)
        await resurvey()

    async def _preview(path: Path) -> None:
        preview_slot.clear()
        with preview_slot:
            await audio_preview(datasets, path)

    async def _uploaded(folder: Path) -> None:
        await _add(str(folder))
        await browser.refresh_listing()

    async def _filter() -> None:
        await resurvey()
        await browser.refresh_listing()
    ext.on_value_change(_filter)
    return survey_label, ext, folder_list


def _params_step(datasets: Datasets, project: ProjectView, s: dict, name: ui.input, cluster: Cluster | None) -> dict:
    p: dict = {}
    with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-2 gap-x-8 gap-y-3'):
        with ui.column().classes('gap-1'):
            p['num_signal'] = ui.number(_('Example length (num_signal)'), value=131072, min=MIN_NUM_SIGNAL,
                                        max=MAX_NUM_SIGNAL, step=16384, format='%d', suffix=_('samples')) \
                .props('outlined dense').classes('w-full').mark('num_signal')
            length = ui.label().classes(theme.HINT).mark('example-length')
        with ui.column().classes('gap-1'):
            p['sr'] = ui.select({r: f'{formatting.number(r / 1000)} kHz' for r in SAMPLING_RATES}, value=44100,
                                label=_('Sampling rate')).props('outlined dense').classes('w-full').mark('sr')
            ui.label(_('Every file is resampled to this rate by ffmpeg. Train and play at the same rate.')) \
                .classes(theme.HINT)
        with ui.column().classes('gap-1'):
            p['channels'] = ui.toggle({1: _('Mono'), 2: _('Stereo')}, value=1).props('no-caps unelevated') \
                .mark('channels')
            p['channels'].props['aria-label'] = _('Channels')
            ui.label(_('Mono keeps the first channel of stereo files; stereo copies mono files to both sides.')) \
                .classes(theme.HINT)
        with ui.column().classes('gap-1'):
            p['lazy'] = ui.switch(_('Lazy: store references, not audio')).mark('lazy')
            ui.label(_('Builds fast and takes no space, but training decodes the files on the fly (slower); '
                       'keep the files where they are.')).classes(theme.HINT)
        with ui.column().classes('gap-1'):
            p['max_db_size'] = ui.number(_('Maximum database size'), value=DEFAULT_MAX_DB_GB, min=1, step=10,
                                         format='%d', suffix=_('GB')).props('outlined dense').classes('w-full') \
                .mark('max_db_size')
            ui.label(_('A ceiling for the LMDB file (RAVE\'s max_db_size); the build stops if it is reached.')) \
                .classes(theme.HINT)
        with ui.column().classes('gap-1'):
            p['dyndb'] = ui.switch(_('Dynamic growth (dyndb)'), value=True).mark('dyndb')
            ui.label(_('On: the file grows as examples are written. Off: it is mapped at its full size up front '
                       '(slightly faster writes).')).classes(theme.HINT)
    with ui.column().classes('w-full gap-1 mt-2'):
        ui.label(_('Where')).classes(theme.SECTION)
        where = ui.label().classes(f'{theme.MONO} break-all whitespace-pre-line text-gray-600 dark:text-gray-300') \
            .mark('where')
        p['cluster'] = cluster_switch(cluster, project)  # None where no cluster is offered

    def _refresh() -> None:
        n = _int(p['num_signal'].value)
        sr = p['sr'].value or 44100
        if n is None:
            length.set_text(_('Enter a whole number of samples (131072 is RAVE\'s default).'))
        else:
            found = s['survey']
            count = ''
            if found is not None and found.files:
                count = (_(' · {count} file references') if p['lazy'].value else
                         _(' · about {count} examples from your files')) \
                    .format(count=formatting.count(len(found.files) if p['lazy'].value else found.examples(n, sr)))
            note = '' if n & (n - 1) == 0 else _(' A power of two (65536, 131072…) is recommended.')
            length.set_text(_('Each example holds 2 × {n} = {samples} samples = {seconds} s of audio{count}.{note}')
                            .format(n=formatting.count(n), samples=formatting.count(2 * n),
                                    seconds=formatting.number(example_seconds(n, sr), 2), count=count, note=note))
        inputs = ', '.join(s['folders']) or '—'
        writes = datasets.output_path(project.id, name.value)
        where.set_text(_('reads: {inputs}\nwrites: {folder}').format(inputs=inputs, folder=writes)
                       + (_('\nby a SLURM job, on the cluster\'s file system') if on_cluster(p) else ''))

    for control in ('num_signal', 'sr', 'lazy', 'cluster'):
        if p[control] is not None:
            p[control].on_value_change(_refresh)
    name.on_value_change(_refresh)
    p['refresh'] = _refresh
    _refresh()
    return p


# ---- checks, review, run ----------------------------------------------------------------------------------
def _nav(stepper, step: str, check: Callable[[], list[str]], first: bool = False, marker: str = '',
         on_next=None) -> Callable[[], Awaitable[None]]:
    """Back and Next under `step`; returns what Next does (Enter in a step's field does it too). Next acts only
    while its step is shown: a double click, or a click on the outgoing step as it slides, would skip a check."""
    async def _next() -> None:
        if (stepper.value or STEPS[0]) != step:  # None: the first step
            return
        problems = check()
        if problems:
            ui.notify(' '.join(problems), type='warning', multi_line=True)
            return
        stepper.set_value(STEPS[STEPS.index(step) + 1])  # set here, not by the browser: the guard above knows it
        if on_next:
            await on_next()
    with ui.stepper_navigation():
        if not first:
            ui.button(_('Back'), on_click=lambda: stepper.set_value(STEPS[STEPS.index(step) - 1])).props('flat') \
                .mark(f'back-{marker}')
        ui.button(_('Next'), icon='arrow_forward', on_click=_next) \
            .props(f'unelevated color=primary data-testid=next-{marker}').mark(f'next-{marker}')
    return _next


def _check_sources(datasets: Datasets, project: ProjectView, s: dict, ext: list[str] | None) -> list[str]:
    problems = datasets.check_inputs(project.id, s['folders'])
    if not problems and s['survey'] is not None:
        problems = datasets.check_material(s['survey'], ext)
    return problems


def _spec(name: ui.input, s: dict, ext: ui.select, p: dict) -> PreprocessSpec:
    """What the controls ask for, as the facade reads it."""
    return PreprocessSpec(name=name.value or '', inputs=tuple(s['folders']), num_signal=_int(p['num_signal'].value),
                          channels=p['channels'].value, sr=p['sr'].value, ext=tuple(ext.value or ()),
                          lazy=bool(p['lazy'].value), max_db_size=_int(p['max_db_size'].value),
                          dyndb=bool(p['dyndb'].value))


def _running(datasets: Datasets, jobs: Jobs, events: Subscriber, dataset: DatasetView, on_close) -> None:
    with ui.row().classes('w-full items-center gap-2'):
        ui.icon('construction', color='primary').classes('text-xl')
        ui.label(_('Building "{name}"').format(name=dataset.name)).classes('text-lg font-semibold grow')
        train = ui.button(_('Train a model on it'), icon='model_training',
                          on_click=lambda: ui.navigate.to(train_link(dataset.id))) \
            .props('unelevated color=primary no-caps').mark('train-on-it')
        ui.button(_('Open dataset'), icon='open_in_new', on_click=lambda: ui.navigate.to(f'/datasets/{dataset.id}')) \
            .props('flat color=primary').mark('open-dataset')
        ui.button(_('Done'), on_click=on_close).props('flat').mark('done')
    ui.label(_('It keeps running if you leave this page; several builds queue up and run in turn. Once it is '
               'ready, train a model on it.')).classes(theme.HINT)
    job_console(jobs, events, dataset.job_id, height='h-48')

    def _changed(event: DatasetChanged) -> None:
        if event.dataset_id == dataset.id:
            train.set_visibility(event.status == 'ready')

    train.set_visibility(bool((datasets.get(dataset.id) or dataset).ready))
    events.on(DatasetChanged, _changed)


def train_link(dataset_id: int) -> str:
    """The training wizard with this dataset chosen (the wizard reads `dataset`)."""
    return f'/training/new?dataset={dataset_id}'


def _show_survey(found: Survey | None, label: ui.label) -> None:
    if found is None:
        label.set_text('')
    elif not found.entries and not found.skipped:
        label.set_text(_('No audio files found yet in these folders.'))
    else:
        skipped = _(' · {count} unusable').format(count=len(found.skipped)) if found.skipped else ''
        said = ngettext('{count} file · {duration} of audio{skipped}', '{count} files · {duration} of audio{skipped}',
                        len(found.files))
        label.set_text(said.format(count=formatting.count(len(found.files)),
                                   duration=formatting.duration(found.seconds), skipped=skipped))


def _int(value) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number == int(number) else None
