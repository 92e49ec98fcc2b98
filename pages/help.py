"""Help: the pipeline, RAVE's parameters in plain words, where files live and the command line; the user guide
and the FAQ (docs/*.md) with search; the keyboard shortcuts, generated from their registry; the tour and the
example project."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components import shortcuts
from components.cards import section
from components.docs_view import FaqView, GuideView, results
from components.shortcuts import mark_search
from components.tour import start_example
from services import docs, i18n
from services.docs import Hit
from services.example import Example
from services.i18n import N_, _
from services.projects import Projects
from services.settings import Settings

PIPELINE = [  # (area, icon, what happens there): English msgids, shown through _()
    (N_('Dataset'), 'library_music',
     N_('Pick folders of audio. RAVE\'s preprocess cuts them into examples and packs them into an LMDB folder, '
        'resampled to one sampling rate.')),
    (N_('Training'), 'model_training',
     N_('A run teaches a model to encode audio into a few latent numbers and decode it back. It writes '
        'checkpoints as it learns; watch the losses fall.')),
    (N_('Export'), 'ios_share',
     N_('Turn a checkpoint into a TorchScript .ts file — for the Explorer, and for nn~ in Max/MSP or Pure Data, '
        'or a VST host.')),
    (N_('Explorer'), 'graphic_eq',
     N_('Play any audio through a model: hear the original and its reconstruction side by side, with both '
        'waveforms and the latent figures.')),
]

PARAMETERS = [  # (parameter, plain meaning): English msgids, shown through _()
    (N_('config'), N_('The model recipe. v2 is the all-round choice; v2_small trains fastest and suits small '
                      'datasets and CPUs; v3 sounds best but needs a strong GPU; discrete gives a token-like latent; '
                      'add "causal" for low-latency real-time use.')),
    (N_('sampling rate'), N_('Samples per second of the dataset (44 100 Hz is CD quality). The model works at this '
                             'rate; keep it equal to the dataset\'s.')),
    (N_('channels'), N_('Mono (1) or stereo (2). Sources with fewer channels are repeated to fill them.')),
    (N_('num_signal / n_signal'), N_('Length of one training example in samples (131 072 ≈ 3 s at 44.1 kHz). '
                                     'Longer examples give more context but use more memory.')),
    (N_('batch'), N_('How many examples the model sees per step. Larger is smoother but needs more GPU memory.')),
    (N_('max steps'), N_('When training stops. RAVE models usually need hundreds of thousands to millions of '
                         'steps.')),
    (N_('val_every'), N_('How often (in steps) the run checks itself on held-out audio and saves the best '
                         'checkpoint.')),
    (N_('phase 1 / phase 2'), N_('Training first learns to reconstruct (phase 1), then a discriminator sharpens the '
                                 'sound (phase 2, "GAN" phase). Losses jump when phase 2 starts — that is normal.')),
    (N_('latent size'), N_('How many numbers describe each moment of sound. The fidelity chart tells how many of '
                           'them the model really uses.')),
    (N_('lazy'), N_('Keep references to the source files instead of copying audio into the dataset: saves disk, '
                    'slows training, and the sources must stay in place.')),
    (N_('streaming'), N_('Export option for real-time use in nn~: the model processes audio block by block with '
                         'cached padding. Train with "causal" for the lowest latency.')),
]


TABS = {'overview': N_('Overview'), 'guide': N_('User guide'), 'faq': N_('FAQ'),
        'keyboard': N_('Keyboard shortcuts')}
MOUSE = (('menu', N_('top left: shows or folds the navigation')),
         ('keyboard', N_('top right: this list of shortcuts')),
         ('dark_mode', N_('top right: light or dark theme; the choice is remembered')),
         ('work_history', N_('top right: every running job, with its progress and controls')))


def create(settings: Settings, example: Example, projects: Projects) -> None:
    """Help: the overview, the user guide and the FAQ (searchable; `?doc=<chapter>&section=<anchor>` and
    `?faq=<question>` open one), the keyboard shortcuts from their registry, the tour and the example project."""
    asked = ui.context.client.request.query_params
    with ui.row().classes('w-full items-end gap-2'):
        with ui.column().classes('gap-0 grow'):
            ui.label(_('Help')).classes(theme.TITLE)
            ui.label(_('How RAVE Studio is organised, what the knobs mean, and answers to what RAVE users ask.')) \
                .classes(theme.SUBTITLE)
        ui.button(_('Take the tour'), icon='tour', on_click=lambda: ui.navigate.to('/help?tour')) \
            .props('outline no-caps color=primary').mark('take-tour')
        ui.button(_('Try the example'), icon='science', on_click=lambda: start_example(example, projects)) \
            .props('unelevated no-caps color=primary').mark('try-example')
    search = mark_search(ui.input(placeholder=_('Search the guide and the FAQ')).props('outlined dense clearable')
                         .classes('w-full max-w-2xl').mark('help-search'))
    search.props['aria-label'] = _('Search the guide and the FAQ')
    search.tooltip(_('Every word must appear; press / to come here from anywhere on the page'))
    with search.add_slot('prepend'):
        ui.icon('search')
    with search.add_slot('append'):
        ui.html('<kbd>/</kbd>', sanitize=False).tooltip(_('Press / to search'))
    found = ui.column().classes('w-full max-w-2xl gap-1').mark('hits')
    with ui.tabs().props('align=left inline-label no-caps').classes('w-full') as tabs:
        tab = {key: ui.tab(_(label)).mark(f'tab-{key}') for key, label in TABS.items()}
    first = next((key for key in ('faq', 'doc', 'keyboard') if key in asked), 'overview').replace('doc', 'guide')
    with ui.tab_panels(tabs, value=tab[first]).classes('w-full bg-transparent').props('keep-alive animated=false'):
        with ui.tab_panel(tab['overview']).classes('p-0 gap-4'):
            _overview(settings)
        with ui.tab_panel(tab['guide']).classes('p-0'), section(_('User guide'), 'menu_book'):
            guide_chapters = docs.guide()
            _written_in_english(guide_chapters)
            guide = GuideView(guide_chapters)
        with ui.tab_panel(tab['faq']).classes('p-0'), section(_('Frequently asked questions'), 'quiz'):
            faq_chapter = docs.faq()
            _written_in_english([faq_chapter])
            faq = FaqView(faq_chapter)
        with ui.tab_panel(tab['keyboard']).classes('p-0'), section(_('Keyboard shortcuts'), 'keyboard'):
            shortcuts.table()
            ui.separator()
            for icon, what in MOUSE:
                with ui.row().classes('items-center gap-3 text-sm no-wrap'):
                    ui.icon(icon).classes('text-base w-24 text-center')
                    ui.label(_(what))

    def pick(hit: Hit) -> None:
        anchor = hit.section.anchor if hit.section else None
        if hit.chapter.slug == docs.FAQ:
            tabs.set_value(tab['faq'])
            faq.show(anchor)
        else:
            tabs.set_value(tab['guide'])
            guide.show(hit.chapter.slug, anchor)

    def searched() -> None:
        query = (search.value or '').strip()
        found.clear()
        if query:
            with found:
                results(docs.search(query), query, pick)

    search.on_value_change(searched)
    if 'doc' in asked:
        guide.show(asked['doc'], asked.get('section'))
    if 'faq' in asked:
        faq.show(asked['faq'])


def _written_in_english(chapters: list[docs.Chapter]) -> None:
    """Say which chapters a reader of another language gets in English (their translation is missing)."""
    english = [c.title for c in chapters if c.language != i18n.current()]
    if english:
        ui.label(_('Not translated yet, so shown in English: {chapters}.').format(chapters=', '.join(english))) \
            .classes(theme.HINT).mark('docs-english')


def _overview(settings: Settings) -> None:
    with section(_('The pipeline'), 'route'):
        with ui.grid().classes('w-full gap-3 grid-cols-1 sm:grid-cols-2 xl:grid-cols-4'):
            for number, (area, icon, text) in enumerate(PIPELINE, start=1):
                with ui.column().classes('gap-1 p-3 rounded-lg bg-gray-50 dark:bg-gray-900'):
                    with ui.row().classes('items-center gap-2'):
                        ui.badge(str(number), color='primary').props('rounded')
                        ui.icon(icon, color='primary').classes('text-xl')
                        ui.label(_(area)).classes('font-semibold')
                    ui.label(_(text)).classes('text-sm text-gray-600 dark:text-gray-300')
        ui.label(_('Every job shows the plain RAVE command it runs, so you can repeat it in a terminal. '
                   'Jobs keep running if you close the tab or restart the studio.')).classes(theme.HINT)

    with section(_('RAVE parameters in plain words'), 'tune'), ui.column().classes('w-full gap-0'):
        for name, meaning in PARAMETERS:
            with ui.row().classes('w-full gap-4 py-2 no-wrap border-b border-gray-100 dark:border-gray-800'):
                ui.label(_(name)).classes('w-40 shrink-0 font-medium text-sm')
                ui.label(_(meaning)).classes('text-sm text-gray-600 dark:text-gray-300')

    files, command_line = docs.chapter('files'), docs.chapter('command-line')
    with ui.grid().classes('w-full gap-4 grid-cols-1 2xl:grid-cols-2'):
        with section(_('Where files live'), 'folder'):
            ui.label(_('Data folder: {folder}').format(folder=settings.data_dir)) \
                .classes(theme.MONO + ' break-all').mark('data-folder')
            ui.markdown(docs.for_help(files.intro)).classes('w-full text-sm')
        with section(_('Command line'), 'terminal'):
            ui.markdown(docs.for_help(command_line.sections[0].body)).classes('w-full text-sm')
