"""`rufwacht demo` queues the complaints, trolls and threats of the German demo feed."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from connectors.replay import demo_feed_dir
from monitor.cli import app

runner = CliRunner()


def demo_expectations() -> dict[str, dict]:
    lines = (demo_feed_dir() / "demo.jsonl").read_text("utf-8").splitlines()
    return {record["id"]: record["demo"] for record in map(json.loads, lines)}


def queue(config_file: Path) -> list[dict]:
    result = runner.invoke(
        app, ["queue", "list", "--json", "--limit", "10000", "--config", str(config_file)]
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_demo_queues_what_needs_the_team_and_stores_nothing_twice(config_file: Path) -> None:
    first = runner.invoke(app, ["demo", "--config", str(config_file)])
    assert first.exit_code == 0, first.output
    queued = {item["platform_id"] for item in queue(config_file)}
    expected = demo_expectations()

    should_flag = {pid for pid, e in expected.items() if e["flag"]}
    irrelevant = {pid for pid, e in expected.items() if e["kind"] == "irrelevant"}
    missed = should_flag - queued
    assert not missed, f"not queued: {sorted(missed)}"
    assert not (irrelevant & queued)
    for kind in ("complaint", "troll", "threat"):
        assert any(expected[pid]["kind"] == kind for pid in queued)

    second = runner.invoke(app, ["demo", "--config", str(config_file)])
    assert second.exit_code == 0, second.output
    assert f"{len(expected)} posts read, 0 new" in second.output
    assert f"{len(expected)} posts stored in all" in second.output
    assert len(queue(config_file)) == len(queued)


def test_demo_reset_empties_the_database_first(config_file: Path) -> None:
    runner.invoke(app, ["demo", "--config", str(config_file)])
    result = runner.invoke(app, ["demo", "--reset", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    count = len(demo_expectations())
    assert f"{count} posts read, {count} new" in result.output
