"""Experiments: every run of the project (or of every project) as one table — sort by any column, filter,
search names, notes and parameter values (`capacity=64`), page through on the server — with tags, Markdown
notes and the archive, and a way into comparing the runs picked.

A page of its own rather than the Training page's list: that one is the live view of what trains now (queue,
progress, controls); this one is the record of everything tried, imported runs and archived ones included, for
choosing and comparing. The table follows RunChanged (status, tags, notes, archive)."""
from __future__ import annotations

import datetime as dt

from nicegui import events as ui_events
from nicegui import ui

from app import theme
from components import cards
from services import formatting
from services.events import RunChanged, Subscriber
from services.i18n import N_, _, ngettext, pgettext
from services.projects import ProjectView
from services.training.compare import MAX_RUNS, MIN_RUNS
from services.training.experiments import Experiments, SearchError, TableQuery
from services.training.runs import TrainingError
from services.training.views import ExperimentRow

COLUMNS = [
    {'name': 'name', 'label': N_('Run'), 'field': 'name', 'sortable': True, 'align': 'left'},
    {'name': 'status', 'label': N_('Status'), 'field': 'status', 'sortable': True, 'align': 'left'},
    {'name': 'dataset', 'label': N_('Dataset'), 'field': 'dataset', 'sortable': True, 'align': 'left'},
    {'name': 'configs', 'label': N_('Config'), 'field': 'configs', 'sortable': True, 'align': 'left'},
    {'name': 'steps', 'label': N_('Steps'), 'field': 'steps', 'sortable': True},
    {'name': 'best_validation', 'label': N_('Best val.'), 'field': 'best_validation', 'sortable': True},
    {'name': 'last_loss', 'label': N_('Last loss'), 'field': 'last_loss', 'sortable': True},
    {'name': 'duration', 'label': N_('Time'), 'field': 'duration', 'sortable': True},
    {'name': 'device_time', 'label': N_('GPU/CPU-h'), 'field': 'device_time', 'sortable': False},
    {'name': 'created', 'label': N_('Created'), 'field': 'created', 'sortable': True, 'align': 'left'},
    {'name': 'tags', 'label': N_('Tags'), 'field': 'tags', 'sortable': True, 'align': 'left'},
]  # labels shown through _()
STATUS_SLOT = '''<q-td :props="props"><q-chip dense square text-color="white" :color="props.row.color"
  :icon="props.row.icon" class="text-xs font-medium">{{ props.value }}</q-chip></q-td>'''
NAME_SLOT = '''<q-td :props="props"><a :href="'/training/runs/' + props.row.id" class="font-medium text-primary"
  @click.stop>{{ props.value }}</a><div class="text-xs text-gray-500 truncate" style="max-width:12rem">
  {{ props.row.about }}</div></q-td>'''
TAGS_SLOT = '''<q-td :props="props"><q-chip v-for="t in props.value" :key="t" dense outline color="primary"
  class="text-xs">{{ t }}</q-chip></q-td>'''


def create(experiments: Experiments, events: Subscriber, project: ProjectView) -> None:
    """The table, its filters, and the actions on the runs picked."""
    state = {'query': TableQuery(), 'selected': []}
    choices = experiments.choices(project.id)
    with ui.row().classes('w-full items-end gap-4'):
        with ui.column().classes('gap-0 grow'):
            ui.label(_('Experiments')).classes(theme.TITLE)
            ui.label(_('Every run of {project}: sort, filter, search, tag, annotate, compare')
                     .format(project=project.name)) \
                .classes(theme.SUBTITLE)
        totals = experiments.device_time(project.id)
        if totals:
            ui.label(_('Project: {hours}').format(hours=' · '.join(t.label for t in totals))) \
                .classes(theme.HINT).mark('project-hours') \
                .tooltip(_('Training time × devices of every run: GPU-hours on GPUs, CPU-hours on the CPU'))
        compare = ui.button(_('Compare'), icon='compare_arrows', on_click=lambda: _compare(state['selected'])) \
            .props('unelevated color=primary').mark('compare')
        archive = ui.button(pgettext('action', 'Archive'), icon='inventory_2', on_click=lambda: toggle_archive()) \
            .props('outline color=primary').mark('archive')
    hint = ui.label().classes(theme.HINT).mark('selection-hint')
    with ui.row().classes('w-full items-center gap-2'):
        search = ui.input(_('Search'), placeholder=_('name, notes, tag or capacity=64 batch=8')) \
            .props('dense outlined clearable debounce=400').classes('w-80').mark('search') \
            .tooltip(_('Words match names, descriptions, notes, tags and configs; key=value matches a parameter '
                       '(capacity=64, ratios=[4,2,2,2], batch=8)'))
        status = _select(_('Status'), {s: _(s) for s in choices['status']}, 'status', _('Only runs in these states'))
        dataset = _select(_('Dataset'), dict(choices['dataset']), 'dataset', _('Only runs trained on these datasets'))
        config = _select(_('Config'), choices['config'], 'config', _('Only runs using this base config or add-on'),
                         multiple=False)
        tag = _select(_('Tag'), choices['tag'], 'tag', _('Only runs with this tag'), multiple=False)
        since = ui.input(_('From')).props('dense outlined type=date').classes('w-40').mark('since') \
            .tooltip(_('Only runs created on or after this day'))
        until = ui.input(_('To')).props('dense outlined type=date').classes('w-40').mark('until') \
            .tooltip(_('Only runs created on or before this day'))
        archived = ui.switch(_('Archive')).mark('show-archived').tooltip(_('Show the archived runs (to restore them)'))
        everywhere = ui.switch(_('All projects')).mark('all-projects') \
            .tooltip(_('The runs of every project you may see, not only this one'))
    problem = ui.label().classes('text-sm text-negative').mark('search-problem')
    columns = [_labelled(c) for c in COLUMNS]
    table = ui.table(columns=columns, rows=[], row_key='id', selection='multiple',
                     pagination={'rowsPerPage': 50, 'page': 1, 'sortBy': 'created', 'descending': True,
                                 'rowsNumber': 0}) \
        .props('flat bordered dense binary-state-sort :rows-per-page-options="[25,50,100,200]"') \
        .classes('w-full').mark('experiments-table')
    table.add_slot('header-selection', '<q-checkbox v-model="props.selected" dense '
                   f'aria-label="{_("Tick every run of this page")}" />')
    table.add_slot('body-selection', '<q-checkbox v-model="props.selected" dense '
                   ':aria-label="\'' + _('Tick') + ' \' + props.row.name" />')
    table.add_slot('body-cell-status', STATUS_SLOT)
    table.add_slot('body-cell-name', NAME_SLOT)
    table.add_slot('body-cell-tags', TAGS_SLOT)
    empty = ui.column().classes('w-full')
    dialogs = ui.element('div')  # the details dialog lives here, not inside the table it opens from

    def load() -> None:
        try:
            page = experiments.table(project.id, state['query'])
        except SearchError as e:
            problem.set_text(str(e))
            return
        problem.set_text('')
        table.rows = [_row(r, state['query'].all_projects) for r in page.rows]
        table.pagination = {**table.pagination, 'rowsNumber': page.total, 'page': page.page + 1,
                            'rowsPerPage': page.per_page}
        table.set_visibility(bool(page.total))
        empty.clear()
        if not page.total:
            with empty:
                _empty(state['query'])
        table.selected = [r for r in table.rows if r['id'] in {s['id'] for s in table.selected}]
        picked()

    def requery(**changes) -> None:
        state['query'] = state['query'].replace(page=0, **changes) if 'page' not in changes \
            else state['query'].replace(**changes)
        load()

    def on_request(e: ui_events.GenericEventArguments) -> None:
        p = e.args['pagination']
        requery(page=int(p.get('page') or 1) - 1, per_page=int(p.get('rowsPerPage') or 50),
                sort=p.get('sortBy') or 'created', descending=bool(p.get('descending')))

    def picked() -> None:
        state['selected'] = [r['id'] for r in table.selected]
        n = len(state['selected'])
        compare.set_enabled(MIN_RUNS <= n <= MAX_RUNS)
        archive.set_enabled(n > 0)
        archive.set_text(_('Restore') if state['query'].archived else pgettext('action', 'Archive'))
        if not n:
            hint.set_text(_('Tick runs to compare or archive them; click a row for its tags and notes.'))
        elif MIN_RUNS <= n <= MAX_RUNS:
            hint.set_text(ngettext('{count} picked.', '{count} picked.', n).format(count=n))
        else:
            hint.set_text(ngettext('{count} picked: compare takes {low} to {high}.',
                                   '{count} picked: compare takes {low} to {high}.', n)
                          .format(count=n, low=MIN_RUNS, high=MAX_RUNS))

    def toggle_archive() -> None:
        try:
            changed = experiments.archive(state['selected'], archived=not state['query'].archived)
        except TrainingError as e:
            ui.notify(str(e), type='warning')
            return
        table.selected = []
        ui.notify((ngettext('{count} run restored.', '{count} runs restored.', changed) if state['query'].archived
                   else ngettext('{count} run archived.', '{count} runs archived.', changed)).format(count=changed))
        load()

    table.on('request', on_request)
    table.on('selection', lambda _e: picked())
    table.on('row-click', lambda e: _details(experiments, int(e.args[1]['id']), load, dialogs))
    search.on_value_change(lambda e: requery(search=e.value or ''))
    status.on_value_change(lambda e: requery(status=tuple(e.value or ())))
    dataset.on_value_change(lambda e: requery(dataset=tuple(int(i) for i in e.value or ())))
    config.on_value_change(lambda e: requery(config=e.value or ''))
    tag.on_value_change(lambda e: requery(tag=e.value or ''))
    since.on_value_change(lambda e: requery(since=_date(e.value)))
    until.on_value_change(lambda e: requery(until=_date(e.value)))
    archived.on_value_change(lambda e: (table.selected.clear(), requery(archived=bool(e.value))))
    everywhere.on_value_change(lambda e: requery(all_projects=bool(e.value)))
    load()
    events.on(RunChanged, lambda _e: load())


def _select(label: str, options, mark: str, hint: str, *, multiple: bool = True) -> ui.select:
    return ui.select(options, label=label, multiple=multiple, clearable=True) \
        .props('dense outlined options-dense' + (' use-chips' if multiple else '')).classes('w-40').mark(mark) \
        .tooltip(hint)


def _row(run: ExperimentRow, with_project: bool) -> dict:
    color, icon = theme.STATUS.get(run.status, ('grey-6', 'help'))
    about = ' · '.join(x for x in ((run.project if with_project else ''), run.description,
                                    run.notes.splitlines()[0] if run.notes else '') if x)
    return {'id': run.id, 'name': run.name, 'status': _(run.status), 'color': color, 'icon': icon,
            'dataset': run.dataset or '—', 'configs': ' + '.join(run.configs) or '—',
            'steps': formatting.count(run.steps), 'best_validation': _figure(run.best_validation),
            'last_loss': _figure(run.last_loss), 'duration': formatting.duration(run.seconds) if run.seconds else '—',
            'device_time': run.device_time.label if run.device_time else '—',
            'created': formatting.day(run.created), 'tags': list(run.tags), 'about': about}


def _figure(value: float | None) -> str:
    return formatting.significant(value)


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _compare(run_ids: list[int]) -> None:
    ui.navigate.to('/experiments/compare?runs=' + ','.join(str(i) for i in run_ids))


def _empty(query: TableQuery) -> None:
    if query != TableQuery(per_page=query.per_page, sort=query.sort, descending=query.descending):
        ui.label(_('No run matches these filters.')).classes(theme.HINT).mark('no-match')
        return
    cards.empty_state('science', _('No runs yet'), _('Every run you train, or import from a RAVE run folder on the '
                      'Models page, is listed here to sort, tag and compare.'),
                      [cards.Action(_('New training'), 'add', '/training/new'),
                       cards.Action(_('Import a run'), 'drive_folder_upload', '/models', primary=False)])


def _details(experiments: Experiments, run_id: int, reload, parent: ui.element) -> None:
    """A run's tags and Markdown notes, edited in a dialog (the preview follows the text)."""
    row = next((r for r in experiments.table_rows([run_id])), None)
    if row is None:
        return
    parent.clear()
    with parent, ui.dialog() as dialog, ui.card().classes('w-[40rem] max-w-full gap-3').mark('run-details'):
        ui.label(row.name).classes(theme.SECTION)
        ui.label(' · '.join(x for x in (_(row.status), ' + '.join(row.configs), row.dataset, row.description) if x)) \
            .classes(theme.HINT)
        tags = ui.input_chips(_('Tags'), value=list(row.tags), new_value_mode='add-unique') \
            .props('dense outlined').classes('w-full').mark('tags')
        tags.props['hint'] = _('One word each: Enter adds it')
        with ui.row().classes('w-full gap-3 no-wrap items-stretch'):
            notes = ui.textarea(_('Notes (Markdown)'), value=row.notes) \
                .props('outlined autogrow').classes('w-1/2').mark('notes')
            notes.props['hint'] = _('Shown in the table and on the run page')
            none = '*' + _('No notes yet.') + '*'
            preview = ui.markdown(row.notes or none).classes('w-1/2 text-sm').mark('notes-preview')
        notes.on_value_change(lambda e: preview.set_content(e.value or none))

        def save() -> None:
            try:
                experiments.set_tags(run_id, list(tags.value or []))
                experiments.set_notes(run_id, notes.value or '')
            except TrainingError as e:
                ui.notify(str(e), type='warning')
                return
            dialog.close()
            reload()
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            ui.button(_('Save'), icon='save', on_click=save).props('unelevated color=primary').mark('save-details')
    dialog.open()


def _labelled(column: dict) -> dict:
    """A table column with its label in the page's language."""
    label = column['label']
    return {**column, 'label': _(label)}
