"""The schedule lives in the database: restarts reuse it, never duplicate it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from connectors.replay import ReplayConnector, demo_feed_dir
from monitor import scheduler
from monitor.pipeline import Pipeline
from monitor.scheduler import BREACH_JOB, BREACH_MINUTES, build_scheduler, sync_jobs
from monitor.settings import Settings
from monitor.storage.database import Database, create_db_engine
from monitor.storage.models import QueueItem
from tests.conftest import NGRAM_CLASSIFIERS
from tests.factories import queue_item


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


def test_the_breach_job_stamps_overdue_items_once(db_url: str, db: Database) -> None:
    overdue = datetime.now(UTC) - timedelta(minutes=5)
    with db.transaction() as session:
        session.add(queue_item(due_at=overdue))
    settings = Settings(storage={"url": db_url}, classifiers=NGRAM_CLASSIFIERS)  # type: ignore[arg-type]
    pipeline = Pipeline.from_settings(settings, db)
    scheduler._runtime.update({"replay": (pipeline, ReplayConnector("replay", demo_feed_dir()))})
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
