"""Posts are stored exactly once per (platform, platform_id), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select, text

from monitor.storage.database import Database, alembic_config, head_revisions, schema_is_current
from monitor.storage.models import AuthorRecord, PostRecord
from monitor.storage.posts import store_posts
from monitor.storage.source_states import load_cursor, mark_failing, save_cursor
from tests import factories
from tests.factories import post


def count(db: Database, model: type) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_same_posts_in_any_order_and_repetition_are_stored_once(db: Database) -> None:
    posts = [post(platform_id=str(1000 + n)) for n in range(5)]  # all by one author
    with db.transaction() as session:
        first = store_posts(session, "twitter", posts[:3]).new
    with db.transaction() as session:
        second = store_posts(session, "twitter", list(reversed(posts)) + posts).new
    assert [p.platform_id for p in first] == ["1000", "1001", "1002"]
    assert [p.platform_id for p in second] == ["1004", "1003"]
    assert count(db, PostRecord) == 5
    assert count(db, AuthorRecord) == 1


def test_same_id_on_another_platform_is_another_post(db: Database) -> None:
    tweet = post(platform="twitter", platform_id="1001")
    reddit = post(platform="reddit", platform_id="1001")
    with db.transaction() as session:
        stored = store_posts(session, "x", [tweet, reddit]).new
    assert len(stored) == 2


def test_author_signals_are_refreshed_by_newer_posts(db: Database) -> None:
    first = post(author=factories.author(platform_id="42", handle="kunde1", followers=10))
    newer = post(author=factories.author(platform_id="42", handle="kunde1_neu", followers=99))
    with db.transaction() as session:
        store_posts(session, "twitter", [first])
    with db.transaction() as session:
        store_posts(session, "twitter", [newer])
    with db.transaction() as session:
        author = session.scalars(select(AuthorRecord)).one()
        assert (author.handle, author.followers) == ("kunde1_neu", 99)


def test_times_come_back_in_utc(db: Database) -> None:
    berlin_winter = timezone(timedelta(hours=1))
    in_berlin = post(created_at=datetime(2026, 11, 20, 10, 30, tzinfo=berlin_winter))
    with db.transaction() as session:
        store_posts(session, "twitter", [in_berlin])
    with db.transaction() as session:
        stored = session.scalars(select(PostRecord)).one()
    assert stored.created_at == datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    assert stored.created_at.tzinfo is not None


def test_a_rolled_back_page_leaves_no_posts_and_no_cursor(db: Database) -> None:
    try:
        with db.transaction() as session:
            store_posts(session, "twitter", [post()])
            save_cursor(session, "twitter", {"q0": "1001"})
            raise RuntimeError("crash between fetch and commit")
    except RuntimeError:
        pass
    assert count(db, PostRecord) == 0
    with db.transaction() as session:
        assert load_cursor(session, "twitter") == {}


def test_failing_source_keeps_its_cursor(db: Database) -> None:
    with db.transaction() as session:
        save_cursor(session, "reddit", {"de": "t3_abc"})
    with db.transaction() as session:
        mark_failing(session, "reddit", "401: check REDDIT_CLIENT_SECRET")
    with db.transaction() as session:
        assert load_cursor(session, "reddit") == {"de": "t3_abc"}


def test_migrating_twice_is_harmless(db: Database) -> None:
    db.migrate()
    assert count(db, PostRecord) == 0


def test_schema_check_finds_alembics_heads_and_a_behind_schema(fresh_db_url: str) -> None:
    """The cheap check that skips Alembic at start-up must agree with Alembic itself."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert head_revisions() == set(heads)
    database = Database(fresh_db_url)
    assert not schema_is_current(database.engine)
    database.migrate()
    assert schema_is_current(database.engine)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert not schema_is_current(database.engine)
    database.dispose()
