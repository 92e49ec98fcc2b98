"""Explorer: a map of a dataset's encodings through a model (PCA at once, UMAP as a job), a click to hear that
moment and its decode, the latent sliders heard live on any input, interpolation between two points, paths
drawn on the map and slider automations, and a favourites library (explorer_controls.py, explorer_paths.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from nicegui import ui

from app import theme
from components.latent_map import COLOURS, LatentMapChart
from components.render_player import RenderPlayer
from services import formatting
from services.datasets import Datasets
from services.events import JobsChanged, Subscriber
from services.i18n import N_, _
from services.models import Models
from services.models.play import LatentInput, MapView, ModelInfo, Play
from services.projects import ProjectView

from .common import attempt, empty_state, first_model, header, load, model_select, servers_panel
from .explorer_controls import LiveControls
from .explorer_paths import Paths

PICK = {'listen': N_('Listen'), 'A': N_('Set A'), 'B': N_('Set B'), 'path': N_('Draw path')}
MAP_NOTE = N_('Pick a dataset and map it: each dot is a moment of its audio.')


def create(play: Play, models: Models, datasets: Datasets, events: Subscriber, project: ProjectView) -> None:
    header(_('Explorer'), _('Walk the latent space: hear any moment of the dataset, steer it with the sliders, '
                          'morph between points and draw paths.'))
    playable = play.models(project.id)
    if not playable:
        empty_state(_('The explorer'))
        return
    Explorer(play, models, datasets, events, project, playable)


@dataclass
class ExplorerState:
    """What the sections share: the model, its facts, the map and the input the sliders steer."""
    project: ProjectView
    model: str
    info: ModelInfo | None = None
    view: MapView | None = None
    picked: int | None = None
    source: LatentInput | None = None
    ends: dict = field(default_factory=dict)  # 'A'/'B' → (map point or None, latent [L], label)


class Explorer:
    def __init__(self, play: Play, models: Models, datasets: Datasets, events: Subscriber, project: ProjectView,
                 playable) -> None:
        self.play, self.project = play, project
        self.playable = {m.path: m for m in playable}
        self.state = ExplorerState(project, first_model(playable))
        self.chart: LatentMapChart | None = None
        self.umap_waiting = False
        ready = {d.id: d.name for d in datasets.list(project.id) if d.status == 'ready'}
        with ui.card().classes(theme.CARD + ' gap-3'), ui.grid().classes('w-full gap-4 grid-cols-1 lg:grid-cols-2'):
            with ui.column().classes('gap-0'):
                self.model = model_select(playable, self.state.model)
                self.note = ui.label('').classes(theme.HINT).mark('model-info')
            with ui.row().classes('w-full items-start gap-2 no-wrap'):
                self.dataset = ui.select(ready, label=_('Dataset'), value=None).props('outlined dense') \
                    .classes('grow').mark('map-dataset') \
                    .tooltip(_('About two minutes of it are encoded for the map'))
                self.dims = ui.toggle({2: '2-D', 3: '3-D'}, value=2) \
                    .props('dense no-caps').classes('shrink-0 whitespace-nowrap').mark('map-dims') \
                    .tooltip(_('A flat map or one to turn around'))
                self.dims.props['aria-label'] = _('Map dimensions')
                self.build = ui.button(_('Map it'), icon='scatter_plot', on_click=self._build) \
                    .props('unelevated').mark('build-map')
        with ui.grid().classes('w-full gap-4 grid-cols-1 xl:grid-cols-5'):
            with ui.card().classes(theme.CARD + ' gap-2 xl:col-span-3').mark('map-card'):
                with ui.row().classes('w-full items-center gap-2'):
                    ui.label(_('Latent map')).classes(theme.SECTION)
                    self.map_note = ui.label(_(MAP_NOTE)) \
                        .classes(theme.HINT + ' grow truncate').mark('map-note')
                    self.colour = ui.select({k: _(v) for k, v in COLOURS.items()}, value='file', label=_('Colour by'),
                                            on_change=lambda e: self.chart and self.chart.redraw(colour=e.value)) \
                        .props('outlined dense').classes('w-40').tooltip(_('What the colour of a dot tells'))
                    self.umap = ui.button('UMAP', icon='hub', on_click=self._start_umap).props('outline dense') \
                        .tooltip(_('A UMAP layout of the map (a background job on a sample of its dots)')) \
                        .mark('umap')
                with ui.row().classes('w-full items-center gap-2'):
                    ui.label(_('A click')).classes(theme.HINT)
                    self.pick = ui.toggle({k: _(v) for k, v in PICK.items()}, value='listen') \
                        .props('dense no-caps') \
                        .mark('pick-mode').tooltip(_('Hear a dot, make it A or B, or add it to the path'))
                    self.pick.props['aria-label'] = _('What a click does')
                self.map_slot = ui.column().classes('w-full gap-0')
            with ui.column().classes('gap-3 xl:col-span-2'):
                self.original = RenderPlayer(project, _('Original'), marker='moment-original',
                                             hint=_('Click a dot to hear that moment.'), spectrum=False)
                self.decoded = RenderPlayer(project, _('Through the model'), marker='moment-decode',
                                            color=theme.COLORS['accent'], spectrum=False)
        self.controls = LiveControls(play, models, self.state, self._on_source)
        self.paths = Paths(play, self.state, self.controls, lambda: self.chart, self._draw_marks)
        servers_panel(play, events)
        self.umap.set_visibility(False)
        self.model.on_value_change(self._model_changed)
        self.dataset.on_value_change(lambda: self._clear_map())
        events.on(JobsChanged, self._jobs_changed)
        chosen = self.playable[self.state.model]
        if chosen.dataset_id in ready:
            self.dataset.set_value(chosen.dataset_id)
        ui.timer(0, self._model_changed, once=True)  # loading takes seconds: after the page is shown

    async def _model_changed(self) -> None:
        self.state.model = self.model.value
        self._clear_map()
        self.state.info = await load(self.play, self.project, self.model.value, self.note)
        self.controls.model_loaded()
        self.paths.model_loaded()

    def _clear_map(self) -> None:
        self.state.view, self.state.picked, self.chart = None, None, None
        self.state.ends.clear()
        self.map_slot.clear()
        self.umap.set_visibility(False)
        self.map_note.set_text(_(MAP_NOTE))

    async def _build(self) -> None:
        if self.dataset.value is None:
            ui.notify(_('Pick a finished dataset of this project to map.'), type='warning')
            return
        self.map_note.set_text(_('Encoding about two minutes of the dataset… (cached afterwards)'))
        view = await attempt(self.play.latent_map, self.project.id, self.model.value, self.dataset.value,
                             int(self.dims.value), busy=self.build)
        if view is None:
            self.map_note.set_text(_('No map.'))
            return
        self._show_map(view)
        if view.dims == 2:
            umap = self.play.umap(self.project.id, view)
            self.umap.set_visibility(umap is None)
            if umap is not None:
                self._show_map(umap)

    def _show_map(self, view: MapView) -> None:
        self.state.view, self.state.picked = view, None
        self.state.ends.clear()
        explained = sum(view.latent_map.explained) if view.method == 'pca' else None
        share = ' · ' + _('{percent}% of the variance shown').format(percent=round(explained * 100)) \
            if explained else ''
        self.map_note.set_text(_('{count} frames of {dataset}').format(count=formatting.count(view.points),
                                                                      dataset=view.dataset_name)
                               + f' · {view.method.upper()}{share}')
        self.map_slot.clear()
        with self.map_slot:
            self.chart = LatentMapChart(view, self._picked, colour=self.colour.value)
        self.paths.map_changed()

    async def _start_umap(self) -> None:
        if self.state.view is None:
            return
        job = await attempt(self.play.start_umap, self.project.id, self.state.view, busy=self.umap)
        if job is not None:
            self.umap_waiting = True
            self.umap.disable()
            self.map_note.set_text(_('UMAP is running as a job (about a minute); the map switches when it is done.'))

    def _jobs_changed(self, _event: JobsChanged) -> None:
        """The UMAP job this page started ended: show its map, or say it failed."""
        view = self.state.view
        if view is None or view.method != 'pca' or not self.umap_waiting:
            return
        if self.play.umap_status(view) in ('failed', 'cancelled', 'interrupted'):
            self.umap_waiting = False
            self.umap.enable()
            self.map_note.set_text(_('The UMAP job did not finish; its log is in the jobs panel.'))
            return
        umap = self.play.umap(self.project.id, view)
        if umap is not None:
            self.umap_waiting = False
            self.umap.set_visibility(False)
            self._show_map(umap)
            ui.notify(_('The UMAP map is ready.'), type='positive')

    async def _picked(self, point: int) -> None:
        state, mode = self.state, self.pick.value
        if state.view is None:
            return
        if mode == 'path':
            self.paths.add_vertex(point)
            return
        if mode in ('A', 'B'):
            state.ends[mode] = (point, state.view.latent_at(point), state.view.describe(point))
            self.paths.ends_changed()
            self._draw_marks()
            return
        state.picked = point
        self._draw_marks()
        self.original.caption.set_text(_('{moment} · rendering…').format(moment=state.view.describe(point)))
        got = await attempt(self.play.moment, self.project.id, self.model.value, state.view, point)
        if got is None:
            return
        original, decoded = got
        self.original.show(original, caption=state.view.describe(point), play=True)
        self.decoded.show(decoded, caption=_('decoded · {ms} ms').format(ms=round(decoded.elapsed_s * 1000)))
        self.controls.use(LatentInput(state.view.describe(point), decoded.z, state.info.frame_rate
                                      if state.info else 0.0, original))

    def _on_source(self, source: LatentInput) -> None:
        self.state.source = source

    def _draw_marks(self) -> None:
        if self.chart is None:
            return
        self.chart.mark(self.state.picked)
        self.chart.ends(*(self.state.ends.get(k, (None,))[0] for k in ('A', 'B')))
