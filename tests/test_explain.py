"""`rufwacht explain PLATFORM:ID`: why a stored post is (not) in the queue, from the database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from classifiers.spam import SPAM_RULES_VERSION
from classifiers.triage import CATEGORY_NAMES, TEAM_NAMES
from monitor.cli import app
from monitor.guidance.playbooks import playbook_for
from monitor.queue import mark_deleted
from monitor.settings import example_config
from monitor.storage.database import Database
from monitor.storage.models import PostRecord, utcnow
from tests.conftest import NGRAM_CLASSIFIERS, write_toml

runner = CliRunner()
SPAM, NO_BRAND = "demo-0001", "demo-0003"
"""Demo posts the demo feed marks as spam and as irrelevant (no brand)."""


@pytest.fixture
def demo_config(tmp_path: Path, db_url: str) -> Path:
    """The example's brands and thresholds, n-gram models, the demo feed already run."""
    data = {"storage": {"url": db_url}, "brands": example_config()["brands"]}
    config = write_toml(tmp_path / "rufwacht.toml", data | {"classifiers": NGRAM_CLASSIFIERS})
    result = runner.invoke(app, ["demo", "--config", str(config)])
    assert result.exit_code == 0, result.output
    return config


def cli(config: Path, *args: str) -> Any:
    return runner.invoke(app, [*args, "--config", str(config)])


def explain_json(config: Path, ref: str) -> dict[str, Any]:
    result = cli(config, "explain", ref, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def most_urgent(config: Path) -> dict[str, Any]:
    result = cli(config, "queue", "list", "--json", "--limit", "1")
    return json.loads(result.stdout.splitlines()[0])


def test_a_queued_post_names_its_reasons_thresholds_and_models(demo_config: Path) -> None:
    item = most_urgent(demo_config)
    ref = f"{item['platform']}:{item['platform_id']}"
    text = " ".join(cli(demo_config, "explain", ref).stdout.split())
    assert f"In der Queue: Eintrag {item['id']}, Status „new“, Priorität {item['priority']}" in text
    assert f"Ergebnis: eingereiht mit Priorität {item['priority']}" in text
    assert "bei Schwelle 40%" in text and "bei Schwelle 60%" in text
    assert "ngram-sentiment-1.0" in text and f"Spam-Regel {SPAM_RULES_VERSION}" in text
    assert item["category"] in ("threat", "crisis")  # they sort first
    assert f"Kategorie: {CATEGORY_NAMES[item['category']]} (" in text
    assert f"Aktion: Eskalieren an {TEAM_NAMES[item['escalate_to']]}" in text
    assert f"Leitfaden: {playbook_for(item['guideline']).title} ({item['guideline']})." in text

    stored = explain_json(demo_config, ref)
    verdict = stored["verdict"]
    assert stored["queue_item"]["id"] == item["id"]
    assert (verdict["flagged"], verdict["priority"]) == (True, item["priority"])
    assert verdict["reasons"] == item["reasons"]
    assert verdict["brand"] == item["brand"] in verdict["matches"]["brands"]
    assert verdict["thresholds"] == {"negative": 0.4, "troll": 0.6}
    assert verdict["models"]["sentiment"] == "ngram-sentiment-1.0"
    assert verdict["models"]["troll"].endswith("ngram-offensive-1.0")
    assert verdict["spam"] == {"is_spam": False, "reasons": [], "rule_version": SPAM_RULES_VERSION}
    assert verdict["models"]["triage"].startswith("triage-")
    assert verdict["category"]["label"] == item["category"]
    assert verdict["category"]["reasons"] and 0 < verdict["category"]["confidence"] <= 1
    assert verdict["action"]["label"] == item["action"] == "escalate"
    assert verdict["action"]["escalate_to"] == item["escalate_to"]
    assert verdict["guideline"] == item["guideline"]


def test_unqueued_posts_say_why_not(demo_config: Path) -> None:
    spam = " ".join(cli(demo_config, "explain", f"twitter:{SPAM}").stdout.split())
    assert spam.startswith(f"twitter:{SPAM}: Telekom Kunden")
    assert "Nicht in der Queue." in spam
    assert "Erkannte Marke: Telekom („Telekom“, „MagentaTV“" in spam
    assert f"Werbung oder Phishing (Regel {SPAM_RULES_VERSION}): Verkaufsangebot" in spam
    assert "nicht eingereiht, weil der Beitrag als Werbung oder Phishing gilt" in spam
    assert "Kategorie: Spam (" in spam
    assert "Aktion: Keine: Spam: nicht antworten, nicht verbreiten." in spam
    assert "Leitfaden" not in spam
    stored = explain_json(demo_config, f"twitter:{SPAM}")
    assert stored["queue_item"] is None
    assert stored["verdict"]["flagged"] is False
    assert stored["verdict"]["spam"]["is_spam"] is True
    assert stored["verdict"]["matches"]["brands"] == ["Telekom"]

    unrelated = cli(demo_config, "explain", f"twitter:{NO_BRAND}").stdout
    assert "Keine Marke erkannt" in unrelated
    assert explain_json(demo_config, f"twitter:{NO_BRAND}")["verdict"]["matches"]["brands"] == []


def test_a_post_deleted_upstream_left_the_queue(demo_config: Path, db_url: str) -> None:
    item = most_urgent(demo_config)
    db = Database(db_url)
    with db.transaction() as session:
        post = session.scalars(
            select(PostRecord).where(PostRecord.platform_id == item["platform_id"])
        ).one()
        post.text, post.deleted_at = None, utcnow()
        assert post.queue_item is not None
        mark_deleted(post.queue_item)
    db.dispose()
    text = " ".join(cli(demo_config, "explain", f"twitter:{item['platform_id']}").stdout.split())
    assert (
        f"Aus der Queue genommen (Eintrag {item['id']}): der Beitrag wurde beim Anbieter gelöscht"
        in text
    )
    assert "(gelöscht)" in text


def test_post_text_is_shown_as_written_not_as_markup(demo_config: Path, db_url: str) -> None:
    db = Database(db_url)
    with db.transaction() as session:
        post = session.scalars(select(PostRecord).where(PostRecord.platform_id == NO_BRAND)).one()
        post.text = "[bold red]Fake-Alarm[/bold red] [link=https://evil.example]hier[/link]"
    db.dispose()
    shown = cli(demo_config, "explain", f"twitter:{NO_BRAND}").stdout
    assert "[bold red]Fake-Alarm[/bold red] [link=https://evil.example]hier[/link]" in shown


@pytest.mark.parametrize(
    ("ref", "problem"),
    [("twitter:nope", "no stored post 'twitter:nope'"), ("demo-0001", "expected PLATFORM:ID")],
)
def test_an_unknown_or_malformed_post_is_one_clear_error(
    demo_config: Path, ref: str, problem: str
) -> None:
    result = cli(demo_config, "explain", ref)
    assert result.exit_code == 2
    assert problem in " ".join(result.output.split())


def test_a_verdict_from_before_the_triage_says_it_has_no_category(
    demo_config: Path, db_url: str
) -> None:
    item = most_urgent(demo_config)
    db = Database(db_url)
    with db.transaction() as session:
        post = session.scalars(
            select(PostRecord).where(PostRecord.platform_id == item["platform_id"])
        ).one()
        assert post.verdict is not None
        post.verdict.category = post.verdict.action = post.verdict.guideline = None
    db.dispose()
    text = " ".join(cli(demo_config, "explain", f"twitter:{item['platform_id']}").stdout.split())
    assert "Keine Kategorie gespeichert" in text and "Leitfaden" not in text
    assert most_urgent(demo_config)["category"] is None
