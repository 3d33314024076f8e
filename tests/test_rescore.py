"""`rufwacht rescore`: open queue items judged again with the champion; what changed is kept,
and an item the new models would not queue is marked for review, never dropped."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from classifiers.model_registry import Registry, register_version
from monitor.cli import app
from monitor.queue import QueueFilter, list_items
from monitor.queue.states import QueueStatus
from monitor.rescore import rescore
from monitor.runtime import Runtime
from monitor.settings import Settings
from monitor.storage.database import Database
from monitor.storage.models import AuditEntry, PostRecord, QueueItem
from tests import factories
from tests.conftest import write_config
from tests.registry_models import (
    TOLERANCE,
    bundled_figures,
    card,
    dismissive_triage,
    fast_registry,
    runtime_on,
    trained_model,
)

COMPLAINTS = (
    "@DB_Bahn ICE 578 fällt schon wieder aus, keine Durchsage. Unzumutbar!",
    "Telekom: seit drei Tagen kein Internet, niemand meldet sich. Frechheit.",
)
SINCE = factories.T0 - timedelta(days=1)
runner = CliRunner()


def queue_complaints(runtime: Runtime) -> list[int]:
    """Store and judge the complaints as the pipeline does; their queue items' ids."""
    with runtime.database.transaction() as session:
        posts = [factories.stored_post(text) for text in COMPLAINTS]
        session.add_all(posts)
        session.flush()
        assert runtime.pipeline.analyse(session, posts) == len(posts)
        session.flush()
        return [post.queue_item.id for post in posts if post.queue_item]


def promote_dismissive_triage(registry: Registry, tmp_path: Path) -> None:
    model = dismissive_triage(tmp_path, "triage-dismissive")
    register_version(registry, "triage", model, {"metrics": {}, "training_command": "test"})
    registry.promote(
        "triage-dismissive", "triage", TOLERANCE, force=True, reason="Test: queues nothing"
    )


def test_items_the_new_champion_would_not_queue_are_marked_not_dropped(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    registry = fast_registry(tmp_path / "models")
    runtime = runtime_on(settings, db, registry)
    ids = queue_complaints(runtime)
    promote_dismissive_triage(registry, tmp_path)

    report = rescore(db, runtime.judge, runtime.pipeline.clock, SINCE)

    assert report.checked == 2 and len(report.unflagged) == 2
    with db.transaction() as session:
        items = [session.get_one(QueueItem, item_id) for item_id in ids]
        assert [item.status for item in items] == [QueueStatus.NEW] * 2  # still in the queue
        assert [item.recheck for item in items] == ["unflagged"] * 2
        marked = list_items(session, QueueFilter(recheck="unflagged"))
        assert sorted(item.id for item in marked) == sorted(ids)
        verdict = items[0].post.verdict
        assert verdict is not None and not verdict.flagged
        assert verdict.models["triage"].startswith("triage-dismissive")
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.item_id == ids[0], AuditEntry.action == "rescore")
        ).one()
        assert "würde nicht mehr gemeldet" in (entry.comment or "")
        assert entry.details["before"]["flagged"] is True
        assert entry.details["before"]["models"]["triage"].startswith("triage-2.0")
        assert entry.details["no_longer_flagged"] is True

    registry.rollback("triage")
    again = rescore(db, runtime.judge, runtime.pipeline.clock, SINCE)
    assert len(again.changes) == 2 and not again.unflagged
    with db.transaction() as session:
        assert [session.get_one(QueueItem, i).recheck for i in ids] == [None, None]


def test_a_new_sentiment_model_adds_scores_under_its_version_and_keeps_the_old(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    registry = fast_registry(tmp_path / "models")
    runtime = runtime_on(settings, db, registry)
    ids = queue_complaints(runtime)
    model = trained_model(tmp_path, "ngram-sentiment-1.1")
    register_version(registry, "sentiment", model, card(bundled_figures("ngram-sentiment")))
    registry.promote("ngram-sentiment-1.1", "sentiment", TOLERANCE)

    report = rescore(db, runtime.judge, runtime.pipeline.clock, SINCE)

    assert len(report.changes) == 2 and not report.unflagged
    with db.transaction() as session:
        post = session.get_one(QueueItem, ids[0]).post
        versions = sorted(s.model_version for s in post.scores if s.task == "sentiment")
        assert versions == ["ngram-sentiment-1.0", "ngram-sentiment-1.1"]
        assert post.verdict is not None
        assert post.verdict.models["sentiment"] == "ngram-sentiment-1.1"
    assert rescore(db, runtime.judge, runtime.pipeline.clock, SINCE).changes == []


def test_closed_items_and_older_posts_are_left_alone(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    registry = fast_registry(tmp_path / "models")
    runtime = runtime_on(settings, db, registry)
    first, second = queue_complaints(runtime)
    with db.transaction() as session:
        session.get_one(QueueItem, first).status = QueueStatus.RESOLVED
    promote_dismissive_triage(registry, tmp_path)

    later = factories.T0 + timedelta(days=30)
    assert rescore(db, runtime.judge, runtime.pipeline.clock, later).checked == 0
    report = rescore(db, runtime.judge, runtime.pipeline.clock, SINCE)
    assert [change.item_id for change in report.changes] == [second]
    everything = rescore(db, runtime.judge, runtime.pipeline.clock, SINCE, set(QueueStatus))
    assert [change.item_id for change in everything.changes] == [first]


def test_the_cli_rescores_and_the_queue_lists_the_marked_items(
    tmp_path: Path, db_url: str, settings: Settings, db: Database
) -> None:
    registry = fast_registry(tmp_path / "models")
    queue_complaints(runtime_on(settings, db, registry))
    promote_dismissive_triage(registry, tmp_path)
    config = write_config(tmp_path / "rufwacht.toml", db_url)

    result = runner.invoke(app, ["rescore", "--since", "2026-11-01", "-c", str(config)])

    assert result.exit_code == 0, result.output
    assert "NO LONGER FLAGGED, marked for review" in result.output
    assert "Rescored 2 items: 2 changed, 2 no longer flagged" in result.output
    listed = runner.invoke(app, ["queue", "list", "--recheck", "--json", "-c", str(config)])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count('"recheck": "unflagged"') == 2
    with db.transaction() as session:
        texts = session.scalars(select(PostRecord.text).order_by(PostRecord.id)).all()
    assert list(texts) == list(COMPLAINTS)
