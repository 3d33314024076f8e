"""`rufwacht run` as a real process: Ctrl-C stops cleanly, kill -9 loses and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from monitor.storage.models import PostRecord
from tests.conftest import sqlite_url, write_config

RUFWACHT = str(Path(sys.executable).parent / "rufwacht")
BRANDS = ["@DB_Bahn", "Telekom", "Vodafone", "DHL"]
PROBLEMS = [
    "kommt wieder zu spät",
    "hat seit Tagen eine Störung",
    "ist eine Frechheit",
    "funktioniert nicht",
]


def write_feed(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as feed:
        for n in range(count):
            record = {
                "id": f"load-{n:05d}",
                "platform": "twitter",
                "text": f"{BRANDS[n % 4]} {PROBLEMS[n % 3]}, Vorgang {n}. Bitte melden!",
                "created_at": "2026-11-23T08:00:00Z",
                "author": {"handle": f"kunde{n % 97}", "followers": n % 500},
            }
            feed.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def stored_counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            total = connection.scalar(select(func.count()).select_from(PostRecord)) or 0
            distinct = (
                connection.scalar(
                    text("SELECT COUNT(DISTINCT platform || ':' || platform_id) FROM posts")
                )
                or 0
            )
    except Exception:  # the table may not exist yet while the process starts
        return 0, 0
    finally:
        engine.dispose()
    return total, distinct


def start(config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RUFWACHT_CONFIG": str(config), "RUFWACHT_WEB_PORT": "0"}
    return subprocess.Popen(
        [RUFWACHT, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def wait_for(condition, timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"rufwacht run exited early: {process.stdout.read().decode()}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("timed out waiting for rufwacht run")
        time.sleep(0.05)


def test_kill_during_poll_then_restart_stores_every_post_exactly_once(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    total = 3000
    config = write_config(
        tmp_path / "rufwacht.toml", url, write_feed(tmp_path / "feed.jsonl", total)
    )

    first = start(config)
    wait_for(lambda: stored_counts(url)[0] >= 200, 120, first)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at, _ = stored_counts(url)
    assert 0 < killed_at < total, "the kill must land in the middle of the poll"

    second = start(config)
    wait_for(lambda: stored_counts(url)[0] >= total, 300, second)
    second.send_signal(signal.SIGINT)
    assert second.wait(timeout=60) == 0
    assert stored_counts(url) == (total, total)


def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    config = write_config(tmp_path / "rufwacht.toml", url, write_feed(tmp_path / "feed.jsonl", 20))
    process = start(config)
    wait_for(lambda: stored_counts(url)[0] == 20, 120, process)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    output = process.stdout.read().decode()  # type: ignore[union-attr]
    assert "stopping after the current page" in output
    assert "Traceback" not in output
