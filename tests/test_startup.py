"""Commands that need no model or platform answer at once: they must not import the heavy
libraries (torch, transformers, the platform clients), which take seconds to load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import sqlite_url, write_config

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "peft", "sklearn", "tweepy", "praw", "requests", "apscheduler")

SCRIPT = """
import json, sys
from monitor.cli import app
from monitor.settings import load_settings

load_settings(None)
try:
    app(sys.argv[1:])
except SystemExit as exc:
    assert not exc.code, exc.code
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(*args: str, cwd: Path) -> set[str]:
    """The modules a fresh `rufwacht ARGS` process has imported by its end."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RUFWACHT_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return [name for name in HEAVY if name in modules]


def test_help_and_settings_import_no_models_or_platform_clients(tmp_path: Path) -> None:
    modules = loaded_modules("--help", cwd=tmp_path)
    assert heavy(modules) == []
    assert "alembic" not in modules  # SQLAlchemy is in: the settings check the database URL


def test_queue_list_on_a_current_database_skips_alembic(tmp_path: Path) -> None:
    config = write_config(tmp_path / "rufwacht.toml", sqlite_url(tmp_path))
    first = loaded_modules("queue", "list", "-c", str(config), cwd=tmp_path)
    assert "alembic" in first  # a new database is migrated
    modules = loaded_modules("queue", "list", "-c", str(config), cwd=tmp_path)
    assert heavy(modules) == []
    assert "alembic" not in modules
