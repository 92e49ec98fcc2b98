"""What the Play pages share: the model picker, the loaded-models panel, the empty state and how a failure is
said (a PlayError's sentence in a notification, never a traceback)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nicegui import run, ui

from app import theme
from services import formatting
from services.events import ModelServersChanged, Subscriber
from services.i18n import _
from services.models.play import ModelInfo, Play, PlayError, PlayModel
from services.projects import ProjectView


def header(title: str, subtitle: str) -> None:
    ui.label(title).classes(theme.TITLE)
    ui.label(subtitle).classes(theme.SUBTITLE)


def empty_state(what: str) -> None:
    with ui.card().classes(theme.CARD + ' items-center text-center gap-2 py-10').mark('empty'):
        ui.icon('graphic_eq', color='primary').classes('text-5xl')
        ui.label(_('No exported model yet')).classes(theme.SECTION)
        ui.label(_('{what} plays a model of this project: a non-streaming export (.ts) or a run\'s checkpoint. '
                   'Train a run, or export one.').format(what=what)).classes(theme.SUBTITLE + ' max-w-xl')
        with ui.row().classes('gap-2'):
            ui.button(_('Export a model'), icon='ios_share', on_click=lambda: ui.navigate.to('/export')) \
                .props('unelevated')
            ui.button(_('Training'), icon='model_training', on_click=lambda: ui.navigate.to('/training')) \
                .props('outline')


def first_model(models: list[PlayModel]) -> str:
    """The model a page opens with: `?export=<id>` or `?model=<path>` when given, else the newest export."""
    query = ui.context.client.request.query_params
    wanted_export, wanted_path = query.get('export', ''), query.get('model', '')
    for m in models:
        if (wanted_export.isdigit() and m.export_id == int(wanted_export)) or (wanted_path and m.path == wanted_path):
            return m.path
    return models[0].path


def model_select(models: list[PlayModel], value: str, label: str = '', marker: str = 'model') -> ui.select:
    return ui.select({m.path: m.label for m in models}, value=value, label=label or _('Model'), with_input=True) \
        .classes('w-full').props('outlined dense').mark(marker)


def fail(error: Exception) -> None:
    ui.notify(str(error), type='negative', multi_line=True)


async def attempt(action: Callable[..., object], *args, busy: ui.element | None = None, **kwargs):
    """Run a blocking Play call off the event loop; a PlayError becomes a notification (returns None)."""
    if busy is not None:
        busy.props('loading')
    try:
        return await run.io_bound(action, *args, **kwargs)
    except PlayError as e:
        fail(e)
        return None
    finally:
        if busy is not None:
            busy.props(remove='loading')


async def load(play: Play, project: ProjectView, model: str, note: ui.label) -> ModelInfo | None:
    """Load a model (seconds; a checkpoint takes longer) saying so on `note`, then describe it there."""
    note.set_text(_('Loading {name}… (a run\'s checkpoint takes about 40 s)').format(name=Path(model).name))
    info = await attempt(play.info, project.id, model)
    note.set_text(describe(info) if info else _('The model could not be loaded.'))
    return info


def describe(info: ModelInfo) -> str:
    prior = ' · ' + _('has a prior') if info.has_prior else ''
    return _('{sr} Hz · {channels} ch · {latent} latent dims of {total} · {rate} frames/s · {threads} threads').format(
        sr=info.sr, channels=info.n_channels, latent=info.latent_size, total=info.full_latent_size,
        rate=formatting.number(info.frame_rate, 1), threads=info.threads) + prior


def servers_panel(play: Play, events: Subscriber) -> Callable[[], None]:
    """The loaded models, their memory and idle time; redrawn when a server starts or stops (returned: redraw,
    for after a render)."""
    with ui.expansion(_('Loaded models'), icon='memory').classes('w-full').props('dense').mark('servers'):
        rows = ui.column().classes('w-full gap-1')

    def draw(_event: ModelServersChanged | None = None) -> None:
        rows.clear()
        views = play.servers()
        with rows:
            if not views:
                ui.label(_('No model is loaded. The first render loads one (its memory is freed after it idles).')) \
                    .classes(theme.HINT)
            for view in views:
                with ui.row().classes('w-full items-center gap-3 no-wrap'):
                    ui.icon('bolt' if view.busy else 'pause_circle', color='primary' if view.busy else 'grey-6')
                    ui.label(Path(view.model).name).classes('text-sm grow truncate')
                    ui.label(formatting.size(view.rss_bytes)).classes(f'{theme.HINT} {theme.NUMBER}')
                    idle = _('idle {duration}').format(duration=formatting.duration(view.idle_s))
                    ui.label(_('rendering') if view.busy else idle) \
                        .classes(f'{theme.HINT} w-28 {theme.NUMBER}')
    draw()
    events.on(ModelServersChanged, draw)
    return draw

