"""The job runner: each job runs once per period, whichever hub process gets there first.

How a period is claimed (the choice is explained in ``docs/jobs.md``): the runner inserts a
``JobRun`` row for ``(job, period)`` with a fresh claim token and commits; the unique key lets
only one insert in, and only the runner whose token the row holds runs the job. The job's work
and its ``ok`` status commit in one transaction, so a crash in between leaves a ``running`` row
whose work rolled back; such a row, or a ``failed`` one, is claimed again (a conditional update
that only one runner can win) by a later check. Every job is also idempotent on its own
(coupon ids, expired lots, message ids), so even a retried period never doubles anything.
"""

import datetime as dt
import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from peewee import fn

from hub.db import database, transaction
from hub.jobs.models import JobRun

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a failed period is tried this many times in all, then waits for the owner
STALE_AFTER = dt.timedelta(hours=1)  # a "running" row this old was left by a process that died


@dataclass(frozen=True)
class JobContext:
    """What a job gets: the time (in the shop's zone), the zone, whether it only tells, the data dir."""

    now: dt.datetime
    tz: ZoneInfo
    dry_run: bool = False
    data_dir: Path = Path("/var/lib/hub")

    @property
    def today(self) -> dt.date:
        """The shop's local day."""
        return self.now.astimezone(self.tz).date()


class JobProblem(Exception):
    """A job that cannot run for a reason the owner must fix (not a bug): stored as its failed run's
    summary in both languages and shown on /jobs and as the home page's alert; logged in one line,
    without a traceback."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class JobResult:
    """What a run did, in one line per language, and the figures behind it."""

    summary_zh: str
    summary_en: str
    figures: dict[str, int] = field(default_factory=dict)
    lines: tuple[str, ...] = ()  # what a dry run would touch (member ids, files), for the owner to read

    def text(self) -> str:
        """The bilingual one-line summary stored with the run."""
        return f"{self.summary_zh} / {self.summary_en}"


@dataclass(frozen=True)
class Job:
    """A scheduled job: daily at ``hour`` local time, or every ``every_minutes`` minutes."""

    name: str
    title_zh: str
    title_en: str
    run: Callable[[JobContext], JobResult]
    hour: int = 3
    every_minutes: int = 0
    # False for a job that commits as it goes (the message sender: no lock held over the network)
    transactional: bool = True

    def period(self, now: dt.datetime, tz: ZoneInfo) -> str | None:
        """The period due at ``now`` (None before today's hour): ``2026-12-07`` or ``2026-12-07T10:15``."""
        local = now.astimezone(tz)
        if self.every_minutes:
            slot = (local.hour * 60 + local.minute) // self.every_minutes * self.every_minutes
            return f"{local.date().isoformat()}T{slot // 60:02d}:{slot % 60:02d}"
        if local.hour < self.hour:
            return None
        return local.date().isoformat()

    def next_run(self, now: dt.datetime, tz: ZoneInfo, done: bool) -> dt.datetime:
        """When the next period starts, given whether the current one is ``done``."""
        local = now.astimezone(tz)
        if self.every_minutes:
            start = local.replace(second=0, microsecond=0)
            return start + dt.timedelta(minutes=self.every_minutes - start.minute % self.every_minutes)
        today = local.replace(hour=self.hour, minute=0, second=0, microsecond=0)
        if local < today or (not done and self.period(now, tz) is not None):
            return today if local < today else local
        return today + dt.timedelta(days=1)


@dataclass(frozen=True)
class Outcome:
    """What happened to one job in one check: ran (ok or failed), or not (someone else has it)."""

    job: str
    period: str
    status: str  # ok, failed, taken (another runner holds it), dry-run
    summary: str
    result: JobResult | None = None


RUNNER_ID = f"{socket.gethostname()}:{os.getpid()}"


def _claim(job: str, period: str, now: dt.datetime) -> str | None:
    """Claim ``(job, period)`` for this runner; return the claim token, or None if another runner has it."""
    token = uuid.uuid4().hex
    with transaction():
        JobRun.insert(
            job=job, period=period, status="running", claim=token, runner=RUNNER_ID, started_at=now
        ).on_conflict_ignore().execute()
    row = JobRun.get(JobRun.job == job, JobRun.period == period)
    if row.claim == token:
        return token
    retry = (JobRun.status == "failed") & (JobRun.attempts < MAX_ATTEMPTS)
    stale = (JobRun.status == "running") & (JobRun.started_at < now - STALE_AFTER)
    with transaction():
        taken = (
            JobRun.update(
                status="running", claim=token, runner=RUNNER_ID, started_at=now, attempts=JobRun.attempts + 1
            )
            .where(JobRun.job == job, JobRun.period == period, retry | stale)
            .execute()
        )
    return token if taken == 1 else None


def run_job(job: Job, ctx: JobContext, period: str | None = None) -> Outcome:
    """Run ``job`` for ``period`` (default: the current one) if this runner wins the claim.

    A dry run claims nothing: it runs the job's own code in a transaction that is rolled back,
    and the job skips what the database cannot undo (files, sends).
    """
    period = period or job.period(ctx.now, ctx.tz) or ctx.today.isoformat()
    if ctx.dry_run:
        try:
            if not job.transactional:
                result = job.run(ctx)  # such a job changes nothing in a dry run by itself
            else:
                with database.atomic() as txn:
                    result = job.run(ctx)
                    txn.rollback()
        except JobProblem as exc:  # what the real run would store: the reason, in both languages
            return Outcome(job.name, period, "failed", str(exc))
        return Outcome(job.name, period, "dry-run", result.text(), result)
    token = _claim(job.name, period, ctx.now)
    if token is None:
        return Outcome(job.name, period, "taken", "")
    mine = (JobRun.job == job.name) & (JobRun.period == period) & (JobRun.claim == token)
    try:
        if job.transactional:
            with transaction():
                result = job.run(ctx)
                JobRun.update(status="ok", finished_at=ctx.now, summary=result.text()).where(mine).execute()
        else:
            result = job.run(ctx)
            with transaction():
                JobRun.update(status="ok", finished_at=ctx.now, summary=result.text()).where(mine).execute()
    except Exception as exc:  # any failure is recorded and shown; the runner goes on
        if isinstance(exc, JobProblem):  # the owner's to fix, said in both languages: no traceback
            log.warning("job %s (%s) cannot run: %s", job.name, period, exc.en)
            text = str(exc)
        else:
            log.error("job %s (%s) failed:\n%s", job.name, period, traceback.format_exc())
            text = f"{type(exc).__name__}: {exc}"
        with transaction():
            JobRun.update(status="failed", finished_at=ctx.now, summary=text[:2000]).where(mine).execute()
        return Outcome(job.name, period, "failed", text)
    return Outcome(job.name, period, "ok", result.text(), result)


def run_due(jobs: list[Job], ctx: JobContext) -> list[Outcome]:
    """Run every job whose current period has no finished run (a failed one is retried)."""
    outcomes = []
    for job in jobs:
        period = job.period(ctx.now, ctx.tz)
        if period is None:
            continue
        row = JobRun.get_or_none(JobRun.job == job.name, JobRun.period == period)
        if row is not None and row.status == "ok":
            continue
        if row is not None and row.status == "failed" and row.attempts >= MAX_ATTEMPTS:
            continue
        if row is not None and row.status == "running" and row.started_at > ctx.now - STALE_AFTER:
            continue
        outcomes.append(run_job(job, ctx, period))
    return outcomes


@dataclass(frozen=True)
class JobStatus:
    """A job as the dashboard lists it: the last run (period, status, summary, when) and the next."""

    job: Job
    last: JobRun | None
    next_run: dt.datetime


def status(jobs: list[Job], now: dt.datetime, tz: ZoneInfo) -> list[JobStatus]:
    """Every job with its latest run and when it runs next."""
    out = []
    for job in jobs:
        last = (
            JobRun.select().where(JobRun.job == job.name).order_by(JobRun.started_at.desc(), JobRun.id.desc())
        )
        row = last.first()
        # a period is over when it succeeded, or failed as often as the runner tries
        finished = row is not None and (
            row.status == "ok" or (row.status == "failed" and row.attempts >= MAX_ATTEMPTS)
        )
        done = finished and row is not None and row.period == job.period(now, tz)
        out.append(JobStatus(job, row, job.next_run(now, tz, done)))
    return out


def failed_jobs() -> list[JobRun]:
    """Jobs whose latest run failed, newest first: the overview shows them as an alert."""
    latest = JobRun.select(JobRun.job, fn.MAX(JobRun.id).alias("last")).group_by(JobRun.job)
    ids = [row.last for row in latest]
    if not ids:
        return []
    query = JobRun.select().where(JobRun.id.in_(ids), JobRun.status == "failed")
    return list(query.order_by(JobRun.started_at.desc()))


def history(job: str, limit: int = 30) -> list[JobRun]:
    """The latest runs of one job, newest first."""
    query = JobRun.select().where(JobRun.job == job)
    return list(query.order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit))


class Scheduler(threading.Thread):
    """``hub serve``'s background thread: runs the due jobs every ``interval`` seconds until stopped."""

    def __init__(
        self,
        jobs: Callable[[], list[Job]],
        tz: ZoneInfo,
        data_dir: Path,
        interval: float = 60.0,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__(name="hub-jobs", daemon=True)
        self._jobs = jobs
        self._tz = tz
        self._data_dir = data_dir
        self._interval = interval
        self._clock = clock or (lambda: dt.datetime.now(tz))
        self._stop = threading.Event()
        self.checks = 0

    def run(self) -> None:
        """Check, then wait ``interval`` (or until stopped); a check that fails is logged, never fatal."""
        while not self._stop.is_set():
            try:
                run_due(self._jobs(), JobContext(self._clock(), self._tz, data_dir=self._data_dir))
            except Exception:  # e.g. the database briefly away: try again next minute
                log.exception("job check failed")
            finally:
                database.close()
            self.checks += 1
            self._stop.wait(self._interval)

    def stop(self) -> None:
        """Stop after the current check."""
        self._stop.set()
        self.join(timeout=30)
