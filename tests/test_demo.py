"""`rufwacht demo` queues the complaints, trolls and threats of the German demo feed."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from connectors.replay import demo_feed_dir
from monitor.cli import app

runner = CliRunner()


def demo_kinds() -> dict[str, str]:
    lines = (demo_feed_dir() / "demo.jsonl").read_text("utf-8").splitlines()
    return {record["id"]: record["demo"]["kind"] for record in map(json.loads, lines)}


def run_demo(config_file: Path, *args: str) -> str:
    result = runner.invoke(app, ["demo", *args, "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    return result.output


def queued_ids(config_file: Path) -> set[str]:
    result = runner.invoke(
        app, ["queue", "list", "--json", "--limit", "10000", "--config", str(config_file)]
    )
    assert result.exit_code == 0, result.output
    return {json.loads(line)["platform_id"] for line in result.stdout.splitlines()}


def of_kind(kinds: dict[str, str], kind: str) -> set[str]:
    return {pid for pid, k in kinds.items() if k == kind}


def test_demo_queues_trolls_and_threats_and_no_irrelevant_use(config_file: Path) -> None:
    run_demo(config_file)
    queued, kinds = queued_ids(config_file), demo_kinds()
    assert of_kind(kinds, "troll") <= queued
    assert of_kind(kinds, "threat") <= queued
    assert not of_kind(kinds, "irrelevant") & queued
    assert not of_kind(kinds, "spam") & queued


def test_demo_twice_stores_nothing_twice(config_file: Path) -> None:
    run_demo(config_file)
    queued = queued_ids(config_file)
    count = len(demo_kinds())
    second = run_demo(config_file)
    assert f"{count} posts read, 0 new" in second
    assert f"{count} posts stored in all" in second
    assert queued_ids(config_file) == queued


def test_demo_reset_empties_the_database_first(config_file: Path) -> None:
    run_demo(config_file)
    count = len(demo_kinds())
    assert f"{count} posts read, {count} new" in run_demo(config_file, "--reset")


def test_demo_queues_every_complaint(config_file: Path) -> None:
    run_demo(config_file)
    missed = of_kind(demo_kinds(), "complaint") - queued_ids(config_file)
    assert not missed, f"{len(missed)} complaints not queued: {sorted(missed)}"
