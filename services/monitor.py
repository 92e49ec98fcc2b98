"""System figures (CPU, RAM, GPU) sampled by the global poller; GPUs through pynvml when present."""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import psutil


@dataclass
class GpuFigures:
    index: int
    name: str
    util: float
    mem_used: int
    mem_total: int


@dataclass
class SystemFigures:
    cpu: float = 0.0
    ram_used: int = 0
    ram_total: int = 0
    gpus: list[GpuFigures] = field(default_factory=list)


class SystemMonitor:
    def __init__(self, history: int = 60) -> None:
        self.now = SystemFigures(ram_total=psutil.virtual_memory().total)
        self.cpu_history: deque[float] = deque(maxlen=history)
        self._procs: dict[int, psutil.Process] = {}
        self._process_figures: dict[int | None, tuple[float, int] | None] = {}  # as of the sample at…
        self._figures_stamp: float | None = None
        self.history: deque[tuple[float, SystemFigures]] = deque(maxlen=900)  # (time, figures): 30 min at 2 s
        self.gpu_error = ''
        self._nvml = self._init_nvml()
        psutil.cpu_percent(None)  # prime the counter so the first sample is meaningful

    def sample(self) -> SystemFigures:
        mem = psutil.virtual_memory()
        self.now = SystemFigures(cpu=psutil.cpu_percent(None), ram_used=mem.total - mem.available,
                                 ram_total=mem.total, gpus=self._gpus())
        self.cpu_history.append(self.now.cpu)
        self.history.append((time.time(), self.now))
        return self.now

    def process(self, pid: int | None) -> tuple[float, int] | None:
        """CPU % and resident memory (bytes) of a process and its children, e.g. a training job, as of the latest
        sample: read once per sample however many pages ask (25 people on a run page are 25 askers; a Process's
        CPU % covers the time since it was last asked, so the second asker of a sample read ~0 %)."""
        stamp = self.history[-1][0] if self.history else None
        if stamp != self._figures_stamp:
            self._process_figures, self._figures_stamp = {}, stamp
        if stamp is not None and pid in self._process_figures:
            return self._process_figures[pid]
        try:
            root = psutil.Process(pid)
            procs = [self._procs.setdefault(p.pid, p) for p in (root, *root.children(recursive=True))]
            # a Process remembers its last CPU time: kept between calls so the percentage covers the interval
            figures = (sum(p.cpu_percent(None) for p in procs), sum(p.memory_info().rss for p in procs))
        except (psutil.Error, TypeError, ValueError):
            figures = None
        self._process_figures[pid] = figures
        return figures

    def _init_nvml(self):
        try:
            import warnings
            with warnings.catch_warnings():  # pynvml now re-exports nvidia-ml-py and warns about it
                warnings.simplefilter('ignore', FutureWarning)
                import pynvml
        except ImportError:
            self.gpu_error = 'GPU figures unavailable (pynvml is not installed); jobs run on the CPU.'
            return None
        try:
            pynvml.nvmlInit()
            return pynvml
        except (pynvml.NVMLError, OSError):  # no NVIDIA driver: the studio runs on CPU
            self.gpu_error = 'No NVIDIA GPU found (no NVIDIA driver answers); jobs run on the CPU.'
            return None

    def _gpus(self) -> list[GpuFigures]:
        if self._nvml is None:
            return []
        nv = self._nvml
        out = []
        try:
            for i in range(nv.nvmlDeviceGetCount()):
                h = nv.nvmlDeviceGetHandleByIndex(i)
                mem = nv.nvmlDeviceGetMemoryInfo(h)
                name = nv.nvmlDeviceGetName(h)
                out.append(GpuFigures(i, name.decode() if isinstance(name, bytes) else name,
                                      float(nv.nvmlDeviceGetUtilizationRates(h).gpu), int(mem.used),
                                      int(mem.total)))
        except nv.NVMLError as e:
            self.gpu_error = f'GPU figures unavailable: {e}'
        return out

    def devices(self) -> list[tuple[str, str]]:
        """Devices a job can run on: ('cpu', label) and ('gpu:N', label) for each GPU."""
        return [('cpu', 'CPU')] + [(f'gpu:{g.index}', f'GPU {g.index} · {g.name}') for g in self.now.gpus]
