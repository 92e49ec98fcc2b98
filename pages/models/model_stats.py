"""A model page's statistics card and architecture tree, from the model-stats worker.

The worker builds the checkpoint's model (seconds on a CPU) once per checkpoint file; its answer is kept next to
the checkpoint, so a second visit shows it at once. While it measures, the card says so and the page stays
live (the worker runs off the event loop)."""
from __future__ import annotations

from nicegui import run, ui

from app import theme
from services import formatting
from services.access import Forbidden
from services.i18n import N_, _, ngettext, pgettext
from services.models import ExportError, Models
from services.models.stats import StatsError
from services.models.views import ModelStats, ModuleNode
from services.training import RunView

MAIN_MODULES = {'encoder': N_('Encoder'), 'decoder': N_('Decoder'), 'discriminator': N_('Discriminator')}


class StatsCard:
    """The card, the checkpoint it shows and the tree area the page places below the browser."""

    def __init__(self, models: Models, run: RunView) -> None:
        self.models, self.run = models, run
        self.tree_area: ui.column | None = None
        self.checkpoint = ''
        self.busy = False
        with ui.card().classes(theme.CARD + ' gap-2').mark('model-stats'):
            with ui.row().classes('w-full items-center gap-2'):
                ui.label(_('Model statistics')).classes(theme.SECTION)
                self.which = ui.label().classes(theme.HINT)
            self.body = ui.column().classes('w-full gap-2')

    def start(self) -> None:
        """Show the best checkpoint's statistics (measuring them the first time)."""
        best = next((c for c in self.models.runs(self.run.project_id) if c.id == self.run.id), None)
        best = best.best if best is not None else None
        if best is None:
            with self.body:
                ui.label(_('No checkpoint yet: statistics are read from one.')).classes(theme.HINT)
            return
        self.show(best.path)

    def show(self, checkpoint: str) -> None:
        if self.busy:
            ui.notify(_('Still measuring the other checkpoint: one at a time.'))
            return
        self.checkpoint = checkpoint
        self.which.set_text(checkpoint.rsplit('/', 1)[-1])
        try:
            found = self.models.model_stats(self.run.id, checkpoint)
        except (ExportError, Forbidden) as e:
            self._message(str(e))
            return
        if found is not None:
            self._draw(found)
            return
        self.body.clear()
        with self.body, ui.row().classes('items-center gap-2').mark('stats-measuring'):
            ui.spinner(size='sm')
            ui.label(_('Measuring the model in a worker (seconds; once per checkpoint)…')).classes('text-sm')
        ui.timer(0.01, self._measure, once=True)

    async def _measure(self) -> None:
        self.busy = True
        try:
            found = await run.io_bound(self.models.measure, self.run.id, self.checkpoint)
        except (StatsError, ExportError, Forbidden) as e:
            self._message(str(e))
            return
        finally:
            self.busy = False
        if not self.body.is_deleted:
            self._draw(found)

    def _message(self, text: str) -> None:
        self.body.clear()
        with self.body:
            ui.label(text).classes('text-sm text-negative').mark('stats-error')

    def _draw(self, stats: ModelStats) -> None:
        self.body.clear()
        left, right = stats.receptive_field_ms
        facts = [(pgettext('model weights', 'Parameters'), _count(stats.parameters))]
        facts += [(_(label), _count(stats.module(name))) for name, label in MAIN_MODULES.items()
                  if stats.module(name) is not None]
        facts += [(_('Compression'), _('{ratio}× ({rate} latent frames/s)').format(
                      ratio=stats.compression, rate=formatting.number(stats.latent_rate, 1))),
                  (_('Receptive field'), f'{left:.0f} ms ← → {right:.0f} ms'),
                  (_('Latent size'), str(stats.latent_size)),
                  (_('Fidelity'), _('{shares} dims').format(shares=' · '.join(
                      _('{percent}%: {dims}').format(percent=round(share * 100), dims=dims)
                      for share, dims in stats.fidelity_dims))),
                  (_('Sampling rate'), ngettext('{rate} kHz, {count} channel', '{rate} kHz, {count} channels',
                                                stats.channels).format(rate=formatting.number(stats.sr / 1000),
                                                                       count=stats.channels))]
        with self.body:
            with ui.element('div').classes('grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm').mark('stats-facts'):
                for label, value in facts:
                    ui.label(label).classes(theme.HINT)
                    ui.label(value).classes(theme.NUMBER + ' text-left')
            ui.label(_('Fidelity: latent dimensions needed for that share of the variance (what `rave export '
                     '--fidelity` keeps).')).classes(theme.HINT)
        if self.tree_area is not None:
            self.tree_area.clear()
            with self.tree_area:
                _tree(stats)


def _tree(stats: ModelStats) -> None:
    with ui.card().classes(theme.CARD + ' gap-2').mark('architecture'):
        with ui.row().classes('w-full items-center gap-2'):
            ui.label(_('Architecture')).classes(theme.SECTION)
            ui.label(_('Modules with their parameters and output shape on one second of audio; click to unfold.')) \
                .classes(theme.HINT)
        tree = ui.tree([_node(stats.tree, 'model')], node_key='id', label_key='label') \
            .props('dense no-transition').classes('w-full text-sm font-mono').mark('architecture-tree')
        tree.expand(['model'])


def _node(node: ModuleNode, path: str) -> dict:
    shape = '×'.join(str(n) for n in node.shape) if node.shape else ''
    params = _('{count} params').format(count=_count(node.parameters))
    label = ' · '.join(x for x in (node.name, node.type, params, shape) if x)
    if node.folded:
        label += ' · ' + _('{count} more below').format(count=node.folded)
    return {'id': path, 'label': label,
            'children': [_node(c, f'{path}.{c.name}') for c in node.children]}


def _count(n: int | None) -> str:
    if n is None:
        return '—'
    return f'{formatting.number(n / 1e6, 2)} M' if n >= 1e6 else f'{formatting.number(n / 1e3, 1)} k' if n >= 1e3 \
        else formatting.count(n)
