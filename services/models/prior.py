"""Priors of a trained run, with RAVE's own `rave train_prior` and a gin the studio writes.

RAVE's shipped prior/prior_v1.gin does not parse (it calls an undefined `get_model_sr()` and sets no latent
size, RAVE_NOTES §1); the gin written here binds `VariationalPrior` with the run's sample rate and the export
`fidelity`, which picks the same latent size `rave export --fidelity` keeps (§8). A prior trains as a job in
`<project>/priors/`, one folder per prior (`<name>_<gin hash>/`, RAVE's layout: config.gin, version_N/ with
TensorBoard events and best/last checkpoints). Resuming passes RAVE's `--ckpt` the prior's folder: train_prior
then reads the config.gin it wrote and hands the last checkpoint to Lightning; it runs through
services/workers/train_prior.py, which repairs what made a resumed prior fail (RAVE #122) and a prior of a model
whose first dimension alone holds the fidelity.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from services import progress
from services.hookspecs import JobKind
from services.jobs import REPO_ROOT, JobService, JobState
from services.store import Dataset, Job, Project, Run

KIND = 'train_prior'
GIN = """# written by RAVE Studio: RAVE's prior_v1 settings, with the model's rate and the export fidelity bound
VariationalPrior.resolution = 32
VariationalPrior.res_size = 512
VariationalPrior.skp_size = 256
VariationalPrior.kernel_size = 3
VariationalPrior.cycle_size = 4
VariationalPrior.n_layers = 10
VariationalPrior.sr = {sr}
VariationalPrior.fidelity = {fidelity}
"""


class PriorError(ValueError):
    """A prior that cannot be trained as asked, with a sentence saying what to change."""


@dataclass(frozen=True)
class PriorView:
    """One prior of a run: its folder, its checkpoints (best, last) and the job that trains it."""
    name: str
    folder: Path
    checkpoints: tuple[Path, ...]
    job_id: int | None
    status: str


def prior_gin(sr: int, fidelity: float) -> str:
    if not 0.0 < fidelity < 1.0:
        raise PriorError(f'The fidelity is above 0 and below 1 (0.95 keeps the dimensions that hold 95 % of the '
                         f'variance), not {fidelity:g}.')
    return GIN.format(sr=int(sr), fidelity=float(fidelity))


class PriorService:
    def __init__(self, jobs: JobService, folder_of, python) -> None:
        self._jobs = jobs
        self._folder_of = folder_of  # (project, sub) → its folder, made if missing
        self._python = python

    def job_kinds(self) -> list[JobKind]:
        """A prior prints Lightning's bars as `rave train` does: epoch and batch become the job's detail."""
        return [JobKind(KIND, parse=progress.parse_train, describe=_describe)]

    def start(self, project: Project, run: Run, *, name: str, fidelity: float = 0.95, max_steps: int = 100_000,
              val_every: int = 1000, batch: int = 8, device: str = 'cpu', resume: PriorView | None = None,
              owner: str = '') -> Job:
        """Train (or go on training) a prior of `run` on the dataset it was trained on; returns the job."""
        dataset: Dataset | None = run.dataset
        if dataset is None or not Path(dataset.path).is_dir():
            raise PriorError(f'{run.name} has no dataset to train a prior on; import or rebuild it first.')
        if not re.fullmatch(r'[\w.-]{1,60}', name or ''):
            raise PriorError('Name the prior with letters, digits, dots and dashes, e.g. "drums-prior".')
        out = self._folder_of(project, 'priors')
        gin = out / f'{name}.gin'
        gin.write_text(prior_gin(dataset.sr or 44100, fidelity))
        flags = ['--model', str(run.folder), '--db_path', str(dataset.path), '--out_path', str(out), '--name', name,
                 '--batch', str(batch), '--workers', '0', '--max_steps', str(max_steps), '--val_every', str(val_every),
                 '--gpu', '-1' if device == 'cpu' else device.removeprefix('cuda:'), '--noprogress']
        flags += ['--ckpt', str(resume.folder)] if resume is not None else ['--config', str(gin)]
        repairs = [] if resume is not None else ['--fidelity', str(float(fidelity))]  # the worker's, see its docs
        title = f'{"Resume" if resume else "Train"} the prior {name} of {run.name}'
        return self._jobs.submit(KIND, title, [self._python(), '-m', 'services.workers.train_prior', *repairs, *flags],
                                 command=shlex.join(['rave', 'train_prior', *flags]), project=project, cwd=REPO_ROOT,
                                 spec={'run_id': run.id, 'prior': name}, owner=owner)

    def priors(self, project: Project, run: Run) -> list[PriorView]:
        """The run's priors, newest job first, each with the checkpoints RAVE wrote so far."""
        out = Path(project.location) / 'priors'
        views = []
        for job in Job.select().where(Job.kind == KIND).order_by(Job.id.desc()):
            spec = job.spec or {}
            if spec.get('run_id') != run.id or any(v.name == spec.get('prior') for v in views):
                continue
            name = spec.get('prior', '')
            folder = next(iter(sorted(out.glob(f'{name}_*'), key=lambda p: p.stat().st_mtime, reverse=True)), None)
            checkpoints = tuple(sorted(folder.rglob('*.ckpt'))) if folder else ()
            views.append(PriorView(name, folder or out / name, checkpoints, job.id, job.status))
        return views


def _describe(state: JobState) -> None:
    if 'batch' in state.last:
        state.detail = f'epoch {state.last.get("epoch", 0)}, batch {state.last["batch"]} of {state.last["batches"]}'
