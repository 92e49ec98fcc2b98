"""Transfer: content audio (a file, an upload, a dataset example) through a model — resampled, channels
matched, padding cropped, loudness matched on request — with the latent sliders applied live; a crossfader
between two models on the same input; a live session recorded to a file."""
from __future__ import annotations

import datetime as dt
import time

from nicegui import run, ui

from app import theme
from components.render_player import RenderPlayer
from components.slider_bank import SliderBank
from services import formatting
from services.datasets import Datasets
from services.events import Subscriber
from services.i18n import N_, _
from services.models import Models, UploadRefused
from services.models.play import Content, Controls, Keyframe, LatestOnly, Play, RenderView
from services.projects import ProjectView

from .common import attempt, describe, empty_state, fail, first_model, header, model_select, servers_panel

MODES = {'audio': N_('their audio'), 'latent': N_('their latents (same size only)')}


def create(play: Play, models: Models, datasets: Datasets, events: Subscriber, project: ProjectView) -> None:
    header(_('Transfer'), _('Play any sound through a model — its timbre on your content — and crossfade two models '
                          'on the same input.'))
    playable = play.models(project.id)
    if not playable:
        empty_state(_('Transfer'))
        return
    Transfer(play, models, datasets, events, project, playable)


class Transfer:
    def __init__(self, play: Play, models: Models, datasets: Datasets, events: Subscriber, project: ProjectView,
                 playable) -> None:
        self.play, self.models, self.project = play, models, project
        self.content: Content | None = None
        self.bank: SliderBank | None = None
        self.keyframes: list[Keyframe] = []
        self.recording_since: float | None = None
        self.live = LatestOnly(self._render, self._show, fail)
        ready = {d.id: d.name for d in datasets.list(project.id) if d.status == 'ready'}
        names = {m.path: m.label for m in playable}
        with ui.card().classes(theme.CARD + ' gap-3'):
            with ui.grid().classes('w-full gap-4 grid-cols-1 md:grid-cols-2'):
                with ui.column().classes('gap-1'):
                    self.model = model_select(playable, first_model(playable))
                    self.note = ui.label('').classes(theme.HINT).mark('model-info')
                    self.second = ui.select({'': _('none'), **names}, value='', label=_('Crossfade with')) \
                        .props('outlined dense').classes('w-full').mark('second-model') \
                        .tooltip(_('A second model on the same input, mixed by the crossfader'))
                with ui.column().classes('gap-1'):
                    self.audio = ui.select({}, label=_('Audio file'), with_input=True).classes('w-full') \
                        .props('outlined dense').mark('audio') \
                        .tooltip(_('A file of this project (uploads, datasets\' sources)'))
                    with ui.row().classes('w-full items-center gap-2 no-wrap'):
                        self.dataset = ui.select(ready, value=None, label=_('or a dataset example'), clearable=True) \
                            .props('outlined dense').classes('grow').mark('content-dataset') \
                            .tooltip(_('Instead of a file: an example of a dataset'))
                        self.example = ui.number(_('Example'), value=0, min=0, step=1, format='%d') \
                            .props('outlined dense').classes('w-28').tooltip(_('Which example of the dataset'))
            limit_mb = models.upload_limit_mb()
            with ui.row().classes('w-full items-center gap-3'):
                ui.upload(label=_('Upload audio'), auto_upload=True, max_file_size=limit_mb * 1024 * 1024 or None,
                          on_upload=self._uploaded,
                          on_rejected=lambda: ui.notify(_('That file is over {limit} MB; pick a smaller one.').format(
                              limit=limit_mb), type='negative')) \
                    .props('accept="audio/*,.wav,.aif,.aiff,.flac,.mp3,.ogg,.opus" flat bordered') \
                    .classes('w-72 compact-upload').mark('upload')
                ui.add_css('.compact-upload .q-uploader__list { min-height: 0; padding: 0 8px; } '
                           '.compact-upload .q-uploader__subtitle { display: none; }')
                self.loudness = ui.switch(_('Match loudness'), value=False).mark('match-loudness') \
                    .tooltip(_('The result as loud as the input'))
                ui.label(_('Any format ffmpeg reads, up to 60 s of it; resampled to the model\'s rate.')) \
                    .classes(theme.HINT + ' grow')
                self.button = ui.button(_('Through the model'), icon='auto_fix_high', on_click=self._through) \
                    .props('unelevated').mark('reconstruct')
        with ui.grid().classes('w-full gap-4 grid-cols-1 lg:grid-cols-2'):
            self.original = RenderPlayer(project, _('Original'), marker='original',
                                         hint=_('Pick audio, then “Through the model”.'))
            self.output = RenderPlayer(project, _('Reconstruction'), marker='reconstruction',
                                       color=theme.COLORS['accent'])
        with ui.card().classes(theme.CARD + ' gap-2').mark('latent'):
            self.facts = ui.row().classes('w-full gap-8')
            self.bank_slot = ui.column().classes('w-full gap-0')
            with ui.row().classes('w-full items-center gap-2 no-wrap').mark('crossfader') as self.fader_row:
                ui.label(_('first model')).classes(theme.HINT)
                self.mix = ui.slider(min=0, max=1, step=0.01, value=0.0, on_change=lambda: self._request()) \
                    .props('label dense').classes('grow').mark('mix') \
                    .tooltip(_('0 is the first model, 1 the second: heard as you move it'))
                self.mix.props['aria-label'] = _('Crossfader')
                ui.label(_('second model')).classes(theme.HINT)
                self.mode = ui.select({k: _(v) for k, v in MODES.items()}, value='audio', label=_('Mix'),
                                      on_change=lambda: self._request()) \
                    .props('outlined dense').classes('w-56').mark('morph-mode') \
                    .tooltip(_('Mix their audio, or their latents when the sizes match'))
            with ui.row().classes('w-full items-center gap-2'):
                self.record = ui.button(_('Record'), icon='fiber_manual_record', on_click=self._toggle_record) \
                    .props('outline color=negative').mark('record')
                self.record_note = ui.label(_('Record a live session: the slider moves over time, rendered and saved '
                                              'to renders/.')).classes(theme.HINT)
        servers_panel(play, events)
        self.fader_row.set_visibility(False)
        self.second.on_value_change(lambda e: (self.fader_row.set_visibility(bool(e.value)), self._request()))
        self.model.on_value_change(self._model_changed)
        self._fill_audio()
        ui.timer(0, self._model_changed, once=True)  # loading takes seconds: after the page is shown

    async def _model_changed(self) -> None:
        self.note.set_text(_('Loading the model… (a run\'s checkpoint takes about 40 s)'))
        info = await attempt(self.play.info, self.project.id, self.model.value)
        self.note.set_text(describe(info) if info else _('The model could not be loaded.'))
        self.bank_slot.clear()
        self.bank = None
        if info is not None:
            with self.bank_slot:
                self.bank = SliderBank(info.latent_size, lambda controls: self._moved(controls))
        if self.content is not None:
            self._request()

    # ---- content -----------------------------------------------------------------------------------------------
    def _fill_audio(self, value: str | None = None) -> None:
        options = {c.path: c.label for c in self.models.audio_choices(self.project.id)}
        self.audio.set_options(options, value=value or (next(iter(options)) if options else None))

    async def _uploaded(self, event) -> None:
        file = event.file
        try:
            target = await self.models.receive_upload(self.project.id, file.name, file.size()).receive(file.iterate())
        except UploadRefused as e:
            fail(e)
            return
        self._fill_audio(str(target))
        ui.notify(_('Uploaded {name}.').format(name=target.name), type='positive')

    async def _through(self) -> None:
        if self.dataset.value is not None:
            content = await attempt(self.play.content_example, self.project.id, self.dataset.value,
                                    int(self.example.value or 0), busy=self.button)
        elif self.audio.value:
            content = await attempt(self.play.content_file, self.project.id, self.audio.value, busy=self.button)
        else:
            ui.notify(_('Pick or upload an audio file first.'), type='warning')
            return
        if content is None:
            return
        self.content = content
        self.original.show(content.original, caption=f'{content.label} · {content.sr} Hz')
        render = await attempt(self._transfer, self._controls(), busy=self.button)
        if render is not None:
            self._show(render)

    # ---- live --------------------------------------------------------------------------------------------------
    def _controls(self) -> Controls | None:
        return self.bank.controls if self.bank is not None and not self.bank.neutral else None

    def _moved(self, controls: Controls) -> None:
        if self.recording_since is not None:
            self.keyframes.append(Keyframe(time.monotonic() - self.recording_since, controls.bias, controls.scale,
                                           float(controls.jitter)))
            self.record_note.set_text(_('Recording… {count} keyframes').format(count=len(self.keyframes)))
        self._request()

    def _request(self) -> None:
        if self.content is not None:
            self.live.request(self._controls())

    async def _render(self, controls: Controls | None) -> RenderView:
        return await run.io_bound(self._transfer, controls)

    def _transfer(self, controls: Controls | None) -> RenderView:
        """The content through the model, or through both models crossfaded when a second one is chosen."""
        if self.second.value:
            return self.play.morph(self.project.id, (self.model.value, self.second.value), self.content,
                                   float(self.mix.value), mode=self.mode.value, controls=controls,
                                   match_loudness=bool(self.loudness.value))
        return self.play.transfer(self.project.id, self.model.value, self.content, controls=controls,
                                  match_loudness=bool(self.loudness.value))

    def _show(self, render: RenderView) -> None:
        self.output.show(render, caption=f'{render.label} · {round(render.elapsed_s * 1000)} ms', play=True)
        self.facts.clear()
        with self.facts:
            if render.z.size:
                _figure(_('latent size'), str(render.z.shape[0]), _('dimensions'))
                _figure(_('frames'), formatting.count(render.z.shape[1]),
                        f'{formatting.number(render.z.shape[1] / max(render.seconds, 1e-6), 1)}/s')
            _figure(_('took'), f'{round(render.elapsed_s * 1000)} ms', _('in the model server'))

    # ---- recording ---------------------------------------------------------------------------------------------
    async def _toggle_record(self) -> None:
        if self.recording_since is None:
            if self.content is None or self.bank is None:
                ui.notify(_('Play some audio through the model first, then record.'), type='warning')
                return
            controls = self.bank.controls
            self.keyframes = [Keyframe(0.0, controls.bias, controls.scale, float(controls.jitter))]
            self.recording_since = time.monotonic()
            self.record.set_text(_('Stop'))
            self.record_note.set_text(_('Recording… move the sliders.'))
            return
        self.recording_since = None
        self.record.set_text(_('Record'))
        source = await attempt(self.play.encode, self.project.id, self.model.value, self.content, busy=self.record)
        if source is None:
            return
        render = await attempt(self.play.automation, self.project.id, self.model.value, source.z,
                               list(self.keyframes), busy=self.record)
        if render is None:
            return
        name = f'live session {dt.datetime.now():%Y-%m-%d %H.%M.%S}'
        saved = await attempt(self.play.save, self.project.id, render, name)
        self._show(render)
        if saved is not None:
            self.record_note.set_text(_('Saved {name} ({count} keyframes) in renders/.').format(
                name=saved.path.name, count=len(self.keyframes)))


def _figure(title: str, value: str, caption: str) -> None:
    with ui.column().classes('gap-0'):
        ui.label(title).classes(theme.HINT + ' uppercase tracking-wide')
        ui.label(value).classes(f'text-xl font-semibold {theme.NUMBER}')
        ui.label(caption).classes(theme.HINT)
