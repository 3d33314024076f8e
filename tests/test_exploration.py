"""The explore notebook's figures from the database: the same answers on SQLite and PostgreSQL,
rescored posts counted once, authors only as pseudonyms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor import exploration as ex
from monitor.pseudonyms import Pseudonymiser
from monitor.storage.database import Database
from tests import factories

SINCE = datetime(2026, 11, 1, tzinfo=UTC)


def test_mentions_summarised_per_day_with_newest_scores_and_pseudonyms(db: Database) -> None:
    with db.transaction() as session:
        loud = factories.author_record(handle="laut_und_wuetend", key="99")
        for day in range(2):
            for n in range(3):
                post = factories.stored_post(
                    created_at=factories.T0 + timedelta(days=day, minutes=n),
                    author=loud if n < 2 else factories.author_record(),
                    platform="reddit" if n == 2 else "twitter",
                )
                factories.score(post, "sentiment", label="negative", model_version="old-1")
                if day == 1:  # rescored: the newer score counts
                    factories.score(post, "sentiment", label="neutral", model_version="new-2")
                session.add(factories.verdict(post, category="complaint" if n else "troll"))
                if n == 0:
                    session.add(factories.queue_item(post))
        old = factories.stored_post(created_at=SINCE - timedelta(days=1))
        session.add(old)

    salt = Pseudonymiser("ein-salz-fuer-die-erkundung")
    with db.transaction() as session:
        volume = ex.posts_per_day(session, SINCE)
        sentiment = ex.sentiment_per_day(session, SINCE)
        authors = ex.top_authors(session, salt, SINCE, limit=1)
        assert ex.categories(session, SINCE) == {"complaint": 4, "troll": 2}
        assert ex.keyword_hits(session, SINCE) == {"unzumutbar": 6}
        assert ex.model_versions(session, SINCE) == {
            ("sentiment", "old-1"): 6,
            ("sentiment", "new-2"): 3,
        }
    day1, day2 = factories.T0.date(), (factories.T0 + timedelta(days=1)).date()
    assert volume == {day1: {"twitter": 2, "reddit": 1}, day2: {"twitter": 2, "reddit": 1}}
    assert sentiment == {day1: {"negative": 3}, day2: {"neutral": 3}}
    assert [(a.pseudonym, a.posts, a.queued) for a in authors] == [
        (salt.author("twitter", "99"), 4, 2)
    ]
    assert "laut_und_wuetend" not in ex.authors_table(authors)
    assert "| 2026-11-24 | 3 | 0% | 100% | 0% |" in ex.share_table(sentiment)


def test_period_and_salt_defaults() -> None:
    now = datetime(2026, 12, 2, 10, tzinfo=UTC)
    assert ex.period_start(None, 30, now) == now - timedelta(days=30)
    assert ex.period_start("2026-11-01", 30, now) == SINCE
    salted, how = ex.pseudonymiser({"SALT": "x" * 20}, "SALT")
    assert how == "salted with $SALT"
    assert salted.author("twitter", "1") == Pseudonymiser("x" * 20).author("twitter", "1")
    _, how = ex.pseudonymiser({}, "SALT")
    assert "one-off salt" in how
