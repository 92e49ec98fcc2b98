"""The composition root's object graph: one instance of each service, built for one data folder, and the
per-page `Session` of area facades bound to the acting user.

The core (settings, files, jobs, projects, plugins, the monitor) is built with the studio; each area's engines
(datasets, training, models, play, …) on first use, with their modules: the first page a browser opens is
served without importing areas it does not show (issue 7's launch figure), and `warm_up` imports the rest in
the background once the studio is serving. A job's kind is known when the first job needs it (JobService
`kinds_from`), so a studio with running jobs makes the areas at its first poll."""
from __future__ import annotations

import importlib
import threading
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pages import BUILTIN_PLUGINS
from services import lab, logs
from services.access import Actor
from services.backup import Backups
from services.builtin import StudioAreas
from services.cluster.slurm import SlurmExecutor
from services.diagnostics import DiagnosticsService
from services.doctor import Doctor
from services.events import AccessChanged, Bus, ExportChanged, ModelServersChanged, Subscriber, SystemSample
from services.example import ExampleService, Facades
from services.files import FilePolicy
from services.jobs import REPO_ROOT, JobService
from services.monitor import SystemMonitor
from services.plugins import PluginManager, disabled_plugins
from services.projects import ProjectService
from services.session import Session
from services.settings import SettingsService
from services.store import Sweep, open_database

if TYPE_CHECKING:
    from services.datasets.library import DatasetLibrary
    from services.datasets.preprocessing import DatasetService
    from services.datasets.statistics import DatasetStatsService
    from services.models.exports import ExportService
    from services.models.inference import InferenceService
    from services.models.play import PlayService
    from services.models.play.favourites import FavouriteStore
    from services.models.prior import PriorService
    from services.models.server_pool import ModelServers
    from services.models.testing import TestingService
    from services.training.configs import ConfigStatus
    from services.training.runs import TrainingService
    from services.training.sweeps import SweepService
    from services.training.templates import TemplateService
    from services.training.tensorboard import TensorBoardService

# what `warm_up` imports once the studio serves: every area a later page or job needs
AREAS = ('services.datasets.facade', 'services.datasets.preprocessing', 'services.datasets.library',
         'services.datasets.statistics', 'services.training.facade', 'services.training.runs',
         'services.training.experiments', 'services.training.sweeps', 'services.training.tensorboard',
         'services.models.facade', 'services.models.exports', 'services.models.inference', 'services.models.play',
         'services.models.testing', 'services.models.prior', 'services.models.server_pool', 'services.cluster.facade',
         'services.lab.comments', 'services.lab.history', 'services.lab.team')


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
        self.monitor = SystemMonitor()
        areas = StudioAreas(lambda: [self.datasets, self.dataset_stats, self.training, self.exports, self.inference,
                                     self.play, self.priors, self.model_tests])
        self.plugins = PluginManager((*BUILTIN_PLUGINS, areas), disabled=disabled_plugins())
        self.jobs.kinds_from(self._job_kinds)  # the areas' own kinds and those of installed plugins, when needed
        self.example = ExampleService(self.projects, self._facades, self.bus)
        self.diagnostics = DiagnosticsService(self.data_dir, self.settings, self.jobs, Doctor(
            self.data_dir, lambda: self.settings.python, lambda: [Path(p.location) for p in self.projects.all()]))
        self._last_monitor = 0.0
        self.bridge: Subscriber | None = None  # set by app.main.build

    # ---- the areas' engines, made on first use --------------------------------------------------
    @cached_property
    def datasets(self) -> DatasetService:
        from services.datasets.preprocessing import DatasetService
        return DatasetService(self.jobs, self.settings, self.projects, self.files)

    @cached_property
    def library(self) -> DatasetLibrary:
        from services.datasets.library import DatasetLibrary
        return DatasetLibrary(self.datasets)

    @cached_property
    def dataset_stats(self) -> DatasetStatsService:
        from services.datasets.statistics import DatasetStatsService
        return DatasetStatsService(self.jobs, self.settings)

    @cached_property
    def templates(self) -> TemplateService:
        from services.training.templates import TemplateService
        return TemplateService(self.projects, lambda: self.settings.python)

    @cached_property
    def training(self) -> TrainingService:
        from services.training.runs import TrainingService
        return TrainingService(self.jobs, self.settings, self.projects, self.templates)

    @cached_property
    def sweeps(self) -> SweepService:
        from services.training.sweeps import SweepService
        return SweepService(self.training, self.projects, self.bus)

    @cached_property
    def config_status(self) -> ConfigStatus:
        from services.training.configs import ConfigStatus
        return ConfigStatus(self.data_dir / 'cache', lambda: self.settings.python)

    @cached_property
    def tensorboard(self) -> TensorBoardService:
        from services.training.tensorboard import TensorBoardService
        return TensorBoardService(self.data_dir, self.settings.python)

    @cached_property
    def exports(self) -> ExportService:
        from services.models.exports import ExportService
        return ExportService(self.jobs, self.settings, self.projects, self.files, self.plugins.export_targets,
                             read_imported=self.training.read_imported)

    @cached_property
    def inference(self) -> InferenceService:
        from services.models.inference import InferenceService
        return InferenceService(self.jobs, self.settings, self.projects, self.files)

    @cached_property
    def model_tests(self) -> TestingService:
        from services.models.testing import TestingService
        return TestingService(self.jobs, self.settings, self.projects)

    @cached_property
    def servers(self) -> ModelServers:
        from services.models.server_pool import ModelServers
        servers = ModelServers(log_dir=self.data_dir / 'logs',
                               on_change=lambda models: self.bus.publish(ModelServersChanged(models)))
        self.settings.apply_limits(self.jobs, servers)
        return servers

    @cached_property
    def play(self) -> PlayService:
        from services.models.play import PlayService
        return PlayService(self.servers, self.projects, self.jobs, lambda: self.settings.python)

    @cached_property
    def favourites(self) -> FavouriteStore:
        from services.models.play.favourites import FavouriteStore
        return FavouriteStore()

    @cached_property
    def priors(self) -> PriorService:
        from services.models.prior import PriorService
        return PriorService(self.jobs, self.projects.folder, lambda: self.settings.python)

    def _job_kinds(self) -> list:
        from services.cluster import cloud_jobs
        return [*self.plugins.job_kinds(),
                cloud_jobs.cloud_kind(  # copies to and from an S3-compatible store (services/cluster)
                    lambda export: self.bus.publish(ExportChanged(export.id, export.status))),  # a pulled export
                cloud_jobs.rsync_kind(lambda *a, **k: self.datasets.changed(*a, **k))]  # datasets sent to a cluster

    # ---- a page's facades -------------------------------------------------------------------------
    def session(self, actor: Actor, events: Subscriber) -> Session:
        """The facades one page uses, bound to the user acting on it, each made when the page first asks."""
        session = Session(actor, events, {
            'files': lambda _: self.files,
            'jobs': lambda facade: facade(self.jobs, actor),
            'system': lambda facade: facade(self.monitor),
            'plugins': lambda facade: facade(self.plugins, actor),
            'datasets': lambda facade: facade(self.datasets, self.library, self.dataset_stats,
                                      actor, checks=self.plugins.dataset_findings),
            'models': lambda facade: facade(self.exports, self.inference, self.files, actor),
            'play': lambda facade: facade(self.play, self.favourites, self.files, actor,
                                  self.priors),
            'projects': lambda facade: facade(self.projects, self.backups, self.files, actor,
                                      self.bus),
            'settings': lambda facade: facade(self.settings, self.jobs, actor, self.servers),
            'example': lambda facade: facade(self.example, actor),
            'training': lambda facade: facade(self.training, self.templates,
                                      self.config_status, self.tensorboard, self.settings, actor,
                                      alerts=self.plugins.alerts),
            'experiments': lambda facade: facade(self.training, actor),
            'accounts': lambda facade: facade(actor),
            'sharing': lambda facade: facade(actor, self.settings),
            'audit': lambda facade: facade(actor),
            'comments': lambda facade: facade(actor, self.bus),
            'history': lambda facade: _history(facade, actor, session),
            'team': lambda facade: facade(actor),
            'sweeps': lambda facade: facade(self.sweeps, actor),
            'diagnostics': lambda facade: facade(self.diagnostics, actor),
            'cluster': lambda facade: _cluster(facade, self, actor),
            'model_tests': lambda facade: facade(self.model_tests, self.inference,
                                         self.files, actor),
        })
        return session

    def _facades(self, actor: Actor) -> Facades:
        """The areas an example project acts through, as `actor` (no page: no events)."""
        session = self.session(actor, None)
        return Facades(session.projects, session.datasets, session.training, session.models)

    def start(self) -> None:
        """Reattach to jobs that ran while the studio was down."""
        self.jobs.reconcile()
        if Sweep.select().where(Sweep.status == Sweep.OPEN).exists():  # (the sweep engine only for an open sweep)
            self.sweeps.reconcile()  # trials that ended while the studio was down are told
        self.example.advance()  # an example project whose stage ended while the studio was down goes on

    def warm_up(self) -> threading.Thread:
        """Import every area in a background thread (the first page was served without them): a later page or
        job then finds them imported."""
        thread = threading.Thread(target=lambda: [importlib.import_module(m) for m in AREAS], name='warm-up',
                                  daemon=True)
        thread.start()
        return thread

    def shutdown(self) -> None:
        """At exit: jobs keep running (the next start reattaches), model servers stop."""
        self.jobs.shutdown_children()
        if 'servers' in self.__dict__:
            self.servers.close_all()

    def poll(self) -> None:
        """The one global poller tick: job state and metrics, then system figures every 2 s."""
        self.jobs.poll()
        if 'training' in self.__dict__ or self.jobs.states:  # runs to read: the training engine (made if need be)
            self.training.poll()
        if (moved := self.access.moved()) is not None:
            self.bus.publish(AccessChanged(moved))
        if time.monotonic() - self._last_monitor >= 2.0:
            self._last_monitor = time.monotonic()
            self.monitor.sample()
            self.bus.publish(SystemSample(time.time()))
        self.bus.flush()


def _history(facade: type, actor: Actor, session: Session):
    from services.lab.history import restorers
    return facade(actor, restorers(session.training, session.experiments))


def _cluster(facade: type, studio: Studio, actor: Actor):
    from services.cluster import rates
    return facade(studio.settings, studio.slurm, lambda project: rates.measured(studio.training, project), actor,
                   studio.jobs, studio.files, studio.datasets)
