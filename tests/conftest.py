"""Shared fixtures: real databases (a fresh SQLite file, or a fresh PostgreSQL schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
import tomli_w
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from monitor.settings import Settings, default_settings, example_config_text
from monitor.storage.database import Database
from tests.fakes import reddit, twitter
from tests.fakes.reddit import FakeReddit
from tests.fakes.twitter import FakeX

POSTGRES_URL = os.environ.get(
    "RUFWACHT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def missing_prerequisite(reason: str) -> NoReturn:
    """Skip a test whose server or data is absent, except under CI (`CI=true`): there a
    skipped test is a check that never ran, so the run fails instead of passing green."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI is set, so this is not skipped)", pytrace=False)
    pytest.skip(reason)


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rufwacht.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose search_path is a schema of its own, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        where = admin.url.render_as_string(hide_password=True)
        missing_prerequisite(f"PostgreSQL at {where} not reachable: {exc.orig}")
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    """The shipped default config, pointed at the test database."""
    defaults = default_settings()
    return defaults.model_copy(
        update={"storage": defaults.storage.model_copy(update={"url": db_url})}
    )


NGRAM_CLASSIFIERS = {"sentiment": "ngram-sentiment", "offensive": "ngram-offensive"}
"""Fast bundled models, for tests whose behaviour does not depend on the default model."""


def write_toml(path: Path, data: dict[str, Any]) -> Path:
    """A config file written from data."""
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def write_config(path: Path, db_url: str, replay_path: Path | None = None) -> Path:
    """The shipped example config with the test database and only the replay source."""
    text = example_config_text().replace('url = "sqlite:///rufwacht.db"', f'url = "{db_url}"')
    text = text.replace("[sources.twitter]\nenabled = true", "[sources.twitter]\nenabled = false")
    text = text.replace("[sources.reddit]\nenabled = true", "[sources.reddit]\nenabled = false")
    if replay_path is not None:
        text = text.replace(
            "[sources.replay]\nenabled = true\nfallback = true",
            f'[sources.replay]\nenabled = true\nfallback = false\npath = "{replay_path}"',
        )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path: Path, db_url: str) -> Path:
    return write_config(tmp_path / "rufwacht.toml", db_url)


# --- Fake platform servers (connectors): real tweepy/praw clients talk to these on 127.0.0.1.


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    server = FakeX().start()
    yield server
    server.stop()


@pytest.fixture
def fake_reddit() -> Iterator[FakeReddit]:
    server = FakeReddit().start()
    yield server
    server.stop()


LIVE_ENV = {
    "TWITTER_BEARER_TOKEN": twitter.BEARER,
    "REDDIT_CLIENT_ID": reddit.CLIENT_ID,
    "REDDIT_CLIENT_SECRET": reddit.CLIENT_SECRET,
}


def live_config(tmp_path: Path, fake_x: FakeX, fake_reddit: FakeReddit) -> Path:
    text = example_config_text()
    text = text.replace('url = "sqlite:///rufwacht.db"', f'url = "{sqlite_url(tmp_path)}"')
    text = text.replace('"https://api.twitter.com"', f'"{fake_x.url}"')
    text = text.replace('"https://oauth.reddit.com"', f'"{fake_reddit.url}"')
    text = text.replace('"https://www.reddit.com"', f'"{fake_reddit.url}"')
    path = tmp_path / "rufwacht.toml"
    path.write_text(text, encoding="utf-8")
    return path
