"""Help: the pipeline, RAVE's parameters in plain words, where files live, and the command line."""
from __future__ import annotations

from nicegui import ui

from app import theme
from services.settings import Settings

PIPELINE = [  # (area, icon, what happens there)
    ('Dataset', 'library_music', ('Pick folders of audio. RAVE\'s preprocess cuts them into examples and packs them '
                                 'into an LMDB folder, resampled to one sampling rate.')),
    ('Training', 'model_training', ('A run teaches a model to encode audio into a few latent numbers and decode it '
                                   'back. It writes checkpoints as it learns; watch the losses fall.')),
    ('Export', 'ios_share', ('Turn a checkpoint into a TorchScript .ts file — for the Explorer, and for nn~ in '
                            'Max/MSP or Pure Data, or a VST host.')),
    ('Explorer', 'graphic_eq', ('Play any audio through a model: hear the original and its reconstruction side by '
                               'side, with both waveforms and the latent figures.')),
]

PARAMETERS = [  # (parameter, plain meaning)
    ('config', ('The model recipe. v2 is the all-round choice; v2_small trains fastest and suits small datasets '
               'and CPUs; v3 sounds best but needs a strong GPU; discrete gives a token-like latent; add "causal" '
               'for low-latency real-time use.')),
    ('sampling rate', ('Samples per second of the dataset (44 100 Hz is CD quality). The model works at this rate; '
                      'keep it equal to the dataset\'s.')),
    ('channels', 'Mono (1) or stereo (2). Sources with fewer channels are repeated to fill them.'),
    ('num_signal / n_signal', ('Length of one training example in samples (131 072 ≈ 3 s at 44.1 kHz). Longer '
                              'examples give more context but use more memory.')),
    ('batch', 'How many examples the model sees per step. Larger is smoother but needs more GPU memory.'),
    ('max steps', 'When training stops. RAVE models usually need hundreds of thousands to millions of steps.'),
    ('val_every', 'How often (in steps) the run checks itself on held-out audio and saves the best checkpoint.'),
    ('phase 1 / phase 2', ('Training first learns to reconstruct (phase 1), then a discriminator sharpens the sound '
                          '(phase 2, "GAN" phase). Losses jump when phase 2 starts — that is normal.')),
    ('latent size', ('How many numbers describe each moment of sound. The fidelity chart tells how many of them '
                    'the model really uses.')),
    ('lazy', ('Keep references to the source files instead of copying audio into the dataset: saves disk, slows '
             'training, and the sources must stay in place.')),
    ('streaming', ('Export option for real-time use in nn~: the model processes audio block by block with cached '
                  'padding. Train with "causal" for the lowest latency.')),
]

LAYOUT = """\
studio.db              the database: projects, datasets, runs, exports, jobs, settings
jobs/<id>/             one folder per job: log.txt, progress.jsonl, result.json
projects/<project>/    the default home of a project
    datasets/          RAVE LMDB folders (data.mdb, metadata.yaml)
    runs/              RAVE run folders: <name>_<hash>/version_N/checkpoints/*.ckpt
    exports/           exported .ts models
    uploads/           audio uploaded through the browser
backups/               project back-ups (.zip) written by Projects → Back up"""

CLI = """\
rave-studio                    # serve on 127.0.0.1 and open a browser tab
rave-studio --native           # the same app in its own window
rave-studio --share            # serve the local network; every page needs a login
rave-studio --data-dir ~/rave  # keep database, jobs and projects in another folder
rave-studio --port 9000 --no-browser
./studio.sh test               # set up what is missing, then run the test suite"""


def create(settings: Settings) -> None:
    with ui.column().classes('gap-0'):
        ui.label('Help').classes(theme.TITLE)
        ui.label('How RAVE Studio is organised, and what the knobs mean.').classes(theme.SUBTITLE)

    with _card('The pipeline', 'route'):
        with ui.grid().classes('w-full gap-3 grid-cols-1 sm:grid-cols-2 xl:grid-cols-4'):
            for number, (area, icon, text) in enumerate(PIPELINE, start=1):
                with ui.column().classes('gap-1 p-3 rounded-lg bg-gray-50 dark:bg-gray-900'):
                    with ui.row().classes('items-center gap-2'):
                        ui.badge(str(number), color='primary').props('rounded')
                        ui.icon(icon, color='primary').classes('text-xl')
                        ui.label(area).classes('font-semibold')
                    ui.label(text).classes('text-sm text-gray-600 dark:text-gray-300')
        ui.label('Every job shows the plain RAVE command it runs, so you can repeat it in a terminal. '
                 'Jobs keep running if you close the tab or restart the studio.').classes(theme.HINT)

    with _card('RAVE parameters in plain words', 'tune'), ui.column().classes('w-full gap-0'):
        for name, meaning in PARAMETERS:
            with ui.row().classes('w-full gap-4 py-2 no-wrap border-b border-gray-100 dark:border-gray-800'):
                ui.label(name).classes('w-40 shrink-0 font-medium text-sm')
                ui.label(meaning).classes('text-sm text-gray-600 dark:text-gray-300')

    with ui.grid().classes('w-full gap-4 grid-cols-1 2xl:grid-cols-2'):
        with _card('Where files live', 'folder'):
            ui.label(f'Data folder: {settings.data_dir}').classes(theme.MONO + ' break-all')
            ui.code(LAYOUT, language='text').classes('w-full text-xs')
            ui.label('A project can also live elsewhere (chosen when you create it). Datasets and runs are plain '
                     'RAVE folders: the rave command line reads them unchanged.').classes(theme.HINT)
        with _card('Command line', 'terminal'):
            ui.code(CLI, language='bash').classes('w-full text-xs')
            ui.markdown('`--share` asks for an admin password the first time and stores it hashed; '
                        '`--native` needs a desktop session (pywebview).').classes(theme.HINT)

    with _card('Keyboard and mouse', 'keyboard'):
        for key, icon, what in (('Esc', '', 'closes a dialog'), ('Enter', '', 'confirms the focused button or field'),
                                ('', 'menu', 'top left: shows or folds the navigation'),
                                ('', 'dark_mode', 'top right: light or dark theme; the choice is remembered'),
                                ('', 'work_history', 'top right: every running job, with its progress and controls')):
            with ui.row().classes('items-center gap-3 text-sm no-wrap'):
                with ui.element('div').classes('px-2 py-0.5 rounded border border-gray-300 dark:border-gray-700 '
                                               'font-mono text-xs w-16 shrink-0 flex justify-center'):
                    if icon:
                        ui.icon(icon).classes('text-base')
                    else:
                        ui.label(key)
                ui.label(what)


def _card(title: str, icon: str) -> ui.card:
    card = ui.card().classes(theme.CARD + ' gap-3')
    with card, ui.row().classes('items-center gap-2'):
        ui.icon(icon, color='primary').classes('text-xl')
        ui.label(title).classes(theme.SECTION)
    return card
