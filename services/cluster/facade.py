"""The cluster: where trainings run (this machine, or a SLURM cluster whose login node the studio runs on) and
what they cost. `Cluster` is the facade pages use; the job engine's SLURM executor is `slurm.py`.

Supported topology: the studio runs on the cluster's login node (or on a machine that is its own one-node
cluster) with the SLURM clients on its PATH and its data folder on the file system the compute nodes share.
Talking to a remote login node over SSH is not supported: the studio reads every job's files (metrics,
checkpoints, logs) from its own disk as they grow, which over SSH would need a mirror of each job folder.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from services import access
from services.access import Action, Actor
from services.cluster import cloud, cloud_jobs, cost
from services.cluster.cloud import CloudError, Remote, Store
from services.cluster.cost import Estimate, Usage
from services.cluster.settings import LOCAL, SLURM, ExecutorSettings, project_executor
from services.cluster.slurm import SlurmExecutor, slurm_id
from services.datasets.folders import read_lmdb
from services.files import FilePolicy
from services.i18n import Lazy, _, lazy
from services.jobs import REPO_ROOT, JobService
from services.models.steps import files_of
from services.settings import SettingsService
from services.store import Dataset, Export, Job, Project, Run

__all__ = ['LOCAL', 'SLURM', 'CloudError', 'Cluster', 'ClusterSettingsError', 'Estimate', 'ExecutorSettings',
           'Remote', 'Store', 'Usage']


class ClusterSettingsError(ValueError):
    """Executor settings that are not kept, with every sentence saying what to change."""


@access.acts
class Cluster:
    """Executor settings (studio-wide and per project), the cluster's reachability and GPU-hours."""

    def __init__(self, settings: SettingsService, slurm: SlurmExecutor, rates, actor: Actor,
                 jobs: JobService | None = None, files: FilePolicy | None = None, datasets=None) -> None:
        self._settings, self._slurm, self.actor, self._jobs, self._files = settings, slurm, actor, jobs, files
        self._datasets = datasets  # services.datasets.DatasetService: datasets preprocessed on the cluster
        self._rates = rates  # (project) -> [(run name, base config, steps/s)], newest first

    @property
    def may_change(self) -> bool:
        return access.allowed(self.actor, Action.SETTINGS)

    def defaults(self) -> ExecutorSettings:
        """Where trainings run unless a project says otherwise."""
        return ExecutorSettings.of(self._settings.get('executor'))

    def price(self) -> float:
        return float(self._settings.get('gpu_hour_price') or 0.0)

    def save(self, executor: ExecutorSettings, price: float, cloud_url: str | None = None,
             cloud_endpoint: str | None = None) -> None:
        """Keep the studio's executor, GPU-hour price and cloud store (None: the store as it is)."""
        access.require(self.actor, Action.SETTINGS)
        problems = executor.errors() + ([_('A GPU-hour cannot cost less than nothing.')] if price < 0 else [])
        url, endpoint = (cloud_url or '').strip(), (cloud_endpoint or '').strip()
        if url and not url.startswith('s3://'):
            problems.append(_('"{url}" is not an S3 location: write s3://bucket or s3://bucket/folder.')
                            .format(url=url))
        if endpoint and not endpoint.startswith(('http://', 'https://')):
            problems.append(_('"{endpoint}" is not a server address: write https://host[:port].')
                            .format(endpoint=endpoint))
        if problems:
            raise ClusterSettingsError(' '.join(problems))
        self._settings.set('executor', executor.to_dict())
        self._settings.set('gpu_hour_price', float(price))
        if cloud_url is not None:
            self._settings.set('cloud_url', url)
            self._settings.set('cloud_endpoint', endpoint)

    def project_choice(self, project_id: int) -> ExecutorSettings:
        return project_executor(self._project(project_id, Action.READ), self._settings.get('executor'))

    def set_project_choice(self, project_id: int, executor: ExecutorSettings | None) -> None:
        """Keep where this project's runs train (None: follow the studio's choice)."""
        project = self._project(project_id, Action.EDIT)
        if executor is not None and executor.errors():
            raise ClusterSettingsError(' '.join(executor.errors()))
        settings = dict(project.settings or {})
        if executor is None:
            settings.pop('executor', None)
        else:
            settings['executor'] = executor.to_dict()
        project.settings = settings
        project.save(only=[Project.settings])

    def reachable(self) -> str | Lazy:
        """'' when SLURM answers from here, else what is wrong (blocking: sinfo; call it off the event loop)."""
        if not shutil.which('sbatch'):
            return lazy('No SLURM here: sbatch is not on this machine\'s PATH. Run the studio on a login node of the '
                        'cluster.')
        try:
            out = subprocess.run(['sinfo', '-h', '-o', '%P'], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired) as e:
            return lazy('SLURM does not answer from here: {error}', error=e)
        said = next((line for line in out.stderr.splitlines() if 'fatal' in line), out.stderr.strip().split('\n')[-1])
        return '' if out.returncode == 0 else lazy('SLURM does not answer from here ({said}).', said=said.strip()[:160])

    def partitions(self) -> list[str]:
        """The cluster's partitions (the default one first); blocking."""
        try:
            out = subprocess.run(['sinfo', '-h', '-o', '%P'], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return []
        names = [p.strip() for p in out.stdout.split() if p.strip()] if out.returncode == 0 else []
        return sorted(dict.fromkeys(n.rstrip('*') for n in names), key=lambda n: f'{n}*' not in names)

    # ---- cost ------------------------------------------------------------------------------
    def run_usage(self, run_id: int) -> Usage:
        """GPU-hours SLURM accounted for every job of a run (blocking: sacct)."""
        run = Run.get_or_none(Run.id == run_id)
        if run is None:
            return Usage()
        access.require(self.actor, Action.READ, run.project_id)
        return cost.usage(_slurm_ids(run.params.get('jobs', [])))

    def project_usage(self, project_id: int) -> Usage:
        project = self._project(project_id, Action.READ)
        jobs = [j for r in Run.select(Run.params).where(Run.project == project) for j in r.params.get('jobs', [])]
        return cost.usage(_slurm_ids(jobs))

    def estimate(self, project_id: int, base: str, steps: int, gpus: int) -> Estimate | None:
        """GPU-hours and cost of `steps` from the speed this project's newest run of `base` (else any run) made."""
        project = self._project(project_id, Action.READ)
        rates = self._rates(project)
        same = [r for r in rates if r[1] == base] or rates
        if not same:
            return None
        name, _, rate = same[0]
        return cost.estimate(rate, steps, gpus, self.price(), f'measured on {name}')

    # ---- cloud storage --------------------------------------------------------------------
    def store(self) -> Store | None:
        """The S3-compatible store set in Settings (None: none set)."""
        url = (self._settings.get('cloud_url') or '').strip()
        return Store(url, (self._settings.get('cloud_endpoint') or '').strip()) if url else None

    def remotes(self) -> list[Remote]:
        """What the store holds (blocking: a listing over the network)."""
        access.require(self.actor, Action.READ)
        return cloud.listing(self._store())

    def push_run(self, run_id: int) -> int:
        """Queue a job copying the run's folder to the store as `<project>/runs/<folder>`; its job id."""
        run = Run.get_or_none(Run.id == run_id)
        if run is None or not run.folder or not Path(run.folder).is_dir():
            raise CloudError('This run has no folder yet: push it once it has trained.')
        access.require(self.actor, Action.RUN, run.project_id)
        name = f'{_slug(run.project.name)}/runs/{Path(run.folder).name}'
        return self._copy('push', run.folder, name, f'Push {run.name} to the cloud', run.project)

    def push_export(self, export_id: int) -> int:
        """Queue a job copying an export's files (the model, its ONNX graphs or Neutone folder, its guide) to the
        store as `<project>/exports/<name>`, with its record (cloud_jobs.record: target, verdict…) so that a pull
        brings it back as the export it is; its job id."""
        export = Export.get_or_none(Export.id == export_id)
        if export is None or not Path(export.path).exists():
            raise CloudError('This export has no file (any more): export it again first.')
        access.require(self.actor, Action.RUN, export.project_id)
        files = [str(f) for f in files_of(export) if f.exists()]
        name = f'{_slug(export.project.name)}/exports/{_slug(export.name or Path(export.path).stem)}'
        return self._copy('push', files[0], name, f'Push {Path(export.path).name} to the cloud', export.project,
                          more=[*files[1:], '--record'], stdin=json.dumps(cloud_jobs.record(export)))

    def pull_run(self, project_id: int, name: str) -> int:
        """Queue a job copying a pushed run folder into the project's runs folder; its job id."""
        return self.pull(project_id, name, 'runs')

    def pull(self, project_id: int, name: str, into: str = '') -> int:
        """Queue a job copying a pushed folder back into the project — `into` its runs or exports folder (by
        default where its name says it came from) — whole or not at all; its job id."""
        project = self._project(project_id, Action.RUN)
        into = into or Remote(name, True).kind or 'runs'
        target = Path(project.location) / into / name.rstrip('/').rsplit('/', 1)[-1]
        if target.exists():
            raise CloudError(f'{target.name} is in this project already.')
        # a pulled export joins the export library once whole (cloud_jobs.pulled)
        return self._copy('pull', str(target), name, f'Pull {target.name} from the cloud', project,
                          spec={'pulled': into, 'target': str(target)})

    # ---- datasets on the cluster's file system ------------------------------------------------
    def register_dataset(self, project_id: int, path: str, name: str = '') -> int:
        """Index a RAVE dataset that lies on the cluster's file system (a browsable folder) for the project's
        cluster runs; its id. A run on this machine refuses it (services/training: place_errors)."""
        project = self._project(project_id, Action.RUN)
        folder = Path(self._files.confine(path))
        if not (folder / 'data.mdb').is_file() or not (folder / 'metadata.yaml').is_file():
            raise CloudError(f'{folder} is not a RAVE dataset: it has no data.mdb and metadata.yaml (what `rave '
                             'preprocess` writes).')
        name = (name or folder.name).strip()
        if Dataset.get_or_none((Dataset.project == project) & (Dataset.name == name)) is not None:
            raise CloudError(f'This project has a dataset named {name} already: choose another name.')
        meta = read_lmdb(folder)
        dataset = Dataset.create(project=project, name=name, path=str(folder), status='ready', sr=meta['sr'],
                                 channels=meta['channels'], lazy=meta['lazy'], n_examples=meta['examples'],
                                 n_seconds=meta['seconds'], size_bytes=meta['size_bytes'], sources=[],
                                 params={'location': 'cluster'})
        self._datasets.changed(dataset)
        return dataset.id

    def offers_preprocessing(self, project_id: int) -> bool:
        """Whether the dataset wizard offers to preprocess on the cluster: SLURM's clients are here, or this
        project (or the studio) trains there."""
        return bool(shutil.which('sbatch')) or self.project_choice(project_id).on_cluster

    def preprocess(self, project_id: int, spec, survey=None) -> int:
        """Queue `rave preprocess` of a new dataset (a services.datasets.PreprocessSpec) as a SLURM job with the
        project's SLURM options (else the studio's), on CPUs: it runs in the allocation, and the dataset lives on
        the cluster; its id."""
        project = self._project(project_id, Action.RUN)
        chosen = self.project_choice(project_id)
        base = chosen if chosen.on_cluster else self.defaults()
        executor = ExecutorSettings.of({**base.to_dict(), 'kind': SLURM, 'gpus_per_node': 0, 'nodes': 1,
                                        'requeue': False})
        if executor.errors():
            raise ClusterSettingsError(' '.join(executor.errors()))
        return self._datasets.start(project, spec.name, list(spec.inputs), **spec.params(), survey=survey,
                                    owner=self.actor.name, executor=executor.to_dict()).id

    def copy_dataset(self, dataset_id: int, folder: str) -> int:
        """Queue a job copying a dataset's folder into `folder` on the cluster's file system (rsync: progress,
        resume, renamed into place only when whole); its job id. `folder` must be a browsable one."""
        dataset = Dataset.get_or_none(Dataset.id == dataset_id)
        if dataset is None:
            raise CloudError('This dataset does not exist any more.')
        access.require(self.actor, Action.RUN, dataset.project_id)
        if not shutil.which('rsync'):
            raise CloudError('rsync is not installed here: install it (apt-get install rsync) and try again.')
        target = Path(self._files.confine(folder)) / Path(dataset.path).name
        if target.exists():
            raise CloudError(f'{target} exists already: choose another folder.')
        argv = [sys.executable, '-m', 'services.workers.cluster_rsync', str(dataset.path), str(target)]
        job = self._jobs.submit('rsync', f'Copy {dataset.name} to {folder}', argv, project=dataset.project,
                                cwd=str(REPO_ROOT), spec={'dataset': dataset.id, 'target': str(target)},
                                owner=self.actor.name)
        copying = {**(dataset.params or {}).get('copying', {}), str(target): job.id}
        dataset.params = {**(dataset.params or {}), 'copying': copying}  # the library shows it with its job
        dataset.save(only=[Dataset.params])
        return job.id

    def _copy(self, what: str, local: str, name: str, title: str, project: Project, more: list[str] = (),
              stdin: str = '', spec: dict | None = None) -> int:
        store = self._store()
        argv = [sys.executable, '-m', 'services.workers.cluster_cloud', what, store.url, store.endpoint, local, name,
                *more]
        return self._jobs.submit('cloud', title, argv, project=project, cwd=str(REPO_ROOT), owner=self.actor.name,
                                 stdin=stdin, spec=spec).id

    def _store(self) -> Store:
        store = self.store()
        if store is None:
            raise CloudError('No cloud store is set: write its s3:// location in Settings first.')
        return store

    def _project(self, project_id: int, action: Action) -> Project:
        access.require(self.actor, action, project_id)
        project = Project.get_or_none(Project.id == project_id)
        if project is None:
            raise ClusterSettingsError('This project does not exist any more.')
        return project


def _slug(name: str) -> str:
    return re.sub(r'[^A-Za-z0-9._-]+', '_', name).strip('._') or 'project'


def _slurm_ids(job_ids: list[int]) -> list[str]:
    return [i for i in (slurm_id(j) for j in Job.select(Job.id, Job.spec).where(Job.id.in_(job_ids))) if i]
