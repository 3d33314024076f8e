"""The X connector drives the real tweepy.Client against a fake X API on 127.0.0.1."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors import SOURCE_TYPES
from connectors.base import Cursor, Page, SearchTerms, SourceError
from connectors.capabilities import ChecksExisting, PostsReplies
from connectors.retry import Clock
from connectors.twitter import TwitterConnector, TwitterSettings, snowflake_time, twitter_queries
from monitor.settings import default_settings
from monitor.sources import search_terms
from tests.fakes.server import Reply
from tests.fakes.twitter import BEARER, SNOWFLAKE_EPOCH_MS, FakeX

SEARCH = "/2/tweets/search/recent"
TERMS = SearchTerms(
    brands=("Deutsche Bahn", "@DB_Bahn", "Telekom"),
    keywords=("verspät*", "kaputt", "Störung", "nie wieder"),
)
ENV = {"TWITTER_BEARER_TOKEN": BEARER}
USER_KEYS = {
    "TWITTER_API_KEY": "k",
    "TWITTER_API_SECRET": "s",
    "TWITTER_ACCESS_TOKEN": "t",
    "TWITTER_ACCESS_TOKEN_SECRET": "ts",
}


class Sleeps(list[float]):
    """Records waits instead of sleeping them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def connect(
    fake: FakeX,
    sleeps: Sleeps | None = None,
    env: dict[str, str] = ENV,
    clock: Clock = time.time,
    **settings: Any,
) -> TwitterConnector:
    config = TwitterSettings(api_base_url=fake.url, page_size=10, **settings)
    sleep = sleeps if sleeps is not None else Sleeps()
    return TwitterConnector.from_settings("twitter", config, TERMS, env, sleep=sleep, clock=clock)


def frozen_clock() -> tuple[float, Clock]:
    """Now in whole seconds (as X's rate-limit reset header counts), and a clock stopped there."""
    now = float(int(time.time()))
    return now, lambda: now


def run(connector: TwitterConnector, cursor: Cursor) -> tuple[list[Page], Cursor]:
    pages = list(connector.fetch(cursor))
    return pages, pages[-1].cursor if pages else cursor


def texts(pages: list[Page]) -> list[str]:
    return [post.text for page in pages for post in page.posts]


def add_complaints(fake: FakeX, count: int, author: str) -> list[str]:
    return [
        fake.add_tweet(f"@DB_Bahn Zug {n} ist kaputt", author, ago=timedelta(minutes=60 - n))
        for n in range(count)
    ]


def test_registered_and_offers_compliance_and_replies() -> None:
    assert SOURCE_TYPES["twitter"].connector_class() is TwitterConnector
    assert issubclass(TwitterConnector, ChecksExisting)
    assert issubclass(TwitterConnector, PostsReplies)


def test_long_keyword_lists_are_split_into_queries_within_512_characters() -> None:
    terms = search_terms(default_settings())
    queries = twitter_queries(terms, "de", 512)
    assert len(queries) > 1
    assert all(len(query) <= 512 for query in queries)
    # Exclusions remove only their words in the matcher; as NOT they would drop whole posts.
    assert all(q.endswith(" lang:de -is:retweet") for q in queries)
    assert all('"DB Navigator"' in q and "@DB_Bahn" in q and "#Vodafone" in q for q in queries)
    assert all(" ICE " in q and "{" not in q and "dB" not in q for q in queries)
    for keyword in ("verspät", '"funktioniert nicht"', "scheiß", "scheiss", "verarsch"):
        assert sum(f" {keyword} " in q.replace("(", " ").replace(")", " ") for q in queries) == 1


def test_every_query_has_its_own_cursor(fake_x: FakeX) -> None:
    author = fake_x.add_user("pendler")
    kaputt = fake_x.add_tweet("Telekom kaputt seit Stunden", author)
    nie_wieder = fake_x.add_tweet("Deutsche Bahn: nie wieder", author)
    connector = connect(fake_x, max_query_length=100)
    assert len(connector.queries) == 2

    pages, cursor = run(connector, {})

    assert [texts([page]) for page in pages] == [
        ["Telekom kaputt seit Stunden"],
        ["Deutsche Bahn: nie wieder"],
    ]
    assert sorted(state["since_id"] for state in cursor.values()) == sorted([kaputt, nie_wieder])
    assert [call.params["query"] for call in fake_x.calls(SEARCH)] == list(
        connector.queries.values()
    )


def test_two_pages_deliver_every_tweet_once_and_the_next_poll_only_newer(fake_x: FakeX) -> None:
    author = fake_x.add_user("pendler", followers=321, age_days=30)
    add_complaints(fake_x, 15, author)
    connector = connect(fake_x)

    pages, cursor = run(connector, {})

    assert [len(page.posts) for page in pages] == [10, 5]
    assert sorted(texts(pages)) == sorted(f"@DB_Bahn Zug {n} ist kaputt" for n in range(15))
    post = pages[0].posts[0]
    assert post.platform == "twitter" and post.language == "de"
    assert post.url == f"https://x.com/pendler/status/{post.platform_id}"
    assert post.author is not None
    assert (post.author.handle, post.author.followers, post.author.account_age_days) == (
        "pendler",
        321,
        30,
    )
    assert post.metrics["like_count"] == 0

    again, cursor = run(connector, cursor)
    assert texts(again) == []
    assert fake_x.calls(SEARCH)[-1].params["since_id"] == pages[0].posts[0].platform_id

    fake_x.add_tweet("Telekom Störung, schon wieder", author, ago=timedelta(seconds=1))
    newer, _ = run(connector, cursor)
    assert texts(newer) == ["Telekom Störung, schon wieder"]


def test_a_crash_before_the_second_commit_refetches_the_rest_and_skips_nothing(
    fake_x: FakeX,
) -> None:
    author = fake_x.add_user("pendler")
    add_complaints(fake_x, 25, author)
    connector = connect(fake_x)
    first_page = next(iter(connector.fetch({})))  # committed; the process dies afterwards
    fake_x.add_tweet("Telekom kaputt, während wir weg waren", author, ago=timedelta(seconds=1))

    resumed, cursor = run(connect(fake_x), first_page.cursor)
    following, _ = run(connect(fake_x), cursor)

    delivered = texts([first_page, *resumed, *following])
    assert len(delivered) == len(set(delivered)) == 26
    assert "Telekom kaputt, während wir weg waren" in texts(following)
    resume_call = fake_x.calls(SEARCH)[1]
    assert resume_call.params["until_id"] == first_page.posts[-1].platform_id


def test_first_poll_back_fills_the_configured_window(fake_x: FakeX) -> None:
    author = fake_x.add_user("pendler")
    fake_x.add_tweet("Telekom Störung von gestern früh", author, ago=timedelta(hours=30))
    fake_x.add_tweet("Telekom Störung von vorhin", author, ago=timedelta(hours=2))
    now, clock = frozen_clock()

    pages, _ = run(connect(fake_x, clock=clock, backfill_hours=24), {})

    assert texts(pages) == ["Telekom Störung von vorhin"]
    start = datetime.fromisoformat(fake_x.calls(SEARCH)[0].params["start_time"])
    assert start == datetime.fromtimestamp(now, UTC) - timedelta(hours=24)


def test_a_since_id_older_than_seven_days_is_replaced_by_the_window_start(fake_x: FakeX) -> None:
    author = fake_x.add_user("pendler")
    fake_x.add_tweet("Telekom Störung nach dem Urlaub", author)
    eight_days_ago = int((time.time() - 8 * 86400) * 1000) - SNOWFLAKE_EPOCH_MS
    stale = str(eight_days_ago << 22)
    connector = connect(fake_x)
    assert snowflake_time(stale) < datetime.now(UTC) - timedelta(days=7)

    pages, cursor = run(connector, {key: {"since_id": stale} for key in connector.queries})

    assert texts(pages) == ["Telekom Störung nach dem Urlaub"]
    assert "since_id" not in fake_x.calls(SEARCH)[0].params
    assert cursor[next(iter(connector.queries))]["since_id"] == pages[0].posts[0].platform_id


def test_an_empty_result_keeps_the_cursor(fake_x: FakeX) -> None:
    connector = connect(fake_x)
    cursor = {
        key: {"since_id": str(int(time.time() * 1000 - SNOWFLAKE_EPOCH_MS) << 22)}
        for key in connector.queries
    }

    pages, after = run(connector, cursor)

    assert [(page.posts, page.errors) for page in pages] == [([], [])]
    assert after == cursor


def test_429_waits_until_the_reset_header_then_continues(fake_x: FakeX) -> None:
    author = fake_x.add_user("pendler")
    add_complaints(fake_x, 3, author)
    now, clock = frozen_clock()
    reset = str(int(now) + 120)
    fake_x.queue(SEARCH, Reply(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": reset}))
    sleeps = Sleeps()

    pages, _ = run(connect(fake_x, sleeps, clock=clock), {})

    assert len(texts(pages)) == 3
    assert sleeps == [121]  # until the reset, and one second for clock skew
    assert len(fake_x.calls(SEARCH)) == 2  # one refusal, one retry after the wait: no hammering


def test_a_reset_beyond_the_allowed_wait_fails_the_poll_without_retrying(fake_x: FakeX) -> None:
    now, clock = frozen_clock()
    reset = str(int(now) + 3600)
    fake_x.queue(SEARCH, Reply(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": reset}))
    sleeps = Sleeps()

    with pytest.raises(SourceError, match="rate limited for another 3601 s"):
        run(connect(fake_x, sleeps, clock=clock, max_rate_limit_wait_minutes=15), {})
    assert sleeps == [] and len(fake_x.calls(SEARCH)) == 1


def test_a_server_error_is_retried_after_a_jittered_backoff(fake_x: FakeX) -> None:
    author = fake_x.add_user("pendler")
    add_complaints(fake_x, 12, author)
    fake_x.queue(SEARCH, Reply(503, {"title": "Service Unavailable"}))
    sleeps = Sleeps()

    pages, _ = run(connect(fake_x, sleeps), {})

    assert len(set(texts(pages))) == len(texts(pages)) == 12
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 30


def test_persistent_server_errors_give_up_after_the_configured_attempts(fake_x: FakeX) -> None:
    fake_x.queue(SEARCH, *[Reply(500, {"title": "Internal Error"})] * 5)
    sleeps = Sleeps()

    with pytest.raises(SourceError, match="still failing after 3 attempts") as failure:
        run(connect(fake_x, sleeps, max_attempts=3), {})
    assert failure.value.source == "twitter"
    assert len(fake_x.calls(SEARCH)) == 3 and len(sleeps) == 2


def test_a_timeout_is_retried(fake_x: FakeX) -> None:
    author = fake_x.add_user("pendler")
    add_complaints(fake_x, 2, author)
    fake_x.queue(SEARCH, Reply(hold=True))
    sleeps = Sleeps()

    pages, _ = run(connect(fake_x, sleeps, timeout_seconds=1), {})

    assert len(texts(pages)) == 2 and len(sleeps) == 1


@pytest.mark.parametrize(
    ("env", "status"), [({"TWITTER_BEARER_TOKEN": "revoked"}, 401), (ENV, 403)]
)
def test_rejected_credentials_name_the_variable(
    fake_x: FakeX, env: dict[str, str], status: int
) -> None:
    if status == 403:
        fake_x.queue(SEARCH, Reply(403, {"title": "Client Forbidden", "detail": "not enrolled"}))

    with pytest.raises(SourceError, match=rf"TWITTER_BEARER_TOKEN \({status}"):
        run(connect(fake_x, env=env), {})
    assert len(fake_x.calls(SEARCH)) == 1  # credentials are not retried


def test_a_missing_token_names_the_variable(fake_x: FakeX) -> None:
    with pytest.raises(SourceError, match="set the environment variable X_TOKEN"):
        connect(fake_x, env={}, bearer_token_env="X_TOKEN")


def test_malformed_json_fails_the_source_with_a_clear_message(fake_x: FakeX) -> None:
    fake_x.queue(SEARCH, Reply(200, '{"data": [{"id": "1", "text": '))

    with pytest.raises(SourceError, match="malformed JSON"):
        run(connect(fake_x), {})


def test_a_page_without_includes_keeps_its_tweets_and_reports_the_problem(fake_x: FakeX) -> None:
    author = fake_x.add_user("pendler")
    add_complaints(fake_x, 3, author)
    fake_x.drop_includes = True

    pages, _ = run(connect(fake_x), {})

    assert len(texts(pages)) == 3
    assert all(post.author is None for post in pages[0].posts)
    assert pages[0].errors == ["response without 'includes': 3 tweets lack author details"]


def test_a_deleted_author_leaves_the_tweet_without_author(fake_x: FakeX) -> None:
    known = fake_x.add_user("pendler")
    fake_x.add_tweet("Telekom Störung, Account inzwischen gelöscht", "424242")
    fake_x.add_tweet("Telekom Störung, Account noch da", known, ago=timedelta(minutes=9))

    pages, _ = run(connect(fake_x), {})

    authors = {post.text: post.author and post.author.handle for post in pages[0].posts}
    assert authors == {
        "Telekom Störung, Account inzwischen gelöscht": None,
        "Telekom Störung, Account noch da": "pendler",
    }
    assert pages[0].errors == []
    assert pages[0].posts[0].url.startswith("https://x.com/i/web/status/")


def test_a_broken_tweet_is_reported_and_the_rest_of_the_page_kept(fake_x: FakeX) -> None:
    body = {
        "data": [
            {"id": "11", "text": "Telekom kaputt", "created_at": "2026-01-05T10:00:00.000Z"},
            {"id": "12", "text": "Telekom Störung", "created_at": "gestern"},
            {"id": "13", "created_at": "2026-01-05T10:00:00.000Z"},
        ],
        "includes": {"users": []},
        "meta": {"result_count": 3, "newest_id": "13", "oldest_id": "11"},
    }
    fake_x.queue(SEARCH, Reply(200, body))

    pages, cursor = run(connect(fake_x), {})

    assert texts(pages) == ["Telekom kaputt"]
    assert pages[0].errors[0].startswith("tweet 12: created_at:")
    assert pages[0].errors[1] == "tweet 13: missing text"
    assert next(iter(cursor.values())) == {"since_id": "13"}


def test_an_edited_tweet_stays_one_post_and_lookup_returns_the_new_text(fake_x: FakeX) -> None:
    author = fake_x.add_user("pendler")
    original = fake_x.add_tweet("Telekom Störung seit 2 Std", author)
    connector = connect(fake_x)
    first, cursor = run(connector, {})
    fake_x.edit(original, "Telekom Störung seit 3 Std, unfassbar")

    second, _ = run(connector, cursor)

    assert [post.platform_id for post in first[0].posts] == [original]
    assert [(post.platform_id, post.text) for post in second[0].posts] == [
        (original, "Telekom Störung seit 3 Std, unfassbar")
    ]
    assert connector.lookup_existing([original]) == {
        original: "Telekom Störung seit 3 Std, unfassbar"
    }


def test_lookup_marks_deleted_tweets_in_batches_of_100(fake_x: FakeX) -> None:
    author = fake_x.add_user("pendler")
    ids = [fake_x.add_tweet(f"Telekom Störung {n}", author) for n in range(120)]
    fake_x.deleted.update({ids[3], ids[110]})

    status = connect(fake_x).lookup_existing(ids)

    assert status[ids[3]] is None and status[ids[110]] is None
    assert status[ids[0]] == "Telekom Störung 0"
    assert sum(text is not None for text in status.values()) == 118
    assert [len(call.params["ids"].split(",")) for call in fake_x.calls("/2/tweets")] == [100, 20]


def test_replies_are_refused_unless_enabled(fake_x: FakeX) -> None:
    with pytest.raises(SourceError, match="reply_enabled = true"):
        connect(fake_x).post_reply("11", "Das tut uns leid!")


def test_a_dry_run_reply_sends_nothing(fake_x: FakeX) -> None:
    result = connect(fake_x, reply_enabled=True).post_reply("11", " Das tut uns leid! ")

    assert result.dry_run and result.reply_id is None
    assert result.request == {"text": "Das tut uns leid!", "reply": {"in_reply_to_tweet_id": "11"}}
    assert fake_x.posted == [] and fake_x.requests == []


def test_an_enabled_reply_is_posted_with_user_credentials(fake_x: FakeX) -> None:
    connector = connect(fake_x, env={**ENV, **USER_KEYS}, reply_enabled=True, dry_run=False)

    result = connector.post_reply("11", "Das tut uns leid! Wir kümmern uns.")

    assert fake_x.posted == [
        {"text": "Das tut uns leid! Wir kümmern uns.", "reply": {"in_reply_to_tweet_id": "11"}}
    ]
    assert result.reply_id in fake_x.tweets and not result.dry_run
    assert result.url == f"https://x.com/i/web/status/{result.reply_id}"


def test_publishing_replies_needs_the_user_credential_variables(fake_x: FakeX) -> None:
    with pytest.raises(SourceError, match="TWITTER_ACCESS_TOKEN"):
        connect(
            fake_x,
            env={**ENV, "TWITTER_API_KEY": "k", "TWITTER_API_SECRET": "s"},
            reply_enabled=True,
            dry_run=False,
        )


def test_a_reply_longer_than_280_characters_is_refused(fake_x: FakeX) -> None:
    with pytest.raises(SourceError, match="1 to 280 characters, got 281"):
        connect(fake_x, reply_enabled=True).post_reply("11", "x" * 281)
