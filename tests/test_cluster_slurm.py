"""The one-node SLURM of tests/slurm_fixtures.py, and submitit on it."""
from __future__ import annotations

import operator

import pytest
from waiting import poll_until


@pytest.mark.slow
def test_submitit_runs_a_function_on_the_cluster(slurm, tmp_path):
    import submitit
    executor = submitit.AutoExecutor(folder=tmp_path / 'submitit', cluster='slurm')
    executor.update_parameters(timeout_min=2, slurm_partition='debug', cpus_per_task=1)
    job = executor.submit(operator.mul, 6, 7)
    assert job.result() == 42
    # slurmctld hands its records to slurmdbd a moment later
    poll_until(lambda: 'COMPLETED' in slurm.run('sacct', '-n', '-P', '-X', '-o', 'State', '-j', job.job_id).stdout,
               30)
