"""The order of the queue: which slots a job holds and where it stands in line."""
from __future__ import annotations

from services.store import Job


def slots_of(device: str) -> list[str]:
    """The slots a job holds: '' none, 'cpu', 'gpu:0', or several for one job, 'gpu:0,gpu:1'."""
    return [s.strip() for s in (device or '').split(',') if s.strip()]


def queue_key(job: Job) -> float:
    """Queue order: by id, unless `reorder` gave the job another place (a key some earlier job had)."""
    return float((job.spec or {}).get('queue_key', job.id))
