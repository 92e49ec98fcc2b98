"""Executor settings and SLURM's states in words, and a cluster job's life against stand-in SLURM clients
(tests/slurm_fixtures.fake_slurm: no cluster needed): queued while SLURM holds it, running once it starts, and a
controller that does not answer holding neither the poller nor a page."""
from __future__ import annotations

import sys
import time

import pytest
from nicegui.testing import User
from waiting import poll_until, see, until

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
    requeued = ExecutorSettings.of({'kind': SLURM, 'time': '90', 'requeue': 'true'})
    assert requeued.requeue and requeued.sbatch()['additional_parameters'] == {'requeue': True}
    assert 'time limit 90 (then requeued)' in requeued.summary() and not settings.requeue
    assert ExecutorSettings.of({'kind': SLURM, 'time': '90'}).minutes() == 90
    assert ExecutorSettings.of({'kind': SLURM, 'time': '1:30'}).minutes() == 90
    bad = ExecutorSettings.of({'kind': SLURM, 'time': 'soon', 'memory': 'lots', 'nodes': 0, 'extra': 'exclusive'})
    errors = ' '.join(bad.errors())  # several nodes train (one task per GPU): only no node at all is refused
    assert 'time limit' in errors and 'memory size' in errors and 'at least one node' in errors
    assert 'not an sbatch option' in errors
    assert ExecutorSettings.of(None).kind == LOCAL and ExecutorSettings().errors() == []
    assert ExecutorSettings().summary() == 'this machine'
    assert 'not a place to train' in ExecutorSettings(kind='ssh').errors()[0]


def test_slurm_states_in_words() -> None:
    assert str(SlurmState('7', 'PENDING', 'Resources').words()) == \
        'SLURM job 7: waiting in the SLURM queue for free resources'
    assert str(SlurmState('7', 'PENDING', 'Priority').words()).endswith('behind jobs of higher priority')
    assert str(SlurmState('7', 'RUNNING', 'None', 'node3').words()) == 'SLURM job 7: running on node3'
    assert 'time limit' in str(SlurmState('7', 'TIMEOUT').words())
    assert 'preempted' in str(SlurmState('7', 'PREEMPTED').words())
    assert 'out of memory' in str(SlurmState('7', 'OUT_OF_MEMORY').words())
    assert 'completing' in str(SlurmState('7', 'COMPLETING').words())
    assert 'failed' in str(SlurmState('7', 'FAILED').words())
    assert SlurmState('7', 'PENDING').active and not SlurmState('7', 'COMPLETED').active
    assert base_state('CANCELLED by 0') == 'CANCELLED'


def test_slurm_states_in_french() -> None:
    """The run page and the queue say SLURM's states in the page's language, every state and reason."""
    from services import i18n
    from services.cluster.states import REASONS, WORDS
    with i18n.speaking('fr'):
        assert str(SlurmState('7', 'PENDING', 'Resources').words()) == \
            'Tâche SLURM 7 : en attente dans la file SLURM (faute de ressources libres)'
        assert str(SlurmState('7', 'RUNNING', 'None', 'node3').words()) == 'Tâche SLURM 7 : en cours sur node3'
        untranslated = [w for w in (*WORDS.values(), *REASONS.values()) if i18n._(w) == w]
    assert not untranslated
    # worded where no page speaks (the job engine's thread), said in the language of the page that shows it
    worded = SlurmState('7', 'RUNNING', 'None', 'node3').words()
    assert str(worded) == 'SLURM job 7: running on node3'
    with i18n.speaking('fr'):
        assert str(worded) == 'Tâche SLURM 7 : en cours sur node3'
        assert f'{worded}' == 'Tâche SLURM 7 : en cours sur node3'


def test_executor_choice_studio_wide_and_per_project_and_who_may_change_it(studio) -> None:
    from services.access import Actor, Forbidden, local
    from services.cluster import ClusterSettingsError
    cluster = studio.session(local(), None).cluster
    project = studio.projects.current(None)
    assert cluster.defaults().kind == LOCAL and cluster.project_choice(project.id).kind == LOCAL
    on_slurm = ExecutorSettings(kind=SLURM, partition='gpu', gpus_per_node=1, time='2:00')
    cluster.save(on_slurm, 2.5)
    assert cluster.defaults() == on_slurm and cluster.price() == 2.5
    assert cluster.project_choice(project.id) == on_slurm  # a project without its own choice follows the studio
    training = studio.session(local(), None).training
    assert training.executor(project.id) == on_slurm
    cluster.set_project_choice(project.id, ExecutorSettings())
    assert cluster.project_choice(project.id).kind == LOCAL and training.executor(project.id).kind == LOCAL
    cluster.set_project_choice(project.id, None)
    assert cluster.project_choice(project.id) == on_slurm
    with pytest.raises(ClusterSettingsError, match='time limit'):
        cluster.save(ExecutorSettings(kind=SLURM, time='whenever'), 1.0)
    member = studio.session(Actor('member', shared=True), None).cluster
    assert not member.may_change
    with pytest.raises(Forbidden):
        member.save(ExecutorSettings(), 0.0)
    settings = studio.session(local(), None).settings
    settings.save(settings.values())  # the main Save keeps the executor as it is
    assert cluster.defaults() == on_slurm


def test_gpu_hours_from_sacct_and_the_estimate_before_launch() -> None:
    from services.cluster import cost
    text = '12|3600|billing=2,cpu=2,gres/gpu=2,mem=4G,node=1\n13|1800|cpu=1,mem=1G,node=1\n99|100|gres/gpu=8\n'
    usage = cost.parse(text, ['12', '13'])
    assert usage.jobs == 2 and usage.gpu_hours == 2.0 and usage.hours == 1.5 and usage.cost(3.0) == 6.0
    assert cost.parse('14|7200|gres/gpu:a100=4', ['14']).gpu_hours == 8.0
    guess = cost.estimate(2.0, 72000, 2, 1.5, 'measured on violin')
    assert guess.hours == 10.0 and guess.gpu_hours == 20.0 and guess.cost == 30.0
    assert 'about 10.0 h' in guess.words(1.5) and '20.0 GPU-hours' in guess.words(1.5)
    assert cost.estimate(0.0, 100, 1, 1.0, '') is None


def test_slurm_not_answering_is_no_news_of_a_job_but_a_forgotten_one_is_gone(monkeypatch) -> None:
    import datetime as dt
    import subprocess

    from services.cluster import slurm
    from services.jobs import REPO_ROOT
    from services.store import Job
    answers = {}

    def run(argv, **_):
        out, err, code = answers[argv[0]]
        return subprocess.CompletedProcess(argv, code, out, err)
    monkeypatch.setattr(slurm.subprocess, 'run', run)
    executor = slurm.SlurmExecutor(REPO_ROOT)
    # the test refreshes itself: the background refresh, asking with the answers of a moment before, would race
    # it (once it wrote PENDING back after the test had cleared the states)
    monkeypatch.setattr(executor, '_refresh_loop', lambda: None)
    # submitted an hour ago, before a studio restart
    job = Job(id=1, spec={'slurm_job_id': '41'}, status='running', started=dt.datetime.now() - dt.timedelta(hours=1))
    answers.update(squeue=('', 'slurm_load_jobs error: Unable to contact slurm controller', 1), sacct=('', 'down', 1))
    assert executor.alive(job)  # reattached: no news until the background refresh asked
    executor.refresh()
    assert executor.alive(job) and not executor.answering  # the controller restarting: still running
    answers.update(squeue=('41|PENDING|Priority|\n', '', 0))
    executor.refresh()
    assert executor.alive(job) and 'behind jobs of higher priority' in str(executor.where(job))
    answers.update(squeue=('', 'slurm_load_jobs error: Invalid job id specified', 1), sacct=('', '', 0))
    executor.states.clear()
    executor.refresh()
    assert executor.answering and not executor.alive(job)  # forgotten by squeue and sacct: gone
    answers.update(sacct=('41|OUT_OF_MEMORY|None|node3\n', '', 0))
    executor.refresh()
    assert 'out of memory' in executor.lost(job)


ON_SLURM = {'kind': SLURM, 'partition': 'debug', 'time': '5'}


def _pending_run(studio):
    """A training run handed to SLURM (a stand-in worker: the clients are fake, nothing runs)."""
    from services.store import Run
    from services.training import RunSpec
    project = studio.projects.current(None)
    spec = RunSpec(name='queued-run', max_steps=100)
    run = Run.create(project=project, name='queued-run', configs=list(spec.configs), status='queued',
                     params={'spec': spec.to_dict(), 'jobs': [], 'out_path': '', 'flags': [], 'executor': ON_SLURM})
    job = studio.jobs.submit('train', 'Train queued-run', [sys.executable, '-c', 'pass'], project=project,
                             spec={'run': run.id}, executor=ON_SLURM)
    run.job, run.params = job, {**run.params, 'jobs': [job.id]}
    run.save()
    return run, job


def _quick(action, *args) -> float:
    started = time.monotonic()
    action(*args)
    return time.monotonic() - started


def test_a_cluster_job_is_queued_until_slurm_starts_it_and_a_silent_controller_holds_nothing(
        fake_slurm, studio) -> None:
    from services.access import local
    from services.store import Job, Run
    jobs = studio.session(local(), None).jobs
    fake_slurm.hang('sbatch', 'squeue', 'sacct', 'scancel')  # a controller that does not answer
    started = time.monotonic()
    run, job = _pending_run(studio)
    assert time.monotonic() - started < 1.5  # sbatch hangs on the engine's thread, not the caller's
    view = jobs.get(job.id)
    assert view.status == 'queued' and 'submitting' in view.where
    assert Job.get_by_id(job.id).status == 'running'  # handed to its executor: it holds no slot here
    assert _quick(studio.poll) < 1.0
    assert Run.get_by_id(run.id).status == 'queued'

    fake_slurm.answer('sbatch', 'Submitted batch job 4242')
    poll_until(lambda: Job.get_by_id(job.id).spec.get('slurm_job_id') == '4242', 30, studio=studio,
               message=lambda: str(Job.get_by_id(job.id).spec))
    assert _quick(studio.poll) < 1.0  # squeue hangs on its own thread
    assert jobs.get(job.id).status == 'queued' and 'waiting in the SLURM queue' in jobs.get(job.id).where

    fake_slurm.answer('squeue', '4242|PENDING|Resources|')
    poll_until(lambda: 'waiting in the SLURM queue for free resources' in jobs.get(job.id).where, 30,
               studio=studio, message=lambda: jobs.get(job.id).where)
    assert Run.get_by_id(run.id).status == 'queued'
    fake_slurm.answer('squeue', '4242|RUNNING|None|node7')
    poll_until(lambda: jobs.get(job.id).status == 'running' and Run.get_by_id(run.id).status == 'running', 30,
               studio=studio, message=lambda: f'{jobs.get(job.id)} / {Run.get_by_id(run.id).status}')
    assert jobs.get(job.id).where == 'SLURM job 4242: running on node7'

    fake_slurm.hang('scancel')  # the Cancel returns at once; scancel goes out from a thread
    assert _quick(jobs.cancel, job.id) < 1.0
    fake_slurm.answer('scancel', '')
    poll_until(lambda: fake_slurm.calls('scancel'), 30, message='scancel was never called')
    fake_slurm.answer('squeue', '4242|CANCELLED|None|node7')
    poll_until(lambda: Job.get_by_id(job.id).status == 'cancelled', 30, studio=studio,
               message=lambda: Job.get_by_id(job.id).status)


def test_sbatch_refusing_a_job_is_its_message(fake_slurm, studio) -> None:
    from services.store import Job
    fake_slurm.answer('sbatch', 'sbatch: error: invalid partition specified: nowhere', code=1)
    job = studio.jobs.submit('cluster-test', 'nowhere', [sys.executable, '-c', 'pass'], executor=ON_SLURM)
    row = poll_until(lambda: (j := Job.get_by_id(job.id)).status != 'running' and j, 30, studio=studio)
    assert row.status == 'failed' and 'Could not submit the job' in row.message and 'partition' in row.message


async def test_the_run_page_says_queued_with_slurms_reason_then_running(fake_slurm, user: User) -> None:
    from nicegui import app
    fake_slurm.hang('sbatch')
    run, job = _pending_run(app.studio)
    await user.open(f'/training/runs/{run.id}')  # the page draws while sbatch hangs
    await see(user, 'submitting the job', timeout=10)
    assert user.find(marker='run-status').elements.pop().text == 'queued'
    fake_slurm.answer('squeue', '4242|PENDING|Priority|')
    fake_slurm.answer('sbatch', 'Submitted batch job 4242')
    await see(user, 'SLURM job 4242: waiting in the SLURM queue behind jobs of higher priority', timeout=20)
    await user.open('/training')
    await user.should_see(marker='run-queued-run')
    fake_slurm.answer('squeue', '4242|RUNNING|None|node7')
    await user.open(f'/training/runs/{run.id}')
    await see(user, 'running on node7', timeout=20)
    await until(lambda: user.find(marker='run-status').elements.pop().text == 'running',
                message='the run\'s chip did not turn running')


def test_nodes_and_gpus_reach_the_sbatch_script_the_srun_line_and_raves_gpu_flags(fake_slurm, studio) -> None:
    """What a multi-GPU, multi-node run asks SLURM for, read from the batch script submitit wrote (no GPU here:
    docs/cluster.md says what only a GPU cluster can check)."""
    from services.jobs import job_folder
    from services.store import Job
    from services.training.run_control import gpu_flags
    from services.workers.cluster_host import srun_line
    fake_slurm.answer('sbatch', 'Submitted batch job 4242')
    settings = ExecutorSettings(kind=SLURM, partition='gpu', nodes=2, gpus_per_node=4, time='2:00', memory='64G')
    assert settings.errors() == [] and '2 nodes · 4 GPUs per node' in settings.summary()
    job = studio.jobs.submit('train', 'Train wide', [sys.executable, '-m', 'services.workers.train', '--gpu', '0'],
                             executor=settings.to_dict())
    poll_until(lambda: Job.get_by_id(job.id).spec.get('slurm_job_id') == '4242', 30, studio=studio,
               message=lambda: Job.get_by_id(job.id).message)
    script = (job_folder(Job.get_by_id(job.id)) / 'slurm' / '4242_submission.sh').read_text()
    for line in ('#SBATCH --nodes=2', '#SBATCH --ntasks-per-node=4', '#SBATCH --gpus-per-node=4',
                 '#SBATCH --partition=gpu', '#SBATCH --time=120', '#SBATCH --mem=64G', '#SBATCH --signal=B:USR2@120'):
        assert line in script, script
    assert 'srun' not in script.split('# command', 1)[1]  # one job host in the batch step; it starts the tasks
    # in the allocation SLURM sets the task counts: the host runs the worker on each of the 8 tasks
    worker = [sys.executable, '-m', 'services.workers.train', *gpu_flags(['gpu:0', 'gpu:1', 'gpu:2', 'gpu:3'])]
    assert srun_line({'SLURM_NTASKS': '8', 'SLURM_NTASKS_PER_NODE': '4(x2)', 'SLURM_NNODES': '2'}, worker) == \
        ['srun', '--kill-on-bad-exit=1', '--ntasks=8', '--ntasks-per-node=4', *worker]
    assert worker[-8:] == ['--gpu', '0', '--gpu', '1', '--gpu', '2', '--gpu', '3']  # RAVE's devices of each node
    assert srun_line({'SLURM_NTASKS': '1'}, worker) == worker  # one task: the worker as it is
    assert ExecutorSettings(kind=SLURM).sbatch()['ntasks_per_node'] == 1  # CPUs only: one task


def test_every_slurm_call_has_a_timeout_and_says_so(fake_slurm, studio, monkeypatch) -> None:
    """A controller that does not answer: submitit's sbatch is ended after SUBMIT_TIMEOUT_S (the job fails with a
    sentence saying so, and the next submission goes through), squeue/sacct after TIMEOUT_S (the job's place says
    which did not answer), sacct's GPU-hours likewise (unknown, and why)."""
    from services.cluster import cost, slurm
    from services.store import Job
    monkeypatch.setattr(slurm, 'SUBMIT_TIMEOUT_S', 2)
    monkeypatch.setattr(slurm, 'TIMEOUT_S', 1)
    monkeypatch.setattr(cost, 'TIMEOUT_S', 1)
    fake_slurm.hang('sbatch', 'squeue', 'sacct')
    job = studio.jobs.submit('cluster-test', 'silent', [sys.executable, '-c', 'pass'], executor=ON_SLURM)
    started = time.monotonic()
    row = poll_until(lambda: (j := Job.get_by_id(job.id)).status != 'running' and j, 20, studio=studio,
                     message=lambda: f'sbatch was never given up: {Job.get_by_id(job.id).message}')
    assert time.monotonic() - started < 15  # not the stand-in's own 60 s
    assert row.status == 'failed' and 'SLURM did not answer sbatch within 2 s' in row.message
    assert 'look with squeue before submitting it again' in row.message

    fake_slurm.answer('sbatch', 'Submitted batch job 77')
    taken = studio.jobs.submit('cluster-test', 'taken', [sys.executable, '-c', 'pass'], executor=ON_SLURM)
    poll_until(lambda: Job.get_by_id(taken.id).spec.get('slurm_job_id') == '77', 20, studio=studio,
               message=lambda: Job.get_by_id(taken.id).message)
    # squeue and sacct hang: each is given up after TIMEOUT_S, and the job's place says so
    poll_until(lambda: 'squeue did not answer within 1 s; sacct did not answer within 1 s'
               in str(studio.jobs.track(Job.get_by_id(taken.id)).where), 20, studio=studio,
               message=lambda: str(studio.jobs.track(Job.get_by_id(taken.id)).where))
    assert Job.get_by_id(taken.id).status == 'running'  # no news is not the job's end
    usage = cost.usage(['77'])
    assert usage.jobs == 0 and usage.unanswered == 'sacct did not answer within 1 s'
    fake_slurm.answer('sacct', 'sacct: error: Problem talking to the database: Connection refused', code=1)
    assert 'Problem talking to the database' in cost.usage(['77']).unanswered
