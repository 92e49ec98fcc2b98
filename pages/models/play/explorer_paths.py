"""The explorer's ways through the space: interpolation between A and B (two map points: linear, or two random
points: SLERP) as a mix heard live or a morph over time, paths drawn on the map and played at a speed, and the
favourites library that keeps points, paths and automations per project."""
from __future__ import annotations

from nicegui import run, ui

from app import theme
from components.render_player import RenderPlayer
from services import lazy
from services.i18n import N_, _, ngettext
from services.models.play import LatestOnly, Play, RenderView

from .common import attempt, fail
from .explorer_controls import ask_name

np = lazy.module('numpy')

KINDS = {'linear': N_('linear (data points, sounds)'), 'slerp': N_('SLERP (random points)')}
ENDS_NOTE = N_('Set A and B with a click on the map, or take two random points.')
PATH_NOTE = N_('“Draw path” above, then click dots in order.')
FAVOURITES = {'point': 'place_item', 'path': 'timeline', 'automation': 'tune'}


class Paths:
    def __init__(self, play: Play, state, controls, chart, redraw_marks) -> None:
        self.play, self.state, self.controls = play, state, controls
        self.chart, self.redraw_marks = chart, redraw_marks  # the map chart now (or None), and its A/B marks
        self.vertices: list[list[float]] = []
        self.live = LatestOnly(self._mix, self._show, fail)
        with ui.grid().classes('w-full gap-4 grid-cols-1 xl:grid-cols-2'):
            with ui.card().classes(theme.CARD + ' gap-2').mark('interpolation'):
                with ui.row().classes('w-full items-center gap-2'):
                    ui.label(_('Interpolate A ⇄ B')).classes(theme.SECTION)
                    self.ends_note = ui.label(_(ENDS_NOTE)) \
                        .classes(theme.HINT + ' grow').mark('ends-note')
                with ui.row().classes('w-full items-center gap-2'):
                    ui.button(_('Random A, B'), icon='casino', on_click=self._random_ends) \
                        .props('outline dense no-caps').mark('random-ends')
                    for key in ('A', 'B'):
                        ui.button(_('Input → {key}').format(key=key), on_click=lambda k=key: self._input_end(k)) \
                            .props('flat dense no-caps') \
                            .tooltip(_('The sliders\' input (a whole sound) as {key}').format(key=key)) \
                            .mark(f'input-{key}')
                with ui.row().classes('w-full items-center gap-2 no-wrap'):
                    self.kind = ui.select({k: _(v) for k, v in KINDS.items()}, value='linear',
                                          label=_('Interpolation')) \
                        .props('outlined dense').classes('w-56').mark('interp-kind') \
                        .tooltip(_('Linear between data, SLERP between random points'))
                    ui.label(_('mix')).classes(theme.HINT)
                    self.mix = ui.slider(min=0, max=1, step=0.01, value=0.5,
                                         on_change=lambda e: self._mix_moved(float(e.value))) \
                        .props('label dense').classes('grow').mark('mix') \
                        .tooltip(_('0 is A, 1 is B: heard as you move it'))
                    self.mix.props['aria-label'] = _('mix of A and B')
                with ui.row().classes('w-full items-center gap-2'):
                    self.seconds = ui.number(_('Morph length'), value=4.0, min=0.5, max=60, step=0.5, suffix='s') \
                        .props('outlined dense').classes('w-36').tooltip(_('How long the morph from A to B lasts'))
                    self.morph_button = ui.button(_('Morph A → B over time'), icon='swap_horiz', on_click=self._morph) \
                        .props('outline').mark('morph-time')
            with ui.card().classes(theme.CARD + ' gap-2').mark('trajectory'):
                with ui.row().classes('w-full items-center gap-2'):
                    ui.label(_('Path')).classes(theme.SECTION)
                    self.path_note = ui.label(_(PATH_NOTE)) \
                        .classes(theme.HINT + ' grow').mark('path-note')
                with ui.row().classes('w-full items-center gap-2'):
                    self.duration = ui.number(_('Walk it in'), value=4.0, min=0.5, max=120, step=0.5, suffix='s') \
                        .props('outlined dense').classes('w-36').mark('path-duration') \
                        .tooltip(_('The path is walked at an even speed in this time'))
                    self.walk = ui.button(_('Play path'), icon='route', on_click=self._walk).props('outline') \
                        .mark('play-path')
                    ui.button(_('Clear'), icon='backspace', on_click=self.clear_path).props('flat dense')
                    ui.button(icon='bookmark_add', on_click=self._keep_path).props('flat round dense') \
                        .tooltip(_('Keep this path'))
        self.output = RenderPlayer(state.project, _('Interpolation and paths'), marker='morph-output',
                                   color=theme.COLORS['warning'], hint=_('A mix, a morph or a path plays here.'))
        with ui.card().classes(theme.CARD + ' gap-2').mark('favourites'):
            with ui.row().classes('w-full items-center gap-2'):
                ui.label(_('Favourites')).classes(theme.SECTION)
                ui.label(_('Points, paths and automations of this project, for the model they were made with.')) \
                    .classes(theme.HINT + ' grow')
                ui.button(_('Keep A'), icon='bookmark_add', on_click=lambda: self._keep_point('A')) \
                    .props('flat dense').mark('keep-point')
            self.list = ui.column().classes('w-full gap-1').mark('favourites-list')
        self.fill()

    # ---- model and map -----------------------------------------------------------------------------------------
    def model_loaded(self) -> None:
        self.clear_path()
        self.ends_changed()
        self.fill()

    def map_changed(self) -> None:
        self.clear_path()
        self.ends_changed()

    # ---- interpolation -----------------------------------------------------------------------------------------
    def ends_changed(self) -> None:
        ends = self.state.ends
        self.ends_note.set_text(' · '.join(f'{k}: {ends[k][2]}' for k in ('A', 'B') if k in ends)
                                or _(ENDS_NOTE))
        if {'A', 'B'} <= set(ends) and all(ends[k][0] is not None for k in ('A', 'B')):
            self.kind.set_value('linear')

    def _random_ends(self) -> None:
        info = self.state.info
        if info is None:
            return
        rng = np.random.default_rng()
        for key in ('A', 'B'):
            self.state.ends[key] = (None, rng.standard_normal(info.latent_size).astype(np.float32), 'random')
        self.kind.set_value('slerp')
        self.ends_changed()
        self.redraw_marks()

    def _input_end(self, key: str) -> None:
        source = self.state.source
        if source is None:
            ui.notify(_('Pick an input first (a map moment, a file, an example or a generation).'), type='warning')
            return
        self.state.ends[key] = (None, source.z, source.label)
        self.kind.set_value('linear')
        self.ends_changed()
        self.redraw_marks()

    def _ends(self) -> tuple[np.ndarray, np.ndarray] | None:
        ends = self.state.ends
        if not {'A', 'B'} <= set(ends):
            ui.notify(_('Set A and B first (a click on the map with “Set A”, “Set B”, or “Random A, B”).'),
                      type='warning')
            return None
        return ends['A'][1], ends['B'][1]

    def _mix_moved(self, mix: float) -> None:
        if {'A', 'B'} <= set(self.state.ends):
            self.live.request(mix)

    async def _mix(self, mix: float) -> RenderView:
        a, b = self.state.ends['A'][1], self.state.ends['B'][1]
        return await run.io_bound(self.play.interpolate, self.state.project.id, self.state.model, a, b, mix=mix,
                                  kind=self.kind.value, duration_s=2.0, controls=self._controls())

    async def _morph(self) -> None:
        ends = self._ends()
        if ends is None:
            return
        render = await attempt(self.play.interpolate, self.state.project.id, self.state.model, *ends,
                               kind=self.kind.value, duration_s=float(self.seconds.value or 4.0),
                               controls=self._controls(), busy=self.morph_button)
        if render is not None:
            self._show(render)

    def _controls(self):
        bank = self.controls.bank
        return bank.controls if bank is not None and not bank.neutral else None

    def _show(self, render: RenderView) -> None:
        self.output.show(render, caption=f'{render.label} · {round(render.elapsed_s * 1000)} ms', play=True)

    # ---- paths -------------------------------------------------------------------------------------------------
    def add_vertex(self, point: int) -> None:
        view = self.state.view
        self.vertices.append([float(c) for c in view.coords[point]])
        self._path_changed()

    def clear_path(self) -> None:
        self.vertices = []
        self._path_changed()

    def _path_changed(self) -> None:
        n = len(self.vertices)
        drawn = ngettext('{count} point drawn', '{count} points drawn', n).format(count=n) \
            + (_(' — click one more') if n == 1 else '')
        self.path_note.set_text(drawn if n else _(PATH_NOTE))
        chart = self.chart()
        if chart is not None:
            chart.path(self.vertices)

    async def _walk(self) -> None:
        if self.state.view is None or len(self.vertices) < 2:
            ui.notify(_('Draw a path first: “Draw path”, then click two or more dots of the map.'), type='warning')
            return
        render = await attempt(self.play.path, self.state.project.id, self.state.model, self.state.view,
                               np.array(self.vertices, np.float32), float(self.duration.value or 4.0),
                               controls=self._controls(), busy=self.walk)
        if render is not None:
            self._show(render)

    # ---- favourites --------------------------------------------------------------------------------------------
    def _keep_point(self, key: str) -> None:
        end = self.state.ends.get(key)
        if end is None or end[1].ndim != 1:
            ui.notify(_('Set {key} to a point first (a dot of the map, or a random point).').format(key=key),
                      type='warning')
            return
        ask_name(self.play, self.state, 'point', {'z': [float(v) for v in end[1]], 'label': end[2]}, self.fill)

    def _keep_path(self) -> None:
        if len(self.vertices) < 2 or self.state.view is None:
            ui.notify(_('Draw a path first.'), type='warning')
            return
        ask_name(self.play, self.state, 'path', {'places': self.vertices, 'map': self.state.view.key,
                                                 'duration_s': float(self.duration.value or 4.0)}, self.fill)

    def fill(self) -> None:
        self.list.clear()
        kept = [f for f in self.play.favourites(self.state.project.id)
                if f.kind in FAVOURITES and (not f.model or f.model == self.state.model)]
        with self.list:
            if not kept:
                ui.label(_('Nothing kept for this model yet.')).classes(theme.HINT)
            for favourite in kept[:30]:
                with ui.row().classes('w-full items-center gap-2 no-wrap'):
                    ui.icon(FAVOURITES[favourite.kind], color='primary')
                    ui.label(favourite.name).classes('text-sm')
                    ui.label(' '.join(f'#{t}' for t in favourite.tags)).classes(theme.HINT + ' grow truncate')
                    ui.button(_('Load'), on_click=lambda f=favourite: self._load(f)).props('flat dense')
                    ui.button(icon='delete', on_click=lambda f=favourite: self._delete(f.id)) \
                        .props('flat round dense').tooltip(_('Delete it'))

    def _load(self, favourite) -> None:
        if favourite.kind == 'point':
            self.state.ends['A'] = (None, np.array(favourite.data['z'], np.float32), favourite.name)
            self.ends_changed()
        elif favourite.kind == 'path':
            if self.state.view is None or self.state.view.key != favourite.data.get('map'):
                ui.notify(_('That path was drawn on another map: map the same dataset with this model first.'),
                          type='warning')
                return
            self.vertices = [list(p) for p in favourite.data['places']]
            self.duration.set_value(favourite.data.get('duration_s', 4.0))
            self._path_changed()
        else:
            self.controls.load_automation(favourite.data)
        ui.notify(_('Loaded “{name}”.').format(name=favourite.name))

    def _delete(self, favourite_id: int) -> None:
        try:
            self.play.delete_favourite(self.state.project.id, favourite_id)
        except ValueError as e:
            fail(e)
        self.fill()
