"""Exports: a run's checkpoint made into a file a host plays (nn~, the RAVE VST, Neutone, ONNX, the Explorer),
then proven to load and sound in a fresh process before it is called done.

Run folders stay where RAVE wrote them; a folder made by the plain RAVE CLI can be imported. An export's life
is a chain of jobs (services/models/steps.py says why): the export worker, the Neutone wrap for .nm, then the
verification. The row keeps the target, the flags, the stage, the export worker's result (command, RAVE's
warnings) and the verdict; a failed export or verification is kept with its reasons and is never done.
Several checkpoints × several targets queue as one batch; a re-export repeats an export's flags.
"""
from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services import progress
from services.events import ExportChanged
from services.files import FilePolicy, PathRefused
from services.hookspecs import ExportTarget, JobKind
from services.i18n import lazy
from services.jobs import JobService, JobState
from services.models import steps
from services.models.checkpoint_facts import facts_of
from services.models.prior import prior_folders
from services.models.targets import BUILTIN, ExportError, checked_options, options_for, stages_of
from services.projects import ProjectService
from services.settings import SettingsService
from services.store import Checkpoint, Export, Job, Project, Run
from services.training import operative
from services.training.checkpoints import index as index_checkpoints

_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$')
_HASHED = re.compile(r'^(.*)_[0-9a-f]{10}$')  # RAVE names run folders <name>_<md5(gin)[:10]>
_RATE = re.compile(r'^SAMPLING_RATE\s*=\s*(\d+)', re.MULTILINE)
KINDS = tuple(steps.RESULT_FILES)  # the job kinds of an export's life
KNOWN_TS = tuple(t.name for t in BUILTIN if t.makes == '.ts')  # RAVE's own export makes their file
SLOT = 'export'  # exports queue one at a time: a batch is a line of jobs, each step of an export jumps it


@dataclass
class RunCheckpoints:
    """One run with its checkpoints (newest first) and the exports made from it."""
    run: Run
    checkpoints: list[Checkpoint] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)


class ExportService:
    def __init__(self, jobs: JobService, settings: SettingsService, projects: ProjectService,
                 files: FilePolicy, targets: Callable[[], Sequence[ExportTarget]] = lambda: BUILTIN,
                 read_imported: Callable[[Run], None] = lambda run: None) -> None:
        self.jobs = jobs
        self.settings = settings
        self.projects = projects
        self.files = files
        self._targets = targets  # the plugin manager's export_targets (the built-ins come through it too)
        self._read_imported = read_imported  # training's metric store reads an imported run's events
        jobs.limits.setdefault(SLOT, 1)

    def job_kinds(self) -> list[JobKind]:
        """The processes of an export's life: RAVE's export (or ONNX), the Neutone wrap, the verification."""
        return [JobKind(kind, parse=progress.parse_export if kind == 'export' else progress.parse_stage,
                        describe=_describe, on_finish=self._finished) for kind in KINDS]

    # ---- runs and checkpoints -----------------------------------------------------------------
    def runs_with_checkpoints(self, project: Project) -> list[RunCheckpoints]:
        """The project's runs (newest first), each with the checkpoints on disk (newest first) and its
        exports."""
        result = []
        for run in Run.select().where(Run.project == project).order_by(Run.created.desc()):
            found = sorted(index_checkpoints(run), key=_mtime, reverse=True)
            exports = list(run.exports.order_by(Export.created.desc()))
            result.append(RunCheckpoints(run, found, exports))
        return result

    def discover(self, project: Project) -> list[Path]:
        """Run folders under the project's runs/ that hold checkpoints but are not known yet."""
        known = {Path(r.folder).resolve() for r in Run.select().where(Run.project == project) if r.folder}
        found = []
        for config in sorted(self.projects.folder(project, 'runs').rglob('config.gin')):
            folder = config.parent.resolve()
            if folder not in known and any(folder.rglob('*.ckpt')):
                found.append(folder)
        return found

    def import_run(self, project: Project, folder: str | Path) -> Run:
        """Index a RAVE run folder (`<name>_<hash>` with config.gin and checkpoints) in the project, with its
        checkpoints and the curves and figures of its TensorBoard events (steps, last loss, best validation,
        training time). Reading the events takes a while for a long run: call it off the event loop."""
        try:
            path = self.files.confine(folder, also=(Path(project.location),),
                                      what='RAVE run folder (the one that holds config.gin)')
        except PathRefused as e:
            if e.path is None:
                raise ExportError(str(e)) from e
            raise ExportError(lazy('{path} is outside the folders you may browse. Add its parent in '
                                   'Settings → browsable folders, or copy the run into the project\'s runs/ '
                                   'folder.', path=e.path)) from e
        if not path.is_dir():
            raise ExportError(lazy('{path} is not a folder. Give the run folder RAVE created (<name>_<hash>).',
                                   path=path))
        run_folder = _run_root(path)
        if run_folder is None:
            raise ExportError(lazy('No config.gin in {path} or above it: this is not a RAVE run folder.', path=path))
        if not any(run_folder.rglob('*.ckpt')):
            raise ExportError(lazy('{run_folder} has no checkpoint (*.ckpt) yet. RAVE writes one at each validation; '
                                   'let the training reach its first validation.', run_folder=run_folder))
        run = Run.get_or_none((Run.project == project) & (Run.folder == str(run_folder)))
        if run is None:
            match = _HASHED.match(run_folder.name)
            run = Run.create(project=project, name=match.group(1) if match else run_folder.name,
                             folder=str(run_folder), status='imported', configs=_configs(run_folder),
                             params={'imported_from': str(run_folder)})
        index_checkpoints(run)
        self._read_imported(run)
        return run

    # ---- targets, priors and what a checkpoint allows -------------------------------------------
    def targets(self) -> list[ExportTarget]:
        return list(self._targets())

    def target(self, name: str) -> ExportTarget:
        found = next((t for t in self.targets() if t.name == name), None)
        if found is None:
            raise ExportError(lazy('No export target called {name!r}: pick one the wizard lists.', name=name))
        return found

    def priors(self, run: Run) -> list[Path]:
        """Prior run folders trained for this run, newest first: the studio's (services/models/prior.py), then
        those of `rave train_prior --out_path <run>/priors`."""
        root = Path(run.folder) / 'priors' if run.folder else None
        found = [] if root is None or not root.is_dir() else \
            [c.parent for c in root.glob('*/config.gin') if any(c.parent.rglob('*.ckpt'))]
        return prior_folders(run) + sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    def sample_rate(self, run: Run) -> int | None:
        """The model's sample rate, from its run's config.gin."""
        try:
            match = _RATE.search((Path(run.folder) / 'config.gin').read_text(errors='replace'))
        except OSError:
            return None
        return int(match.group(1)) if match else None

    # ---- exports ------------------------------------------------------------------------------
    def start(self, project: Project, run: Run | None, checkpoint_path: str | Path, target: ExportTarget | str,
              name: str, options: dict[str, Any] | None = None, *, owner: str = '') -> Export:
        """Start an export of a checkpoint for `target` as a chain of jobs (export → wrap → verify)."""
        plan = self._plan(project, run, checkpoint_path, target, name, options)
        return self._launch(project, run, *plan, owner=owner)

    def batch(self, project: Project, run: Run, checkpoints: Sequence[str], targets: Sequence[str], name: str,
              options: dict[str, Any] | None = None, *, owner: str = '') -> list[Export]:
        """Several checkpoints × several targets in one go, queued as jobs, each its own export. Every one is
        checked before the first starts, so a bad choice starts none."""
        if not checkpoints or not targets:
            raise ExportError(lazy('Pick at least one checkpoint and one target for a batch export.'))
        plans, taken = [], set()
        for checkpoint in checkpoints:
            step = steps.step_of(checkpoint)
            for target_name in targets:
                target = self.target(target_name)
                base = name
                if len(checkpoints) > 1:
                    base += f'_step{step}' if step is not None else f'_{steps.slug(Path(checkpoint).stem)}'
                if len(targets) > 1:
                    base += f'_{steps.slug(target.name)}'
                chosen = self._free_name(project, target, base, options_for(target, options), taken)
                taken.add(chosen)
                plans.append(self._plan(project, run, checkpoint, target, chosen, options))
        return [self._launch(project, run, *plan, owner=owner) for plan in plans]

    def reexport(self, export: Export, *, checkpoint: str | Path | None = None,
                 target: str | None = None, owner: str = '') -> Export:
        """The same flags onto another checkpoint, or the same checkpoint to another target, in one click."""
        project, run = export.project, export.run
        chosen = self.target(target or export.target)
        checkpoint = str(checkpoint or export.checkpoint)
        options = dict(export.options or {})
        if target and target != export.target:  # the new target's preset wins over the old one's flags
            options = {k: v for k, v in options.items() if k not in chosen.flags}
        step = steps.step_of(checkpoint)
        base = (export.name or Path(export.path).stem.removesuffix('_streaming'))
        base = re.sub(r'(_step\d+)+$', '', base) + (f'_step{step}' if checkpoint != export.checkpoint and step
                                                    is not None else '')
        if chosen.name != export.target:
            base = base.removesuffix(f'_{steps.slug(export.target)}') + f'_{steps.slug(chosen.name)}'
        name = self._free_name(project, chosen, base, options_for(chosen, options), set())
        return self.start(project, run, checkpoint, chosen, name, options, owner=owner)

    def list(self, project: Project) -> list[Export]:
        return list(Export.select().where(Export.project == project).order_by(Export.created.desc()))

    def get(self, export_id: int) -> Export | None:
        return Export.get_or_none(Export.id == export_id)

    def message(self, export: Export) -> str:
        """Why an export failed (or '' when it did not)."""
        if export.status not in ('failed', 'cancelled'):
            return ''
        if export.message:
            return export.message
        job = Job.get_or_none(Job.id == export.job_id) if export.job_id else None
        return job.message if job is not None else ''

    def jobs_of(self, export: Export) -> list[Job]:
        """The processes of the export's life, in order (their logs stay after a reload)."""
        if not export.job_id:
            return []
        return [j for j in Job.select().where(Job.kind.in_(KINDS), Job.project == export.project_id)
                .order_by(Job.id) if (j.spec or {}).get('export') == export.id or j.id == export.job_id]

    def live(self, export: Export) -> tuple[str, float | None, str]:
        """(stage, fraction of it done, what it does now) while the export runs; its end stage otherwise."""
        state = self.jobs.states.get(export.job_id) if export.job_id else None
        if export.status != 'running' or state is None:
            return export.stage, None, ''
        if state.status == 'queued':
            return 'queued', None, 'Waiting for the exports before it'
        worker = str(state.last.get('stage') or '')
        stages = stages_of(self.target(export.target)) if self._known(export.target) else ()
        if export.stage == 'verify' or worker == 'verify':
            stage = 'verify'
        elif export.stage == 'wrap':
            stage = 'wrap'
        else:
            stage = worker if worker in stages else {'prior': 'load'}.get(worker, stages[0] if stages else worker)
        return stage, state.progress, state.detail

    def delete(self, export: Export, *, delete_file: bool = True) -> None:
        """Forget an export (cancelling it while it runs); its files go too unless `delete_file` is False."""
        if export.status == 'running' and export.job_id:
            self.jobs.cancel(export.job_id)
        if delete_file:
            for path in steps.files_of(export):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        export_id = export.id
        export.delete_instance()
        self.jobs.bus.publish(ExportChanged(export_id, 'deleted'))

    # ---- the life of an export --------------------------------------------------------------
    def _plan(self, project: Project, run: Run | None, checkpoint_path: str | Path, target: ExportTarget | str,
              name: str, options: dict[str, Any] | None) -> tuple:
        target = self.target(target) if isinstance(target, str) else target
        name = (name or '').strip()
        if not _NAME.match(name):
            raise ExportError(lazy('Name the export with letters, digits, ".", "_" or "-" (no spaces), e.g. '
                                   'drums_v2.'))
        source = Path(str(checkpoint_path)).expanduser()
        if not str(checkpoint_path).strip() or not source.exists():
            raise ExportError(lazy('The checkpoint {path} does not exist. Pick a checkpoint of a run, or re-import the '
                                   'run folder.', path=checkpoint_path or '(none)'))
        if source.is_dir() and not any(source.rglob('*.ckpt')):
            raise ExportError(lazy('{source} holds no checkpoint (*.ckpt) to export.', source=source))
        if source.is_file() and source.suffix != '.ckpt':
            raise ExportError(lazy('{name} is not a RAVE checkpoint (.ckpt).', name=source.name))
        if _run_root(source if source.is_dir() else source.parent) is None:
            raise ExportError(lazy('No config.gin next to {source} or above it: RAVE needs it to rebuild the model.',
                                   source=source))
        opts = self._options(run, source, target, options)
        folder = self.projects.folder(project, 'exports')
        planned = steps.planned_path(target, folder, name, bool(opts['streaming']))
        if self._taken(planned):
            raise ExportError(lazy('{name} exists already. Choose another name or delete that export first.',
                                   name=planned.name if target.makes != '.nm' else planned.parent.name))
        return target, str(source.resolve()), folder, name, opts, planned

    def _options(self, run: Run | None, source: Path, target: ExportTarget,
                 chosen: dict[str, Any] | None) -> dict[str, Any]:
        checkpoint = source if source.is_file() else max(source.rglob('*.ckpt'), key=lambda p: p.stat().st_mtime)
        return checked_options(target, chosen, rate=self.sample_rate(run) if run is not None and run.folder else None,
                               ema=facts_of(checkpoint).ema, priors=self.priors(run) if run is not None else [])

    def _launch(self, project: Project, run: Run | None, target: ExportTarget, checkpoint: str, folder: Path,
                name: str, opts: dict[str, Any], planned: Path, *, owner: str) -> Export:
        export = Export.create(project=project, run=run, checkpoint=checkpoint, path=str(planned), name=name,
                               streaming=bool(opts['streaming']) or target.makes == '.nm', status='running',
                               target=target.name, options=opts, stage='export')
        self._submit(export, steps.export_step(self.settings.python, target, checkpoint, folder, name, opts), folder,
                     owner=owner)
        self.jobs.bus.publish(ExportChanged(export.id, export.status))
        return export

    def _submit(self, export: Export, step: steps.Step, cwd: Path, *, first: bool = True, owner: str) -> None:
        job = self.jobs.submit(step.kind, step.title, step.argv, command=step.command, project=export.project,
                               cwd=cwd, spec={'export': export.id, 'stage': step.stage}, slot=SLOT, owner=owner)
        if not first:
            self.jobs.reorder(job.id, 0)  # the next step of a started export goes before a batch's later ones
        export.job, export.stage = job, step.stage
        export.save()

    def _finished(self, job: Job) -> None:
        export = Export.get_or_none(Export.job == job.id)
        if export is None:
            return
        result = steps.result_of(job)
        stage = export.stage or 'export'
        if stage == 'verify':
            export.verdict = result
            passed = job.status == 'done' and (result or {}).get('status') == 'passed'
            if passed:
                export.status, export.stage, export.message = 'done', 'done', ''
            else:
                self._fail(export, job, result, 'verify')
        elif job.status == 'done' and (result or {}).get('status') == 'done':
            made = result.get('path') or result.get('manifest') or ''
            export.result = result if stage == 'export' else {**(export.result or {}), 'wrap': result}
            target = self.target(export.target) if self._known(export.target) else None
            folder = Path(export.path).parent
            python = self.settings.python
            if stage == 'export' and target is not None and target.makes == '.nm':
                dataset = export.run.dataset if export.run is not None else None
                card = {'authors': [export.project.name], 'description': f'RAVE model {export.name}.'[:150],
                        'examples': steps.card_examples(dataset.sources if dataset is not None else [])}
                self._submit(export, steps.wrap_step(python, made, folder.parent, export.name, card), folder,
                             first=False, owner=job.owner)  # the export's next step is for whoever started it
            else:
                export.path = made or export.path
                verify = target or BUILTIN[-1]
                self._submit(export, steps.verify_step(python, verify, export.path, export.checkpoint,
                                                       export.name or Path(export.path).stem), folder, first=False,
                             owner=job.owner)
        else:
            if stage == 'export':
                export.result = result
            self._fail(export, job, result, stage)
        export.save()
        if export.status == 'done':
            from services.models.guide import write_guide
            write_guide(export)
        self.jobs.bus.publish(ExportChanged(export.id, export.status))

    def _fail(self, export: Export, job: Job, result: dict | None, stage: str) -> None:
        export.status = 'cancelled' if job.status == 'cancelled' else 'failed'
        export.stage = stage
        said = (result or {}).get('message') or ''
        if job.status == 'cancelled':
            export.message = 'Cancelled before it was verified.' if stage == 'verify' else 'Cancelled.'
        elif stage == 'verify':
            export.message = ('Exported, but the verification failed: ' + (said or job.message or 'see its log.'))
        elif job.status == 'interrupted':
            export.message = f'The export stopped before it ended: {job.message}'
        else:
            said = said or job.message or 'see the log.'
            export.message = ('Export failed: ' + said + ('' if 'checkpoint' in said or export.target not in KNOWN_TS
                                                          else ' Check that the checkpoint is a complete RAVE '
                                                          'checkpoint of this run.'))

    def _known(self, name: str) -> bool:
        return any(t.name == name for t in self.targets())

    def _taken(self, path: Path) -> bool:
        running = Export.get_or_none((Export.path == str(path)) & (Export.status == 'running'))
        return path.exists() or (path.name == 'model.nm' and path.parent.exists()) or running is not None

    def _free_name(self, project: Project, target: ExportTarget, base: str, opts: dict, taken: set[str]) -> str:
        folder = Path(project.location) / 'exports'
        name, n = base, 1
        while name in taken or self._taken(steps.planned_path(target, folder, name, bool(opts['streaming']))):
            n += 1
            name = f'{base}_{n}'
        return name


def _describe(state: JobState) -> None:
    fraction = state.last.get('fraction')
    state.progress = float(fraction) if isinstance(fraction, (int, float)) else None
    state.detail = str(state.last.get('message') or state.last.get('stage') or '')

def _run_root(folder: Path) -> Path | None:
    """The RAVE run folder (the one with config.gin) at `folder` or up to two levels above it."""
    for candidate in (folder, *list(folder.parents)[:3]):
        if (candidate / 'config.gin').is_file():
            return candidate
    return None


def _configs(run_folder: Path) -> list[str]:
    """The base config and add-ons the run's operative config.gin shows (it has no include lines)."""
    found = operative.read(run_folder)
    return list(found.configs) if found is not None else []


def _mtime(checkpoint: Checkpoint) -> float:
    try:
        return Path(checkpoint.path).stat().st_mtime
    except OSError:
        return 0.0
