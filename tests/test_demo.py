"""`rufwacht demo` queues the complaints, trolls, threats and crises of the German demo feed,
each with its category, action, playbook and saved replies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from connectors.replay import demo_feed_dir
from monitor.cli import app
from monitor.demo import DEMO_SOURCE, remove_demo_data
from monitor.guidance.item import item_guidance
from monitor.queue import list_items
from monitor.settings import example_config, load_settings
from monitor.storage.database import Database
from monitor.storage.models import AuthorRecord, PostRecord, QueueItem, SourceState
from tests.conftest import NGRAM_CLASSIFIERS, write_toml

runner = CliRunner()


def demo_kinds() -> dict[str, str]:
    lines = (demo_feed_dir() / "demo.jsonl").read_text("utf-8").splitlines()
    return {record["id"]: record["demo"]["kind"] for record in map(json.loads, lines)}


def run_demo(config_file: Path, *args: str) -> str:
    result = runner.invoke(app, ["demo", *args, "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    return result.output


def queued_items(config_file: Path) -> list[dict]:
    result = runner.invoke(
        app, ["queue", "list", "--json", "--limit", "10000", "--config", str(config_file)]
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def queued_ids(config_file: Path) -> set[str]:
    return {item["platform_id"] for item in queued_items(config_file)}


def of_kind(kinds: dict[str, str], kind: str) -> set[str]:
    return {pid for pid, k in kinds.items() if k == kind}


def test_demo_queues_trolls_and_threats_and_no_irrelevant_use(config_file: Path) -> None:
    run_demo(config_file)
    queued, kinds = queued_ids(config_file), demo_kinds()
    assert of_kind(kinds, "troll") <= queued
    assert of_kind(kinds, "threat") <= queued
    assert not of_kind(kinds, "irrelevant") & queued
    assert not of_kind(kinds, "spam") & queued


def test_the_demo_queue_holds_what_needs_the_team_each_with_its_guidance(
    config_file: Path,
) -> None:
    run_demo(config_file)
    assert runner.invoke(app, ["replies", "seed", "--config", str(config_file)]).exit_code == 0
    items, kinds = queued_items(config_file), demo_kinds()
    queued = {item["platform_id"] for item in items}
    for kind in ("troll", "threat", "crisis"):  # complaints: test_demo_queues_every_complaint
        assert of_kind(kinds, kind) <= queued, kind
    for kind in ("irrelevant", "spam"):
        assert not of_kind(kinds, kind) & queued, kind
    for item in items:
        assert item["category"] and item["action"] and item["guideline"], item
        assert (item["action"] == "escalate") == (item["escalate_to"] is not None), item
    escalated = [item["category"] in ("threat", "crisis") for item in items]
    assert escalated == sorted(escalated, reverse=True), "threats and crises come first"

    settings = load_settings(config_file)
    db = Database(settings.storage.url)
    with db.transaction() as session:
        for item in list_items(session):
            guidance = item_guidance(session, item, settings.brands)
            assert not guidance.category_assumed
            assert guidance.playbook.category == item.post.verdict.guideline
            assert guidance.replies, f"no saved reply for {guidance.category} ({item.brand})"
    db.dispose()


UNQUEUED_KINDS = [
    pytest.param(
        "praise",
        marks=pytest.mark.xfail(
            strict=True,
            reason="triage-2.0 calls one thank-you complaint ('hat mein Problem in 10 Minuten "
            "gelöst, nicht schlecht!', demo-0164: complaint 0.48, praise 0.38)",
        ),
    ),
    pytest.param(
        "neutral",
        marks=pytest.mark.xfail(
            strict=True,
            reason="triage-2.0 reads one travel remark as a threat ('Fahre morgen mit dem ICE "
            "nach Köln, mal schauen wie voll es wird.', demo-0221: threat 0.43)",
        ),
    ),
]


@pytest.mark.parametrize("kind", UNQUEUED_KINDS)
def test_the_demo_queue_holds_no_praise_and_no_neutral_remark(config_file: Path, kind: str) -> None:
    run_demo(config_file)
    queued = of_kind(demo_kinds(), kind) & queued_ids(config_file)
    assert not queued, f"{kind} posts queued: {sorted(queued)}"


def test_demo_twice_stores_nothing_twice(config_file: Path) -> None:
    run_demo(config_file)
    queued = queued_ids(config_file)
    count = len(demo_kinds())
    second = run_demo(config_file)
    assert f"{count} posts read, 0 new" in second
    assert f"{count} posts stored in all" in second
    assert queued_ids(config_file) == queued


@pytest.mark.xfail(
    strict=True,
    reason="triage-2.0 reads two ironic complaints as praise (demo-0060 'Großartig, Paket zum "
    "dritten Mal nicht zugestellt 👏', demo-0223 '… Danke, Deutsche Bahn. Wirklich.')",
)
def test_demo_queues_every_complaint(config_file: Path) -> None:
    run_demo(config_file)
    missed = of_kind(demo_kinds(), "complaint") - queued_ids(config_file)
    assert not missed, f"{len(missed)} complaints not queued: {sorted(missed)}"


LIVE_POSTS = [
    {
        "id": "live-1",
        "platform": "twitter",
        "text": "@DB_Bahn Zug fällt schon wieder aus, zweite Stunde am Bahnsteig. Unzumutbar!",
        "author": {"handle": "pendler_ffm", "account_age_days": 2400, "followers": 180},
    },
    {  # the same account as a demo author: it keeps its live post after a reset
        "id": "live-2",
        "platform": "twitter",
        "text": "Telekom Störung seit gestern, kein Internet, und die Hotline legt einfach auf.",
        "author": {"handle": "sven_nrw", "account_age_days": 1371, "followers": 102},
    },
]


def fast_config(path: Path, db_url: str, **sections: dict) -> Path:
    """The example's brands with the n-gram models and the given sections."""
    data = {
        "storage": {"url": db_url},
        "brands": example_config()["brands"],
        "classifiers": NGRAM_CLASSIFIERS,
        **sections,
    }
    return write_toml(path, data)


def live_feed(path: Path) -> Path:
    path.write_text("".join(json.dumps(post) + "\n" for post in LIVE_POSTS), "utf-8")
    return path


def poll_once(config: Path) -> str:
    result = runner.invoke(app, ["poll", "--once", "--config", str(config)])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_reset_removes_demo_data_only(tmp_path: Path, db_url: str) -> None:
    demo_config = fast_config(tmp_path / "rufwacht.toml", db_url)
    live_config = fast_config(
        tmp_path / "live.toml",
        db_url,
        sources={
            "twitter": {"enabled": False},
            "reddit": {"enabled": False},
            "replay": {
                "enabled": True,
                "fallback": False,
                "path": str(live_feed(tmp_path / "live.jsonl")),
            },
        },
    )
    count = len(demo_kinds())
    run_demo(demo_config)
    poll_once(live_config)
    live_queued = queued_ids(demo_config) - set(demo_kinds())
    assert live_queued == {"live-1", "live-2"}

    output = run_demo(demo_config, "--reset")
    assert f"{count + len(LIVE_POSTS)} posts stored in all" in output
    assert live_queued <= queued_ids(demo_config)
    assert f"{count} posts read, {count} new" in output
    assert f"Removed {count} earlier demo posts" in output

    db = Database(db_url)
    assert remove_demo_data(db) == count
    with db.transaction() as session:
        assert set(session.scalars(select(PostRecord.platform_id))) == {"live-1", "live-2"}
        assert set(session.scalars(select(AuthorRecord.handle))) == {"pendler_ffm", "sven_nrw"}
        assert session.scalar(select(func.count()).select_from(QueueItem)) == 2
        states = {state.source: state.cursor for state in session.scalars(select(SourceState))}
    db.dispose()
    assert DEMO_SOURCE not in states
    assert states["replay"] == {"live.jsonl": len(LIVE_POSTS)}


def test_demo_posts_are_dated_like_a_real_morning(tmp_path: Path) -> None:
    config = fast_config(tmp_path / "rufwacht.toml", f"sqlite:///{tmp_path / 'demo.db'}")
    started = datetime.now(UTC)
    run_demo(config)
    result = runner.invoke(app, ["queue", "list", "--json", "--config", str(config)])
    items = [json.loads(line) for line in result.stdout.splitlines()]
    created = {item["platform_id"]: datetime.fromisoformat(item["created_at"]) for item in items}
    due = [datetime.fromisoformat(item["due_at"]) for item in items]
    assert started - timedelta(hours=2) < max(created.values()) < started
    assert [created[pid] for pid in sorted(created)] == sorted(created.values())
    # the SLA counts business hours (how many are overdue depends on the hour of the run),
    # but never lets more than 24 h pass: the oldest items are overdue, the newest not yet
    overdue = sum(1 for at in due if at < started)
    assert 0 < overdue < len(items), f"{overdue} of {len(items)} overdue"


def test_a_config_with_only_brands_replays_the_demo_feed_with_the_documented_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("TWITTER_BEARER_TOKEN", "REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET"):
        monkeypatch.delenv(variable, raising=False)
    config = write_toml(
        tmp_path / "rufwacht.toml",
        {"brands": [{"name": "DHL"}], "classifiers": NGRAM_CLASSIFIERS},
    )
    rows = [line.split("│")[1:-1] for line in poll_once(config).splitlines() if "│" in line]
    fetched = {cells[0].strip(): cells[1].strip() for cells in rows}
    assert fetched["replay"] == str(len(demo_kinds()))
    assert fetched["twitter"] == fetched["reddit"] == "-"
    assert (tmp_path / "rufwacht.db").exists()


def test_demo_without_brands_warns_that_nothing_will_be_queued(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path / "rufwacht.toml",
        {"storage": {"url": f"sqlite:///{tmp_path / 'demo.db'}"}, "classifiers": NGRAM_CLASSIFIERS},
    )
    output = " ".join(run_demo(config).split())
    assert "0 queued" in output
    assert "no [[brands]] configured: no post will match or be queued" in output


def test_demo_accounts_get_passwords_shown_once_and_renewed_on_reset(db: Database) -> None:
    from monitor.access.users import authenticate
    from monitor.demo import DEMO_USERS, demo_users

    with db.transaction() as session:
        first = demo_users(session, renew=False)
        assert set(first) == set(DEMO_USERS) == {"agent", "approver", "lead"}
        for name, password in first.items():
            user = authenticate(session, name, password or "")
            assert user is not None and user.role == DEMO_USERS[name]
        assert demo_users(session, renew=False) == dict.fromkeys(DEMO_USERS)
        assert authenticate(session, "agent", first["agent"] or "") is not None
        renewed = demo_users(session, renew=True)
        assert authenticate(session, "agent", renewed["agent"] or "") is not None
        assert authenticate(session, "agent", first["agent"] or "") is None
