"""The run's Audio tab: RAVE's validation examples as input/reconstruction pairs, two validations side by
side."""
from __future__ import annotations

from nicegui import run as background
from nicegui import ui

from app import theme
from components.audio import audio_card
from services import formatting
from services.i18n import _, ngettext
from services.training import AudioValidation, RunView, TensorBoardError, Training


class AudioTab:
    """Loads lazily (when the tab opens) from the run's TensorBoard events through a cached worker."""

    def __init__(self, training: Training, run: RunView) -> None:
        self.training = training
        self.run = run
        self.entries: list[AudioValidation] = []
        with ui.row().classes('w-full items-end gap-4 px-1'):
            self.pick_a = ui.select({}, label=_('A: validation')).props('outlined dense').classes('w-64') \
                .mark('audio-a')
            self.pick_b = ui.select({}, label=_('B: validation')).props('outlined dense').classes('w-64') \
                .mark('audio-b')
            self.example = ui.select({0: _('Example {number}').format(number=1)}, value=0, label=_('Example')) \
                .props('outlined dense') \
                .classes('w-40').mark('audio-example')
            ui.space()
            ui.button(_('Reload'), icon='refresh', on_click=self.load).props('flat no-caps color=primary') \
                .mark('audio-reload')
        ui.label(_('RAVE logs up to 8 validation examples each time it validates: the input crop and what the '
                   'model rebuilds from it. Pick two validations to hear the progress.')).classes(theme.HINT + ' px-1')
        self.body = ui.column().classes('w-full gap-4').mark('audio-body')
        for control in (self.pick_a, self.pick_b, self.example):
            control.on_value_change(self._show)
        with self.body:
            ui.label(_('Open this tab to read the validation audio.')).classes(theme.HINT)

    async def load(self) -> None:
        self.body.clear()
        with self.body, ui.row().classes('items-center gap-2'):
            ui.spinner(size='sm')
            ui.label(_("Reading the validation audio from the run's TensorBoard logs…")).classes(theme.HINT)
        try:
            self.entries = await background.io_bound(self.training.audio, self.run.id)
        except (TensorBoardError, OSError, ValueError) as e:
            self._message('error_outline', _('{error}. Reload to try again.').format(error=e))
            return
        if not self.entries:
            self._message('graphic_eq', _('No validation audio yet: RAVE writes it at each validation (every {steps}).')
                          .format(steps=ngettext('{steps} step', '{steps} steps', self.run.spec.val_every)
                                  .format(steps=formatting.count(self.run.spec.val_every))))
            return
        options = {i: _label(i, e) for i, e in enumerate(self.entries)}
        self.pick_a.set_options(options, value=len(self.entries) - 1)
        self.pick_b.set_options(options, value=0)
        count = max(len(e.examples) for e in self.entries)
        self.example.set_options({i: _('Example {number}').format(number=i + 1) for i in range(count)}, value=0)
        self._show()

    def _show(self) -> None:
        if not self.entries or self.pick_a.value is None:
            return
        self.body.clear()
        with self.body:
            for side, pick, color in (('A', self.pick_a, theme.ACCENT),
                                      ('B', self.pick_b, theme.COLORS['accent'])):
                index = pick.value if pick.value is not None else 0
                entry = self.entries[index]
                example = entry.examples[min(self.example.value or 0, len(entry.examples) - 1)]
                ui.label(_('{side} · validation {label}').format(side=side, label=_label(index, entry))) \
                    .classes(theme.SECTION + ' px-1')
                with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-2 gap-4'):
                    for role, title in (('input', _('Input')), ('reconstruction', _('Reconstruction'))):
                        audio_card(title, '/media/data/' + getattr(example, role),
                                   getattr(example, f'{role}_envelope'),
                                   example.seconds, color=color,
                                   caption=_('{rate} kHz').format(rate=formatting.number(entry.sr / 1000)),
                                   marker=f'audio-{side.lower()}-{role}')

    def _message(self, icon: str, text: str) -> None:
        self.body.clear()
        with self.body, ui.card().classes(theme.CARD + ' items-center text-center gap-2 py-8'):
            ui.icon(icon, color='grey-6').classes('text-4xl')
            ui.label(text).classes(theme.HINT)


def _label(index: int, entry: AudioValidation) -> str:
    """#2 · step 1 000 (version_1): which validation, in the page's language."""
    label = f'#{index + 1}'
    if entry.step is not None:
        label = _('{number} · step {step}').format(number=label, step=formatting.count(entry.step))
    return label + (f' ({entry.version})' if entry.version != 'version_0' else '')
