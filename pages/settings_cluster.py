"""The Settings page's card for where trainings run: this machine or a SLURM cluster (the studio's default;
a project or the wizard may choose otherwise), the price of a GPU-hour, and whether SLURM answers from here."""
from __future__ import annotations

from nicegui import run, ui

from app import theme
from components import cards
from components.executor_form import executor_form
from services import i18n
from services.access import Forbidden
from services.cluster import Cluster, ClusterSettingsError
from services.i18n import _
from services.settings import DOCS

HINTS = {d.key: d.hint for d in DOCS}


def card(cluster: Cluster) -> None:
    with cards.section(_('Where trainings run'), 'hub').mark('executor-card'):
        ui.label(_hint('executor')).classes(theme.HINT)
        ui.label(_('Job folders live in the data folder: the compute nodes must share it with this machine.')) \
            .classes(theme.HINT)
        status = ui.label(_('Asking SLURM…')).classes('text-sm').mark('executor-status')
        form = ui.column().classes('w-full gap-2').mark('setting-executor')
        with ui.row().classes('w-full items-end gap-4'):
            with ui.column().classes('gap-0'):
                price = ui.number(_('Price of a GPU-hour'), value=cluster.price(), min=0, step=0.1, format='%.2f') \
                    .props('outlined dense').classes('w-64').mark('setting-gpu_hour_price')
                ui.label(_hint('gpu_hour_price')).classes(theme.HINT + ' max-w-sm')
            with ui.column().classes('gap-0 grow'):
                store = cluster.store()
                cloud_url = ui.input(_('Cloud store'), value=store.url if store else '',
                                     placeholder='s3://bucket/rave') \
                    .props('outlined dense').classes('w-full').mark('setting-cloud_url')
                ui.label(_hint('cloud_url')).classes(theme.HINT)
            with ui.column().classes('gap-0 grow'):
                cloud_endpoint = ui.input(_('Store server'), value=store.endpoint if store else '',
                                          placeholder=_('empty: AWS')).props('outlined dense').classes('w-full') \
                    .mark('setting-cloud_endpoint')
                ui.label(_hint('cloud_endpoint')).classes(theme.HINT)
            save_button = ui.button(_('Save'), icon='save', on_click=lambda: save()).props('unelevated') \
                .mark('save-executor')

    async def fill() -> None:  # sinfo may be slow on a busy login node: the page is drawn first
        problem = await run.io_bound(cluster.reachable)
        partitions = await run.io_bound(cluster.partitions) if not problem else []
        status.set_text(str(problem) or _('SLURM answers from here: partitions {partitions}.')
                        .format(partitions=', '.join(partitions) or _('none')))
        status.classes('text-warning' if problem else 'text-positive')
        form.clear()
        with form:
            reader[0] = executor_form(cluster.defaults(), partitions, enabled=cluster.may_change)

    with form:
        reader = [executor_form(cluster.defaults(), [], enabled=cluster.may_change)]
    if not cluster.may_change:
        for field in (price, cloud_url, cloud_endpoint, save_button):
            field.disable()
    ui.timer(0.05, fill, once=True)

    async def save() -> None:
        try:
            await run.io_bound(i18n.carrying(cluster.save), reader[0](), float(price.value or 0), cloud_url.value or '',
                               cloud_endpoint.value or '')
        except (ClusterSettingsError, Forbidden) as e:
            ui.notify(_('Not saved: {reason}').format(reason=e), type='negative', multi_line=True)
            return
        ui.notify(_('Where trainings run: saved.'), type='positive')


def _hint(key: str) -> str:
    """A setting's documented hint (services/settings.DOCS), in the page's language."""
    return _(HINTS[key])
