"""What the models, export and explorer pages see: frozen copies of runs, checkpoints, exports and
reconstructions, built from rows and files (a page never holds a row)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from services.store import Checkpoint, Export, Run


@dataclass(frozen=True)
class FileFacts:
    """Size and modification time of a file, or None for both when it is missing."""
    size: int | None
    modified: dt.datetime | None

    @classmethod
    def of(cls, path: str | Path) -> FileFacts:
        try:
            stat = Path(path).stat()
        except OSError:
            return cls(None, None)
        return cls(stat.st_size, dt.datetime.fromtimestamp(stat.st_mtime))

    @property
    def exists(self) -> bool:
        return self.size is not None


@dataclass(frozen=True)
class CheckpointView:
    """A checkpoint file of a run, with the step it was saved at (read from the checkpoint itself)."""
    id: int
    path: str
    kind: str  # best | last | stop | epoch
    step: int | None
    file: FileFacts

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def version(self) -> str:
        """RAVE's version_N folder the checkpoint lies in ('' when it lies elsewhere)."""
        parent = Path(self.path).parent
        return parent.parent.name if parent.name == 'checkpoints' else ''

    @classmethod
    def of(cls, row: Checkpoint) -> CheckpointView:
        return cls(row.id, row.path, row.kind, row.step, FileFacts.of(row.path))


@dataclass(frozen=True)
class CheckVerdict:
    """One check of a verification: passed (True), failed (False) or not applicable (None), in words."""
    check: str
    ok: bool | None
    message: str


@dataclass(frozen=True)
class HostVerdict:
    """Whether a host can play the export: ready | caveat | offline | no, with its sentence."""
    host: str
    verdict: str
    message: str


@dataclass(frozen=True)
class Latency:
    """Input-to-output delay at one host buffer size."""
    buffer: int
    samples: int
    ms: float


@dataclass(frozen=True)
class ModelFacts:
    """What the verification read from the exported file in a fresh process (the viewer's facts)."""
    methods: tuple[tuple[str, tuple[int, ...]], ...] = ()  # name, [in_ch, in_ratio, out_ch, out_ratio]
    attributes: tuple[str, ...] = ()
    sr: int | None = None
    channels: int | None = None
    latent_size: int | None = None
    full_latent_size: int | None = None
    compression_ratio: int | None = None
    streaming: bool = False
    prior: bool = False
    size: int | None = None
    made_with_torch: str | None = None
    step: int | None = None
    latency: tuple[Latency, ...] = ()

    @classmethod
    def of(cls, facts: dict) -> ModelFacts:
        methods = facts.get('methods') or {}
        return cls(tuple((m, tuple(int(v) for v in p)) for m, p in methods.items()) if isinstance(methods, dict)
                   else (), tuple(facts.get('attributes') or ()), _int(facts.get('sr')),
                   _int(facts.get('n_channels')), _int(facts.get('latent_size')),
                   _int(facts.get('full_latent_size')), _int(facts.get('compression_ratio')),
                   bool(facts.get('streaming')), bool(facts.get('prior')), _int(facts.get('size')),
                   facts.get('made_with_torch') or facts.get('torch'), _int(facts.get('step')),
                   tuple(Latency(int(r['buffer']), int(r['samples']), float(r['ms']))
                         for r in facts.get('latency') or ()))

    def latency_at(self, buffer: int) -> Latency | None:
        return next((row for row in self.latency if row.buffer == buffer), None)


@dataclass(frozen=True)
class ExportView:
    """An exported model, how its export and verification went, and what the verification found."""
    id: int
    path: str
    run_id: int | None
    run_name: str
    checkpoint: str
    streaming: bool
    status: str  # running | done (exported and verified) | failed | cancelled
    created: dt.datetime
    job_id: int | None
    message: str  # why it failed ('' when it did not)
    file: FileFacts
    name: str = ''
    target: str = 'custom'
    options: tuple[tuple[str, object], ...] = ()
    stage: str = ''  # export | wrap | verify | queued while running; where it ended otherwise
    stages: tuple[str, ...] = ()
    progress: float | None = None  # of the current stage's process
    detail: str = ''  # what the current process does now
    command: str = ''  # the equivalent command
    warnings: tuple[str, ...] = ()  # RAVE's warnings during the export
    checkpoint_step: int | None = None
    verified: str = ''  # passed | failed | '' (not yet)
    checks: tuple[CheckVerdict, ...] = ()
    hosts: tuple[HostVerdict, ...] = ()
    facts: ModelFacts = ModelFacts()
    job_ids: tuple[int, ...] = ()  # every process of its life, in order
    reached: tuple[str, ...] = ()  # the export worker's stages, in order, up to where it ended

    @property
    def file_name(self) -> str:
        return Path(self.path).name

    @property
    def stem(self) -> str:
        return Path(self.path).stem

    @property
    def playable(self) -> bool:
        """A verified, non-streaming TorchScript export whose file is there: what the explorer plays best."""
        return self.status == 'done' and self.file.exists and not self.streaming and self.path.endswith('.ts')

    @property
    def ready(self) -> bool:
        """Exported and verified in a fresh process: the library lists it as ready."""
        return self.status == 'done' and self.file.exists

    @property
    def testable(self) -> bool:
        """The test player runs TorchScript, ONNX and Neutone files through the reconstruct worker (a plugin
        target's own format is not known to it)."""
        return self.ready and self.path.endswith(('.ts', '.onnx.json', '.nm'))

    @property
    def option(self) -> dict[str, object]:
        return dict(self.options)

    @classmethod
    def of(cls, row: Export, message: str = '', *, stages: tuple[str, ...] = (), live: tuple = ('', None, ''),
           job_ids: tuple[int, ...] = ()) -> ExportView:
        result, verdict = row.result or {}, row.verdict or {}
        provenance = result.get('provenance') or {}
        facts = dict(verdict.get('facts') or {})
        stage, progress, detail = live
        return cls(row.id, row.path, row.run_id, row.run.name if row.run_id else '', row.checkpoint,
                   bool(row.streaming), row.status, row.created, row.job_id, message, FileFacts.of(row.path),
                   name=row.name or Path(row.path).stem, target=row.target or 'custom',
                   options=tuple(sorted((row.options or {}).items())), stage=stage or row.stage or '',
                   stages=stages, progress=progress, detail=detail, command=result.get('command') or '',
                   warnings=tuple(result.get('warnings') or ()),
                   checkpoint_step=_int(provenance.get('step') or facts.get('step')),
                   verified=str(verdict.get('status') or ''),
                   checks=tuple(CheckVerdict(c.get('check', ''), c.get('ok'), c.get('message', ''))
                                for c in verdict.get('checks') or ()),
                   hosts=tuple(HostVerdict(h.get('host', ''), h.get('verdict', ''), h.get('message', ''))
                               for h in verdict.get('hosts') or ()),
                   facts=ModelFacts.of({**facts, 'latency': verdict.get('facts', {}).get('latency') or ()}),
                   job_ids=job_ids, reached=tuple(str(s.get('stage')) for s in result.get('stages') or ()
                                                   if s.get('stage') not in ('failed', 'done')))


def _int(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RunCheckpointsView:
    """One run of the project with its checkpoints (newest first) and the exports made from it."""
    id: int
    name: str
    folder: str
    status: str
    configs: tuple[str, ...]
    checkpoints: tuple[CheckpointView, ...]
    exports: tuple[ExportView, ...]

    @property
    def imported(self) -> bool:
        """Made by the RAVE command line and imported, not trained by the studio."""
        return self.status == 'imported'

    @property
    def best(self) -> CheckpointView | None:
        """The checkpoint with the lowest validation loss, else the newest one."""
        best = [c for c in self.checkpoints if c.kind == 'best']
        return best[0] if best else (self.checkpoints[0] if self.checkpoints else None)

    @classmethod
    def of(cls, run: Run, checkpoints: list[Checkpoint], exports: list[ExportView]) -> RunCheckpointsView:
        views = sorted((CheckpointView.of(c) for c in checkpoints),
                       key=lambda c: c.file.modified or dt.datetime.min, reverse=True)
        return cls(run.id, run.name, run.folder, run.status, tuple(run.configs or ()), tuple(views),
                   tuple(exports))


@dataclass(frozen=True)
class Envelope:
    """Min and max of a waveform in equal columns, as the worker computed them (the UI reads no audio)."""
    low: tuple[float, ...]
    high: tuple[float, ...]

    @classmethod
    def of(cls, data: dict) -> Envelope:
        return cls(tuple(data.get('min') or ()), tuple(data.get('max') or ()))


@dataclass(frozen=True)
class ReconstructionResult:
    """What a finished reconstruction wrote (reconstruction.json) and where its two audio files are."""
    folder: Path
    model: str
    input: str
    input_name: str
    sr: int
    channels: int
    duration_s: float
    output_duration_s: float
    truncated: bool
    latent_shape: tuple[int, ...]
    latent_size: int
    full_latent_size: int
    latent_rate_hz: float
    compression_ratio: int
    latent_mean: tuple[float, ...]
    latent_std: tuple[float, ...]
    input_envelope: Envelope
    output_envelope: Envelope
    elapsed_s: float

    @property
    def original(self) -> Path:
        return self.folder / 'input.wav'

    @property
    def reconstruction(self) -> Path:
        return self.folder / 'output.wav'

    @property
    def model_name(self) -> str:
        return Path(self.model).stem

    @classmethod
    def of(cls, folder: str | Path, data: dict) -> ReconstructionResult:
        return cls(Path(folder), data['model'], data['input'], data['input_name'], int(data['sr']),
                   int(data['channels']), float(data['duration_s']), float(data['output_duration_s']),
                   bool(data.get('truncated')), tuple(data['latent_shape']), int(data['latent_size']),
                   int(data['full_latent_size']), float(data['latent_rate_hz']),
                   int(data['compression_ratio']), tuple(data['latent_mean']), tuple(data['latent_std']),
                   Envelope.of(data['input_envelope']), Envelope.of(data['output_envelope']),
                   float(data['elapsed_s']))


@dataclass(frozen=True)
class ReconstructionView:
    """A reconstruction in progress or ended: its job, its state in words, and its result once done."""
    id: str
    job_id: int
    folder: Path
    status: str  # the job's status
    message: str  # the stage while it runs, what went wrong when it failed
    result: ReconstructionResult | None = None

    @property
    def active(self) -> bool:
        return self.status in ('queued', 'running', 'paused')


@dataclass(frozen=True)
class AudioChoice:
    """An audio file the explorer offers, with the label it shows (relative to the project when inside)."""
    path: str
    label: str


@dataclass(frozen=True)
class ModuleNode:
    """One module of a model's architecture tree: its type, parameters (its own and below) and output shape."""
    name: str
    type: str
    parameters: int
    shape: tuple[int, ...] | None
    children: tuple[ModuleNode, ...] = ()
    folded: int = 0  # children left out below the tree's depth

    @classmethod
    def of(cls, data: dict) -> ModuleNode:
        return cls(data['name'], data['type'], int(data['parameters']),
                   tuple(data['shape']) if data.get('shape') else None,
                   tuple(cls.of(c) for c in data.get('children') or ()), int(data.get('folded') or 0))


@dataclass(frozen=True)
class ModelStats:
    """What a checkpoint's model is, as the model-stats worker measured it."""
    checkpoint: str
    sr: int
    channels: int
    parameters: int
    modules: tuple[tuple[str, int], ...]  # top-level module -> parameters (encoder, decoder, discriminator, …)
    compression: int
    receptive_field: tuple[int, int]  # samples left and right of an output sample
    latent_size: int
    fidelity_dims: tuple[tuple[float, int | None], ...]  # (share of variance, latent dimensions it needs)
    tree: ModuleNode

    @property
    def receptive_field_ms(self) -> tuple[float, float]:
        return tuple(1000 * n / self.sr for n in self.receptive_field)

    @property
    def latent_rate(self) -> float:
        """Latent frames per second."""
        return self.sr / self.compression

    def module(self, name: str) -> int | None:
        return dict(self.modules).get(name)

    @classmethod
    def of(cls, data: dict) -> ModelStats:
        return cls(data['checkpoint'], int(data['sr']), int(data['channels']), int(data['parameters']),
                   tuple((str(n), int(p)) for n, p in data['modules']), int(data['compression']),
                   tuple(data['receptive_field']), int(data['latent_size']),
                   tuple((float(k), v) for k, v in sorted(data['fidelity_dims'].items(), key=lambda kv: float(kv[0]))),
                   ModuleNode.of(data['tree']))


@dataclass(frozen=True)
class LibraryCard:
    """A trained model (a run) as the library shows it."""
    id: int
    name: str
    status: str
    configs: tuple[str, ...]
    created: dt.datetime
    seconds: float | None
    dataset: str
    best_validation: float | None
    last_loss: float | None
    step: int
    checkpoints: int
    checkpoint_bytes: int
    exports: int
    export_bytes: int
    tags: tuple[str, ...]
    favourite: bool
    rating: int | None
    description: str
