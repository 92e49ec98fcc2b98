"""GPU-hours from the cluster's accounting (sacct: elapsed × GPUs allocated) and the estimate before a launch
(measured steps/s × planned steps × GPUs × the price of a GPU-hour set in Settings)."""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

GPUS = re.compile(r'gres/gpu(?::[^=,]+)?=(\d+)')
TIMEOUT_S = 10


@dataclass(frozen=True)
class Usage:
    """What SLURM accounted for some jobs."""
    jobs: int = 0
    gpu_hours: float = 0.0
    hours: float = 0.0  # wall time, whatever was allocated
    unanswered: str = ''  # why sacct gave no figures (e.g. 'sacct did not answer within 10 s'); '' when it did

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.jobs + other.jobs, self.gpu_hours + other.gpu_hours, self.hours + other.hours,
                     self.unanswered or other.unanswered)

    def cost(self, price: float) -> float:
        return self.gpu_hours * price


@dataclass(frozen=True)
class Estimate:
    """A run's expected GPU-hours and cost, and what they rest on."""
    steps_per_s: float
    steps: int
    gpus: int
    gpu_hours: float
    hours: float
    cost: float
    basis: str  # which run's speed it uses

    def words(self, price: float) -> str:
        hours = f'{self.hours:.1f} h' if self.hours >= 1 else f'{self.hours * 60:.0f} min'
        text = f'about {hours} at {self.steps_per_s:.2f} steps/s ({self.basis})'
        if self.gpus:
            text += f', {self.gpu_hours:.1f} GPU-hours'
            if price:
                text += f', about {self.cost:.2f} at {price:g} a GPU-hour'
        return text


def usage(slurm_ids: list[str]) -> Usage:
    """GPU-hours of these SLURM jobs from sacct (allocation-level records only)."""
    if not slurm_ids:
        return Usage()
    try:
        out = subprocess.run(['sacct', '-n', '-P', '-X', '-o', 'JobIDRaw,ElapsedRaw,AllocTRES',
                              '-j', ','.join(slurm_ids)], capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return Usage(unanswered=f'sacct did not answer within {TIMEOUT_S} s')
    except OSError as e:
        return Usage(unanswered=f'sacct: {e.strerror or e}')
    if out.returncode != 0:
        said = (out.stderr.strip().splitlines() or [f'exit code {out.returncode}'])[-1]
        return Usage(unanswered=f'sacct: {said[:160]}')
    return parse(out.stdout, slurm_ids)


def parse(text: str, slurm_ids: list[str]) -> Usage:
    total = Usage()
    for line in text.splitlines():
        parts = line.strip().split('|')
        if len(parts) != 3 or parts[0] not in slurm_ids:
            continue
        try:
            seconds = int(parts[1] or 0)
        except ValueError:
            continue
        gpus = sum(int(n) for n in GPUS.findall(parts[2]))
        total = total + Usage(1, seconds * gpus / 3600, seconds / 3600)
    return total


def estimate(steps_per_s: float, steps: int, gpus: int, price: float, basis: str) -> Estimate | None:
    if not steps_per_s or steps_per_s <= 0 or steps <= 0:
        return None
    hours = steps / steps_per_s / 3600
    gpu_hours = hours * max(0, gpus)
    return Estimate(steps_per_s, steps, max(0, gpus), gpu_hours, hours, gpu_hours * price, basis)
