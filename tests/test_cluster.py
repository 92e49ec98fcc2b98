"""Executor settings and SLURM's states in words (no cluster needed)."""
from __future__ import annotations

from services.cluster.settings import LOCAL, SLURM, ExecutorSettings
from services.cluster.states import SlurmState, base_state


def test_settings_become_sbatch_options_and_say_what_sbatch_would_refuse() -> None:
    settings = ExecutorSettings.of({'kind': SLURM, 'partition': 'gpu', 'account': 'lab', 'gpus_per_node': '2',
                                    'time': '1-02:30', 'memory': '32G', 'qos': 'high', 'constraint': 'a100',
                                    'extra': '#SBATCH --exclusive\n--mail-type=END\n', 'unknown': 1})
    assert settings.errors() == []
    options = settings.sbatch()
    assert options['time'] == 24 * 60 + 2 * 60 + 30 and options['gpus_per_node'] == 2
    assert options['partition'] == 'gpu' and options['mem'] == '32G' and options['qos'] == 'high'
    assert options['additional_parameters'] == {'exclusive': True, 'mail-type': 'END'}
    assert 'SLURM partition gpu · 2 GPUs · time limit 1-02:30' in settings.summary()
    assert ExecutorSettings.of({'kind': SLURM, 'time': '90'}).minutes() == 90
    assert ExecutorSettings.of({'kind': SLURM, 'time': '1:30'}).minutes() == 90
    bad = ExecutorSettings.of({'kind': SLURM, 'time': 'soon', 'memory': 'lots', 'nodes': 2, 'extra': 'exclusive'})
    errors = ' '.join(bad.errors())
    assert 'time limit' in errors and 'memory size' in errors and 'more than one node' in errors
    assert 'not an sbatch option' in errors
    assert ExecutorSettings.of(None).kind == LOCAL and ExecutorSettings().errors() == []
    assert ExecutorSettings().summary() == 'this machine'
    assert 'not a place to train' in ExecutorSettings(kind='ssh').errors()[0]


def test_slurm_states_in_words() -> None:
    assert SlurmState('7', 'PENDING', 'Resources').words() == \
        'SLURM job 7: waiting in the SLURM queue for free resources'
    assert SlurmState('7', 'PENDING', 'Priority').words().endswith('behind jobs of higher priority')
    assert SlurmState('7', 'RUNNING', 'None', 'node3').words() == 'SLURM job 7: running on node3'
    assert 'time limit' in SlurmState('7', 'TIMEOUT').words()
    assert 'preempted' in SlurmState('7', 'PREEMPTED').words()
    assert 'out of memory' in SlurmState('7', 'OUT_OF_MEMORY').words()
    assert 'completing' in SlurmState('7', 'COMPLETING').words()
    assert 'failed' in SlurmState('7', 'FAILED').words()
    assert SlurmState('7', 'PENDING').active and not SlurmState('7', 'COMPLETED').active
    assert base_state('CANCELLED by 0') == 'CANCELLED'
