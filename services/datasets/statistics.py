"""Dataset statistics: computed once in a worker job (`services.workers.dataset_stats`) and cached in
`<dataset>/.studio/stats.json`; the cache is stale as soon as the LMDB's data.mdb changes (mtime or size).
"""
from __future__ import annotations

import json
from pathlib import Path

from services import progress
from services.datasets import folders
from services.datasets.preprocessing import RAVE_EXTENSIONS
from services.hookspecs import JobKind
from services.i18n import _
from services.jobs import ACTIVE, JobService, JobState
from services.settings import SettingsService
from services.store import Dataset, Job
from services.workers.dataset_stats import fingerprint

KIND = 'dataset_stats'
CACHE = Path(folders.STUDIO) / 'stats.json'
MAX_EXAMPLES = 2000  # examples read for loudness and spectra; spread evenly over bigger databases


class DatasetStatsService:
    def __init__(self, jobs: JobService, settings: SettingsService) -> None:
        self.jobs = jobs
        self.settings = settings

    def job_kinds(self) -> list[JobKind]:
        return [JobKind(KIND, parse=progress.parse_dataset_stats, describe=_describe)]

    def cache_file(self, dataset: Dataset) -> Path:
        return Path(dataset.path) / CACHE

    def cached(self, dataset: Dataset) -> dict | None:
        """The cached statistics, or None when there are none or the LMDB changed since."""
        try:
            stats = json.loads(self.cache_file(dataset).read_text())
            return stats if stats.get('key') == fingerprint(Path(dataset.path)) else None
        except (OSError, ValueError, AttributeError):
            return None

    def job(self, dataset: Dataset) -> Job | None:
        """The newest statistics job of this dataset (running or not)."""
        for job in Job.select().where(Job.kind == KIND).order_by(Job.id.desc()):
            if (job.spec or {}).get('dataset_id') == dataset.id:
                return job
        return None

    def state(self, dataset: Dataset) -> JobState | None:
        job = self.job(dataset)
        return self.jobs.states.get(job.id) if job else None

    def ensure(self, dataset: Dataset, owner: str = '') -> dict | None:
        """The statistics if cached; otherwise start computing them (once) and return None."""
        stats = self.cached(dataset)
        if stats is None and dataset.status == 'ready' and not self.missing(dataset):
            job = self.job(dataset)
            if job is None or job.status not in ACTIVE:
                self.start(dataset, owner)
        return stats

    @staticmethod
    def missing(dataset: Dataset) -> str:
        """Why there is nothing to compute ('' when the LMDB is there): a job would only fail on the missing file."""
        if (Path(dataset.path) / 'data.mdb').exists():
            return ''
        return _('The dataset folder {folder} holds no RAVE dataset any more (data.mdb is missing): it was moved or '
                 'deleted outside the studio. Put it back, or remove this dataset.').format(folder=dataset.path)

    def start(self, dataset: Dataset, owner: str = '') -> Job:
        """Queue the statistics worker for this dataset, even if a cache exists (recompute)."""
        params = dataset.params or {}
        argv = [self.settings.python, '-m', 'services.workers.dataset_stats', '--db', dataset.path,
                '--out', str(self.cache_file(dataset)), '--max_examples', str(MAX_EXAMPLES)]
        if params.get('num_signal'):
            argv += ['--num_signal', str(params['num_signal'])]
        for source in dataset.sources:
            argv += ['--source', source]
        for ext in params.get('ext') or RAVE_EXTENSIONS:
            argv += ['--ext', ext]
        return self.jobs.submit(KIND, f'Statistics of {dataset.name}', argv, project=dataset.project,
                                cwd=self.jobs.root, spec={'dataset_id': dataset.id}, owner=owner)


def _describe(state: JobState) -> None:
    if 'fraction' in state.last:
        state.progress = min(float(state.last['fraction']), 0.99)
        state.detail = state.last.get('stage', '')
