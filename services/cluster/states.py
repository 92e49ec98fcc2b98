"""SLURM's job states (`squeue` %T, `sacct` State) and pending reasons, in the words the run page shows."""
from __future__ import annotations

from dataclasses import dataclass

ACTIVE = {'PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_HOLD',
          'REQUEUE_FED', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'RESV_DEL_HOLD'}
WAITING = {'PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD'}  # not started (again)
WORDS = {
    'PENDING': 'waiting in the SLURM queue',
    'CONFIGURING': 'starting: SLURM is setting up its node',
    'RUNNING': 'running',
    'COMPLETING': 'completing: SLURM is cleaning up after it',
    'COMPLETED': 'completed',
    'FAILED': 'failed (non-zero exit)',
    'TIMEOUT': 'stopped at its time limit',
    'PREEMPTED': 'preempted by a job of higher priority',
    'OUT_OF_MEMORY': 'out of memory: SLURM killed it at its memory limit',
    'CANCELLED': 'cancelled',
    'NODE_FAIL': 'its node failed',
    'BOOT_FAIL': 'its node failed to boot',
    'DEADLINE': 'past its deadline',
    'SUSPENDED': 'suspended',
    'REQUEUED': 'requeued',
    'REQUEUE_HOLD': 'requeued and held',
    'SIGNALING': 'being signalled',
    'STAGE_OUT': 'staging out its files',
}
REASONS = {
    'Resources': 'for free resources',
    'Priority': 'behind jobs of higher priority',
    'Dependency': 'for a job it depends on',
    'DependencyNeverSatisfied': 'for a dependency that can never be met (cancel it)',
    'BeginTime': 'for its start time',
    'ReqNodeNotAvail': 'for a node that is down or reserved',
    'PartitionDown': 'for its partition, which is down',
    'PartitionInactive': 'for its partition, which is inactive',
    'PartitionTimeLimit': 'forever: its time limit is above the partition\'s (lower it)',
    'PartitionNodeLimit': 'forever: it asks more nodes than the partition has (lower it)',
    'QOSMaxJobsPerUserLimit': 'for one of your other jobs to end (QoS limit)',
    'QOSMaxGRESPerUser': 'for your other jobs to free GPUs (QoS limit)',
    'AssocGrpGRES': 'for the account\'s other jobs to free GPUs',
    'AssociationJobLimit': 'for the account\'s other jobs to end',
    'JobHeldUser': 'held by you (scontrol release)',
    'JobHeldAdmin': 'held by an administrator',
    'Reservation': 'for its reservation',
    'launch failed requeued held': 'held after a failed launch',
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

    def words(self) -> str:
        """e.g. 'SLURM job 12: waiting in the SLURM queue for free resources'."""
        text = WORDS.get(self.state, self.state.lower().replace('_', ' '))
        if self.state == 'PENDING' and self.reason and self.reason != 'None':
            text += ' ' + REASONS.get(self.reason, f'({self.reason})')
        if self.state == 'RUNNING' and self.node:
            text += f' on {self.node}'
        return f'SLURM job {self.job_id}: {text}'


def base_state(text: str) -> str:
    """sacct's 'CANCELLED by 0' → 'CANCELLED'."""
    return (text or '').split(' ')[0].strip().rstrip('+')
