"""Shared fixtures: real databases, migrated once per session; configs written from data.

Database fixtures, fastest first (each test using them runs on SQLite and on PostgreSQL):

- `db`: a migrated, empty `Database` for tests that work through that object alone. On
  PostgreSQL its sessions join one transaction that is rolled back after the test.
- `db_url`: the URL of a migrated, empty database whose data every connection sees: for tests
  that hand the database to the CLI or a config file. A test that takes both gets one database.
- `fresh_db_url`: an empty database of its own, not migrated: for tests of the migrations, and
  for tests that change the schema or run subprocesses, threads or the scheduler on it.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
import tomli_w
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from monitor.settings import Settings, deep_merge, default_settings, example_config
from monitor.storage.database import VERSION_TABLE, Database
from tests import factories
from tests.fakes import reddit, twitter
from tests.fakes.reddit import FakeReddit
from tests.fakes.twitter import FakeX

if TYPE_CHECKING:
    from monitor.runtime import Runtime

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


@pytest.fixture(autouse=True)
def _factory_sequence() -> None:
    """Every test numbers its factory-built posts from 1, however the suite was selected."""
    factories.reset_sequence()


# --- PostgreSQL: one schema per test session, or per test where a test needs its own.


def create_schema(admin: Engine, prefix: str) -> tuple[str, str]:
    """A new schema and a URL whose search_path is that schema; skips (fails under CI) when
    the server cannot be reached."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        where = admin.url.render_as_string(hide_password=True)
        missing_prerequisite(f"PostgreSQL at {where} not reachable: {exc.orig}")
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, url.render_as_string(hide_password=False)


def drop_schema(admin: Engine, schema: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose search_path is a schema of its own, dropped after the test."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    schema, url = create_schema(admin, "t")
    yield url
    drop_schema(admin, schema)


class SessionSchema:
    """The PostgreSQL schema the whole test session shares, migrated once."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        database = Database(url)
        database.migrate()
        database.dispose()
        with self.engine.connect() as connection:
            names = inspect(connection).get_table_names()
        self.tables = sorted(name for name in names if name != VERSION_TABLE)

    def tables_with_rows(self) -> list[str]:
        with self.engine.connect() as connection:
            return [
                table
                for table in self.tables
                if connection.scalar(text(f'SELECT EXISTS (SELECT 1 FROM "{table}")'))
            ]

    def empty(self) -> None:
        """Remove every row and restart the ids, as in a new database. A connection left
        open in a transaction makes this fail after 10 s instead of waiting forever."""
        tables = ", ".join(f'"{table}"' for table in self.tables)
        with self.engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def pg_session_schema() -> Iterator[SessionSchema]:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    schema, url = create_schema(admin, "session")
    try:
        shared = SessionSchema(url)
    except BaseException:
        drop_schema(admin, schema)
        raise
    yield shared
    shared.engine.dispose()
    drop_schema(admin, schema)


# --- SQLite: one migrated file per test session, copied for each test.


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    database = Database(sqlite_url(folder))
    database.migrate()
    database.dispose()  # the last connection closing folds the WAL into the file
    path = folder / "rufwacht.db"
    assert not path.with_name(path.name + "-wal").exists()
    return path


def migrated_sqlite_url(template: Path, tmp_path: Path) -> str:
    shutil.copyfile(template, tmp_path / "rufwacht.db")
    return sqlite_url(tmp_path)


# --- The database fixtures tests use.


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using a database fixture runs once on SQLite and once on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database whose data every connection in this process sees.

    SQLite: a copy of the session's migrated file in `tmp_path`. PostgreSQL: the session's
    schema, emptied after the test, so the test must not leave a connection in a transaction,
    nor change the schema (take `fresh_db_url` for that, and for subprocesses and threads).
    """
    if backend == "sqlite":
        yield migrated_sqlite_url(request.getfixturevalue("sqlite_template"), tmp_path)
        return
    shared: SessionSchema = request.getfixturevalue("pg_session_schema")
    yield shared.url
    shared.empty()


@pytest.fixture
def fresh_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of its own, not migrated: for tests of the migrations themselves,
    and for tests that change the schema or run subprocesses, threads or the scheduler."""
    if backend == "sqlite":
        return sqlite_url(tmp_path)
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def db(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty `Database`.

    SQLite: a copy of the session's migrated file. PostgreSQL: the session's schema, with
    every session of `db.transaction()` (and the savepoints inside it) joining one outer
    transaction that is rolled back after the test. Such data is invisible to other
    connections (`db.engine`, the CLI, a `Database` of the test's own): a test that hands the
    database on takes `db_url` too, and then `db` is a plain `Database` on that URL.
    """
    if backend == "sqlite" or "db_url" in request.fixturenames:
        database = Database(request.getfixturevalue("db_url"))
        yield database
        database.dispose()
        return
    shared: SessionSchema = request.getfixturevalue("pg_session_schema")
    database = Database(shared.url)
    connection = database.engine.connect()
    outer = connection.begin()
    database.sessions = sessionmaker(
        connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    yield database
    outer.rollback()
    connection.close()
    database.dispose()
    if committed := shared.tables_with_rows():
        shared.empty()
        pytest.fail(
            f"rows committed to {', '.join(committed)} outside `db`'s rolled-back transaction: "
            "a test whose code opens its own connections takes `db_url`",
            pytrace=False,
        )


@pytest.fixture
def settings(db: Database) -> Settings:
    """The shipped default config, pointed at the test database."""
    defaults = default_settings()
    url = db.engine.url.render_as_string(hide_password=False)
    return defaults.model_copy(update={"storage": defaults.storage.model_copy(update={"url": url})})


NGRAM_CLASSIFIERS = {"sentiment": "ngram-sentiment", "offensive": "ngram-offensive"}
"""Fast bundled models, for tests whose behaviour does not depend on the default model."""


def write_toml(path: Path, data: dict[str, Any]) -> Path:
    """A config file written from data."""
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def example_brands() -> list[dict[str, Any]]:
    """The example file's brands (Deutsche Bahn, Telekom, Vodafone, DHL). A config file without
    `[[brands]]` has none, so a test that needs them says so."""
    return list(example_config()["brands"])


def write_config(path: Path, db_url: str, replay_path: Path | None = None, **sections: Any) -> Path:
    """The example's brands on the test database with only the replay source: the demo feed
    as a fallback, or `replay_path` always. `sections` are merged over that; every key left
    out means what the example file says."""
    replay: dict[str, Any] = {"enabled": True, "fallback": True}
    if replay_path is not None:
        replay = {"enabled": True, "fallback": False, "path": str(replay_path)}
    data = {
        "storage": {"url": db_url},
        "brands": example_brands(),
        "sources": {"twitter": {"enabled": False}, "reddit": {"enabled": False}, "replay": replay},
    }
    return write_toml(path, deep_merge(data, sections))


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
    """The example's brands and sources, with X and Reddit served by the fakes, on a new
    SQLite file in `tmp_path` (the CLI migrates it)."""
    data = {
        "storage": {"url": sqlite_url(tmp_path)},
        "brands": example_brands(),
        "sources": {
            "twitter": {"api_base_url": fake_x.url},
            "reddit": {"oauth_url": fake_reddit.url, "reddit_url": fake_reddit.url},
        },
    }
    return write_toml(tmp_path / "rufwacht.toml", data)


# --- The web app on the test database.

WEB_PASSWORD = "Kaffee-und-Kuchen-42"


@pytest.fixture
def web_runtime(settings: Settings, db: Database) -> Runtime:
    """The web app's runtime with the small bundled models: the web tests are about the
    workflow and the draft checker's rules, not about what the default models say."""
    from monitor.runtime import Runtime

    classifiers = settings.classifiers.model_copy(update=NGRAM_CLASSIFIERS)
    return Runtime(settings.model_copy(update={"classifiers": classifiers}), db)


@pytest.fixture
def web_client(web_runtime: Runtime) -> Iterator[TestClient]:
    """The whole web app (UI and API) on the test database, with its own login throttle."""
    from monitor.web.app import create_app

    with TestClient(create_app(web_runtime)) as client:
        yield client


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def log_in(client: TestClient, name: str, password: str = WEB_PASSWORD) -> Any:
    """Open the login form and send it as a browser would; returns the last response."""
    token = csrf_token(client.get("/login").text)
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token})
