"""The order of the queue: which slots a job holds and where it stands in line."""
from __future__ import annotations

from services.store import Job


def slots_of(device: str) -> list[str]:
    """The slots a job holds: '' none, 'cpu', 'gpu:0', or several for one job, 'gpu:0,gpu:1'."""
    return [s.strip() for s in (device or '').split(',') if s.strip()]


def queue_key(job: Job) -> float:
    """Queue order: by id, unless `reorder` gave the job another place (a key some earlier job had)."""
    return float((job.spec or {}).get('queue_key', job.id))


def queued(slot: str | None = None) -> list[Job]:
    """Queued jobs (those needing `slot`, or any of a comma-separated list, if given) in start order."""
    jobs = Job.select().where(Job.status == 'queued')
    if slot is not None:
        wanted = set(slots_of(slot))
        jobs = [j for j in jobs if wanted & set(slots_of(j.device))]
    return sorted(jobs, key=queue_key)


def position(job_id: int) -> tuple[int, int] | None:
    """(0-based place, length) of a queued job in the line of its slot; None when not queued."""
    job = Job.get_or_none(Job.id == job_id)
    if job is None or job.status != 'queued':
        return None
    line = [j.id for j in queued(job.device)]
    return line.index(job.id), len(line)


def reorder(job_id: int, position: int) -> bool:
    """Move a queued job to `position` (0 = next) among the queued jobs of its slot; False if it is not queued."""
    job = Job.get_by_id(job_id)
    if job.status != 'queued':
        return False
    line = queued(job.device)
    keys = sorted(queue_key(j) for j in line)  # the same keys, handed out in the new order
    line = [j for j in line if j.id != job.id]
    line.insert(max(0, min(position, len(line))), job)
    for key, item in zip(keys, line):
        item.spec = {**(item.spec or {}), 'queue_key': key}
        item.save()
    return True
