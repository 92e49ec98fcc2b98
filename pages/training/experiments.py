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
from services.projects import ProjectView
from services.training.compare import MAX_RUNS, MIN_RUNS
from services.training.experiments import Experiments, SearchError, TableQuery
from services.training.runs import TrainingError
from services.training.views import ExperimentRow

COLUMNS = [
    {'name': 'name', 'label': 'Run', 'field': 'name', 'sortable': True, 'align': 'left'},
    {'name': 'status', 'label': 'Status', 'field': 'status', 'sortable': True, 'align': 'left'},
    {'name': 'dataset', 'label': 'Dataset', 'field': 'dataset', 'sortable': True, 'align': 'left'},
    {'name': 'configs', 'label': 'Config', 'field': 'configs', 'sortable': True, 'align': 'left'},
    {'name': 'steps', 'label': 'Steps', 'field': 'steps', 'sortable': True},
    {'name': 'best_validation', 'label': 'Best val.', 'field': 'best_validation', 'sortable': True},
    {'name': 'last_loss', 'label': 'Last loss', 'field': 'last_loss', 'sortable': True},
    {'name': 'duration', 'label': 'Time', 'field': 'duration', 'sortable': True},
    {'name': 'device_time', 'label': 'GPU/CPU-h', 'field': 'device_time', 'sortable': False},
    {'name': 'created', 'label': 'Created', 'field': 'created', 'sortable': True, 'align': 'left'},
    {'name': 'tags', 'label': 'Tags', 'field': 'tags', 'sortable': True, 'align': 'left'},
]
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
            ui.label('Experiments').classes(theme.TITLE)
            ui.label(f'Every run of {project.name}: sort, filter, search, tag, annotate, compare') \
                .classes(theme.SUBTITLE)
        totals = experiments.device_time(project.id)
        if totals:
            ui.label('Project: ' + ' · '.join(t.label for t in totals)).classes(theme.HINT).mark('project-hours') \
                .tooltip('Training time × devices of every run: GPU-hours on GPUs, CPU-hours on the CPU')
        compare = ui.button('Compare', icon='compare_arrows', on_click=lambda: _compare(state['selected'])) \
            .props('unelevated color=primary').mark('compare')
        archive = ui.button('Archive', icon='inventory_2', on_click=lambda: toggle_archive()) \
            .props('outline color=primary').mark('archive')
    hint = ui.label().classes(theme.HINT).mark('selection-hint')
    with ui.row().classes('w-full items-center gap-2'):
        search = ui.input('Search', placeholder='name, notes, tag or capacity=64 batch=8') \
            .props('dense outlined clearable debounce=400').classes('w-80').mark('search') \
            .tooltip('Words match names, descriptions, notes, tags and configs; key=value matches a parameter '
                     '(capacity=64, ratios=[4,2,2,2], batch=8)')
        status = _select('Status', choices['status'], 'status', 'Only runs in these states')
        dataset = _select('Dataset', dict(choices['dataset']), 'dataset', 'Only runs trained on these datasets')
        config = _select('Config', choices['config'], 'config', 'Only runs using this base config or add-on',
                         multiple=False)
        tag = _select('Tag', choices['tag'], 'tag', 'Only runs with this tag', multiple=False)
        since = ui.input('From').props('dense outlined type=date').classes('w-40').mark('since') \
            .tooltip('Only runs created on or after this day')
        until = ui.input('To').props('dense outlined type=date').classes('w-40').mark('until') \
            .tooltip('Only runs created on or before this day')
        archived = ui.switch('Archive').mark('show-archived').tooltip('Show the archived runs (to restore them)')
        everywhere = ui.switch('All projects').mark('all-projects') \
            .tooltip('The runs of every project you may see, not only this one')
    problem = ui.label().classes('text-sm text-negative').mark('search-problem')
    table = ui.table(columns=COLUMNS, rows=[], row_key='id', selection='multiple',
                     pagination={'rowsPerPage': 50, 'page': 1, 'sortBy': 'created', 'descending': True,
                                 'rowsNumber': 0}) \
        .props('flat bordered dense binary-state-sort :rows-per-page-options="[25,50,100,200]"') \
        .classes('w-full').mark('experiments-table')
    table.add_slot('header-selection', '<q-checkbox v-model="props.selected" dense '
                   'aria-label="Tick every run of this page" />')
    table.add_slot('body-selection', '<q-checkbox v-model="props.selected" dense '
                   ':aria-label="\'Tick \' + props.row.name" />')
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
        archive.set_text('Restore' if state['query'].archived else 'Archive')
        hint.set_text(f'{n} picked' + (f': compare takes {MIN_RUNS} to {MAX_RUNS}.'
                                       if n and not MIN_RUNS <= n <= MAX_RUNS else '.') if n else
                      'Tick runs to compare or archive them; click a row for its tags and notes.')

    def toggle_archive() -> None:
        try:
            changed = experiments.archive(state['selected'], archived=not state['query'].archived)
        except TrainingError as e:
            ui.notify(str(e), type='warning')
            return
        table.selected = []
        ui.notify(f'{changed} run(s) {"restored" if state["query"].archived else "archived"}.')
        load()

    table.on('request', on_request)
    table.on('selection', lambda _: picked())
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
    events.on(RunChanged, lambda _: load())


def _select(label: str, options, mark: str, hint: str, *, multiple: bool = True) -> ui.select:
    return ui.select(options, label=label, multiple=multiple, clearable=True) \
        .props('dense outlined options-dense' + (' use-chips' if multiple else '')).classes('w-40').mark(mark) \
        .tooltip(hint)


def _row(run: ExperimentRow, with_project: bool) -> dict:
    color, icon = theme.STATUS.get(run.status, ('grey-6', 'help'))
    about = ' · '.join(x for x in ((run.project if with_project else ''), run.description,
                                    run.notes.splitlines()[0] if run.notes else '') if x)
    return {'id': run.id, 'name': run.name, 'status': run.status, 'color': color, 'icon': icon,
            'dataset': run.dataset or '—', 'configs': ' + '.join(run.configs) or '—',
            'steps': formatting.count(run.steps), 'best_validation': _figure(run.best_validation),
            'last_loss': _figure(run.last_loss), 'duration': formatting.duration(run.seconds) if run.seconds else '—',
            'device_time': run.device_time.label if run.device_time else '—',
            'created': run.created.strftime('%Y-%m-%d'), 'tags': list(run.tags), 'about': about}


def _figure(value: float | None) -> str:
    return f'{value:.4g}' if value is not None else '—'


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _compare(run_ids: list[int]) -> None:
    ui.navigate.to('/experiments/compare?runs=' + ','.join(str(i) for i in run_ids))


def _empty(query: TableQuery) -> None:
    if query != TableQuery(per_page=query.per_page, sort=query.sort, descending=query.descending):
        ui.label('No run matches these filters.').classes(theme.HINT).mark('no-match')
        return
    cards.empty_state('science', 'No runs yet', 'Every run you train, or import from a RAVE run folder on the '
                      'Models page, is listed here to sort, tag and compare.',
                      [cards.Action('New training', 'add', '/training/new'),
                       cards.Action('Import a run', 'drive_folder_upload', '/models', primary=False)])


def _details(experiments: Experiments, run_id: int, reload, parent: ui.element) -> None:
    """A run's tags and Markdown notes, edited in a dialog (the preview follows the text)."""
    row = next((r for r in experiments.table_rows([run_id])), None)
    if row is None:
        return
    parent.clear()
    with parent, ui.dialog() as dialog, ui.card().classes('w-[40rem] max-w-full gap-3').mark('run-details'):
        ui.label(row.name).classes(theme.SECTION)
        ui.label(' · '.join(x for x in (row.status, ' + '.join(row.configs), row.dataset, row.description) if x)) \
            .classes(theme.HINT)
        tags = ui.input_chips('Tags', value=list(row.tags), new_value_mode='add-unique') \
            .props('dense outlined hint="One word each: Enter adds it"').classes('w-full').mark('tags')
        with ui.row().classes('w-full gap-3 no-wrap items-stretch'):
            notes = ui.textarea('Notes (Markdown)', value=row.notes) \
                .props('outlined autogrow hint="Shown in the table and on the run page"') \
                .classes('w-1/2').mark('notes')
            preview = ui.markdown(row.notes or '*No notes yet.*').classes('w-1/2 text-sm').mark('notes-preview')
        notes.on_value_change(lambda e: preview.set_content(e.value or '*No notes yet.*'))

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
            ui.button('Cancel', on_click=dialog.close).props('flat')
            ui.button('Save', icon='save', on_click=save).props('unelevated color=primary').mark('save-details')
    dialog.open()
