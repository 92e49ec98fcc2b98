"""Models: every trained model (run) of the project as a card — a spectrogram of a validation reconstruction,
config, date, duration, dataset, final metrics, sizes, favourite star and rating — searched, filtered and sorted;
and the import of run folders made by the RAVE CLI.

Thumbnails are drawn after the cards, off the event loop (the first visit reads each run's TensorBoard audio
once; later visits find the PNGs kept). Live by events: a run's status or marks (RunChanged) and exports
(ExportChanged) redraw the cards."""
from __future__ import annotations

import asyncio
from pathlib import Path

from nicegui import run, ui

from app import theme
from components.status import status_chip
from pages.models import deletion
from services import formatting
from services.events import ExportChanged, RunChanged, Subscriber
from services.i18n import N_, _, ngettext, pgettext
from services.models import ExportError, Models
from services.models.library import LibraryError
from services.models.library_cards import LibraryQuery
from services.models.views import LibraryCard
from services.projects import ProjectView
from services.training import Training

SORTS = {'created': N_('Newest'), 'name': N_('Name'), 'best_validation': N_('Best validation'),
         'rating': N_('Rating'), 'duration': N_('Training time'), 'size': N_('Size on disk')}
ASCENDING = {'name', 'best_validation'}  # what reads best from the smallest up


def create(models: Models, training: Training, events: Subscriber, project: ProjectView) -> None:
    with ui.row().classes('w-full items-end gap-2'):
        with ui.column().classes('gap-0 grow'):
            ui.label(_('Models')).classes(theme.TITLE)
            ui.label(_('Every model trained in this project: listen, compare, test, export.')) \
                .classes(theme.SUBTITLE)
        ui.button(_('Test a model'), icon='fact_check', on_click=lambda: ui.navigate.to('/models/test')) \
            .props('unelevated color=primary').mark('test-models')
        ui.button(pgettext('verb', 'Export'), icon='ios_share', on_click=lambda: ui.navigate.to('/export')) \
            .props('outline')
        ui.button(_('Explorer'), icon='graphic_eq', on_click=lambda: ui.navigate.to('/explorer')).props('outline')
    state = {'query': LibraryQuery()}
    thumbs: dict[int, ui.image] = {}
    configs = sorted({c for card in models.library(project.id) for c in card.configs})
    with ui.row().classes('w-full items-center gap-2').mark('library-filters'):
        search = ui.input(_('Search'), placeholder=_('name, dataset, config, tag')) \
            .props('dense outlined clearable debounce=300').classes('w-64').mark('library-search') \
            .tooltip(_('Words that must all appear in the name, description, dataset, configs or tags'))
        config = ui.select(configs, label=_('Config'), clearable=True).props('dense outlined options-dense') \
            .classes('w-40').mark('library-config') \
            .tooltip(_('Only models using this base config or add-on'))
        rating = ui.select({0: _('Any rating'), 3: '★ 3+', 4: '★ 4+', 5: '★ 5'}, value=0, label=_('Rating')) \
            .props('dense outlined options-dense').classes('w-36').mark('library-rating') \
            .tooltip(_('Only models you rated at least this'))
        favourites = ui.switch(_('Favourites')).mark('library-favourites').tooltip(_('Only the models you starred'))
        sort = ui.select({k: _(v) for k, v in SORTS.items()}, value='created', label=_('Sort')) \
            .props('dense outlined options-dense').classes('w-48').mark('library-sort') \
            .tooltip(_('Missing figures sort last'))

    @ui.refreshable
    def content() -> None:
        cards = models.library(project.id, state['query'])
        everything = state['query'] == LibraryQuery(sort=state['query'].sort,
                                                    descending=state['query'].descending)
        _import_card(models, project, content.refresh, is_open=not cards and everything)
        thumbs.clear()
        if not cards:
            _empty_state() if everything else ui.label(_('No model matches these filters.')).classes(theme.HINT) \
                .mark('library-no-match')
            return
        with ui.grid().classes('w-full gap-4 grid-cols-1 md:grid-cols-2 xl:grid-cols-3').mark('library'):
            for card in cards:
                thumbs[card.id] = _card(models, card, content.refresh)
        ui.timer(0.05, lambda: asyncio.create_task(_thumbnails(models, training, dict(thumbs))), once=True)

    def requery(**changes) -> None:
        state['query'] = LibraryQuery(**{**state['query'].__dict__, **changes})
        content.refresh()

    search.on_value_change(lambda e: requery(search=e.value or ''))
    config.on_value_change(lambda e: requery(config=e.value or ''))
    rating.on_value_change(lambda e: requery(min_rating=int(e.value or 0)))
    favourites.on_value_change(lambda e: requery(favourites=bool(e.value)))
    sort.on_value_change(lambda e: requery(sort=e.value, descending=e.value not in ASCENDING))
    content()
    events.on(ExportChanged, lambda _event: content.refresh())
    events.on(RunChanged, lambda _event: content.refresh())


def _card(models: Models, card: LibraryCard, refresh) -> ui.image:
    with ui.card().classes(theme.CARD + ' gap-2 p-0 overflow-hidden').mark(f'run-{card.id}'):
        thumb = ui.image().classes('w-full h-20 bg-gray-100 dark:bg-gray-900').props('fit=fill no-spinner') \
            .mark(f'thumb-{card.id}')
        thumb.props['alt'] = _('Spectrogram of a validation reconstruction by {name}').format(name=card.name)
        with ui.column().classes('w-full gap-2 px-4 pb-3'):
            with ui.row().classes('w-full items-center gap-2 no-wrap'):
                with ui.column().classes('gap-0 grow min-w-0'):
                    ui.link(card.name, f'/models/{card.id}').classes('text-lg font-semibold truncate max-w-full') \
                        .mark(f'open-{card.name}')
                    ui.label(' + '.join(card.configs) or _('config unknown')).classes(theme.MONO + ' text-gray-500')
                status_chip(card.status)
                ui.button(icon='star' if card.favourite else 'star_border',
                          on_click=lambda: _mark(models, card.id, refresh, favourite=not card.favourite)) \
                    .props(f'flat round dense color={"amber" if card.favourite else "grey"}') \
                    .mark(f'favourite-{card.name}').tooltip(_('Favourite'))
            ui.rating(value=card.rating or 0, max=5, size='sm',
                      on_change=lambda e: _mark(models, card.id, refresh, rating=int(e.value or 0))) \
                .mark(f'rating-{card.name}').tooltip(_('Your rating (1–5)'))
            with ui.element('div').classes('w-full grid grid-cols-2 gap-x-3 text-xs'):
                _fact(_('Dataset'), card.dataset or '—')
                _fact(_('Trained'), formatting.day(card.created))
                _fact(_('Steps'), formatting.count(card.step))
                _fact(_('Time'), formatting.duration(card.seconds) if card.seconds else '—')
                _fact(_('Best validation'), formatting.significant(card.best_validation))
                _fact(_('Last loss'), formatting.significant(card.last_loss))
                _fact(_('Checkpoints'), f'{card.checkpoints} · {formatting.size(card.checkpoint_bytes)}')
                _fact(_('Exports'), f'{card.exports} · {formatting.size(card.export_bytes)}' if card.exports else '0')
            if card.tags:
                with ui.row().classes('gap-1'):
                    for tag in card.tags:
                        ui.chip(tag).props('dense outline color=primary').classes('text-xs')
            with ui.row().classes('w-full justify-end gap-1'):
                ui.button(_('Details'), icon='info', on_click=lambda: ui.navigate.to(f'/models/{card.id}')) \
                    .props('flat dense no-caps').mark(f'details-{card.name}')
                if card.checkpoints:
                    ui.button(pgettext('verb', 'Test'), icon='fact_check',
                              on_click=lambda: ui.navigate.to(f'/models/test?run={card.id}')) \
                        .props('flat dense no-caps')
                    ui.button(pgettext('verb', 'Export'), icon='ios_share',
                              on_click=lambda: ui.navigate.to(f'/export?run={card.id}')) \
                        .props('flat dense no-caps').mark('export-run')
                ui.button(icon='delete', on_click=lambda: deletion.delete_run(models, card.id, on_done=refresh)) \
                    .props('flat dense round color=grey').tooltip(_('Delete…')).mark(f'delete-{card.name}')
    return thumb


def _fact(label: str, value: str) -> None:
    ui.label(label).classes('text-gray-500')
    ui.label(value).classes(theme.NUMBER + ' text-right truncate')


def _mark(models: Models, run_id: int, refresh, **marks) -> None:
    try:
        models.mark(run_id, **marks)
    except LibraryError as e:
        ui.notify(str(e), type='warning')
        return
    refresh()


async def _thumbnails(models: Models, training: Training, thumbs: dict[int, ui.image]) -> None:
    """Each card's spectrogram of its newest validation reconstruction, one run after the other."""
    for run_id, image in thumbs.items():
        try:
            validations = await run.io_bound(training.audio, run_id)
        except (OSError, RuntimeError, ValueError):
            continue
        examples = validations[-1].examples if validations else ()
        png = await run.io_bound(models.thumbnail, examples[0].reconstruction) if examples else None
        if png is not None and not image.is_deleted:
            image.set_source(f'/media/data/{png}')
            with image:  # a background task has no slot of its own: the tooltip goes inside its image
                image.tooltip(_('Reconstruction at the last validation ({label})').format(label=validations[-1].label))


def _import_card(models: Models, project: ProjectView, refresh, *, is_open: bool) -> None:
    with ui.expansion(_('Import a RAVE run folder'), icon='drive_folder_upload', value=is_open) \
            .classes(theme.CARD + ' w-full').props('dense header-class="text-base font-medium"').mark('import'):
        with ui.row().classes('w-full items-start gap-2 no-wrap'):
            with ui.column().classes('gap-0 grow'):
                path = ui.input(_('Run folder'), placeholder=str(Path(project.location) / 'runs' / 'name_0123456789')) \
                    .classes('w-full').mark('import-path')
                ui.label(_('The <name>_<hash> folder `rave train` made (it holds config.gin). It must be inside '
                           'this project or a browse root from Settings.')).classes(theme.HINT)
            ui.button(_('Import'), icon='drive_folder_upload', on_click=lambda: do_import(path.value)) \
                .props('unelevated').classes('mt-2').mark('import-button')
        found = models.discover(project.id)
        if found:
            ui.label(_('Found in this project\'s runs/ folder:')).classes('text-sm mt-2')
            for folder in found:
                with ui.row().classes('w-full items-center gap-2'):
                    ui.icon('folder', color='primary')
                    ui.label(str(folder)).classes(theme.MONO + ' grow truncate')
                    ui.button(_('Import'), on_click=lambda f=folder: do_import(str(f))).props('flat dense') \
                        .mark('import-found')

    async def do_import(folder: str) -> None:
        reading = ui.notification(_('Importing: reading the run\'s checkpoints and TensorBoard curves…'),
                                  spinner=True, timeout=None)
        try:
            imported = await run.io_bound(models.import_run, project.id, folder)
        except ExportError as e:
            ui.notify(str(e), type='negative', multi_line=True)
            return
        finally:
            reading.dismiss()
        best, count = imported.best, len(imported.checkpoints)
        said = ngettext('Imported run {name} with {count} checkpoint.', 'Imported run {name} with {count} checkpoints.',
                        count).format(name=imported.name, count=count)
        if best:
            said += ' ' + _('Best: {name}.').format(name=best.name)
        ui.notify(said, type='positive')
        refresh()


def _empty_state() -> None:
    with ui.card().classes(theme.CARD + ' items-center text-center gap-2 py-10').mark('empty'):
        ui.icon('inventory_2', color='primary').classes('text-5xl')
        ui.label(_('No run in this project yet')).classes(theme.SECTION)
        ui.label(_('A run is one RAVE training: its folder holds config.gin and checkpoints. Start a training, '
                   'or import a run folder made by `rave train` above.')).classes(theme.SUBTITLE + ' max-w-xl')
        ui.button(_('New training'), icon='model_training', on_click=lambda: ui.navigate.to('/training/new')) \
            .props('unelevated')
