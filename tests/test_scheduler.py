"""The schedule lives in the database: restarts reuse it, never duplicate it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from connectors.replay import ReplayConnector, demo_feed_dir
from monitor import scheduler
from monitor.pipeline import Pipeline
from monitor.queue.states import QueueStatus
from monitor.scheduler import (
    ASSIGN_JOB,
    BREACH_JOB,
    BREACH_MINUTES,
    build_scheduler,
    queue_jobs,
    sync_jobs,
)
from monitor.settings import Settings, WorkflowSettings
from monitor.storage.database import Database, create_db_engine
from monitor.storage.models import QueueItem
from tests.conftest import NGRAM_CLASSIFIERS
from tests.factories import queue_item, user


def start_and_sync(url: str, intervals: dict[str, float]) -> dict[str, float]:
    """One process start: sync the configured sources, report the stored jobs."""
    engine = create_db_engine(url)
    scheduler = build_scheduler(engine, workers=1)
    scheduler.start(paused=True)
    sync_jobs(scheduler, intervals)
    jobs = {job.id: job.trigger.interval.total_seconds() / 60 for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    engine.dispose()
    return jobs


def test_restarts_keep_one_job_per_source(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    schedule = {"poll:replay": 1, "poll:twitter": 5, "check:twitter": 60}
    first = start_and_sync(url, schedule)
    second = start_and_sync(url, schedule)
    assert first == second == schedule


def test_changed_config_changes_the_stored_jobs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    start_and_sync(url, {"poll:replay": 1, "poll:twitter": 5})
    changed = {"poll:twitter": 10, "poll:reddit": 5}
    assert start_and_sync(url, changed) == changed


def with_pipeline(db_url: str, db: Database) -> None:
    """What `scheduling` gives the jobs: the pipeline on `db` (cleared by the caller)."""
    settings = Settings(storage={"url": db_url}, classifiers=NGRAM_CLASSIFIERS)  # type: ignore[arg-type]
    pipeline = Pipeline.from_settings(settings, db)
    scheduler._runtime.update({"replay": (pipeline, ReplayConnector("replay", demo_feed_dir()))})


def test_the_breach_job_stamps_overdue_items_once(db_url: str, db: Database) -> None:
    overdue = datetime.now(UTC) - timedelta(minutes=5)
    with db.transaction() as session:
        session.add(queue_item(due_at=overdue))
    with_pipeline(db_url, db)
    try:
        scheduler.breach_job("breaches")
        with db.transaction() as session:
            first = session.scalars(select(QueueItem.sla_breached_at)).one()
        scheduler.breach_job("breaches")
        with db.transaction() as session:
            assert session.scalars(select(QueueItem.sla_breached_at)).one() == first
    finally:
        scheduler._runtime.clear()
    assert first is not None and first > overdue
    assert start_and_sync(db_url, {"poll:replay": 1, BREACH_JOB: BREACH_MINUTES}) == {
        "poll:replay": 1,
        BREACH_JOB: BREACH_MINUTES,
    }


def test_the_assignment_job_runs_only_where_the_config_enables_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    enabled = queue_jobs(WorkflowSettings(auto_assign=True))
    assert ASSIGN_JOB in start_and_sync(url, {"poll:replay": 1, **enabled})
    disabled = queue_jobs(WorkflowSettings())
    assert start_and_sync(url, {"poll:replay": 1, **disabled}) == {
        "poll:replay": 1,
        BREACH_JOB: BREACH_MINUTES,
    }


def test_the_assignment_job_hands_items_round_robin_up_to_the_cap(
    db_url: str, db: Database
) -> None:
    with db.transaction() as session:
        session.add_all(
            [user("jana", on_shift=True), user("tom", on_shift=True), user("off", on_shift=False)]
        )
        session.add_all(queue_item(priority=90 - n) for n in range(5))
    with_pipeline(db_url, db)
    scheduler._workflow[scheduler.WORKFLOW] = WorkflowSettings(
        auto_assign=True, max_items_per_agent=2
    )
    try:
        scheduler.assign_job("queue")
        scheduler.assign_job("queue")  # a second run finds everyone at the cap
    finally:
        scheduler._runtime.clear()
        scheduler._workflow.clear()
    with db.transaction() as session:
        items = session.scalars(select(QueueItem).order_by(QueueItem.priority.desc())).all()
        handed = [item.assignee.name if item.assignee else None for item in items]
        statuses = [item.status for item in items]
    assert handed == ["jana", "tom", "jana", "tom", None]
    assert statuses == [QueueStatus.ASSIGNED] * 4 + [QueueStatus.NEW]
