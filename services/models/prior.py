"""Priors of a trained run, with RAVE's own `rave train_prior` and a gin the studio writes.

RAVE's shipped prior/prior_v1.gin does not parse (it calls an undefined `get_model_sr()` and sets no latent
size, RAVE_NOTES §1); the gin written here binds `VariationalPrior` with the run's sample rate and the export
`fidelity`, which picks the same latent size `rave export --fidelity` keeps (§8). A prior trains as a job in
`<project>/priors/`, one folder per prior (`<name>_<gin hash>/`, RAVE's layout: config.gin, version_N/ with
TensorBoard events and best/last checkpoints); its name is unique in the project. The library of a run's priors
is its train_prior jobs (`spec`: run, prior name, model checkpoint, steps, device): no table of its own.

It trains as an ordinary run does: through services/workers/train_prior.py, which adds the training worker's
callback (metrics.jsonl per step, stop with a resumable checkpoint, pause) and keeps each validation's
`generation` audio as a WAV. Its metric lines are read into a `Series` as a run's are (`appended`, `Series.add`;
a finished prior's through series_cache). Resuming passes RAVE's `--ckpt` the prior's folder: train_prior reads
the config.gin it wrote and hands the newest checkpoint (the stop checkpoint after a stop) to Lightning.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from services import formatting, progress
from services.hookspecs import JobKind
from services.i18n import Lazy, lazy
from services.jobs import FINISHED, REPO_ROOT, JobService, JobState
from services.jobs.host import appended
from services.store import Dataset, Job, Project, Run
from services.training import run_control, series_cache
from services.training.checkpoints import kind_of, read_info
from services.training.metrics import Series

KIND = 'train_prior'
TRAIN_KEY, VALIDATION_KEY = 'latent_prediction', 'val/validation'  # what RAVE's prior logs (rave/prior/model.py)
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
_NAME = re.compile(r'[\w.-]{1,60}')


class PriorError(ValueError):
    """A prior that cannot be trained as asked, with a sentence saying what to change."""


@dataclass(frozen=True)
class PriorCheckpoint:
    path: Path
    kind: str  # best | last | stop (services.training.checkpoints.kind_of)
    step: int | None


@dataclass(frozen=True)
class Generation:
    """The audio a prior generated at one validation (what RAVE logs as `generation`), kept as a WAV."""
    path: Path
    step: int
    seconds: float
    envelope: dict


@dataclass(frozen=True)
class PriorView:
    """One prior of a run: its folder, its checkpoints (best, last, stop) and the jobs that trained it."""
    name: str
    folder: Path
    checkpoints: tuple[Path, ...]
    job_id: int | None  # the newest job
    status: str
    run_id: int = 0
    jobs: tuple[int, ...] = ()  # every training of it, oldest first
    max_steps: int = 0
    fidelity: float = 0.95
    device: str = 'cpu'
    model: str = ''  # the run's checkpoint it learns the latents of
    message: str = ''
    n_signal: int = 0  # its examples' length in samples (0: the prior's receptive field)

    @property
    def active(self) -> bool:
        return self.status in ('queued', 'running', 'paused')

    def steps(self) -> list[PriorCheckpoint]:
        """Its checkpoints with their steps, newest step first (read from the files, ~8 ms each)."""
        found = [PriorCheckpoint(p, kind_of(p), getattr(read_info(p), 'step', None)) for p in self.checkpoints]
        return sorted(found, key=lambda c: (c.step or 0, c.path.stat().st_mtime), reverse=True)


def prior_gin(sr: int, fidelity: float) -> str:
    if not 0.0 < fidelity < 1.0:
        raise PriorError(lazy('The fidelity is above 0 and below 1 (0.95 keeps the dimensions that hold 95 % of the '
                              'variance), not {fidelity:g}.', fidelity=fidelity))
    return GIN.format(sr=int(sr), fidelity=float(fidelity))


class PriorService:
    def __init__(self, jobs: JobService, folder_of, python) -> None:
        self._jobs = jobs
        self._folder_of = folder_of  # (project, sub) → its folder, made if missing
        self._python = python
        self._cache = jobs.root.parent / 'cache' / 'prior_series'  # finished priors' series (the data folder's)
        self._series: dict[tuple[int, str], Series] = {}  # (run id, prior) → metrics read so far
        self._offsets: dict[int, int] = {}  # job id → bytes of its metrics.jsonl read
        self.gpus = run_control.visible_gpus

    def job_kinds(self) -> list[JobKind]:
        """The worker prints a stage line every 2 s at most; the job's detail is the prior's step, rate and loss."""
        return [JobKind(KIND, parse=parse_prior, describe=self._describe, cooperative=True)]

    def start(self, project: Project, run: Run, *, name: str, fidelity: float = 0.95, max_steps: int = 100_000,
              val_every: int = 1000, batch: int = 8, device: str = 'cpu', n_signal: int = 0,
              resume: PriorView | None = None, owner: str = '') -> Job:
        """Train (or go on training) a prior of `run` on the dataset it was trained on; returns the job.
        `n_signal` 0 reads the prior's receptive field (RAVE's default); more gives it longer examples."""
        device = device.replace('cuda:', 'gpu:')
        model = resume.model if resume is not None and resume.model else _newest_checkpoint(run)
        refusal = self._refusal(project, run, name, device, model, max_steps, resume)
        if refusal:
            raise PriorError(refusal)
        dataset: Dataset = run.dataset
        out = self._folder_of(project, 'priors')
        gin = out / f'{name}.gin'
        if resume is None:
            gin.write_text(prior_gin(dataset.sr or 44100, fidelity))
        # the model's checkpoint named: RAVE's search_for_run would take the newest .ckpt of the run's whole tree
        flags = ['--model', str(model), '--db_path', str(dataset.path), '--out_path', str(out), '--name', name,
                 '--batch', str(batch), '--workers', '0', '--n_signal', str(int(n_signal)),
                 '--max_steps', str(max_steps), '--val_every', str(val_every),
                 '--gpu', '-1' if device == 'cpu' else device.removeprefix('gpu:'), '--noprogress']
        flags += ['--ckpt', str(resume.folder)] if resume is not None else ['--config', str(gin)]
        repairs = [] if resume is not None else ['--fidelity', str(float(fidelity))]  # the worker's, see its docs
        title = f'{"Resume" if resume else "Train"} the prior {name} of {run.name}'
        spec = {'run_id': run.id, 'prior': name, 'model': str(model), 'max_steps': int(max_steps),
                'fidelity': float(resume.fidelity if resume else fidelity), 'device': device,
                'n_signal': int(n_signal)}
        return self._jobs.submit(KIND, title, [self._python(), '-m', 'services.workers.train_prior', *repairs, *flags],
                                 command=shlex.join(['rave', 'train_prior', *flags]), project=project, cwd=REPO_ROOT,
                                 spec=spec, slot=run_control.slot(device), owner=owner)

    def priors(self, project: Project, run: Run) -> list[PriorView]:
        """The run's priors, newest job first, each with the checkpoints RAVE wrote so far."""
        out = Path(project.location) / 'priors'
        return [self._view(out, run, name, jobs) for name, jobs in _trainings(project.id, run.id).items()]

    def prior(self, project: Project, run: Run, name: str) -> PriorView | None:
        return next((p for p in self.priors(project, run) if p.name == name), None)

    def metrics(self, prior: PriorView) -> Series:
        """The prior's metrics over all its trainings, read on from where the last call stopped; a finished
        prior's are read once, then kept in series_cache while its metric files keep their sizes."""
        key = (prior.run_id, prior.name)
        series = self._series.get(key)
        files = {j.id: Path(j.folder) / 'metrics.jsonl'
                 for j in Job.select(Job.id, Job.folder).where(Job.id.in_(list(prior.jobs)))}
        stamp = [[i, f.stat().st_size if f.is_file() else -1] for i, f in sorted(files.items())]
        cached = self._cache / f'{prior.run_id}-{prior.name}.npz'
        if series is None and not prior.active:
            series = series_cache.load(cached, stamp)
            if series is not None:
                self._offsets.update({i: n for i, n in stamp if n >= 0})
                self._series[key] = series
                return series
        series = self._series.setdefault(key, Series())
        version = series.version
        for job_id, path in sorted(files.items()):
            records, self._offsets[job_id] = appended(path, self._offsets.get(job_id, 0))
            for record in records:
                series.add(record)
        if not prior.active and series.version != version:
            series_cache.save(cached, series, stamp)
        return series

    def stop(self, prior: PriorView) -> None:
        """Graceful stop: the worker saves a resumable `stop-step=N.ckpt`, then ends."""
        if prior.job_id and prior.active:
            self._jobs.request_stop(prior.job_id)

    def generations(self, prior: PriorView) -> list[Generation]:
        """The audio each validation generated, newest first (the worker keeps it beside RAVE's events)."""
        found = []
        for sidecar in prior.folder.glob('version_*/generation/*.json'):
            try:
                facts = json.loads(sidecar.read_text())
            except (OSError, ValueError):
                continue
            wav = sidecar.with_suffix('.wav')
            if wav.is_file():
                found.append(Generation(wav, int(facts.get('step', 0)), float(facts.get('seconds', 0.0)),
                                        facts.get('envelope') or {'min': [], 'max': []}))
        return sorted(found, key=lambda g: (g.step, g.path.stat().st_mtime), reverse=True)

    def devices(self) -> dict[str, str]:
        """Where a prior may train here: the CPU and this machine's GPUs."""
        return {'cpu': 'CPU', **{f'gpu:{i}': f'GPU {i}' for i in self.gpus()}}

    def _view(self, out: Path, run: Run, name: str, jobs: list[Job]) -> PriorView:
        newest = jobs[0]
        spec = newest.spec or {}
        folder = _folder(out, name)
        checkpoints = tuple(sorted(folder.rglob('*.ckpt'))) if folder else ()
        return PriorView(name, folder or out / name, checkpoints, newest.id, newest.status, run.id,
                         tuple(j.id for j in reversed(jobs)), int(spec.get('max_steps') or 0),
                         float(spec.get('fidelity') or 0.95), spec.get('device', 'cpu'), spec.get('model', ''),
                         newest.message or '', int(spec.get('n_signal') or 0))

    def _refusal(self, project: Project, run: Run, name: str, device: str, model: Path | str | None, max_steps: int,
                 resume: PriorView | None) -> Lazy | str:
        """Why the prior cannot train as asked, in a sentence ('' when it can)."""
        dataset: Dataset | None = run.dataset
        if dataset is None or not Path(dataset.path).is_dir():
            return lazy('{name} has no dataset to train a prior on; import or rebuild it first.', name=run.name)
        if not _NAME.fullmatch(name or ''):
            return lazy('Name the prior with letters, digits, dots and dashes, e.g. "drums-prior".')
        errors = run_control.device_errors(device, list(self.gpus()))
        if errors:
            return ' '.join(errors)
        if resume is None and self._taken(project, name):
            return lazy('This project has a prior called {name} already: go on with it on its page, or pick another '
                        'name.', name=name)
        if model is None:
            return lazy('{name} has no checkpoint yet: a prior learns the latents of a trained model.', name=run.name)
        reached = max((c.step or 0 for c in resume.steps()), default=0) if resume is not None else 0
        if resume is not None and max_steps <= reached:
            return lazy('The prior {name} is at step {step}: set the steps above it to train further.', name=name,
                        step=formatting.count(reached))
        return ''

    def _taken(self, project: Project, name: str) -> bool:
        return any((job.spec or {}).get('prior') == name
                   for job in Job.select().where((Job.kind == KIND) & (Job.project == project)))

    def _describe(self, state: JobState) -> None:
        """Step, rate and loss from the prior's metric lines (read on here, as the engine polls the job); epoch
        and batch from Lightning's bar for a job that has none (a prior trained before the studio's worker)."""
        if not self._describe_steps(state) and 'batch' in state.last:
            state.detail = f'epoch {state.last.get("epoch", 0)}, batch {state.last["batch"]} of {state.last["batches"]}'

    def _describe_steps(self, state: JobState) -> bool:
        job = Job.get_or_none(Job.id == state.id)
        spec = (job.spec or {}) if job else {}
        run = Run.get_or_none(Run.id == spec.get('run_id'))
        if job is None or run is None or job.project is None:
            return False
        trainings = _trainings(job.project_id, run.id).get(spec.get('prior', ''))
        if not trainings:
            return False
        found = self._view(Path(job.project.location) / 'priors', run, spec['prior'], trainings)
        series = self.metrics(found)
        total = series.max_steps or found.max_steps
        if not total or not series.step or state.status in FINISHED:
            return False
        state.last.update(step=series.step, max_steps=total)
        state.progress = min(1.0, series.step / total)
        parts = [f'step {formatting.count(series.step)} / {formatting.count(total)}']
        if series.rate:
            parts.append(f'{series.rate:.1f} it/s')
            state.eta_s = max(0.0, (total - series.step) / series.rate)
        loss = series.latest(TRAIN_KEY)
        if loss is not None:
            parts.append(f'latent prediction {loss:.3g}')
        state.detail = ' · '.join(parts)
        return True



def parse_prior(line: str) -> dict | None:
    """A prior's console line: the worker's stage line, or Lightning's bar (`rave train_prior` without the studio's
    worker, jobs queued before it)."""
    return progress.parse_stage(line) or progress.parse_train(line)


def _trainings(project_id: int, run_id: int) -> dict[str, list[Job]]:
    """The library of a run's priors: each prior's train_prior jobs, newest first (a resume is a job of its own)."""
    found: dict[str, list[Job]] = {}
    for job in Job.select().where((Job.kind == KIND) & (Job.project == project_id)).order_by(Job.id.desc()):
        spec = job.spec or {}
        if spec.get('run_id') == run_id and spec.get('prior'):
            found.setdefault(spec['prior'], []).append(job)
    return found


def _folder(out: Path, name: str) -> Path | None:
    """The prior's RAVE folder, `<name>_<md5 of its gin, 10 hex digits>`."""
    pattern = re.compile(re.escape(name) + r'_[0-9a-f]{10}')
    found = [p for p in out.glob(f'{name}_*') if p.is_dir() and pattern.fullmatch(p.name)]
    return max(found, key=lambda p: p.stat().st_mtime, default=None)


def _newest_checkpoint(run: Run) -> Path | None:
    """The run's newest checkpoint by time, as RAVE's search_for_run picks it, outside any priors folder."""
    if not run.folder or not Path(run.folder).is_dir():
        return None
    return max(Path(run.folder).glob('version_*/checkpoints/*.ckpt'), key=lambda p: p.stat().st_mtime, default=None)


def prior_folders(run: Run) -> list[Path]:
    """The folders of the studio's priors of `run` that hold a checkpoint, newest first (what an export may add)."""
    out = Path(run.project.location) / 'priors'
    found = [_folder(out, name) for name in _trainings(run.project_id, run.id)]
    return sorted((f for f in found if f is not None and any(f.rglob('*.ckpt'))), key=lambda p: p.stat().st_mtime,
                  reverse=True)


def export_plan(prior: PriorView, run_name: str, checkpoint: PriorCheckpoint) -> tuple[str, dict]:
    """The name and options of an export of the prior's model with this prior checkpoint (RAVE + prior in one
    .ts, at the prior's fidelity so its latent size matches): one export per checkpoint to compare them."""
    step = f'step{checkpoint.step}' if checkpoint.step is not None else checkpoint.path.stem
    name = re.sub(r'[^\w.-]+', '-', f'{run_name}_{prior.name}_{checkpoint.kind}-{step}')
    return name, {'prior': str(checkpoint.path), 'fidelity': prior.fidelity}


def exported_with(prior: PriorView, options: dict) -> bool:
    """Whether an export's options name one of this prior's checkpoints (or its folder)."""
    chosen = options.get('prior')
    if not chosen:
        return False
    path = Path(str(chosen)).resolve()
    return path == prior.folder.resolve() or path.is_relative_to(prior.folder.resolve())
