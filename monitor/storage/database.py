"""Opening the database and bringing its schema up to date with Alembic."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from monitor.storage import StorageError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

VERSION_TABLE = "alembic_version"


SUPPORTED_DATABASES = ("sqlite", "postgresql")
SUPPORTED_URLS = "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"
"""The forms the storage code supports (its inserts use SQLite's and PostgreSQL's ON CONFLICT)."""


def database_url(url: str) -> URL:
    """`url` parsed; `StorageError` unless it names a supported database with its driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"{url!r} is not a database URL; use {SUPPORTED_URLS}") from exc
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() not in SUPPORTED_DATABASES:
        raise StorageError(f"{shown}: unsupported database; use {SUPPORTED_URLS}")
    try:
        parsed.get_dialect().import_dbapi()
    except (ImportError, NoSuchModuleError) as exc:
        raise StorageError(
            f"{shown}: database driver not installed ({exc}); use {SUPPORTED_URLS}"
        ) from exc
    return parsed


def create_db_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout for threads."""
    parsed = database_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    engine = create_engine(parsed, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling would let a SAVEPOINT open (and its RELEASE commit) a
    # transaction of its own; SQLAlchemy's documented remedy: no implicit BEGIN, emit our own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def migrations_dir() -> Path:
    return Path(str(resources.files("monitor") / "migrations"))


def alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def head_revisions() -> set[str]:
    """The newest migrations' ids, read from the version files without importing Alembic.

    A head is a revision that no other revision names as its `down_revision`.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (migrations_dir() / "versions").glob("*.py"):
        names = _module_constants(path)
        revisions.add(str(names["revision"]))
        down = names.get("down_revision")
        parents.update([down] if isinstance(down, str) else down or ())
    return revisions - parents


def _module_constants(path: Path) -> dict[str, Any]:
    """Top-level `name = literal` assignments of a Python file."""
    constants: dict[str, Any] = {}
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            try:
                constants[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return constants


def schema_is_current(engine: Engine) -> bool:
    """Whether the database already stands at every head revision (no migration to run)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return False
        stored = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        return set(stored) == head_revisions()


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest migration (idempotent, safe at every start).

    Alembic's machinery takes most of a second to import, and nearly every start finds the
    schema current: a look at the version table decides whether Alembic is needed at all.
    """
    try:
        if schema_is_current(engine):
            return
        from alembic import command

        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except Exception as exc:
        url = engine.url.render_as_string(hide_password=True)
        raise StorageError(f"cannot prepare database {url}: {exc}") from exc


class Database:
    """The engine and session factory one process shares."""

    def __init__(self, url: str) -> None:
        self.engine = create_db_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def location(self) -> str:
        """Where the data lives, for people: the SQLite file, else the URL without password."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and url.database:
            return str(Path(url.database).absolute())
        return url.render_as_string(hide_password=True)

    def migrate(self) -> None:
        migrate(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed together or not at all."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
