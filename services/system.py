"""This machine as pages see it: the latest CPU/RAM/GPU sample, its recent history and the devices jobs can use."""
from __future__ import annotations

from dataclasses import dataclass

from services.monitor import GpuFigures, SystemFigures, SystemMonitor

__all__ = ['GpuFigures', 'ProcessFigures', 'System', 'SystemFigures']


@dataclass(frozen=True)
class ProcessFigures:
    cpu: float  # percent of one core, summed over the process tree
    rss: int  # bytes


class System:
    """Read-only facade over the system monitor (sampled by the global poller, never by a page)."""

    def __init__(self, monitor: SystemMonitor) -> None:
        self._monitor = monitor

    @property
    def now(self) -> SystemFigures:
        return self._monitor.now

    def cpu_history(self) -> list[float]:
        return list(self._monitor.cpu_history)

    def history(self, since: float = 0.0) -> list[tuple[float, SystemFigures]]:
        """(time, figures) samples newer than `since`, oldest first."""
        return [(t, f) for t, f in self._monitor.history if t > since]

    def process(self, pid: int | None) -> ProcessFigures | None:
        figures = self._monitor.process(pid)
        return ProcessFigures(*figures) if figures else None

    def devices(self) -> list[tuple[str, str]]:
        """(value, label) of the devices a job may use: the CPU and each GPU."""
        return self._monitor.devices()

    @property
    def gpu_error(self) -> str:
        return self._monitor.gpu_error
