"""Diagnostics: the error history, the install doctor's report and the bundle a user attaches to a bug report.

The history has two sources. Failed and interrupted jobs are already kept by the job engine (the `job` table,
with their message and log), so they are read from there. Errors of the studio itself — an exception a page
or a handler did not expect, caught at the page boundary (app/main.py) — go to `logs/errors.jsonl` in the data
folder: an append-only file, not a table, because it is written at the moment something went wrong (the
database may be what failed) and it is trimmed like a log, not migrated or backed up with the projects.
"""
from __future__ import annotations

import io
import json
import logging
import platform
import re
import sys
import threading
import time
import traceback
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from services import access, doctor, logs
from services.access import Action, Actor
from services.doctor import Doctor, DoctorReport
from services.i18n import _
from services.jobs import JobService
from services.settings import SettingsService
from services.store import Job, SignIn

log = logging.getLogger(__name__)
KEEP = 500  # page errors kept in the history file
HISTORY = 50  # entries the page shows
FAILED = ('failed', 'interrupted')
SECRET_KEY = re.compile(r'pass|secret|token|session|hash|key|cookie', re.IGNORECASE)
SECRET_TEXT = re.compile(r'((?:token|secret|password|session_?id|cookie)[\w-]*(?:=|": ?"))[^\s&"\']+', re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """One entry of the error history."""
    when: float  # epoch seconds
    where: str  # 'job' or the page's path
    what: str  # a sentence
    job_id: int | None = None
    title: str = ''  # the job's title


class ErrorHistory:
    """The studio's own errors, one JSON line each."""

    def __init__(self, data_dir: Path) -> None:
        self.path = logs.folder(data_dir) / 'errors.jsonl'
        self._lock = threading.Lock()

    def record(self, where: str, error: BaseException) -> Problem:
        """Keep an unexpected exception (its traceback goes to the studio log and the bundle, never the page)."""
        problem = Problem(time.time(), where, f'{type(error).__name__}: {error}'[:500])
        trace = ''.join(traceback.format_exception(type(error), error, error.__traceback__))[-8000:]
        log.error('Unexpected error on %s\n%s', where, trace)
        line = json.dumps({'when': problem.when, 'where': where, 'what': problem.what, 'trace': trace})
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open('a', encoding='utf-8') as out:
                out.write(line + '\n')
            self._trim()
        return problem

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding='utf-8', errors='replace').splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line cut by a crash
        return out

    def _trim(self) -> None:
        lines = self.path.read_text(encoding='utf-8', errors='replace').splitlines()
        if len(lines) > KEEP * 1.2:
            self.path.write_text('\n'.join(lines[-KEEP:]) + '\n', encoding='utf-8')


class DiagnosticsService:
    """The engine: the history, the doctor and the bundle."""

    def __init__(self, data_dir: Path, settings: SettingsService, jobs: JobService, doctor_: Doctor) -> None:
        self.data_dir = data_dir
        self.settings = settings
        self.jobs = jobs
        self.doctor = doctor_
        self.errors = ErrorHistory(data_dir)

    def history(self, limit: int = HISTORY) -> list[Problem]:
        """Failed jobs and page errors, newest first."""
        pages = [Problem(e['when'], e['where'], _sentence(e['what'])) for e in self.errors.entries()[-limit:]]
        rows = Job.select().where(Job.status.in_(FAILED)).order_by(Job.id.desc()).limit(limit)
        jobs = [Problem((j.ended or j.created).timestamp(), 'job', j.message or _('The job {status}.')
                        .format(status=_(j.status)), j.id, j.title) for j in rows]
        return sorted(pages + jobs, key=lambda p: p.when, reverse=True)[:limit]

    def last_failed_job(self) -> int | None:
        row = Job.select(Job.id).where(Job.status.in_(FAILED)).order_by(Job.id.desc()).first()
        return row.id if row is not None else None

    def bundle(self, job_id: int | None = None) -> bytes:
        """The zip for a bug report (slow: it runs the doctor when it has no report yet)."""
        report = self.doctor.last or self.doctor.run()
        job_id = job_id if job_id is not None else self.last_failed_job()
        parts = {
            'versions.json': json.dumps(self._versions(report), indent=2),
            'doctor.txt': _doctor_text(report),
            'settings.json': json.dumps(_without_secrets(self.settings.all()), indent=2),
            'errors.jsonl': '\n'.join(json.dumps(e) for e in self.errors.entries()[-100:]),
            'studio.log': logs.tail(self.data_dir, 2000),
            'failed-jobs.txt': '\n'.join(f'{time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(p.when))}  job '
                                         f'{p.job_id} {p.title}: {p.what}' for p in self.history() if p.job_id),
        }
        if job_id is not None:
            parts[f'job-{job_id}-log.txt'] = self.jobs.log_tail(job_id, 200_000)
        secrets = _known_secrets(self.data_dir)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as z:
            for name, text in parts.items():
                z.writestr(name, scrub(text, secrets))
        return buffer.getvalue()

    def _versions(self, report: DoctorReport) -> dict:
        return {'studio': _version('rave-studio'), 'nicegui': _version('nicegui'),
                'python': sys.version, 'platform': platform.platform(), 'job python': report.probe,
                'ffmpeg': doctor.tool_version('ffmpeg'), 'ffprobe': doctor.tool_version('ffprobe'),
                'gpus': doctor.nvidia_smi() or 'none found (nvidia-smi)'}


@access.acts
class Diagnostics:
    """Diagnostics as the acting user may see them: everything here shows the whole studio (every user's jobs,
    the settings, the machine), so it is for whoever may change the settings."""

    def __init__(self, engine: DiagnosticsService, actor: Actor) -> None:
        self._engine = engine
        self.actor = actor

    @property
    def allowed(self) -> bool:
        return access.allowed(self.actor, Action.SETTINGS)

    @property
    def log_file(self) -> Path:
        return logs.folder(self._engine.data_dir) / logs.FILE

    @access.reads
    def history(self) -> list[Problem]:
        access.require(self.actor, Action.SETTINGS)
        return self._engine.history()

    @access.reads
    def report(self) -> DoctorReport | None:
        """The doctor's last report (None before the first check)."""
        access.require(self.actor, Action.SETTINGS)
        return self._engine.doctor.last

    @access.reads
    def check(self) -> DoctorReport:
        """Run the doctor again (slow: off the event loop)."""
        access.require(self.actor, Action.SETTINGS)
        return self._engine.doctor.run()

    def bundle(self, job_id: int | None = None) -> bytes:
        """The diagnostics zip (slow: off the event loop)."""
        access.require(self.actor, Action.SETTINGS)
        return self._engine.bundle(job_id)


def scrub(text: str, secrets: set[str]) -> str:
    """`text` with every known secret and every `token=…`-like value replaced."""
    for secret in secrets:
        text = text.replace(secret, '[removed]')
    return SECRET_TEXT.sub(r'\1[removed]', text)


def _known_secrets(data_dir: Path) -> set[str]:
    """The storage secret and the session keys: never in a bundle, whatever a log line says."""
    found = {row.key for row in SignIn.select(SignIn.key)}
    secret = data_dir / '.storage_secret'
    if secret.exists():
        found.add(secret.read_text().strip())
    return {s for s in found if len(s) >= 8}


def _without_secrets(values: dict) -> dict:
    return {k: '[removed]' if SECRET_KEY.search(k) else v for k, v in values.items()}


def _sentence(what: str) -> str:
    """A page error as the history page says it (the exception's name stays in the bundle)."""
    message = what.split(': ', 1)[-1].strip()
    if message:
        return _('Something went wrong that the studio did not expect ({message}).').format(message=message)
    return _('Something went wrong that the studio did not expect.')


def _doctor_text(report: DoctorReport) -> str:
    lines = [f'Install doctor, {time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(report.when))}']
    for c in report.checks:
        lines.append(f'[{c.status}] {c.name}: {c.detail}' + (f'\n       what to do: {c.fix}' if c.fix else ''))
    return '\n'.join(lines)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return 'not installed'
