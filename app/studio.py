"""The composition root's object graph: one instance of each service, built for one data folder, and the
per-page `Session` of area facades bound to the acting user."""
from __future__ import annotations

import time
from pathlib import Path

from pages import BUILTIN_PLUGINS
from services import lab, logs
from services.access import Actor
from services.backup import Backups
from services.builtin import StudioAreas
from services.cluster import Cluster, cloud_jobs, rates
from services.cluster.slurm import SlurmExecutor
from services.datasets import Datasets
from services.datasets.library import DatasetLibrary
from services.datasets.preprocessing import DatasetService
from services.datasets.statistics import DatasetStatsService
from services.diagnostics import Diagnostics, DiagnosticsService
from services.doctor import Doctor
from services.events import AccessChanged, Bus, ExportChanged, ModelServersChanged, Subscriber, SystemSample
from services.example import Example, ExampleService, Facades
from services.files import FilePolicy
from services.jobs import REPO_ROOT, Jobs, JobService
from services.lab import Accounts, AuditLog, ProjectSharing, history
from services.lab.comments import Comments
from services.lab.history import History
from services.lab.team import Team
from services.models import Models
from services.models.exports import ExportService
from services.models.inference import InferenceService
from services.models.play import Play, PlayService
from services.models.play.favourites import FavouriteStore
from services.models.prior import PriorService
from services.models.server_pool import ModelServers
from services.models.testing import ModelTests, TestingService
from services.monitor import SystemMonitor
from services.plugins import PluginManager, Plugins, disabled_plugins
from services.projects import Projects, ProjectService
from services.session import Session
from services.settings import Settings, SettingsService
from services.store import open_database
from services.system import System
from services.training import Training
from services.training.configs import ConfigStatus
from services.training.experiments import Experiments
from services.training.runs import TrainingService
from services.training.sweeps import Sweeps, SweepService
from services.training.templates import TemplateService
from services.training.tensorboard import TensorBoardService


class Studio:
    """Owns the services; pages receive it and use the narrow service they need."""

    def __init__(self, data_dir: Path, *, shared: bool = False) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.shared = shared  # served to the network (`--share`): every action is a signed-in user's
        open_database(self.data_dir / 'studio.db')
        self.bus = Bus()
        self.settings = SettingsService(self.data_dir)
        lab.install(lambda: self.settings.get('default_visibility'))
        self.access = lab.Watch()  # the poller tells pages when who may do what changed
        logs.configure(self.data_dir, self.settings.get('log_level'))
        self.files = FilePolicy(self.data_dir, self.settings, shared=shared)
        self.jobs = JobService(self.data_dir, bus=self.bus)
        self.slurm = SlurmExecutor(REPO_ROOT)  # trainings on a SLURM cluster (services/cluster)
        self.jobs.executors['slurm'] = self.slurm
        self.settings.apply_limits(self.jobs)
        self.projects = ProjectService(self.data_dir)
        self.backups = Backups(self.projects, self.jobs.root)
        self.datasets = DatasetService(self.jobs, self.settings, self.projects, self.files)
        self.library = DatasetLibrary(self.datasets)
        self.dataset_stats = DatasetStatsService(self.jobs, self.settings)
        self.templates = TemplateService(self.projects, lambda: self.settings.python)
        self.training = TrainingService(self.jobs, self.settings, self.projects, self.templates)
        self.sweeps = SweepService(self.training, self.projects, self.bus)
        self.config_status = ConfigStatus(self.data_dir / 'cache', lambda: self.settings.python)
        self.exports = ExportService(self.jobs, self.settings, self.projects, self.files,
                                     lambda: self.plugins.export_targets(),  # the plugins are loaded below
                                     read_imported=self.training.read_imported)
        self.inference = InferenceService(self.jobs, self.settings, self.projects, self.files)
        self.model_tests = TestingService(self.jobs, self.settings, self.projects)
        self.servers = ModelServers(log_dir=self.data_dir / 'logs',
                                    on_change=lambda models: self.bus.publish(ModelServersChanged(models)))
        self.settings.apply_limits(self.jobs, self.servers)
        self.play = PlayService(self.servers, self.projects, self.jobs, lambda: self.settings.python)
        self.favourites = FavouriteStore()
        self.priors = PriorService(self.jobs, self.projects.folder, lambda: self.settings.python)
        self.monitor = SystemMonitor()
        self.tensorboard = TensorBoardService(self.data_dir, self.settings.python)
        areas = StudioAreas([self.datasets, self.dataset_stats, self.training, self.exports, self.inference,
                             self.play, self.priors, self.model_tests])
        self.plugins = PluginManager((*BUILTIN_PLUGINS, areas), disabled=disabled_plugins())
        for kind in self.plugins.job_kinds():  # the areas' own kinds and those of installed plugins
            self.jobs.register(kind)
        self.jobs.register(cloud_jobs.cloud_kind(  # copies to and from an S3-compatible store (services/cluster)
            lambda export: self.bus.publish(ExportChanged(export.id, export.status))))  # a pulled export
        self.jobs.register(cloud_jobs.rsync_kind(self.datasets.changed))  # datasets copied to the cluster
        self.example = ExampleService(self.projects, self._facades, self.bus)
        self.diagnostics = DiagnosticsService(self.data_dir, self.settings, self.jobs, Doctor(
            self.data_dir, lambda: self.settings.python, lambda: [Path(p.location) for p in self.projects.all()]))
        self._last_monitor = 0.0
        self.bridge: Subscriber | None = None  # set by app.main.build

    def session(self, actor: Actor, events: Subscriber) -> Session:
        """The facades one page uses, bound to the user acting on it."""
        training = Training(self.training, self.templates, self.config_status, self.tensorboard, self.settings, actor,
                            alerts=self.plugins.alerts)
        experiments = Experiments(self.training, actor)
        return Session(actor=actor, events=events, files=self.files, jobs=Jobs(self.jobs, actor),
                       system=System(self.monitor), plugins=Plugins(self.plugins, actor),
                       datasets=Datasets(self.datasets, self.library, self.dataset_stats, actor,
                                         checks=self.plugins.dataset_findings),
                       models=Models(self.exports, self.inference, self.files, actor),
                       play=Play(self.play, self.favourites, self.files, actor, self.priors),
                       projects=Projects(self.projects, self.backups, self.files, actor, self.bus),
                       settings=Settings(self.settings, self.jobs, actor, self.servers),
                       training=training, example=Example(self.example, actor), experiments=experiments,
                       accounts=Accounts(actor), sharing=ProjectSharing(actor, self.settings),
                       audit=AuditLog(actor), comments=Comments(actor, self.bus),
                       history=History(actor, history.restorers(training, experiments)), team=Team(actor),
                       sweeps=Sweeps(self.sweeps, actor), diagnostics=Diagnostics(self.diagnostics, actor),
                       cluster=Cluster(self.settings, self.slurm,
                                       lambda project: rates.measured(self.training, project), actor, self.jobs,
                                       self.files, self.datasets),
                       model_tests=ModelTests(self.model_tests, self.inference, self.files, actor))

    def _facades(self, actor: Actor) -> Facades:
        """The areas an example project acts through, as `actor` (no page: no events)."""
        session = self.session(actor, None)
        return Facades(session.projects, session.datasets, session.training, session.models)

    def start(self) -> None:
        """Reattach to jobs that ran while the studio was down."""
        self.jobs.reconcile()
        self.sweeps.reconcile()  # trials that ended while the studio was down are told
        self.example.advance()  # an example project whose stage ended while the studio was down goes on

    def shutdown(self) -> None:
        """At exit: jobs keep running (the next start reattaches), model servers stop."""
        self.jobs.shutdown_children()
        self.servers.close_all()

    def poll(self) -> None:
        """The one global poller tick: job state and metrics, then system figures every 2 s."""
        self.jobs.poll()
        self.training.poll()
        if (moved := self.access.moved()) is not None:
            self.bus.publish(AccessChanged(moved))
        if time.monotonic() - self._last_monitor >= 2.0:
            self._last_monitor = time.monotonic()
            self.monitor.sample()
            self.bus.publish(SystemSample(time.time()))
        self.bus.flush()
