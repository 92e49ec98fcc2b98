"""The config catalogue: every gin config shipped with RAVE (and the project's own), its key values, its
real gin verdict (checked in a worker) and its source; custom configs are created and edited here.

Custom configs are code: the page hides their editing from who may not write gin code (the service refuses it
anyway) and asks once, before gin first reads one, whether Python may run on this machine."""
from __future__ import annotations

from pathlib import Path

from nicegui import app, run, ui

from app import theme
from pages.training import gin_code
from services import formatting
from services.access import Forbidden
from services.i18n import N_, _, ngettext
from services.projects import ProjectView
from services.training import CodeNotConfirmed, ConfigEntry, ConfigInfo, TemplateError, Training, configs

KINDS = (('base', N_('Base configs'), N_('Choose one: the architecture.')),
         ('addon', N_('Add-ons'), N_('Combine freely with a base.')),
         ('augmentation', N_('Augmentations'), N_('Applied to the training audio (--augment).')),
         ('custom', N_("This project's configs"), N_('Your own, stored in the project.')))  # shown through _()
VALUE_LABELS = (('SAMPLING_RATE', N_('Sampling rate'),
                 lambda v: _('{rate} kHz').format(rate=formatting.number(v / 1000))),
                ('CAPACITY', N_('Capacity'), str),
                ('LATENT_SIZE', N_('Latent size'), lambda v: _('{count} dims').format(count=v)),
                ('N_BAND', N_('PQMF bands'), str), ('RATIOS', N_('Ratios'), lambda v: ' × '.join(map(str, v))),
                ('compression', N_('Compression'), lambda v: f'{v}×'),
                ('PHASE_1_DURATION', N_('Phase 1 (warm-up)'), lambda v: _steps(v)),
                ('warmup_len', N_('β warm-up'), lambda v: _('none (β fixed)') if v <= 1 else _steps(v)))


def create(training: Training, project: ProjectView) -> None:
    """The catalogue: a list grouped by kind on the left, the chosen config's details on the right."""
    state = {'name': 'v2_small', 'status': training.verdicts(),
             'may_edit': training.may_edit_code(project.id),
             'confirmed': False}
    with ui.row().classes('w-full items-center gap-3'):  # at 800 px the buttons go under the title, whole
        ui.button(icon='arrow_back', on_click=lambda: ui.navigate.to('/training')).props('flat round dense') \
            .tooltip(_('Training'))
        with ui.column().classes('gap-0 grow min-w-[16rem] basis-0'):
            ui.label(_('Configs')).classes(theme.TITLE)
            ui.label(_("RAVE's gin configs, each checked with gin in a separate process as `rave train` reads it.")) \
                .classes(theme.SUBTITLE)
        check_button = ui.button(_('Check all with gin'), icon='fact_check', on_click=lambda: check_all()) \
            .props('outline color=primary no-wrap').mark('check-all')
        if state['may_edit']:
            ui.button(_('New config'), icon='add',
                      on_click=lambda: _editor(training, project, state, None, refresh_all)) \
                .props('unelevated color=primary no-wrap').mark('new-config')
    banner = ui.row().classes('w-full')

    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-[320px_minmax(0,1fr)] gap-4 items-start'):
        with ui.card().classes(theme.CARD + ' p-2 gap-0 lg:sticky lg:top-20 lg:max-h-[calc(100vh-7rem)] '
                               'overflow-y-auto').mark('catalogue'):
            listing = ui.column().classes('w-full gap-0')
        detail = ui.column().classes('w-full min-w-0 gap-4')

    def select(name: str) -> None:
        state['name'] = name
        draw_list()
        draw_detail()

    def draw_list() -> None:
        listing.clear()
        with listing:
            _list(training, project, state, select)

    def draw_detail() -> None:
        detail.clear()
        with detail:
            _detail(training, project, state, refresh_all)

    def refresh_all(name: str | None = None) -> None:
        if name:
            state['name'] = name
        draw_list()
        draw_detail()

    def draw_banner() -> None:
        banner.clear()
        if state['status'] is None:
            with banner, ui.row() \
                .classes('w-full items-center gap-3 rounded-lg px-4 py-2 bg-primary/10 text-sm'):
                ui.spinner(size='sm')
                ui.label(_('Checking every shipped config with gin (a minute or two; the verdicts are kept).')) \
                    .mark('checking')

    async def check_all() -> None:
        state['status'] = None
        check_button.disable()
        draw_banner()
        try:
            state['status'] = await run.io_bound(training.check_catalogue)
        except Exception as e:  # noqa: BLE001 — the worker could not run: say what to fix
            ui.notify(_('{error}. Check the Python interpreter in Settings.').format(error=e), type='negative',
                      multi_line=True)
        check_button.enable()
        draw_banner()
        refresh_all()

    refresh_all()
    if state['status'] is None:
        ui.timer(0.1, check_all, once=True)


# ---- list ---------------------------------------------------------------------------------------------
def _list(training: Training, project: ProjectView, state: dict, select) -> None:
    status = state['status'] or {}
    custom = training.custom_configs(project.id)
    for kind, title, hint in KINDS:
        items = [c.name for c in custom] if kind == 'custom' else [c.name for c in training.catalogue(kind)]
        if kind == 'custom' and not items:
            continue
        with ui.column().classes('w-full gap-0 px-2 pt-3 pb-1'):
            ui.label(_(title)).classes('text-xs font-semibold uppercase tracking-wide text-gray-500')
            ui.label(_(hint)).classes(theme.HINT)
        for name in items:
            verdict = status.get(name) if kind != 'custom' else {'ok': True}
            active = name == state['name']
            with ui.row() \
                .classes('w-full items-center gap-2 no-wrap px-3 py-1.5 rounded-lg cursor-pointer text-sm '
                                  + ('bg-primary/10 text-primary font-semibold' if active else
                                     'hover:bg-gray-100 dark:hover:bg-gray-800')) \
                    .on('click',
                        lambda n=name: select(n)).props(f'data-testid=config-{name}').mark(f'config-{name}'):
                ui.label(name).classes('grow font-mono text-[13px]')
                _verdict_dot(verdict)


def _verdict_dot(verdict: dict | None) -> None:
    if verdict is None:
        ui.icon('schedule', color='grey-5').classes('text-base').tooltip(_('Not checked yet'))
    elif not verdict['ok']:
        ui.icon('block', color='negative').classes('text-base').tooltip(configs.broken(verdict))
    elif configs.warning(verdict):
        ui.icon('warning_amber', color='warning').classes('text-base').tooltip(configs.warning(verdict))
    else:
        ui.icon('check_circle', color='positive').classes('text-base opacity-70').tooltip(_('Parses and builds'))


# ---- detail -------------------------------------------------------------------------------------------
def _detail(training: Training, project: ProjectView, state: dict, refresh_all) -> None:
    name = state['name']
    custom = next((c for c in training.custom_configs(project.id) if c.name == name), None)
    info = training.shipped(name)
    if custom is None and info is None:
        ui.label(_('Pick a config on the left.')).classes(theme.HINT)
        return
    if custom is not None:
        info = training.custom_info(custom)
    verdict = (state['status'] or {}).get(name) if custom is None else {'ok': True, 'reason': '',
                                                                        'warning': '',
                                                                         'macros': custom.macros,
                                                                         'compression': custom.compression}
    with ui.card().classes(theme.CARD + ' gap-3').mark('config-detail'):
        with ui.row().classes('w-full items-center gap-3'):
            ui.label(name).classes('text-xl font-semibold font-mono').mark('detail-name')
            custom_kind = _('custom base') if custom and custom.role == 'base' else _('custom add-on')
            ui.badge({'base': _('base'), 'addon': _('add-on'), 'augmentation': _('augmentation'),
                      'custom': custom_kind}[info.kind]) \
                .props('outline color=primary').classes('text-xs')
            ui.space()
            if state['may_edit'] and info.kind in ('base', 'addon'):
                ui.button(_('Derive a custom config'), icon='call_split',
                          on_click=lambda: _editor(training, project, state, None, refresh_all,
                                                   derive=name)) \
                    .props('flat dense no-caps color=primary').mark('derive')
            if state['may_edit'] and custom is not None:
                ui.button(_('Edit'), icon='edit',
                          on_click=lambda: _editor(training, project, state, custom, refresh_all)) \
                    .props('flat dense no-caps color=primary').mark('edit-config')
                ui.button(_('Delete'), icon='delete_outline',
                          on_click=lambda: _delete(training, project, name, refresh_all)) \
                    .props('flat dense no-caps color=negative').mark('delete-config')
        ui.label(_(info.description)).classes('text-sm text-gray-700 dark:text-gray-300')
        if custom and custom.derived_from:
            ui.label(_('Derived from {config}.').format(config=custom.derived_from)).classes(theme.HINT)
        _verdict_banner(verdict)
        _values(info, verdict)
        if info.includes:
            included = (i.removeprefix('configs/').removesuffix('.gin') for i in info.includes)
            ui.label(_('Includes {configs}').format(configs=', '.join(included))).classes(theme.HINT)
    if verdict and verdict.get('changed'):
        with ui.card().classes(theme.CARD + ' gap-2').mark('changes'):
            base = ' + '.join(verdict.get('checked_with', [])[:-1]) or _('its base')
            ui.label(_('What it changes on {base}').format(base=base)) \
                .classes(theme.SECTION)
            ui.label(_("From gin's parsed config: each binding this add-on adds or re-binds.")) \
                .classes(theme.HINT)
            _changes_table(verdict['changed'])
    with ui.card().classes(theme.CARD + ' gap-2'):
        with ui.row().classes('w-full items-center'):
            ui.label(_('Source')).classes(theme.SECTION)
            ui.space()
            ui.label(info.path).classes(theme.MONO + ' text-gray-500 truncate')
        ui.code(info.source,
                language='python').classes('w-full text-xs max-h-[520px] overflow-auto').mark('source')


def _verdict_banner(verdict: dict | None) -> None:
    if verdict is None:
        text, icon, colour = _('Not checked with gin yet.'), 'schedule', 'bg-gray-100 dark:bg-gray-800'
    elif not verdict['ok']:
        text, icon = _('Broken: {reason}').format(reason=configs.broken(verdict)), 'block'
        colour = 'bg-red-50 text-red-800 dark:bg-red-950 dark:text-red-200'
    elif configs.warning(verdict):
        text, icon = _('Works, but {warning}').format(warning=configs.warning(verdict)), 'warning_amber'
        colour = 'bg-amber-50 text-amber-900 dark:bg-amber-950 dark:text-amber-100'
    else:
        with_ = ' + '.join(verdict.get('checked_with') or [])
        text = (_('Parses and builds a model ({configs})').format(configs=with_) if with_ else
                _('Parses and builds a model'))
        if verdict.get('parameters'):
            text += ' · ' + _('{count} M parameters').format(count=formatting.number(verdict['parameters'] / 1e6, 1))
        icon = 'check_circle'
        colour = 'bg-emerald-50 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100'
    with ui.row().classes(f'w-full items-start gap-2 no-wrap rounded-lg px-3 py-2 text-sm {colour}') \
            .mark('verdict'):
        ui.icon(icon).classes('text-lg')
        ui.label(text).classes('break-words min-w-0')


def _values(info: ConfigInfo, verdict: dict | None) -> None:
    """Key values: from gin's operative macros when checked, else as written in the file."""
    values = dict(info.values)
    if info.compression:
        values['compression'] = info.compression
    if verdict and verdict.get('macros') and info.kind in ('base', 'custom'):
        operative = verdict['macros'].items()
        values.update({k: v for k, v in operative if v is not None and k in values or k == 'CAPACITY'})
        if verdict.get('compression'):
            values['compression'] = verdict['compression']
    shown = [(_(label), fmt(values[key])) for key, label, fmt in VALUE_LABELS if values.get(key) is not None]
    if not shown:
        ui.label(_('No key values of its own: it changes how the base builds its model.')).classes(theme.HINT)
        return
    with ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-4 gap-3').mark('values'):
        for label, text in shown:
            with ui.column() \
                .classes('gap-0 rounded-lg border border-gray-200 dark:border-gray-800 px-3 py-2'):
                ui.label(label).classes(theme.HINT)
                ui.label(text).classes('text-base font-semibold tabular-nums')


def _changes_table(changed: dict) -> None:
    with ui.element('div').classes('w-full grid grid-cols-[2fr_1fr_1fr] gap-x-4 gap-y-1 text-xs'):
        for title in (_('Binding'), _('Before'), _('After')):
            ui.label(title).classes('font-semibold text-gray-500 uppercase tracking-wide')
        for key, (before, after) in changed.items():
            ui.label(key).classes('font-mono break-all')
            ui.label('—' if before is None else before).classes('font-mono text-gray-500 break-all')
            ui.label(after).classes('font-mono text-primary break-all')


# ---- custom configs -----------------------------------------------------------------------------------
def _editor(training: Training, project: ProjectView, state: dict, custom: ConfigEntry | None, refresh_all,
            derive: str = '') -> None:
    """Create, derive or edit a custom config; gin checks it in a worker before it is saved."""
    text = Path(custom.path).read_text() if custom else training.derive(derive or 'v2_small')
    with ui.dialog().props('maximized=false') as dialog, ui.card().classes('w-[760px] max-w-full gap-3'):
        ui.label(_('Edit config') if custom else _('New config from {config}').format(config=derive) if derive
                 else _('New config')) \
            .classes(theme.SECTION)
        with ui.row().classes('w-full gap-3 no-wrap'):
            name = ui.input(_('Name'), value=custom.name if custom else (f'{derive}_custom' if derive else '')) \
                .props('outlined dense').classes('grow').mark('config-name')
            role = ui.select({'base': _('Base'), 'addon': _('Add-on')}, value=custom.role if custom else 'base',
                             label=_('Role')).props('outlined dense').classes('w-40').mark('config-role')
        if custom:
            name.disable()
        ui.label(_('Letters, digits, _ and -. A base is complete on its own; an add-on is checked on v2_small.')) \
            .classes(theme.HINT)
        description = ui.input(_('Description'), value=custom.description if custom else '') \
            .props('outlined dense').classes('w-full').mark('config-description')
        ui.label(_('One line shown in the catalogue and the wizard.')).classes(theme.HINT)
        editor = ui.codemirror(text, language='Python',
                               theme='vscodeDark' if app.storage.user.get('dark') else 'vscodeLight') \
            .classes('w-full h-72 text-xs border rounded').mark('config-text')
        message = ui.label('').classes('text-sm whitespace-pre-wrap').mark('config-message')
        busy = ui.spinner(size='sm')
        busy.set_visibility(False)

        async def save() -> None:
            if not state['confirmed']:
                state['confirmed'] = await gin_code.confirm(_('Checking this config runs its Python on this machine'))
                if not state['confirmed']:
                    return
            busy.set_visibility(True)
            message.set_text(_('Checking with gin…'))
            message.classes(replace='text-sm text-gray-500')
            try:
                saved = await run.io_bound(lambda: training.save_config(
                    project.id, name.value or '', editor.value, description.value or '', role.value, derive,
                    bool(custom), code_confirmed=state['confirmed']))
            except (TemplateError, RuntimeError, Forbidden) as e:
                if isinstance(e, CodeNotConfirmed):
                    state['confirmed'] = False
                message.set_text(str(e))
                message.classes(replace='text-sm text-negative')
                busy.set_visibility(False)
                return
            dialog.close()
            ui.notify(_('Saved {name}: gin parses it and builds a model.').format(name=saved.name), type='positive')
            refresh_all(saved.name)

        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            ui.button(_('Check and save'), icon='save', on_click=save).props('unelevated color=primary') \
                .mark('config-save')
    dialog.open()


def _delete(training: Training, project: ProjectView, name: str, refresh_all) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-96 gap-3'):
        ui.label(_('Delete {name}?').format(name=name)).classes(theme.SECTION)
        ui.label(_('Removes configs/{name}.gin from the project. Runs already trained with it keep their own '
                   'copy (config.gin in the run folder).').format(name=name)).classes('text-sm')

        def go() -> None:
            try:
                training.delete_config(project.id, name)
            except Forbidden as e:
                ui.notify(str(e), type='negative')
                return
            dialog.close()
            refresh_all('v2_small')

        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            ui.button(_('Delete'), on_click=go).props('unelevated color=negative').mark('delete-go')
    dialog.open()


def _steps(count: int) -> str:
    return ngettext('{steps} step', '{steps} steps', count).format(steps=formatting.count(count))
