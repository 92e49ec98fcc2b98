"""SLURM's job states (`squeue` %T, `sacct` State) and pending reasons, in the words the run page shows."""
from __future__ import annotations

from dataclasses import dataclass

from services.i18n import N_, Lazy, _, lazy

ACTIVE = {'PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_HOLD',
          'REQUEUE_FED', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'RESV_DEL_HOLD'}
WAITING = {'PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD'}  # not started (again)
WORDS = {
    'PENDING': N_('waiting in the SLURM queue'),
    'CONFIGURING': N_('starting: SLURM is setting up its node'),
    'RUNNING': N_('running'),
    'COMPLETING': N_('completing: SLURM is cleaning up after it'),
    'COMPLETED': N_('completed'),
    'FAILED': N_('failed (non-zero exit)'),
    'TIMEOUT': N_('stopped at its time limit'),
    'PREEMPTED': N_('preempted by a job of higher priority'),
    'OUT_OF_MEMORY': N_('out of memory: SLURM killed it at its memory limit'),
    'CANCELLED': N_('cancelled'),
    'NODE_FAIL': N_('its node failed'),
    'BOOT_FAIL': N_('its node failed to boot'),
    'DEADLINE': N_('past its deadline'),
    'SUSPENDED': N_('suspended'),
    'REQUEUED': N_('requeued'),
    'REQUEUE_HOLD': N_('requeued and held'),
    'SIGNALING': N_('being signalled'),
    'STAGE_OUT': N_('staging out its files'),
}
REASONS = {
    'Resources': N_('for free resources'),
    'Priority': N_('behind jobs of higher priority'),
    'Dependency': N_('for a job it depends on'),
    'DependencyNeverSatisfied': N_('for a dependency that can never be met (cancel it)'),
    'BeginTime': N_('for its start time'),
    'ReqNodeNotAvail': N_('for a node that is down or reserved'),
    'PartitionDown': N_('for its partition, which is down'),
    'PartitionInactive': N_('for its partition, which is inactive'),
    'PartitionTimeLimit': N_('forever: its time limit is above the partition\'s (lower it)'),
    'PartitionNodeLimit': N_('forever: it asks more nodes than the partition has (lower it)'),
    'QOSMaxJobsPerUserLimit': N_('for one of your other jobs to end (QoS limit)'),
    'QOSMaxGRESPerUser': N_('for your other jobs to free GPUs (QoS limit)'),
    'AssocGrpGRES': N_('for the account\'s other jobs to free GPUs'),
    'AssociationJobLimit': N_('for the account\'s other jobs to end'),
    'JobHeldUser': N_('held by you (scontrol release)'),
    'JobHeldAdmin': N_('held by an administrator'),
    'Reservation': N_('for its reservation'),
    'launch failed requeued held': N_('held after a failed launch'),
}


@dataclass(frozen=True)
class SlurmState:
    """A SLURM job's state as the cluster reported it last: STATE, the pending reason, its node."""
    job_id: str
    state: str
    reason: str = ''
    node: str = ''

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def waiting(self) -> bool:
        """Taken by SLURM and not running (yet, or again after a requeue)."""
        return self.state in WAITING

    def words(self) -> Lazy:
        """e.g. 'SLURM job 12: waiting in the SLURM queue for free resources', in the language of whoever shows it
        (the job engine's thread words it; the page that shows it has a language)."""
        return lazy('SLURM job {job}: {state}', job=self.job_id, state=Words(self))

    def state_words(self) -> str:
        """The state alone, in the page's language: 'waiting in the SLURM queue for free resources'."""
        text = _(WORDS[self.state]) if self.state in WORDS else self.state.lower().replace('_', ' ')
        if self.state == 'PENDING' and self.reason and self.reason != 'None':
            text += ' ' + (_(REASONS[self.reason]) if self.reason in REASONS else f'({self.reason})')
        if self.state == 'RUNNING' and self.node:
            text = _('{state} on {node}').format(state=text, node=self.node)
        return text


@dataclass(frozen=True)
class Words:
    """A state's words in the language of the page that shows them (`str()` says them)."""
    state: SlurmState

    def __str__(self) -> str:
        return self.state.state_words()


def base_state(text: str) -> str:
    """sacct's 'CANCELLED by 0' → 'CANCELLED'."""
    return (text or '').split(' ')[0].strip().rstrip('+')
