"""Polling every source (and re-checking stored posts, recording SLA breaches, checking for
spikes hourly, delivering alerts and, where enabled, assigning queue items) on its interval
with APScheduler 3.

Jobs live in the database (SQLAlchemy job store) under fixed ids, so a restart picks up
the existing schedule instead of adding a second copy of each job.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from connectors.base import Connector
from monitor.alerts.check import check_all
from monitor.alerts.outbox import Outbox
from monitor.compliance import recheck
from monitor.pipeline import Pipeline
from monitor.queue.assignment import reoffer_waiting
from monitor.queue.breaches import record_breaches
from monitor.settings import DigestSettings, Settings, WorkflowSettings
from monitor.storage.database import Database

log = logging.getLogger(__name__)

# APScheduler stores a job as a text reference plus picklable arguments, so the job function
# finds the live pipeline and connectors here, set once by `run_scheduler`.
_runtime: dict[str, tuple[Pipeline, Connector]] = {}
_workflow: dict[str, WorkflowSettings] = {}
"""The `[workflow]` settings the assignment job reads (under `WORKFLOW`), set by `scheduling`."""
WORKFLOW = "workflow"
_digest: dict[str, Settings] = {}
"""The settings the digest job reads (under `DIGEST`), set by `scheduling` when digests are on."""
DIGEST = "digest"
_alerting: dict[str, Outbox] = {}
"""The alerts' outbox (with the settings the check reads) under `ALERTS`, set by `scheduling`."""
ALERTS = "alerts"


def poll_job(source: str) -> None:
    """The scheduled job: poll one source and log what happened."""
    pipeline, connector = _runtime[source]
    report = pipeline.poll(connector)
    log.info(
        "%s: fetched %d, new %d, flagged %d%s",
        source,
        report.fetched,
        report.stored,
        report.flagged,
        f", FAILING: {report.failure}" if report.failure else "",
    )


def check_job(source: str) -> None:
    """The scheduled job: re-check stored posts of one source for deletions and edits."""
    pipeline, connector = _runtime[source]
    report = recheck(pipeline.db, connector)
    log.info(
        "%s: re-checked %d, deleted %d, edited %d%s",
        source,
        report.checked,
        report.deleted,
        report.edited,
        f", FAILING: {report.failure}" if report.failure else "",
    )


def _database() -> Database:
    """The database the queue's own jobs work on (every source's pipeline shares it)."""
    return next(iter(_runtime.values()))[0].db


def breach_job(_name: str) -> None:
    """The scheduled job: record the queue's new SLA breaches (once per item)."""
    with _database().transaction() as session:
        breached = record_breaches(session, datetime.now(UTC))
    if breached:
        log.warning("SLA: %d queue items newly overdue", breached)


def assign_job(_name: str) -> None:
    """The scheduled job: re-offer assigned items nobody started on in time, then hand out
    the unassigned ones round-robin to the members on shift, up to the per-agent cap."""
    rules = _workflow[WORKFLOW]
    with _database().transaction() as session:
        handed = reoffer_waiting(
            session, timedelta(minutes=rules.reoffer_after_minutes), rules.max_items_per_agent
        )
    if handed:
        log.info("assignment: %d queue items handed out", len(handed))


def digest_job(_name: str) -> None:
    """The scheduled job: send every digest for every day it owes (`deliver_due`), so the
    daily run sends yesterday's, and the hourly run retries what failed or was missed."""
    from monitor.digest.delivery import deliver_due, spike_provider
    from monitor.digest.sender import SmtpSender

    settings = _digest[DIGEST]
    for outcome in deliver_due(
        _database(), settings, SmtpSender(settings.digest), spikes=spike_provider(settings.web)
    ):
        log.info("digest %s for %s: %s", outcome.name, outcome.day, outcome.status.value)


def alert_check_job(_name: str) -> None:
    """The scheduled job: the hourly spike check, then the messages it owes."""
    outbox = _alerting[ALERTS]
    report = check_all(outbox.db, outbox.settings, datetime.now(UTC))
    if report.opened or report.closed:
        log.warning("alerts: %d opened, %d closed", len(report.opened), len(report.closed))
    outbox.deliver()


def outbox_job(_name: str) -> None:
    """The scheduled job: deliver the alerts' pending mails and chat messages (a crisis
    alert, written while its post was queued, goes out within a minute)."""
    report = _alerting[ALERTS].deliver()
    if report.sent:
        log.info("alerts: %d messages sent", report.sent)


JOBS: dict[str, Callable[[str], None]] = {
    "poll": poll_job,
    "check": check_job,
    "sla": breach_job,
    "assign": assign_job,
    "digest": digest_job,
    "alerts": alert_check_job,
    "outbox": outbox_job,
}
"""Job kinds by id prefix: a job id is `KIND:SOURCE` (`sla:breaches`, `assign:queue` for the
queue's own)."""
BREACH_JOB, BREACH_MINUTES = "sla:breaches", 1.0
"""Breaches are stamped at most a minute late."""
ASSIGN_JOB, ASSIGN_MINUTES = "assign:queue", 1.0
"""New items reach someone on shift within a minute."""
ALERT_JOBS = {"alerts:check": 60.0, "outbox:alerts": 1.0}
"""The spike check every hour; alert messages out within a minute."""


def queue_jobs(workflow: WorkflowSettings) -> dict[str, float]:
    """The queue's own jobs: breaches always, assignment where `[workflow] auto_assign` is on
    (turning it off removes the stored job)."""
    jobs = {BREACH_JOB: BREACH_MINUTES}
    if workflow.auto_assign:
        jobs[ASSIGN_JOB] = ASSIGN_MINUTES
    return jobs


DIGEST_DAILY, DIGEST_RETRY, DIGEST_RETRY_MINUTES = "digest:daily", "digest:retry", 60.0
"""The daily digest at `[digest] time`; the hourly run sends what failed or was missed."""


def digest_jobs(digest: DigestSettings) -> dict[str, float | BaseTrigger]:
    """The digest's jobs where anyone receives a digest, else none (removing stored ones)."""
    if not digest.digests():
        return {}
    daily = CronTrigger(hour=digest.time.hour, minute=digest.time.minute, timezone=digest.timezone)
    return {DIGEST_DAILY: daily, DIGEST_RETRY: DIGEST_RETRY_MINUTES}


def _trigger(spec: float | BaseTrigger) -> BaseTrigger:
    """Minutes are an interval; a trigger (the digest's cron) is used as it is."""
    return spec if isinstance(spec, BaseTrigger) else IntervalTrigger(minutes=spec, timezone=UTC)


def _same_trigger(stored: BaseTrigger, wanted: BaseTrigger) -> bool:
    zone = getattr(stored, "timezone", None), getattr(wanted, "timezone", None)
    return str(stored) == str(wanted) and str(zone[0]) == str(zone[1])


def build_scheduler(engine: Engine, workers: int) -> BackgroundScheduler:
    """A scheduler whose jobs are stored in the product's database."""
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        executors={"default": ThreadPoolExecutor(max_workers=max(1, workers))},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )


def sync_jobs(scheduler: BackgroundScheduler, schedule: dict[str, float | BaseTrigger]) -> None:
    """Make the stored jobs match `schedule` (job id → minutes or a trigger): one job each, no
    copies. A new job runs at once (the digest's catches up on a day it owes)."""
    for job in scheduler.get_jobs():
        if job.id not in schedule:
            job.remove()
    for job_id, spec in schedule.items():
        kind, source = job_id.split(":", 1)
        trigger = _trigger(spec)
        job = scheduler.get_job(job_id)
        if job is None:
            scheduler.add_job(
                JOBS[kind],
                trigger,
                args=[source],
                id=job_id,
                name=f"{kind} {source}",
                next_run_time=datetime.now(UTC),
            )
        elif not _same_trigger(job.trigger, trigger):
            job.reschedule(trigger)


@contextmanager
def scheduling(
    pipeline: Pipeline,
    connectors: list[Connector],
    schedule: dict[str, float],
    workflow: WorkflowSettings,
    settings: Settings | None = None,
    alerting: Outbox | None = None,
) -> Iterator[None]:
    """The jobs run in background threads for the `with` block; at its end a poll in
    progress finishes its page, then the scheduler stops. With `settings`, the digest's jobs
    run too (where `[digest]` names recipients); with `alerting`, the hourly spike check and
    the alerts' delivery."""
    _runtime.clear()
    _runtime.update({c.source: (pipeline, c) for c in connectors})
    _workflow[WORKFLOW] = workflow
    jobs: dict[str, float | BaseTrigger] = {**schedule, **queue_jobs(workflow)}
    if settings is not None:
        _digest[DIGEST] = settings
        jobs |= digest_jobs(settings.digest)
        if DIGEST_DAILY in jobs:
            names = ", ".join(mail.name for mail in settings.digest.digests())
            log.info(
                "digest %s daily at %s %s",
                names,
                settings.digest.time.strftime("%H:%M"),
                settings.digest.timezone,
            )
    _alerting.clear()
    if alerting is not None:
        _alerting[ALERTS] = alerting
        jobs |= ALERT_JOBS
    # a worker of its own for the alerts, so that a slow mail server never delays a poll
    workers = len(connectors) + (alerting is not None)
    scheduler = build_scheduler(pipeline.db.engine, workers)
    scheduler.start(paused=True)
    sync_jobs(scheduler, jobs)
    scheduler.resume()
    try:
        yield
    finally:
        pipeline.stopping.set()
        scheduler.shutdown(wait=True)


@contextmanager
def stop_signals(what: str) -> Iterator[threading.Event]:
    """SIGINT and SIGTERM set the yielded event during the `with` block; entered before
    anything starts, so that a signal during start-up also stops cleanly. `what` tells the log
    what happens next."""
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, %s", signal.Signals(signum).name, what)
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
