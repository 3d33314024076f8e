"""The schedule lives in the database: restarts reuse it, never duplicate it."""

from __future__ import annotations

from pathlib import Path

from monitor.scheduler import build_scheduler, sync_jobs
from monitor.storage.database import create_db_engine


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
