"""Where a training runs, as a form: this machine or a SLURM cluster with its sbatch options. Used by the
Settings card (the studio's default) and the training wizard (this run, or this project's choice)."""
from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from app import theme
from services.cluster import LOCAL, SLURM, ExecutorSettings
from services.i18n import N_, _

KINDS = {LOCAL: N_('This machine'), SLURM: N_('SLURM cluster')}


def executor_form(initial: ExecutorSettings, partitions: list[str], on_change: Callable[[], None] | None = None,
                  *, enabled: bool = True) -> Callable[[], ExecutorSettings]:
    """Draw the form; returns a function that reads the choice as it stands."""
    changed = on_change or (lambda: None)
    kind = ui.toggle({k: _(v) for k, v in KINDS.items()}, value=initial.kind, on_change=lambda: (_show(), changed())) \
        .props('no-caps unelevated').props('aria-label="%s"' % _('Where it trains')).mark('executor-kind')
    kind.tooltip(_('This machine (its own job queue), or a SLURM cluster whose login node runs the studio'))
    slurm = ui.column().classes('w-full gap-2').mark('executor-slurm')
    with slurm:
        with ui.element('div').classes('w-full grid grid-cols-1 sm:grid-cols-3 gap-x-3 gap-y-1'):
            options = list(dict.fromkeys([*partitions, *([initial.partition] if initial.partition else [])]))
            partition = ui.select(options, value=initial.partition or None, label=_('Partition'), new_value_mode='add',
                                  clearable=True, on_change=changed).props('outlined dense use-input') \
                .props('hint="%s"' % _('Empty: the default partition')).mark('executor-partition')
            account = ui.input(_('Account'), value=initial.account, on_change=changed).props('outlined dense') \
                .props('hint="%s"' % _('Empty: your default account')).mark('executor-account')
            qos = ui.input(_('QoS'), value=initial.qos, on_change=changed).props('outlined dense') \
                .props('hint="%s"' % _('Empty: the default QoS')).mark('executor-qos')
            gpus = ui.number(_('GPUs per node'), value=initial.gpus_per_node, min=0, step=1, format='%d',
                             on_change=changed).props('outlined dense') \
                .props('hint="%s"' % _('0: the CPUs of the allocation')).mark('executor-gpus')
            time = ui.input(_('Time limit'), value=initial.time, on_change=changed).props('outlined dense') \
                .props('hint="%s"' % _('90, 1:30 or 2-00')).mark('executor-time')
            memory = ui.input(_('Memory'), value=initial.memory, placeholder=_('e.g. 16G'), on_change=changed) \
                .props('outlined dense').props('hint="%s"' % _('Empty: the partition default')).mark('executor-memory')
            constraint = ui.input(_('Constraint'), value=initial.constraint, placeholder=_('e.g. a100'),
                                  on_change=changed).props('outlined dense') \
                .props('hint="%s"' % _('Node features, e.g. a100')).mark('executor-constraint')
            nodes = ui.number(_('Nodes'), value=initial.nodes, min=1, step=1, format='%d', on_change=changed) \
                .props('outlined dense').props('hint="%s"' % _('One task per GPU on each')).mark('executor-nodes')
        ui.label(_('Time limit: minutes (90), hours:minutes (1:30) or days-hours (2-00). Empty partition, account '
                   'or QoS: the cluster\'s defaults. Each node trains on its GPUs through RAVE\'s --gpu flags, one '
                   'task per GPU.')) \
            .classes(theme.HINT)
        extra = ui.textarea(_('More sbatch options'), value=initial.extra, placeholder='--exclusive\n--mail-type=END',
                            on_change=changed).props('outlined dense autogrow').classes('w-full') \
            .props('hint="%s"' % _('One --flag=value a line')).mark('executor-extra')
        requeue = ui.checkbox(_('Requeue at the time limit or a preemption'), value=initial.requeue,
                              on_change=changed).mark('executor-requeue')
        ui.label(_('At the time limit (or a preemption) SLURM warns the job 2 minutes ahead: the worker saves a '
                   'checkpoint. Requeued, the same SLURM job goes back in the queue and resumes from it; '
                   'otherwise the run\'s automatic recovery resumes it when you set it.')) \
            .classes(theme.HINT)
    fields = (kind, partition, account, qos, gpus, time, memory, constraint, nodes, extra, requeue)
    if not enabled:
        for field in fields:
            field.disable()

    def _show() -> None:
        slurm.set_visibility(kind.value == SLURM)

    def read() -> ExecutorSettings:
        return ExecutorSettings.of({
            'kind': kind.value, 'partition': partition.value or '', 'account': account.value or '',
            'qos': qos.value or '', 'gpus_per_node': int(gpus.value or 0), 'time': (time.value or '').strip(),
            'memory': (memory.value or '').strip(), 'constraint': constraint.value or '',
            'nodes': int(nodes.value or 1), 'extra': extra.value or '', 'requeue': bool(requeue.value)})

    _show()
    return read
