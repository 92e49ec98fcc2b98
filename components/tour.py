"""The first-run tour: what a dataset, a run and an export are, and the shortest path to a first sound.

It opens by itself on the dashboard of an empty studio until this user has seen it (the frame asks
`should_open`); Skip, Esc or its last step put it away, and Help → "Take the tour" replays it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nicegui import app, ui

from components.icon_button import icon_button
from services.access import Forbidden
from services.example import Example
from services.i18n import N_, _
from services.projects import Projects


@dataclass(frozen=True)
class Stop:
    title: str
    icon: str
    text: str


STOPS = (
    Stop(N_('Welcome to RAVE Studio'), 'waving_hand',
         N_('RAVE learns to rebuild your sounds from a handful of numbers — a latent space you can play. The '
            'studio takes you from a folder of recordings to a model you can hear, in three stages. This short '
            'tour shows them; it takes a minute.')),
    Stop(N_('1 · A dataset'), 'library_music',
         N_('Your recordings cut into short examples and packed into one fast database folder (RAVE\'s '
            'preprocess). Your files are only read, never changed. A few minutes of audio is enough to try; an '
            'hour of one instrument or voice makes a good model.')),
    Stop(N_('2 · A training run'), 'model_training',
         N_('A run teaches a model on a dataset and saves checkpoints as it learns. On a CPU it is for trying '
            'things out; a real model takes a GPU and a day or more. Losses jump when the adversarial phase '
            'starts — that is normal.')),
    Stop(N_('3 · An export'), 'ios_share',
         N_('An export turns a checkpoint into a TorchScript .ts file: the Explorer plays audio through it here, '
            'and nn~ (Max/MSP, Pure Data) or the RAVE VST play it live.')),
    Stop(N_('Your first sound'), 'rocket_launch',
         N_('The quickest way: the example project. The studio synthesises a minute of audio, builds a tiny '
            'dataset and starts a short v2_small run for you; minutes later it can be exported and heard. Or '
            'start from your own folder of audio. Press ? at any time for the keyboard shortcuts.')),
)


def should_open(seen: bool, empty: Callable[[], bool]) -> bool:
    """Open by itself only for a user who has not seen it, on a studio with nothing in it yet."""
    return not seen and empty()


class Tour:
    """The tour as a dialog: `open()` starts it at its first stop; `on_done` runs when it is skipped, finished or
    closed with Esc, `on_example` for "Try the example"."""

    def __init__(self, on_done: Callable[[], None], on_example: Callable[[], None]) -> None:
        self.stop = 0
        self.on_done = on_done
        # seamless: the page stays usable beside it (the frame's Esc shortcut and its buttons put it away)
        with ui.dialog().props('seamless position=bottom') as self.dialog, \
                ui.card().classes('w-[560px] max-w-[95vw] gap-3 p-6 mb-4 shadow-xl border border-primary/30') \
                .props('role=dialog').props('aria-label="%s"' % _('Tour of RAVE Studio')).mark('tour'):
            with ui.row().classes('w-full items-center gap-3 no-wrap'):
                self.icon = ui.icon(STOPS[0].icon, color='primary').classes('text-3xl')
                self.title = ui.label().classes('text-lg font-semibold grow').mark('tour-title')
                icon_button('close', _('Close the tour'), self.dialog.close)
            self.text = ui.label().classes('text-sm text-gray-700 dark:text-gray-300 leading-relaxed') \
                .mark('tour-text')
            self.dots = ui.row().classes('gap-1 self-center')
            with ui.row().classes('w-full items-center gap-2'):
                self.skip = ui.button(_('Skip the tour'), on_click=self.dialog.close).props('flat no-caps') \
                    .mark('tour-skip')
                ui.space()
                self.back = ui.button(_('Back'), on_click=lambda: self._show(self.stop - 1)).props('flat no-caps')
                self.own = ui.button(_('Use my own audio'), icon='library_add',
                                     on_click=lambda: self._leave(lambda: ui.navigate.to('/datasets?new'))) \
                    .props('outline no-caps color=primary').mark('tour-own')
                self.example = ui.button(_('Try the example'), icon='science',
                                         on_click=lambda: self._leave(on_example)) \
                    .props('unelevated no-caps color=primary').mark('tour-example')
                self.forward = ui.button(_('Next'), icon='arrow_forward', on_click=lambda: self._show(self.stop + 1)) \
                    .props('unelevated no-caps color=primary').mark('tour-next')
        self.dialog.on_value_change(lambda e: None if e.value else self.on_done())
        self._show(0)

    def open(self) -> None:
        self._show(0)
        self.dialog.open()

    def _leave(self, then: Callable[[], None]) -> None:
        self.dialog.close()
        then()

    def _show(self, stop: int) -> None:
        self.stop = stop
        shown = STOPS[stop]
        self.icon.props(f'name={shown.icon}')
        self.title.set_text(_(shown.title))
        self.text.set_text(_(shown.text))
        last = stop == len(STOPS) - 1
        self.back.set_visibility(stop > 0)
        self.forward.set_visibility(not last)
        self.skip.set_visibility(not last)
        self.own.set_visibility(last)
        self.example.set_visibility(last)
        self.dots.clear()
        with self.dots:
            for i in range(len(STOPS)):
                ui.element('span').classes('w-2 h-2 rounded-full ' + ('bg-primary' if i == stop else
                                                                       'bg-gray-300 dark:bg-gray-700'))


def start_example(example: Example, projects: Projects) -> None:
    """Make the example project, work in it, and show its progress on the dashboard."""
    try:
        project_id = example.start()
    except (Forbidden, ValueError, OSError) as e:
        ui.notify(_('The example could not be made: {error}').format(error=e), type='negative', multi_line=True)
        return
    app.storage.user['project'] = project_id
    projects.open(project_id)
    ui.navigate.to('/')
