"""`rufwacht labels export`: the team's decisions as training data, without names."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.labels_export import export_labels, label_records
from monitor.pseudonyms import Pseudonymiser
from monitor.queue.labels import add_label
from monitor.storage.database import Database
from monitor.storage.models import QueueItem, UserRecord, utcnow
from tests import factories

SALT = "ein-geheimes-salz-nur-fuer-tests"
runner = CliRunner()


def seed_item(db: Database, text: str | None = factories.COMPLAINT, **author_fields: str) -> int:
    """A queued post by a new author, judged by the test models, with its verdict."""
    post = factories.stored_post(text, author=factories.author_record(**author_fields))
    for task in ("sentiment", "offensive", "troll"):
        factories.score(post, task)
    factories.verdict(post, models={"sentiment": "test-sentiment", "triage": "triage-test"})
    with db.transaction() as session:
        item = factories.queue_item(post)
        session.add(item)
        session.flush()
        return item.id


def seed_team(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        people = [
            factories.user("anna.agentin", "agent"),
            factories.user("bernd.freigabe", "approver"),
        ]
        session.add_all(people)
        session.flush()
        return {person.name: person.id for person in people}


def label(db: Database, user_id: int, item_id: int, task: str, value: str) -> None:
    with db.transaction() as session:
        user = session.get_one(UserRecord, user_id)
        add_label(session, user, session.get_one(QueueItem, item_id), task, value)


def records(db: Database, **options: object) -> list[dict]:
    with db.transaction() as session:
        return list(label_records(session, Pseudonymiser(SALT), **options))  # type: ignore[arg-type]


def test_a_correction_carries_text_prediction_and_versions_but_no_names(db: Database) -> None:
    team = seed_team(db)
    item = seed_item(db, handle="@pendlerin_berlin", display_name="Petra Pendel")
    label(db, team["anna.agentin"], item, "sentiment", "neutral")

    (record,) = records(db)

    assert record["post"]["text"] == factories.COMPLAINT
    assert record["task"] == "sentiment" and record["label"] == "neutral"
    assert record["model_label"] == "negative" and record["corrected"] is True
    assert record["model_version"] == "test-sentiment"
    assert record["prediction"]["probabilities"]["negative"] == 0.85
    assert record["models"]["triage"] == "triage-test"
    assert record["reviewer"]["role"] == "agent"
    assert record["reviewer"]["id"].startswith("r-")
    assert record["post"]["author"].startswith("a-")
    line = json.dumps(record, ensure_ascii=False)
    for personal in ("pendlerin_berlin", "Petra Pendel", "anna.agentin", "t1"):
        assert personal not in line


def test_pseudonyms_are_stable_under_one_salt_and_differ_under_another(db: Database) -> None:
    team = seed_team(db)
    first, second = seed_item(db), seed_item(db)
    label(db, team["anna.agentin"], first, "troll", "troll")
    label(db, team["anna.agentin"], second, "troll", "not_troll")

    one, two = records(db)
    assert one["reviewer"]["id"] == two["reviewer"]["id"]
    with db.transaction() as session:
        (other, _) = label_records(session, Pseudonymiser("ein-ganz-anderes-salz-1234"))
    assert other["reviewer"]["id"] != one["reviewer"]["id"]
    assert other["post"]["author"] != one["post"]["author"]


def test_two_reviewers_who_disagree_are_both_kept_and_marked(db: Database) -> None:
    team = seed_team(db)
    item = seed_item(db)
    label(db, team["anna.agentin"], item, "category", "question")  # then changes her mind
    label(db, team["anna.agentin"], item, "category", "troll")
    label(db, team["bernd.freigabe"], item, "category", "complaint")
    agreed = seed_item(db)
    label(db, team["anna.agentin"], agreed, "category", "complaint")
    label(db, team["bernd.freigabe"], agreed, "category", "complaint")

    exported = records(db, task="triage")

    disputed = [r for r in exported if r["disagreement"]]
    assert sorted(r["label"] for r in disputed) == ["complaint", "troll"]
    assert all(r["answers"] == {"complaint": 1, "troll": 1} for r in disputed)
    assert [r["disagreement"] for r in exported if r["label"] == "complaint"].count(False) == 2
    assert "question" not in [r["label"] for r in exported]


def test_deleted_posts_never_appear(db: Database) -> None:
    team = seed_team(db)
    kept = seed_item(db, "Wieder kein Netz in der S-Bahn, danke Telekom")
    gone = seed_item(db, None)  # the compliance job deleted its text
    label(db, team["anna.agentin"], kept, "sentiment", "negative")
    label(db, team["anna.agentin"], gone, "sentiment", "negative")

    assert [r["post"]["text"] for r in records(db)] == [
        "Wieder kein Netz in der S-Bahn, danke Telekom"
    ]


def test_task_and_since_choose_the_decisions(db: Database) -> None:
    team = seed_team(db)
    item = seed_item(db)
    label(db, team["anna.agentin"], item, "sentiment", "negative")
    label(db, team["anna.agentin"], item, "offensive", "offensive")
    label(db, team["anna.agentin"], item, "false_positive", "false_positive")

    assert [r["task"] for r in records(db, task="offensive")] == ["offensive"]
    assert [r["task"] for r in records(db, task="triage")] == ["false_positive"]
    assert records(db, since=utcnow() + timedelta(minutes=5)) == []
    with pytest.raises(ValueError, match="unknown task 'spam'"):
        records(db, task="spam")


def test_export_writes_one_json_line_per_decision(db: Database, tmp_path: Path) -> None:
    team = seed_team(db)
    label(db, team["bernd.freigabe"], seed_item(db), "sentiment", "negative")
    out = tmp_path / "labels.jsonl"
    with db.transaction() as session:
        assert export_labels(session, out, Pseudonymiser(SALT)) == 1
    (line,) = out.read_text("utf-8").splitlines()
    assert json.loads(line)["corrected"] is False


def test_cli_on_an_empty_database_writes_an_empty_file_and_says_so(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUFWACHT_LABELS_SALT", SALT)
    out = tmp_path / "labels.jsonl"
    result = runner.invoke(
        app, ["labels", "export", "--out", str(out), "--config", str(config_file)]
    )
    assert result.exit_code == 0, result.output
    assert "No reviewer decisions to export" in result.output
    assert out.read_text("utf-8") == ""


def test_cli_without_a_salt_exports_nothing_and_names_the_variable(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUFWACHT_LABELS_SALT", raising=False)
    out = tmp_path / "labels.jsonl"
    result = runner.invoke(
        app, ["labels", "export", "--out", str(out), "--config", str(config_file)]
    )
    assert result.exit_code == 2
    assert "RUFWACHT_LABELS_SALT" in result.output
    assert not out.exists()
