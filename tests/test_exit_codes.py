"""Every exit code the README and CLI help promise, as scripts and cron jobs see them.

0: done. 1: `poll --once` ran, but a source failed. 2: a problem the user can fix (config,
database, model, input file, command-line usage), reported in one line. Ctrl-C on `run` exits 0
(tests/test_run.py); a failing live source next to a working one exits 1 and missing
credentials with the replay fallback exit 0 (tests/test_live_sources.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from tests.conftest import NGRAM_CLASSIFIERS, sqlite_url, write_config

runner = CliRunner()


def replay_config(tmp_path: Path, replay_path: Path, **sections: dict) -> Path:
    """Only the replay source, on the fast n-gram models: exit codes do not depend on them."""
    config = tmp_path / "rufwacht.toml"
    url = sqlite_url(tmp_path)
    return write_config(config, url, replay_path, classifiers=NGRAM_CLASSIFIERS, **sections)


def rufwacht(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_poll_once_exits_0_when_every_source_worked(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "1", "text": "Telekom Störung seit gestern"}) + "\n")

    code, output = rufwacht("poll", "--once", "--config", str(replay_config(tmp_path, feed)))

    assert code == 0, output
    assert "replay │ 1 │ 1 │" in output


def test_poll_once_exits_1_and_names_the_problem_when_a_source_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a short path, so the table shows it whole
    config = replay_config(tmp_path, Path("gone.jsonl"))

    code, output = rufwacht("poll", "--once", "--config", str(config))

    assert code == 1, output
    assert "│ replay │ 0 │ 0 │ 0 │ replay path gone.jsonl does not exist │" in output


def test_run_without_any_runnable_source_exits_2(tmp_path: Path) -> None:
    config = replay_config(
        tmp_path, tmp_path / "feed.jsonl", sources={"replay": {"enabled": False}}
    )

    code, output = rufwacht("run", "--config", str(config))

    assert code == 2, output
    assert "no source can run" in output


def test_a_database_that_cannot_be_opened_exits_2(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "no-such-directory")
    config = write_config(tmp_path / "rufwacht.toml", url)

    code, output = rufwacht("queue", "list", "--config", str(config))

    assert code == 2, output
    assert output.startswith("error: cannot prepare database")


def test_an_unreadable_data_file_exits_2(tmp_path: Path) -> None:
    config = replay_config(tmp_path, tmp_path / "feed.jsonl")
    missing = tmp_path / "missing.tsv"

    code, output = rufwacht(
        "eval", "--task", "sentiment", "--data", str(missing), "--config", str(config)
    )

    assert code == 2, output
    assert output.startswith("error:") and "missing.tsv" in output


def test_command_line_usage_errors_exit_2() -> None:
    code, output = rufwacht("eval", "--data", "x.tsv")

    assert code == 2, output
    assert "Missing option '--task'" in output
