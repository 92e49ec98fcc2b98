"""Datasets: folders of audio turned into RAVE training data (`rave preprocess`), and one dataset's page."""
from __future__ import annotations

from pathlib import Path

from nicegui import run, ui

from app import theme
from components.file_picker import pick_folder
from components.job_console import job_console
from components.status import fmt_bytes, fmt_duration, status_chip
from services.datasets import RAVE_EXTENSIONS, SAMPLING_RATES, example_seconds
from services.store import Dataset

ABOUT = ('A dataset is the training material for a RAVE model: your recordings cut into short examples '
         'and stored in one fast database folder (LMDB). Pick folders of audio; the originals are never changed.')


def create(studio, project) -> None:
    """The project's datasets, with a panel to make a new one."""
    with ui.row().classes('w-full items-end gap-4'):
        with ui.column().classes('gap-0 grow'):
            ui.label('Datasets').classes(theme.TITLE)
            ui.label(f'Training material of {project.name}').classes(theme.SUBTITLE)
        new_button = ui.button('New dataset', icon='add', on_click=lambda: _open_form()) \
            .props('unelevated color=primary').mark('new')
    form_slot = ui.column().classes('w-full')

    def _open_form() -> None:
        form_slot.clear()
        new_button.set_visibility(False)
        with form_slot:
            _new_dataset_form(studio, project, on_close=_close_form)
        cards.refresh()

    def _close_form() -> None:
        form_slot.clear()
        new_button.set_visibility(True)
        cards.refresh()

    @ui.refreshable
    def cards() -> None:
        datasets = studio.datasets.list(project)
        if not datasets:
            if new_button.visible:  # while the form is open it teaches the same thing
                _empty_state(_open_form)
            return
        with ui.element('div').classes('w-full grid gap-4 grid-cols-1 md:grid-cols-2 2xl:grid-cols-3'):
            for dataset in datasets:
                _dataset_card(studio, dataset)

    cards()
    seen = {'key': _list_key(studio, project)}

    def _tick() -> None:
        key = _list_key(studio, project)
        if key != seen['key']:
            seen['key'] = key
            cards.refresh()

    ui.timer(1.0, _tick)


def detail(studio, project, dataset_id: str) -> None:
    """One dataset: what it holds, where it lives, how it was made; delete it."""
    dataset = studio.datasets.get(dataset_id)
    if dataset is None or dataset.project_id != project.id:
        with ui.card().classes(theme.CARD + ' items-center gap-3 py-10'):
            ui.icon('search_off', color='grey-6').classes('text-5xl')
            ui.label('This dataset does not exist in the current project.').classes(theme.SECTION)
            ui.button('All datasets', icon='arrow_back', on_click=lambda: ui.navigate.to('/datasets')).props('flat')
        return

    @ui.refreshable
    def body() -> None:
        _detail_body(studio, studio.datasets.get(dataset.id))

    body()
    seen = {'status': dataset.status}

    def _tick() -> None:
        current = studio.datasets.get(dataset.id)
        if current is not None and current.status != seen['status']:
            seen['status'] = current.status
            body.refresh()

    ui.timer(1.0, _tick)


# ---- list -------------------------------------------------------------------------------------------
def _list_key(studio, project) -> tuple:
    building = [d for d in studio.datasets.list(project) if d.status == 'building']
    return (tuple((d.id, d.status) for d in studio.datasets.list(project)),
            studio.jobs.version if building else 0)


def _empty_state(on_new) -> None:
    with ui.card().classes(theme.CARD + ' items-center text-center gap-3 py-12').mark('empty'):
        ui.icon('library_music', color='primary').classes('text-6xl opacity-80')
        ui.label('No datasets yet').classes('text-xl font-semibold')
        ui.label(ABOUT).classes('max-w-xl text-sm text-gray-600 dark:text-gray-300')
        ui.label('A few minutes of audio is enough to try; an hour or more of one instrument or voice trains '
                 'a good model.').classes(theme.HINT + ' max-w-xl')
        ui.button('New dataset', icon='add', on_click=on_new).props('unelevated color=primary').classes('mt-2')


def _dataset_card(studio, dataset: Dataset) -> None:
    with ui.card().classes(theme.CARD + ' gap-3 cursor-pointer hover:shadow-md transition-shadow') \
            .on('click', lambda: ui.navigate.to(f'/datasets/{dataset.id}')).mark(f'dataset-{dataset.name}'):
        with ui.row().classes('w-full items-center gap-2 no-wrap'):
            ui.icon('library_music', color='primary').classes('text-xl')
            ui.label(dataset.name).classes('text-base font-semibold truncate grow')
            status_chip(dataset.status)
        if dataset.status == 'building':
            state = studio.jobs.states.get(dataset.job_id)
            progress = state.progress if state else None
            bar = ui.linear_progress(value=progress or 0, show_value=False).props('rounded size=6px')
            if progress is None:
                bar.props('indeterminate')
            ui.label(state.detail if state and state.detail else
                     'Starting RAVE…' if state and state.status == 'running' else 'Waiting in the queue…') \
                .classes(theme.HINT)
        elif dataset.status in ('failed', 'cancelled'):
            ui.label(dataset.params.get('message', '')).classes('text-xs text-negative line-clamp-2')
        _stats(dataset, compact=True)


def _stats(dataset: Dataset, compact: bool = False) -> None:
    params = dataset.params or {}
    rows = [
        ('Examples', f'{dataset.n_examples:,}'.replace(',', ' ') if dataset.n_examples is not None else '—'),
        ('Duration', fmt_duration(dataset.n_seconds)),
        ('Sampling rate', f'{dataset.sr / 1000:g} kHz' if dataset.sr else '—'),
        ('Channels', {1: 'mono', 2: 'stereo'}.get(dataset.channels, '—')),
        ('Size', fmt_bytes(dataset.size_bytes)),
        ('Mode', ('lazy' if dataset.lazy else 'regular') if compact else
         ('lazy (file references)' if dataset.lazy else 'regular (audio stored)')),
    ]
    if not compact:
        num_signal = params.get('num_signal', 131072)
        rows += [('Example length', f'{example_seconds(num_signal, dataset.sr or 44100):.2f} s '
                                    f'({2 * num_signal:,} samples)'.replace(',', ' ')),
                 ('Source files', f'{params.get("source_files", "—")} · {fmt_duration(params.get("source_seconds"))}'),
                 ('Created', dataset.created.strftime('%d %b %Y, %H:%M'))]
    else:
        rows.append(('Created', dataset.created.strftime('%d %b %Y')))
    cols = 'grid-cols-3' if compact else 'grid-cols-2 md:grid-cols-3'
    with ui.element('div').classes(f'w-full grid {cols} gap-x-4 gap-y-2'):
        for label, value in rows:
            with ui.column().classes('gap-0 min-w-0'):
                ui.label(label).classes(theme.HINT)
                ui.label(value).classes('text-sm font-medium tabular-nums truncate')


# ---- new dataset ------------------------------------------------------------------------------------
def _new_dataset_form(studio, project, on_close) -> None:
    """Name, folders and RAVE's preprocess parameters; problems shown before launch; then the live console."""
    folders: list[str] = []
    with ui.card().classes(theme.CARD + ' gap-4').mark('new-form') as card:
        with ui.row().classes('w-full items-center'):
            ui.label('New dataset').classes('text-lg font-semibold grow')
            ui.button(icon='close', on_click=on_close).props('flat round dense').tooltip('Close')
        ui.label(ABOUT).classes(theme.HINT)
        with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-2 gap-x-8 gap-y-4'):
            with ui.column().classes('gap-2'):
                name = _field(ui.input('Name', placeholder='e.g. violin takes').props('outlined dense')
                              .mark('name'), 'Shown in the studio; also names the dataset folder.')
                ui.label('Input folders').classes('text-sm font-medium mt-1')
                folder_list = ui.column().classes('w-full gap-1').mark('folders')
                with ui.row().classes('w-full items-start gap-2 no-wrap'):
                    paste = ui.input(placeholder='Paste a folder path').props('outlined dense clearable') \
                        .classes('grow').mark('folder-path')
                    ui.button(icon='add', on_click=lambda: _add(paste.value)).props('flat round') \
                        .tooltip('Add this folder').mark('add-folder')
                    ui.button('Browse', icon='folder_open', on_click=lambda: _browse()) \
                        .props('outline color=primary no-wrap').mark('browse')
                ui.label('Sub-folders are searched too. Your files are only read, never changed.').classes(theme.HINT)
                survey_label = ui.label().classes('text-sm text-gray-600 dark:text-gray-300').mark('survey')
            with ui.column().classes('gap-2'):
                num_signal = _field(ui.number('Example length (num_signal)', value=131072, min=16384, step=16384,
                                              format='%d', suffix='samples').props('outlined dense')
                                    .mark('num_signal'), '')
                length_hint = num_signal.hint_label
                with ui.row().classes('w-full gap-4 no-wrap'):
                    sr = ui.select({r: f'{r / 1000:g} kHz' for r in SAMPLING_RATES}, value=44100,
                                   label='Sampling rate').props('outlined dense').classes('grow').mark('sr')
                    channels = ui.select({1: 'Mono', 2: 'Stereo'}, value=1, label='Channels') \
                        .props('outlined dense').classes('grow').mark('channels')
                ui.label('Audio is resampled to this rate; mono/stereo files are mixed or repeated to fit. '
                         'Train with the same values.').classes(theme.HINT)
                ext = _field(ui.select(RAVE_EXTENSIONS, value=list(RAVE_EXTENSIONS), multiple=True,
                                       label='File types').props('outlined dense use-chips').mark('ext'),
                             'Files ending in these extensions (lower or upper case) are used.')
                lazy = _field(ui.switch('Lazy: store references, not audio').mark('lazy'),
                              'Builds fast and takes no space, but training decodes the files on the fly '
                              '(slower); keep the files where they are.')
        problems = ui.column().classes('w-full gap-1').mark('problems')
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Cancel', on_click=on_close).props('flat')
            start_button = ui.button('Start preprocessing', icon='play_arrow', on_click=lambda: _start()) \
                .props('unelevated color=primary').mark('start')

    def _update_length() -> None:
        n = int(num_signal.value or 0)
        seconds = example_seconds(n, sr.value or 44100)
        note = '' if n & (n - 1) == 0 else ' A power of two (65536, 131072…) is recommended.'
        length_hint.set_text(f'Each example holds 2 × num_signal = {2 * n:,} samples = {seconds:.2f} s of audio. '
                             .replace(',', ' ') + f'Training crops (n_signal) must fit inside.{note}')

    last = {'survey': None}

    def _show_survey() -> None:
        found = last['survey']
        if found is None:
            survey_label.set_text('')
        elif not found.files:
            survey_label.set_text('No audio files found yet in these folders.')
        else:
            count = len(found.files) if lazy.value else found.examples(int(num_signal.value or 131072), sr.value)
            unit = 'references' if lazy.value else 'examples'
            survey_label.set_text(f'{len(found.files)} files · {fmt_duration(found.seconds)} of audio · '
                                  f'about {count} {unit}')

    for control in (num_signal, sr, lazy):
        control.on_value_change(lambda: (_update_length(), _show_survey()))
    _update_length()

    def _render_folders() -> None:
        folder_list.clear()
        with folder_list:
            if not folders:
                ui.label('No folder yet: browse or paste a path.').classes(theme.HINT)
            for path in folders:
                with ui.row().classes('w-full items-center gap-2 no-wrap rounded-lg px-2 py-1 '
                                      'bg-gray-50 dark:bg-gray-900'):
                    ui.icon('folder', color='primary')
                    ui.label(path).classes(f'{theme.MONO} grow break-all')
                    ui.button(icon='close', on_click=lambda p=path: _remove(p)).props('flat round dense size=sm') \
                        .tooltip('Remove')

    async def _add(path: str | None) -> None:
        path = (path or '').strip()
        if not path:
            return
        if not studio.settings.within_roots(path):
            ui.notify(f'{path} is outside the browsable folders. Add it in Settings first.', type='negative')
            return
        if not Path(path).expanduser().is_dir():
            ui.notify(f'{path} is not a folder. Check the path.', type='negative')
            return
        resolved = str(Path(path).expanduser().resolve())
        if resolved not in folders:
            folders.append(resolved)
        paste.set_value('')
        _render_folders()
        await _survey()

    async def _remove(path: str) -> None:
        folders.remove(path)
        _render_folders()
        await _survey()

    async def _browse() -> None:
        chosen = await pick_folder(studio.settings, folders[-1] if folders else None)
        if chosen:
            await _add(chosen)

    async def _survey() -> None:
        last['survey'] = None
        if folders:
            survey_label.set_text('Looking for audio…')
            last['survey'] = await run.io_bound(studio.datasets.survey, list(folders), ext.value)
        _show_survey()

    async def _start() -> None:
        values = {'name': name.value or '', 'inputs': list(folders), 'num_signal': int(num_signal.value or 0),
                  'channels': channels.value, 'sr': sr.value, 'ext': list(ext.value or []), 'lazy': lazy.value}
        start_button.props('loading')
        found = await run.io_bound(studio.datasets.survey, values['inputs'], values['ext'] or None)
        issues = await run.io_bound(lambda: studio.datasets.validate(project, survey=found, **values))
        start_button.props(remove='loading')
        problems.clear()
        if issues:
            with problems:
                for issue in issues:
                    with ui.row().classes('items-start gap-2 no-wrap text-negative text-sm'):
                        ui.icon('error_outline').classes('mt-0.5')
                        ui.label(issue)
            return
        dataset = studio.datasets.start(project, survey=found, **values)
        card.clear()
        with card:
            _started(studio, dataset, on_close)

    ext.on_value_change(_survey)
    _render_folders()


def _started(studio, dataset: Dataset, on_close) -> None:
    with ui.row().classes('w-full items-center gap-2'):
        ui.icon('construction', color='primary').classes('text-xl')
        ui.label(f'Building "{dataset.name}"').classes('text-lg font-semibold grow')
        ui.button('Open dataset', icon='open_in_new',
                  on_click=lambda: ui.navigate.to(f'/datasets/{dataset.id}')).props('flat color=primary')
        ui.button(icon='close', on_click=on_close).props('flat round dense').tooltip('Hide (it keeps running)')
    job_console(studio.jobs, dataset.job_id, height='h-40')


def _field(element, hint: str):
    """Attach the one-line hint under a form field; returns the element (with `.hint_label`)."""
    element.classes('w-full')
    element.hint_label = ui.label(hint).classes(theme.HINT + ' -mt-1')
    return element


# ---- detail -----------------------------------------------------------------------------------------
def _detail_body(studio, dataset: Dataset) -> None:
    with ui.row().classes('w-full items-center gap-3'):
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to('/datasets')).props('flat round dense') \
            .tooltip('All datasets')
        ui.label(dataset.name).classes(theme.TITLE)
        status_chip(dataset.status)
        ui.space()
        ui.button('Delete', icon='delete', on_click=lambda: _confirm_delete(studio, dataset)) \
            .props('outline color=negative').mark('delete')
    if dataset.status in ('failed', 'cancelled') and dataset.params.get('message'):
        with ui.card().classes(theme.CARD + ' bg-red-50 dark:bg-red-950/30 border-red-200 dark:border-red-900'), \
                ui.row().classes('items-start gap-2 no-wrap'):
            ui.icon('error', color='negative').classes('text-xl')
            ui.label(dataset.params['message']).classes('text-sm').mark('message')
    with ui.card().classes(theme.CARD + ' gap-3'):
        ui.label('Contents').classes(theme.SECTION)
        _stats(dataset)
    with ui.card().classes(theme.CARD + ' gap-2'):
        ui.label('Where it lives').classes(theme.SECTION)
        _path_row('Dataset folder', dataset.path)
        for source in dataset.sources:
            _path_row('Source folder', source)
        job = studio.jobs.states.get(dataset.job_id) if dataset.job_id else None
        if job and dataset.status == 'ready':
            ui.label('Made with (the same command works in a terminal)').classes(theme.HINT + ' mt-2')
            with ui.row().classes('w-full items-start gap-2 no-wrap rounded-lg p-3 bg-gray-100 dark:bg-gray-900'):
                ui.label(job.command).classes(f'{theme.MONO} break-words min-w-0 grow').mark('command')
                ui.button(icon='content_copy', on_click=lambda: ui.clipboard.write(job.command)) \
                    .props('flat round dense size=sm').tooltip('Copy command')
    if dataset.job_id and dataset.status != 'ready':
        with ui.card().classes(theme.CARD + ' gap-2'):
            ui.label('Preprocessing').classes(theme.SECTION)
            job_console(studio.jobs, dataset.job_id)


def _path_row(label: str, path: str) -> None:
    with ui.row().classes('w-full items-center gap-3 no-wrap'):
        ui.label(label).classes(theme.HINT + ' w-28 shrink-0')
        ui.label(path).classes(f'{theme.MONO} break-all grow')
        ui.button(icon='content_copy', on_click=lambda: ui.clipboard.write(path)).props('flat round dense size=sm') \
            .tooltip('Copy path')


def _confirm_delete(studio, dataset: Dataset) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-[480px] max-w-full gap-3 p-5').mark('confirm-delete'):
        ui.label(f'Delete "{dataset.name}"?').classes('text-lg font-semibold')
        ui.label('The dataset leaves this project. Your source audio is never touched.').classes('text-sm')
        remove = ui.checkbox(f'Also delete the dataset folder ({fmt_bytes(dataset.size_bytes)}) from disk') \
            .mark('remove-files')
        ui.label(dataset.path).classes(f'{theme.MONO} break-all text-gray-500')
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Keep it', on_click=dialog.close).props('flat')
            ui.button('Delete', icon='delete', on_click=lambda: _delete(remove.value)) \
                .props('unelevated color=negative').mark('confirm')

    def _delete(remove_files: bool) -> None:
        studio.datasets.delete(dataset, remove_files=remove_files)
        dialog.close()
        ui.notify(f'Deleted "{dataset.name}"' + (' and its folder.' if remove_files else '; its folder was kept.'),
                  type='positive')
        ui.navigate.to('/datasets')

    dialog.open()
