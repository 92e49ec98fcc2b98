"""Checkpoint A/B listening synced to the validation curve: click two points of the curve (or pick two
checkpoints), and the same validation example — the input RAVE logged at its last validation — is rendered by
both checkpoints up front, in model-test jobs; then one transport switches between the two at the same
position (ab_player.py).

A click picks the checkpoint nearest to the step clicked: A first, then B, then A again."""
from __future__ import annotations

from nicegui import run, ui

from app import theme
from components.audio import media_url
from pages.models.ab_player import ABPlayer
from services import formatting
from services.access import Forbidden
from services.events import JobsChanged, Subscriber
from services.i18n import _
from services.models.testing import ModelTestError, ModelTests, TestView
from services.projects import ProjectView
from services.training import CheckpointView, RunView, Training


class ABListening:
    def __init__(self, model_tests: ModelTests, training: Training, events: Subscriber, project: ProjectView,
                 run: RunView) -> None:
        self.model_tests, self.training, self.project, self.run = model_tests, training, project, run
        self.checkpoints = sorted((c for c in training.checkpoints(run.id) if c.exists), key=lambda c: c.step or 0)
        self.picked: dict[str, CheckpointView | None] = {'a': None, 'b': None}
        self.renders: dict[str, TestView | None] = {'a': None, 'b': None}
        self.example = ''  # the validation input, absolute
        self.next_pick = 'a'
        with ui.card().classes(theme.CARD + ' gap-2').mark('ab-listening'):
            with ui.row().classes('w-full items-baseline gap-2'):
                ui.label(_('A/B listening')).classes(theme.SECTION)
                ui.label(_('Click two points of the validation curve, or pick two checkpoints: both render the same '
                           'validation example, then switch between them at the same position.')).classes(theme.HINT)
            options = {c.path: f'{_(c.kind)} · {_step(c)}' for c in self.checkpoints}
            with ui.row().classes('w-full items-center gap-2'):
                self.select_a = ui.select(options, label='A', on_change=lambda e: self._pick('a', e.value)) \
                    .props('outlined dense options-dense').classes('w-56').mark('ab-pick-a') \
                    .tooltip(_('The first checkpoint (or the first point clicked on the curve)'))
                self.select_b = ui.select(options, label='B', on_change=lambda e: self._pick('b', e.value)) \
                    .props('outlined dense options-dense').classes('w-56').mark('ab-pick-b') \
                    .tooltip(_('The second checkpoint (or the second point clicked)'))
                self.status = ui.label().classes(theme.HINT).mark('ab-status')
            self.area = ui.column().classes('w-full gap-2')
        if not self.checkpoints:
            self.status.set_text(_('No checkpoint on disk yet.'))
        events.on(JobsChanged, self._jobs_changed)

    def on_curve_click(self, e) -> None:
        """A click on the validation curve: the checkpoint nearest to the step clicked."""
        points = (e.args or {}).get('points') or []
        if not points or not self.checkpoints:
            return
        step = float(points[0].get('x') or 0)
        self.pick_next(min(self.checkpoints, key=lambda c: abs((c.step or 0) - step)).path)

    def pick_next(self, path: str) -> None:
        """`path` becomes A, then the next one B, then A again."""
        which, self.next_pick = self.next_pick, 'b' if self.next_pick == 'a' else 'a'
        (self.select_a if which == 'a' else self.select_b).set_value(path)

    def _pick(self, which: str, path: str | None) -> None:
        self.picked[which] = next((c for c in self.checkpoints if c.path == path), None)
        self.renders[which] = None
        if all(self.picked.values()):
            ui.timer(0.01, self._render, once=True)

    async def _render(self) -> None:
        self.area.clear()
        self.status.set_text(_('Finding the validation example…'))
        if not self.example:
            validations = await run.io_bound(self.training.audio, self.run.id)
            examples = validations[-1].examples if validations else ()
            if not examples:
                self.status.set_text(_('RAVE has logged no validation audio for this run yet: A/B needs its example.'))
                return
            self.example = self.model_tests.data_path(examples[0].input)
        try:
            for which in ('a', 'b'):
                self.renders[which] = self.model_tests.start(self.project.id, self.picked[which].path,
                                                             files=[self.example])
        except (ModelTestError, Forbidden) as e:
            self.status.set_text(str(e))
            return
        self.status.set_text(_('Rendering both checkpoints…'))

    def _jobs_changed(self, event: JobsChanged) -> None:
        mine = [v for v in self.renders.values() if v is not None and v.job_id in event.job_ids]
        if not mine:
            return
        for which, view in self.renders.items():
            if view is not None and view.job_id in event.job_ids:
                self.renders[which] = self.model_tests.test(view.id, view.job_id, view.folder)
        failed = next((v for v in self.renders.values() if v is not None and v.error), None)
        if failed is not None:
            self.status.set_text(failed.error)
            return
        if all(v is not None and v.done for v in self.renders.values()):
            self._player()

    def _player(self) -> None:
        a, b = (self.renders[w].files[0] for w in ('a', 'b'))
        label = {w: f'{w.upper()} · {_step(self.picked[w])}' for w in ('a', 'b')}
        self.status.set_text(_('Same example through both: MR-STFT {a} (A) · {b} (B)').format(
            a=formatting.significant(a.metrics['mrstft'], 3), b=formatting.significant(b.metrics['mrstft'], 3)))
        self.area.clear()
        with self.area:
            ABPlayer(label['a'], media_url(self.project, a.output), label['b'], media_url(self.project, b.output),
                     mark='ab')
            ui.label(_('Switch while it plays: the other checkpoint takes over at the same moment.')) \
                .classes(theme.HINT)


def _step(checkpoint: CheckpointView) -> str:
    return _('step {step}').format(step=formatting.count(checkpoint.step) if checkpoint.step is not None else '?')
