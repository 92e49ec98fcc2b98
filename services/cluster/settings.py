"""Where a job runs: this machine (the default) or a SLURM cluster, with what a SLURM job asks for.

The choice is kept per project (`Project.settings['executor']`) and copied onto each run when it starts
(`Run.params['executor']`), so a run resumed or recovered later goes where it went first even if the project's
choice changed meanwhile. It travels to the job engine as a plain dict (`to_dict`).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields

from services.i18n import _

LOCAL, SLURM = 'local', 'slurm'
TIME = re.compile(r'^(?:(\d+)-)?(\d+)(?::(\d{1,2}))?(?::(\d{1,2}))?$')  # minutes | h:m[:s] | d-h[:m[:s]]
MEMORY = re.compile(r'^\d+[KMGT]?$', re.IGNORECASE)
SIGNAL_S = 120  # SLURM warns the job this long before its time limit: time to save a checkpoint
# At the time limit or a preemption the worker saves a checkpoint. With `requeue` SLURM requeues the same job,
# which resumes from it (services/workers/cluster_host); without, the job ends 'interrupted' and the run's own
# automatic recovery ("restart after a crash", RunSpec.recover) may resume it as a new job.


@dataclass(frozen=True)
class ExecutorSettings:
    """One executor choice. For SLURM: what `sbatch` is asked for; empty strings are left to the cluster's
    defaults."""
    kind: str = LOCAL
    partition: str = ''
    account: str = ''
    gpus_per_node: int = 0
    nodes: int = 1
    time: str = '60'  # SLURM's --time: minutes, or [d-]h:m[:s]
    memory: str = ''  # --mem, e.g. 16G
    constraint: str = ''
    qos: str = ''
    extra: str = ''  # more sbatch lines, one `--flag=value` (or `#SBATCH --flag=value`) a line
    requeue: bool = False  # at the time limit or a preemption: checkpoint, then SLURM requeues this same job

    @property
    def on_cluster(self) -> bool:
        return self.kind == SLURM

    @classmethod
    def of(cls, data: dict | None) -> ExecutorSettings:
        data = data or {}
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ('gpus_per_node', 'nodes'):
            if key in values:
                try:
                    values[key] = int(values[key])
                except (TypeError, ValueError):
                    values[key] = 0 if key == 'gpus_per_node' else 1
        if 'requeue' in values:
            values['requeue'] = values['requeue'] in (True, 1, 'true', 'True', '1', 'on')
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)

    def errors(self) -> list[str]:
        """What sbatch would refuse, each said with what to write instead."""
        if self.kind not in (LOCAL, SLURM):
            return [_('"{kind}" is not a place to train: choose this machine or a SLURM cluster.')
                    .format(kind=self.kind)]
        if not self.on_cluster:
            return []
        out = []
        if self.nodes < 1:
            out.append(_('A job needs at least one node: set nodes to 1 or more.'))
        if self.gpus_per_node < 0:
            out.append(_('GPUs per node cannot be negative: 0 trains on the CPUs of the allocation.'))
        if not TIME.match(self.time.strip()):
            out.append(_('"{time}" is not a SLURM time limit: write minutes (90), hours:minutes (1:30) or '
                         'days-hours (2-00).').format(time=self.time))
        if self.memory and not MEMORY.match(self.memory.strip()):
            out.append(_('"{memory}" is not a SLURM memory size: write e.g. 16G or 8000M.').format(memory=self.memory))
        for line in self.extra_lines():
            if not line.startswith('--') or ' ' in line.split('=', 1)[0]:
                out.append(_('"{line}" is not an sbatch option: write one --flag=value a line.').format(line=line))
        return out

    def extra_lines(self) -> list[str]:
        lines = [line.strip().removeprefix('#SBATCH').strip() for line in self.extra.splitlines()]
        return [line for line in lines if line]

    def minutes(self) -> int:
        """The time limit in whole minutes (submitit's unit)."""
        days, first, second, third = TIME.match(self.time.strip()).groups()
        if second is None and days is None:
            return max(1, int(first))
        hours, minutes, seconds = (int(first), int(second or 0), int(third or 0))
        return max(1, int(days or 0) * 1440 + hours * 60 + minutes + (1 if seconds else 0))

    def sbatch(self) -> dict:
        """The options of submitit's SlurmExecutor for these settings (besides what the studio sets itself)."""
        # one task per GPU on each node (Lightning's SLURM environment expects it; the job host starts the
        # worker on every task with srun: services/workers/cluster_host)
        options: dict = {'time': self.minutes(), 'nodes': self.nodes, 'ntasks_per_node': max(1, self.gpus_per_node)}
        for key, value in (('partition', self.partition), ('account', self.account), ('mem', self.memory),
                           ('constraint', self.constraint), ('qos', self.qos)):
            if value.strip():
                options[key] = value.strip()
        if self.gpus_per_node:
            options['gpus_per_node'] = self.gpus_per_node
        extra = {}
        for line in self.extra_lines():
            flag, _, value = line[2:].partition('=')
            extra[flag.strip()] = value.strip() if value else True
        if self.requeue:
            extra['requeue'] = True  # SLURM may requeue it (the host asks it to at the time limit)
        options['additional_parameters'] = extra
        return options

    def summary(self) -> str:
        """The choice in a few words, for the wizard's review and the run page."""
        if not self.on_cluster:
            return 'this machine'
        parts = [f'SLURM partition {self.partition}' if self.partition else 'SLURM (default partition)']
        if self.nodes > 1:
            parts.append(f'{self.nodes} nodes')
        if self.gpus_per_node:
            parts.append(f'{self.gpus_per_node} GPU{"s" if self.gpus_per_node > 1 else ""}'
                         + (' per node' if self.nodes > 1 else ''))
        parts.append(f'time limit {self.time}' + (' (then requeued)' if self.requeue else ''))
        for label, value in (('memory', self.memory), ('account', self.account), ('QoS', self.qos),
                             ('constraint', self.constraint)):
            if value:
                parts.append(f'{label} {value}')
        return ' · '.join(parts)


def project_executor(project, default: dict | None = None) -> ExecutorSettings:
    """The project's choice of where its runs train, else the studio's `default` (this machine unless set)."""
    return ExecutorSettings.of((project.settings or {}).get('executor') or default)
