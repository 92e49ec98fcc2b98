"""The explorer's live half: an input (a map moment, a file, a dataset example, a generation) turned into a
latent once, the bias/scale/jitter sliders applied to it and heard at once (at most one render waiting), and
a slider automation recorded over time, played back at any speed and kept."""
from __future__ import annotations

import time

from nicegui import run, ui

from app import theme
from components.render_player import RenderPlayer
from components.slider_bank import SliderBank
from services import formatting
from services.i18n import N_, _, ngettext
from services.models import Models
from services.models.play import (
    Controls,
    GenerateSettings,
    Keyframe,
    LatentInput,
    LatestOnly,
    Play,
    RenderView,
)

from .common import attempt, fail

SOURCES = {'moment': N_('Map moment'), 'file': N_('Audio file'), 'example': N_('Dataset example'),
           'generated': N_('Generated')}
KEEP = {'point': N_('Keep this point'), 'path': N_('Keep this path'), 'automation': N_('Keep this automation')}


class LiveControls:
    def __init__(self, play: Play, models: Models, state, on_source) -> None:
        self.play, self.state, self.on_source = play, state, on_source
        self.bank: SliderBank | None = None
        self.keyframes: list[Keyframe] = []
        self.recording_since: float | None = None
        self.live = LatestOnly(self._render, self._show, fail)
        with ui.grid().classes('w-full gap-4 grid-cols-1 xl:grid-cols-5'):
            with ui.card().classes(theme.CARD + ' gap-3 xl:col-span-3').mark('controls-card'):
                with ui.row().classes('w-full items-center gap-2 no-wrap'):
                    ui.label(_('Input')).classes(theme.SECTION)
                    self.kind = ui.toggle({k: _(v) for k, v in SOURCES.items()}, value='moment',
                                          on_change=lambda: self._kind_changed()) \
                        .props('dense no-caps').mark('input-kind').tooltip(_('What the sliders steer'))
                    self.kind.props['aria-label'] = _('Input')
                with ui.row().classes('w-full items-center gap-2 no-wrap'):
                    self.file = ui.select({c.path: c.label for c in models.audio_choices(state.project.id)},
                                          label=_('Audio file'), with_input=True).props('outlined dense') \
                        .classes('grow').mark('input-file').tooltip(_('Up to 60 s of it is encoded once'))
                    self.example = ui.number(_('Example'), value=0, min=0, step=1, format='%d') \
                        .props('outlined dense').classes('w-32').mark('input-example') \
                        .tooltip(_('An example of the mapped dataset'))
                    self.seed = ui.number(_('Seed'), value=0, min=0, step=1, format='%d').props('outlined dense') \
                        .classes('w-32').mark('input-seed').tooltip(_('4 s generated from this seed'))
                    self.use_button = ui.button(_('Use'), icon='input', on_click=self._use_input) \
                        .props('outline').mark('use-input')
                self.input_note = ui.label(_('Click a dot of the map: its moment becomes the input.')) \
                    .classes(theme.HINT).mark('input-note')
                self.bank_slot = ui.column().classes('w-full gap-0')
            with ui.column().classes('gap-3 xl:col-span-2'):
                self.output = RenderPlayer(state.project, _('Live'), marker='live', color=theme.COLORS['accent'],
                                           hint=_('Move a slider: the input is decoded again and played.'))
                with ui.card().classes(theme.CARD + ' gap-2').mark('automation'):
                    with ui.row().classes('w-full items-center gap-2'):
                        ui.label(_('Slider automation')).classes(theme.SECTION)
                        self.auto_note = ui.label(_('Record, move the sliders, stop.')).classes(theme.HINT + ' grow')
                    with ui.row().classes('w-full items-center gap-2'):
                        self.record = ui.button(_('Record'), icon='fiber_manual_record', on_click=self._toggle_record) \
                            .props('outline color=negative').mark('record')
                        ui.label(_('speed')).classes(theme.HINT)
                        self.speed = ui.slider(min=0.25, max=4, step=0.25, value=1.0) \
                            .props('label dense').classes('grow').mark('speed') \
                            .tooltip(_('Play the automation faster (above 1) or slower'))
                        self.speed.props['aria-label'] = _('Speed')
                        self.replay = ui.button(_('Play'), icon='play_arrow', on_click=self._play_automation) \
                            .props('outline').mark('play-automation')
                        ui.button(icon='bookmark_add', on_click=self._keep_automation) \
                            .props('flat round dense').tooltip(_('Keep this automation')).mark('keep-automation')
        self._kind_changed()

    # ---- the model and the input -------------------------------------------------------------------------------
    def model_loaded(self) -> None:
        self.bank_slot.clear()
        self.bank = None
        self.keyframes.clear()
        info = self.state.info
        if info is None:
            return
        with self.bank_slot:
            self.bank = SliderBank(info.latent_size, self._moved)

    def use(self, source: LatentInput) -> None:
        """Make `source` the input of the sliders and hear it with them as they are."""
        self.state.source = source
        self.on_source(source)
        self.input_note.set_text(_('Input: {label} · {seconds} s · {dims} dims × {frames} frames').format(
            label=source.label, seconds=formatting.number(source.seconds, 2), dims=source.z.shape[0],
            frames=source.z.shape[1]))
        if self.bank is not None and not self.bank.neutral:
            self.live.request(self.bank.controls)

    def _kind_changed(self) -> None:
        kind = self.kind.value
        self.file.set_visibility(kind == 'file')
        self.example.set_visibility(kind == 'example')
        self.seed.set_visibility(kind == 'generated')
        self.use_button.set_visibility(kind != 'moment')

    async def _use_input(self) -> None:
        state, pid = self.state, self.state.project.id
        kind = self.kind.value
        if kind == 'file':
            if not self.file.value:
                ui.notify(_('Pick an audio file of this project (or upload one on the Transfer page).'), type='warning')
                return
            content = await attempt(self.play.content_file, pid, self.file.value, busy=self.use_button)
        elif kind == 'example':
            dataset = state.view.dataset_id if state.view else self.dataset_of_model()
            if dataset is None:
                ui.notify(_('Map a dataset first: the example comes from it.'), type='warning')
                return
            content = await attempt(self.play.content_example, pid, dataset, int(self.example.value or 0),
                                    busy=self.use_button)
        else:
            settings = GenerateSettings(seed=int(self.seed.value or 0), duration_s=4.0)
            made = await attempt(self.play.generated_input, pid, state.model, settings, busy=self.use_button)
            if made is not None:
                self.use(made)
                self.output.show(made.original, caption=_('generated, seed {seed}').format(seed=settings.seed),
                                 play=True)
            return
        if content is None:
            return
        source = await attempt(self.play.encode, pid, state.model, content, busy=self.use_button)
        if source is not None:
            self.use(source)
            self.output.show(content.original,
                             caption=_('{label} (the input, before the model)').format(label=content.label))

    def dataset_of_model(self) -> int | None:
        known = {m.path: m for m in self.play.models(self.state.project.id)}
        chosen = known.get(self.state.model)
        return chosen.dataset_id if chosen else None

    # ---- live --------------------------------------------------------------------------------------------------
    def _moved(self, controls: Controls) -> None:
        if self.recording_since is not None:
            self.keyframes.append(Keyframe(time.monotonic() - self.recording_since, controls.bias, controls.scale,
                                           float(controls.jitter)))
            self.auto_note.set_text(_('Recording… {count} keyframes').format(count=len(self.keyframes)))
        if self.state.source is None:
            self.input_note.set_text(_('Pick an input first: click a dot of the map, or use a file.'))
            return
        self.live.request(controls)

    async def _render(self, controls: Controls) -> RenderView:
        source = self.state.source
        return await run.io_bound(self.play.decode, self.state.project.id, self.state.model, source.z, 0, controls,
                                  _('{label} with the sliders').format(label=source.label))

    def _show(self, render: RenderView) -> None:
        self.output.show(render, caption=f'{render.label} · {round(render.elapsed_s * 1000)} ms', play=True)

    # ---- automation --------------------------------------------------------------------------------------------
    def _toggle_record(self) -> None:
        if self.recording_since is None:
            if self.bank is None:
                ui.notify(_('Load a model first.'), type='warning')
                return
            controls = self.bank.controls
            self.keyframes = [Keyframe(0.0, controls.bias, controls.scale, float(controls.jitter))]
            self.recording_since = time.monotonic()
            self.record.set_text(_('Stop'))
            self.auto_note.set_text(_('Recording… move the sliders.'))
            return
        length = time.monotonic() - self.recording_since
        self.recording_since = None
        self.record.set_text(_('Record'))
        self.auto_note.set_text(ngettext('{count} keyframe over {seconds} s', '{count} keyframes over {seconds} s',
                                          len(self.keyframes)).format(count=len(self.keyframes),
                                                                      seconds=formatting.number(length, 1)))

    async def _play_automation(self) -> None:
        if len(self.keyframes) < 2 or self.state.source is None:
            ui.notify(_('Pick an input, then record a slider automation (Record, move a slider, Stop).'),
                      type='warning')
            return
        render = await attempt(self.play.automation, self.state.project.id, self.state.model, self.state.source.z,
                               list(self.keyframes), speed=float(self.speed.value), busy=self.replay)
        if render is not None:
            self._show(render)

    def load_automation(self, data: dict) -> None:
        self.keyframes = [Keyframe(float(k['t']), tuple(k.get('bias', ())), tuple(k.get('scale', ())),
                                   float(k.get('jitter', 0.0))) for k in data.get('keyframes', [])]
        self.speed.set_value(float(data.get('speed', 1.0)))
        self.auto_note.set_text(ngettext('{count} keyframe loaded', '{count} keyframes loaded',
                                          len(self.keyframes)).format(count=len(self.keyframes)))

    def _keep_automation(self) -> None:
        if len(self.keyframes) < 2:
            ui.notify(_('Record an automation first.'), type='warning')
            return
        data = {'keyframes': [{'t': k.t, 'bias': list(k.bias), 'scale': list(k.scale), 'jitter': k.jitter}
                              for k in self.keyframes], 'speed': float(self.speed.value)}
        ask_name(self.play, self.state, 'automation', data)


def ask_name(play: Play, state, kind: str, data: dict, after=None) -> None:
    """A small dialog that keeps a favourite (point, path, automation) under a name with tags."""
    with ui.dialog() as dialog, ui.card().classes('gap-3 w-96'):
        ui.label(_(KEEP[kind])).classes(theme.SECTION)
        name = ui.input(_('Name')).props('outlined dense autofocus').classes('w-full').mark('favourite-name')
        name.props['hint'] = _('What it is, in a few words')
        tags = ui.input(_('Tags'), placeholder=_('bright, slow')).props('outlined dense').classes('w-full')
        tags.props['hint'] = _('Words to find it by')
        with ui.row().classes('w-full justify-end'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            ui.button(_('Keep'), on_click=lambda: keep()).props('unelevated').mark('favourite-keep')

    def keep() -> None:
        try:
            kept = play.add_favourite(state.project.id, kind, name.value, data, tags.value, state.model)
        except ValueError as e:
            fail(e)
            return
        dialog.close()
        ui.notify(_('Kept “{name}” in the favourites.').format(name=kept.name), type='positive')
        if after is not None:
            after()
    dialog.open()
