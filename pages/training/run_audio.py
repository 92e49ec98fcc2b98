"""The run's Audio tab: RAVE's validation examples as input/reconstruction pairs, two validations side by side."""
from __future__ import annotations

from pathlib import Path

from nicegui import run as background
from nicegui import ui

from app import theme
from components.audio import audio_card
from pages.training import tensorboard
from services.store import Run
from services.training.runs import spec_of
from services.training.tensorboard import TensorBoardError


class AudioTab:
    """Loads lazily (when the tab opens) from the run's TensorBoard events through a cached worker."""

    def __init__(self, studio, run: Run) -> None:
        self.studio = studio
        self.run = run
        self.entries: list[dict] = []
        with ui.row().classes('w-full items-end gap-4 px-1'):
            self.pick_a = ui.select({}, label='A: validation').props('outlined dense').classes('w-64').mark('audio-a')
            self.pick_b = ui.select({}, label='B: validation').props('outlined dense').classes('w-64').mark('audio-b')
            self.example = ui.select({0: 'Example 1'}, value=0, label='Example').props('outlined dense') \
                .classes('w-40').mark('audio-example')
            ui.space()
            ui.button('Reload', icon='refresh', on_click=self.load).props('flat no-caps color=primary') \
                .mark('audio-reload')
        ui.label('RAVE logs up to 8 validation examples each time it validates: the input crop and what the model '
                 'rebuilds from it. Pick two validations to hear the progress.').classes(theme.HINT + ' px-1')
        self.body = ui.column().classes('w-full gap-4').mark('audio-body')
        for control in (self.pick_a, self.pick_b, self.example):
            control.on_value_change(self._show)
        with self.body:
            ui.label('Open this tab to read the validation audio.').classes(theme.HINT)

    async def load(self) -> None:
        self.body.clear()
        with self.body, ui.row().classes('items-center gap-2'):
            ui.spinner(size='sm')
            ui.label('Reading the validation audio from the run\'s TensorBoard logs…').classes(theme.HINT)
        try:
            self.entries = await background.io_bound(self._read)
        except (TensorBoardError, OSError, ValueError) as e:
            self._message('error_outline', f'{e}. Reload to try again.')
            return
        if not self.entries:
            self._message('graphic_eq', 'No validation audio yet: RAVE writes it at each validation '
                          f'(every {spec_of(self.run).val_every} steps).')
            return
        options = {i: e['label'] for i, e in enumerate(self.entries)}
        self.pick_a.set_options(options, value=len(self.entries) - 1)
        self.pick_b.set_options(options, value=0)
        count = max(len(e['examples']) for e in self.entries)
        self.example.set_options({i: f'Example {i + 1}' for i in range(count)}, value=0)
        self._show()

    def _read(self) -> list[dict]:
        """Every version's validations in order, labelled with their global step when it is known."""
        root = tensorboard.run_root(self.studio, self.run)
        if not root:
            return []
        entries = []
        for version in sorted(Path(root).glob('version_*'), key=lambda p: int(p.name.split('_')[-1])):
            cache = self.studio.data_dir / 'cache' / 'run_audio' / f'run_{self.run.id}' / version.name
            index = self.studio.tensorboard.audio_previews(version, spec_of(self.run).channels,
                                                           spec_of(self.run).n_signal, cache)
            entries += [{**v, 'version': version.name} for v in index['validations']]
        steps = list(self.studio.training.metrics(self.run).steps.get('val/validation', []))
        for i, entry in enumerate(entries):
            step = f' · step {steps[i]:,}'.replace(',', ' ') if len(steps) == len(entries) else ''
            entry['label'] = f'#{i + 1}{step}' + (f' ({entry["version"]})' if entry['version'] != 'version_0' else '')
        return entries

    def _show(self) -> None:
        if not self.entries or self.pick_a.value is None:
            return
        self.body.clear()
        with self.body:
            for side, pick, color in (('A', self.pick_a, theme.ACCENT), ('B', self.pick_b, theme.COLORS['accent'])):
                entry = self.entries[pick.value if pick.value is not None else 0]
                examples = entry['examples']
                example = examples[min(self.example.value or 0, len(examples) - 1)]
                ui.label(f'{side} · validation {entry["label"]}').classes(theme.SECTION + ' px-1')
                with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-2 gap-4'):
                    for role, title in (('input', 'Input'), ('reconstruction', 'Reconstruction')):
                        audio_card(title, self._url(example[role]), example[f'{role}_envelope'], example['seconds'],
                                   caption=f'{entry["sr"] / 1000:g} kHz', color=color,
                                   marker=f'audio-{side.lower()}-{role}')

    def _url(self, path: str) -> str:
        return '/media/data/' + Path(path).resolve().relative_to(self.studio.data_dir).as_posix()

    def _message(self, icon: str, text: str) -> None:
        self.body.clear()
        with self.body, ui.card().classes(theme.CARD + ' items-center text-center gap-2 py-8'):
            ui.icon(icon, color='grey-6').classes('text-4xl')
            ui.label(text).classes(theme.HINT)
