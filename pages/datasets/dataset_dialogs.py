"""The dataset page's dialogs: clone (preprocess the sources again with other values), export as an archive, delete."""
from __future__ import annotations

from nicegui import run, ui

from app import theme
from pages.datasets.progress import reporter
from services import formatting, i18n
from services.datasets import SAMPLING_RATES, DatasetError, Datasets, DatasetView
from services.i18n import _


def clone_dialog(datasets: Datasets, dataset: DatasetView) -> None:
    params = dataset.params
    with ui.dialog() as dialog, ui.card().classes('w-[520px] max-w-[95vw] gap-3 p-5').mark('clone-dialog'):
        ui.label(_('Clone "{name}"').format(name=dataset.name)).classes('text-lg font-semibold')
        ui.label(_('RAVE preprocesses the same source folders again with the values below, into a new dataset. '
                   'This one stays as it is.')).classes(theme.SUBTITLE)
        name = ui.input(_('Name'), value=_('{name} copy').format(name=dataset.name)).props('outlined dense') \
            .classes('w-full').mark('clone-name')
        ui.label(_("The new dataset's name; it also names its folder.")).classes(theme.HINT)
        with ui.row().classes('w-full gap-3 no-wrap'):
            sr = ui.select({r: f'{formatting.number(r / 1000)} kHz' for r in SAMPLING_RATES},
                           value=dataset.sr or 44100, label=_('Sample rate')) \
                .props('outlined dense').classes('grow').mark('clone-sr')
            channels = ui.select({1: _('Mono'), 2: _('Stereo')}, value=dataset.channels or 1, label=_('Channels')) \
                .props('outlined dense').classes('grow').mark('clone-channels')
        ui.label(_("Audio is resampled and mixed to these; a model trains at its dataset's rate.")).classes(theme.HINT)
        num_signal = ui.number(_('Example length (num_signal)'), value=params.get('num_signal', 131072), min=16384,
                               step=16384, format='%d', suffix=_('samples')).props('outlined dense') \
            .classes('w-full').mark('clone-num-signal')
        ui.label(_('Each example holds 2 × num_signal samples.')).classes(theme.HINT)
        lazy = ui.switch(_('Lazy: store references, not audio'), value=dataset.lazy).mark('clone-lazy')
        error = ui.label().classes('text-sm text-negative').mark('clone-error')
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            go = ui.button(_('Start preprocessing'), icon='play_arrow', on_click=lambda: _go()) \
                .props('unelevated color=primary').mark('clone-go')

    async def _go() -> None:
        go.props('loading')
        error.set_text('')
        try:
            clone = await run.io_bound(i18n.carrying(datasets.clone), dataset.id, (name.value or '').strip(),
                                       sr=sr.value, channels=channels.value,
                                       num_signal=int(num_signal.value or 0) or None, lazy=lazy.value)
        except DatasetError as e:
            error.set_text(str(e))
            return
        finally:
            go.props(remove='loading')
        dialog.close()
        ui.notify(_('Preprocessing "{name}" started.').format(name=clone.name), type='positive')
        ui.navigate.to(f'/datasets/{clone.id}')

    dialog.open()


def export_dialog(datasets: Datasets, dataset: DatasetView) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-[520px] max-w-[95vw] gap-3 p-5').mark('export-dialog'):
        ui.label(_('Export "{name}" as an archive').format(name=dataset.name)).classes('text-lg font-semibold')
        ui.label(_("One .ravedata.tar file ({size}) holding the RAVE database, its metadata and the studio's notes. "
                   'Import it in any project with "Import archive".')
                 .format(size=formatting.size(dataset.size_bytes))).classes(theme.SUBTITLE)
        bar = ui.linear_progress(value=0, show_value=False).props('rounded size=6px')
        status = ui.label('').classes(theme.HINT + ' break-all').mark('export-status')
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_('Close'), on_click=dialog.close).props('flat')
            download = ui.button(_('Download'), icon='download').props('unelevated color=primary') \
                .mark('export-download')
            download.set_visibility(False)
    dialog.open()

    async def _export() -> None:
        status.set_text(_('Packing…'))
        try:
            path = await run.io_bound(i18n.carrying(datasets.export_archive), dataset.id, reporter(bar))
        except (DatasetError, OSError) as e:
            status.set_text(_('The archive could not be written: {error}. Check free disk space and try again.')
                            .format(error=e))
            status.classes(replace='text-sm text-negative')
            return
        bar.set_value(1.0)
        status.set_text(_('Written to {path}').format(path=path))
        download.on_click(lambda: ui.download.file(path))
        download.set_visibility(True)

    ui.timer(0.05, _export, once=True)  # after the dialog is drawn


def delete_dialog(datasets: Datasets, dataset: DatasetView) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-[500px] max-w-[95vw] gap-3 p-5').mark('delete-dialog'):
        ui.label(_('Delete "{name}"?').format(name=dataset.name)).classes('text-lg font-semibold')
        ui.label(_('The dataset leaves this project. Runs trained on it keep their checkpoints. '
                   'Your source audio is never touched.')).classes('text-sm')
        remove = ui.checkbox(_('Also delete the dataset folder from disk ({size}: data.mdb, metadata.yaml and cached '
                               'statistics)').format(size=formatting.size(dataset.size_bytes))).mark('remove-files')
        ui.label(dataset.path).classes(f'{theme.MONO} break-all text-gray-500')
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_('Keep it'), on_click=dialog.close).props('flat')
            ui.button(_('Delete'), icon='delete', on_click=lambda: _delete()).props('unelevated color=negative') \
                .mark('confirm')

    def _delete() -> None:
        datasets.delete(dataset.id, remove_files=remove.value)
        dialog.close()
        ui.notify((_('Deleted "{name}" and its folder.') if remove.value else
                   _('Deleted "{name}"; its folder was kept.')).format(name=dataset.name), type='positive')
        ui.navigate.to('/datasets')

    dialog.open()
