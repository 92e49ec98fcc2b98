"""Generate: audio from random latents (or the model's prior) — seed, temperature, duration, smoothness and
spread; N variations at once, each with its seed; presets; results saved as WAV/FLAC with their recipe."""
from __future__ import annotations

import random

from nicegui import ui

from app import theme
from components.render_player import RenderPlayer
from services import formatting
from services.datasets import Datasets
from services.events import Subscriber
from services.i18n import _
from services.models.play import SPREADS, GenerateSettings, Play, RenderView, SavedRender, StatisticsView
from services.projects import ProjectView

from .common import attempt, empty_state, fail, first_model, header, load, model_select, servers_panel
from .prior_card import PriorCard


def create(play: Play, datasets: Datasets, events: Subscriber, project: ProjectView) -> None:
    header(_('Generate'), _('New sound from the model alone: random latents shaped by a seed, a temperature and a '
                          'smoothness, or drawn from its prior.'))
    models = play.models(project.id)
    if not models:
        empty_state(_('Generate'))
        return
    Generator(play, datasets, events, project, models)


class Generator:
    def __init__(self, play: Play, datasets: Datasets, events: Subscriber, project: ProjectView, models) -> None:
        self.play, self.project = play, project
        self.models = {m.path: m for m in models}
        self.statistics: StatisticsView | None = None
        self.threads = 0
        ready = {d.id: d.name for d in datasets.list(project.id) if d.status == 'ready'}
        with ui.card().classes(theme.CARD + ' gap-3'):
            with ui.grid().classes('w-full gap-4 grid-cols-1 md:grid-cols-2'):
                with ui.column().classes('gap-0'):
                    self.model = model_select(models, first_model(models))
                    self.note = ui.label('').classes(theme.HINT).mark('model-info')
                with ui.column().classes('gap-0'):
                    self.preset = ui.select({}, label=_('Preset'), clearable=True,
                                            on_change=lambda e: self._apply_preset(e.value)) \
                        .classes('w-full').props('outlined dense').mark('preset')
                    ui.label(_('Named settings of this project, seed included.')).classes(theme.HINT)
            with ui.grid().classes('w-full gap-4 grid-cols-2 md:grid-cols-4'):
                with ui.row().classes('items-center gap-1 no-wrap'):
                    self.seed = ui.number(_('Seed'), value=0, min=0, step=1, format='%d') \
                        .props('outlined dense').classes('grow').mark('seed') \
                        .tooltip(_('The same seed and settings give the same audio, to the byte'))
                    ui.button(icon='casino', on_click=lambda: self.seed.set_value(random.randrange(10 ** 6))) \
                        .props('flat round dense').tooltip(_('A random seed')).mark('dice')
                self.duration = ui.number(_('Duration'), value=4.0, min=0.05, max=300, step=0.5, suffix='s') \
                    .props('outlined dense').mark('duration').tooltip(_('How long each result plays'))
                self.count = ui.number(_('Variations'), value=1, min=1, max=32, step=1, format='%d') \
                    .props('outlined dense').mark('variations') \
                    .tooltip(_('Results at once, at seeds seed, seed + 1, …'))
                self.spread = ui.select({k: _(v) for k, v in SPREADS.items()}, value='unit', label=_('Spread'),
                                        on_change=lambda: self._spread_changed()) \
                    .props('outlined dense').mark('spread') \
                    .tooltip(_('How far each latent dimension spreads: 1 everywhere, as the dataset does, or '
                               'the prior'))
            with ui.grid().classes('w-full gap-4 grid-cols-1 md:grid-cols-2'):
                with ui.column().classes('gap-0'):
                    ui.label(_('Temperature')).classes(theme.HINT)
                    self.temperature = ui.slider(min=0, max=3, step=0.05, value=1.0) \
                        .props('label dense').mark('temperature')
                    self.temperature.props['aria-label'] = _('Temperature')
                    ui.label(_('How far from the centre the latents wander: 0 is the mean, 1 the trained spread.')) \
                        .classes(theme.HINT)
                with ui.column().classes('gap-0'):
                    ui.label(_('Smoothness (keyframes per second)')).classes(theme.HINT)
                    self.keyframes = ui.slider(min=0.25, max=20, step=0.25, value=1.0) \
                        .props('label dense').mark('smoothness')
                    self.keyframes.props['aria-label'] = _('Smoothness')
                    ui.label(_('Random points this often, glided between: fewer is smoother.')).classes(theme.HINT)
            with ui.row().classes('w-full items-center gap-3').mark('spread-row') as self.stats_row:
                self.dataset = ui.select(ready, label=_('Dataset'), value=None).props('outlined dense') \
                    .classes('w-64').mark('stats-dataset').tooltip(_('The dataset whose latent spread to measure'))
                self.measure = ui.button(_('Measure its latents'), icon='query_stats', on_click=self._measure) \
                    .props('outline').mark('measure')
                self.stats_note = ui.label(_('The mean and spread of each dimension, measured once per model and '
                                             'dataset.')).classes(theme.HINT + ' grow')
            self.prior_note = ui.label(_("RAVE's prior remembers its previous call: the same seed does not repeat "
                                         'its output exactly.')).classes(theme.HINT + ' text-warning')
            with ui.row().classes('w-full items-center justify-end gap-2'):
                ui.button(_('Save preset'), icon='bookmark_add', on_click=self._preset_dialog).props('outline') \
                    .mark('save-preset')
                self.button = ui.button(_('Generate'), icon='auto_awesome', on_click=self._generate) \
                    .props('unelevated').mark('generate')
        self.results = ui.column().classes('w-full gap-3').mark('results')
        with ui.card().classes(theme.CARD + ' gap-2'):
            ui.label(_('Saved in this project')).classes(theme.SECTION)
            self.saved = ui.column().classes('w-full gap-1').mark('saved')
        self.prior = PriorCard(play, events, project)
        servers_panel(play, events)
        self.model.on_value_change(self._model_changed)
        ui.timer(0, self._model_changed, once=True)  # loading the model takes seconds: after the page is shown
        self._fill_presets()
        self._fill_saved()

    # ---- settings ----------------------------------------------------------------------------------------------
    def settings(self) -> GenerateSettings:
        return GenerateSettings(seed=int(self.seed.value or 0), temperature=float(self.temperature.value),
                                duration_s=float(self.duration.value or 0), keyframe_rate=float(self.keyframes.value),
                                spread=self.spread.value, dataset_id=self.dataset.value, threads=self.threads)

    def _apply_preset(self, favourite_id: int | None) -> None:
        found = next((f for f in self.play.favourites(self.project.id, 'preset') if f.id == favourite_id), None)
        if found is None:
            return
        settings = GenerateSettings.of(found.data)
        if found.model in self.models and found.model != self.model.value:
            self.model.set_value(found.model)
        self.seed.set_value(settings.seed)
        self.temperature.set_value(settings.temperature)
        self.duration.set_value(settings.duration_s)
        self.keyframes.set_value(settings.keyframe_rate)
        self.spread.set_value(settings.spread)
        if settings.dataset_id in self.dataset.options:
            self.dataset.set_value(settings.dataset_id)
        if settings.threads and self.threads and settings.threads != self.threads:
            ui.notify(_('This preset was heard with {heard} threads, the model now runs {now}: the audio may differ in '
                        'its last bits.').format(heard=settings.threads, now=self.threads), type='warning')

    async def _model_changed(self) -> None:
        chosen = self.models.get(self.model.value)
        self.prior.show(chosen)
        self.statistics = None
        if chosen and chosen.dataset_id in self.dataset.options:
            self.dataset.set_value(chosen.dataset_id)
        info = await load(self.play, self.project, self.model.value, self.note)
        self.threads = info.threads if info else 0
        has_prior = bool(info and info.has_prior)
        self.spread.set_options({k: _(v) for k, v in SPREADS.items() if k != 'prior' or has_prior},
                                value=self.spread.value if self.spread.value != 'prior' or has_prior else 'unit')
        self._spread_changed()

    def _spread_changed(self) -> None:
        self.stats_row.set_visibility(self.spread.value == 'dataset')
        self.prior_note.set_visibility(self.spread.value == 'prior')
        self.keyframes.set_enabled(self.spread.value != 'prior')

    async def _measure(self) -> None:
        if self.dataset.value is None:
            ui.notify(_('Pick a finished dataset to measure.'), type='warning')
            return
        self.stats_note.set_text(_('Encoding about two minutes of the dataset…'))
        stats = await attempt(self.play.statistics, self.project.id, self.model.value, self.dataset.value,
                              busy=self.measure)
        self.statistics = stats
        self.stats_note.set_text(_('Measured on {count} frames of {dataset}.').format(
            count=formatting.count(stats.frames), dataset=stats.dataset_name) if stats else _('Not measured.'))

    # ---- generating ----------------------------------------------------------------------------------------------
    async def _generate(self) -> None:
        if self.spread.value == 'dataset' and self.statistics is None:
            await self._measure()
            if self.statistics is None:
                return
        renders = await attempt(self.play.batch, self.project.id, self.model.value, self.settings(),
                                int(self.count.value or 1), self.statistics, busy=self.button)
        if not renders:
            return
        self.results.clear()
        with self.results:
            with ui.row().classes('w-full items-baseline gap-2'):
                ui.label(_('Results')).classes(theme.SECTION)
                ui.label(_('seeds {seeds}').format(seeds=', '.join(str(r.seed) for r in renders))) \
                    .classes(theme.HINT).mark('seeds')
            with ui.grid().classes('w-full gap-3 grid-cols-1 lg:grid-cols-2'):
                for i, render in enumerate(renders):
                    self._result(render, i)

    def _result(self, render: RenderView, i: int) -> None:
        with ui.column().classes('w-full gap-1'):
            player = RenderPlayer(self.project, _('Seed {seed}').format(seed=render.seed), marker=f'result-{i}')
            player.show(render, caption=f'{render.label} · {round(render.elapsed_s * 1000)} ms')
            with ui.row().classes('w-full items-center gap-2'):
                name = ui.input(_('Name'), value=f'{self._model_stem()} seed {render.seed}') \
                    .props('outlined dense').classes('grow').mark(f'name-{i}') \
                    .tooltip(_('The file name in renders/; its settings are kept beside it'))
                for fmt in ('wav', 'flac'):
                    ui.button(fmt.upper(), icon='save', on_click=lambda f=fmt: self._save(render, name.value, f)) \
                        .props('outline dense').mark(f'save-{fmt}-{i}')
                ui.button(icon='bookmark_add', on_click=lambda: self._preset_dialog(render.recipe.get('settings'))) \
                    .props('flat round dense').tooltip(_('Keep these settings as a preset'))

    def _model_stem(self) -> str:
        return self.models[self.model.value].name.rsplit('.', 1)[0]

    async def _save(self, render: RenderView, name: str, fmt: str) -> None:
        saved = await attempt(self.play.save, self.project.id, render, name, fmt)
        if saved:
            ui.notify(_('Saved {name} in renders/, its settings beside it.').format(name=saved.path.name),
                      type='positive')
            self._fill_saved()

    # ---- presets and saved files ---------------------------------------------------------------------------------
    def _preset_dialog(self, heard: dict | None = None) -> None:
        settings = GenerateSettings.of(heard) if heard else self.settings()
        with ui.dialog() as dialog, ui.card().classes('gap-3 w-96'):
            ui.label(_('Save a preset')).classes(theme.SECTION)
            ui.label(_('seed {seed} · temperature {temperature} · {seconds} s · {rate} keyframes/s · {spread}').format(
                seed=settings.seed, temperature=formatting.number(settings.temperature),
                seconds=formatting.number(settings.duration_s), rate=formatting.number(settings.keyframe_rate),
                spread=_(SPREADS[settings.spread]))).classes(theme.HINT)
            name = ui.input(_('Name')).props('outlined dense autofocus').classes('w-full').mark('preset-name')
            tags = ui.input(_('Tags'), placeholder=_('drone, dark')).props('outlined dense').classes('w-full') \
                .mark('preset-tags')
            with ui.row().classes('w-full justify-end'):
                ui.button(_('Cancel'), on_click=dialog.close).props('flat')
                ui.button(_('Save'), on_click=lambda: keep()).props('unelevated').mark('preset-save')

        def keep() -> None:
            try:
                preset = self.play.save_preset(self.project.id, name.value, self.model.value, settings, tags.value)
            except ValueError as e:
                fail(e)
                return
            dialog.close()
            self._fill_presets(preset.id)
            ui.notify(_('Preset “{name}” saved.').format(name=preset.name), type='positive')
        dialog.open()

    def _fill_presets(self, value: int | None = None) -> None:
        presets = self.play.favourites(self.project.id, 'preset')
        self.preset.set_options({p.id: p.name + (f'  · {", ".join(p.tags)}' if p.tags else '') for p in presets},
                                value=value)

    def _fill_saved(self) -> None:
        self.saved.clear()
        files = self.play.saved(self.project.id)[:20]
        with self.saved:
            if not files:
                ui.label(_('Nothing saved yet: a result\'s WAV or FLAC button keeps it in the project\'s renders/.')) \
                    .classes(theme.HINT)
            for saved in files:
                with ui.row().classes('w-full items-center gap-3 no-wrap'):
                    ui.icon('audio_file', color='primary')
                    ui.label(saved.path.name).classes('text-sm grow truncate')
                    ui.label(f'{formatting.number(saved.seconds, 2)} s').classes(f'{theme.HINT} {theme.NUMBER}')
                    ui.button(_('Make again'), icon='replay', on_click=lambda s=saved: self._again(s)) \
                        .props('flat dense').mark('again')

    async def _again(self, saved: SavedRender) -> None:
        render = await attempt(self.play.regenerate, self.project.id, saved)
        if render:
            self.results.clear()
            with self.results:
                RenderPlayer(self.project, _('Again: {name}').format(name=saved.name), marker='again-result') \
                    .show(render)
