"""The Reddit connector drives the real praw.Reddit against a fake Reddit on 127.0.0.1."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from connectors import SOURCE_TYPES
from connectors.base import Cursor, Page, SearchTerms, SourceError
from connectors.capabilities import ChecksExisting, PostsReplies
from connectors.reddit import RedditConnector, RedditSettings
from tests.fakes.reddit import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME, FakeReddit
from tests.fakes.server import Reply

SEARCH = "/r/de+Finanzen/search"
TERMS = SearchTerms(
    brands=("Deutsche Bahn", "Telekom", "@DB_Bahn"),
    keywords=("kaputt", "Störung"),
)
ENV = {"REDDIT_CLIENT_ID": CLIENT_ID, "REDDIT_CLIENT_SECRET": CLIENT_SECRET}
SCRIPT_ENV = {**ENV, "REDDIT_USERNAME": USERNAME, "REDDIT_PASSWORD": PASSWORD}


class Sleeps(list[float]):
    """Records waits instead of sleeping them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def connect(
    fake: FakeReddit, sleeps: Sleeps | None = None, env: dict[str, str] = ENV, **settings: Any
) -> RedditConnector:
    config = RedditSettings(
        oauth_url=fake.url, reddit_url=fake.url, subreddits=["de", "Finanzen"], **settings
    )
    return RedditConnector.from_settings(
        "reddit", config, TERMS, env, sleep=sleeps if sleeps is not None else Sleeps()
    )


def run(connector: RedditConnector, cursor: Cursor) -> tuple[list[Page], Cursor]:
    pages = list(connector.fetch(cursor))
    return pages, pages[-1].cursor if pages else cursor


def ids(pages: list[Page]) -> list[str]:
    return [post.platform_id for page in pages for post in page.posts]


def add_threads(fake: FakeReddit, count: int) -> list[str]:
    fake.add_user("pendler")
    return [
        fake.add_submission(
            "de" if n % 2 else "Finanzen",
            f"Telekom Störung Nummer {n}",
            "Seit heute morgen kein Netz.",
            ago=timedelta(minutes=60 - n),
        )
        for n in range(count)
    ]


def test_registered_and_offers_compliance_and_replies() -> None:
    assert SOURCE_TYPES["reddit"].connector_class() is RedditConnector
    assert issubclass(RedditConnector, ChecksExisting)
    assert issubclass(RedditConnector, PostsReplies)


def test_two_listing_pages_deliver_every_post_once_oldest_first(fake_reddit: FakeReddit) -> None:
    threads = add_threads(fake_reddit, 5)
    fake_reddit.add_submission("de", "Bahn-Rezept für Kuchen", ago=timedelta(minutes=1))
    fake_reddit.page_cap = 3
    connector = connect(fake_reddit, page_size=2)

    pages, cursor = run(connector, {})

    assert [len(page.posts) for page in pages] == [2, 2, 1]
    assert ids(pages) == threads
    searches = fake_reddit.calls(SEARCH)
    assert [call.params.get("after") for call in searches] == [None, threads[2]]
    assert searches[0].params["q"] == '("Deutsche Bahn" OR Telekom OR "@DB_Bahn")'
    assert (searches[0].params["sort"], searches[0].params["t"]) == ("new", "day")
    post = pages[0].posts[0]
    assert post.text == "Telekom Störung Nummer 0\n\nSeit heute morgen kein Netz."
    assert post.url == f"https://www.reddit.com/r/Finanzen/comments/{threads[0][3:]}/post/"
    assert post.author is not None
    assert (post.author.handle, post.author.account_age_days) == ("pendler", 400)

    again, cursor = run(connector, cursor)
    assert ids(again) == []

    newer = fake_reddit.add_submission("de", "Deutsche Bahn: Zug fällt aus", ago=timedelta(0))
    assert ids(run(connector, cursor)[0]) == [newer]


def test_a_crash_before_the_second_commit_refetches_the_rest_and_skips_nothing(
    fake_reddit: FakeReddit,
) -> None:
    threads = add_threads(fake_reddit, 5)
    first_page = next(iter(connect(fake_reddit, page_size=2).fetch({})))  # then the crash

    resumed, _ = run(connect(fake_reddit, page_size=2), first_page.cursor)

    assert ids([first_page, *resumed]) == threads


def test_a_post_that_reaches_the_search_index_late_is_still_fetched(
    fake_reddit: FakeReddit,
) -> None:
    add_threads(fake_reddit, 2)
    connector = connect(fake_reddit)
    _, cursor = run(connector, {})
    late = fake_reddit.add_submission(
        "de", "Telekom kaputt (spät indexiert)", ago=timedelta(minutes=10)
    )

    assert ids(run(connector, cursor)[0]) == [late]


def test_first_poll_back_fills_the_configured_window(fake_reddit: FakeReddit) -> None:
    fake_reddit.add_user("pendler")
    fake_reddit.add_submission("de", "Telekom Störung letzte Woche", ago=timedelta(days=3))
    recent = fake_reddit.add_submission("de", "Telekom Störung heute", ago=timedelta(hours=5))

    pages, _ = run(connect(fake_reddit, backfill_hours=48), {})

    assert ids(pages) == [recent]
    assert fake_reddit.calls(SEARCH)[0].params["t"] == "week"


def test_an_empty_result_keeps_the_cursor(fake_reddit: FakeReddit) -> None:
    pages, cursor = run(connect(fake_reddit), {})

    assert [(page.posts, page.errors) for page in pages] == [([], [])]
    assert list(cursor.values()) == [{}]


def test_429_waits_for_the_reset_header_and_prawcore_paces_the_retry(
    fake_reddit: FakeReddit,
) -> None:
    threads = add_threads(fake_reddit, 3)
    limited = {"x-ratelimit-remaining": "0", "x-ratelimit-used": "600", "x-ratelimit-reset": "1"}
    fake_reddit.queue(SEARCH, Reply(429, {"message": "Too Many Requests", "error": 429}, limited))
    sleeps = Sleeps()

    pages, _ = run(connect(fake_reddit, sleeps), {})

    assert ids(pages) == threads
    assert sleeps == [1.0]
    refused, retried = fake_reddit.calls(SEARCH)
    assert retried.at - refused.at >= 0.9  # prawcore's own limiter held the retry back


def test_a_server_error_is_retried(fake_reddit: FakeReddit) -> None:
    threads = add_threads(fake_reddit, 3)
    fake_reddit.queue(SEARCH, Reply(500, {"message": "Internal Server Error", "error": 500}))

    pages, _ = run(connect(fake_reddit), {})

    assert ids(pages) == threads
    assert len(fake_reddit.calls(SEARCH)) == 2


def test_a_timeout_is_retried(fake_reddit: FakeReddit) -> None:
    threads = add_threads(fake_reddit, 2)
    fake_reddit.queue(SEARCH, Reply(hold=True))

    pages, _ = run(connect(fake_reddit, timeout_seconds=1), {})

    assert ids(pages) == threads


def test_malformed_json_fails_the_source_with_a_clear_message(fake_reddit: FakeReddit) -> None:
    fake_reddit.queue(SEARCH, Reply(200, '{"kind": "Listing", "data": {"children": ['))

    with pytest.raises(SourceError, match="malformed JSON") as failure:
        run(connect(fake_reddit), {})
    assert failure.value.source == "reddit"


def test_rejected_credentials_name_the_variables(fake_reddit: FakeReddit) -> None:
    env = {**ENV, "REDDIT_CLIENT_SECRET": "wrong"}

    with pytest.raises(SourceError, match=r"REDDIT_CLIENT_ID/REDDIT_CLIENT_SECRET \(401\)"):
        run(connect(fake_reddit, env=env), {})
    assert fake_reddit.calls(SEARCH) == []


def test_a_missing_client_secret_names_the_variable(fake_reddit: FakeReddit) -> None:
    with pytest.raises(SourceError, match="set the environment variable REDDIT_CLIENT_SECRET"):
        connect(fake_reddit, env={"REDDIT_CLIENT_ID": CLIENT_ID})


def test_a_deleted_author_leaves_the_post_without_author(fake_reddit: FakeReddit) -> None:
    add_threads(fake_reddit, 1)
    orphan = fake_reddit.add_submission("de", "Telekom Störung", author=None, ago=timedelta(0))

    pages, _ = run(connect(fake_reddit), {})

    assert [post.author is None for post in pages[0].posts] == [False, True]
    assert pages[0].posts[1].platform_id == orphan
    assert pages[0].errors == []


def test_missing_author_details_keep_the_author_without_account_age(
    fake_reddit: FakeReddit,
) -> None:
    add_threads(fake_reddit, 1)
    fake_reddit.users.clear()  # the details endpoint now answers 404, as for suspended users

    pages, _ = run(connect(fake_reddit), {})

    author = pages[0].posts[0].author
    assert author is not None and (author.handle, author.account_age_days) == ("pendler", None)


def test_a_broken_item_is_reported_and_the_rest_of_the_page_kept(fake_reddit: FakeReddit) -> None:
    threads = add_threads(fake_reddit, 2)
    page = fake_reddit.search_page(threads[::-1])
    broken = [
        {"id": "x1", "name": "t3_x1", "created_utc": time.time()},
        {"id": "x2", "title": "Telekom"},
        {"id": "x3", "name": "t3_x3", "title": "Telekom", "created_utc": time.time() + 86400},
    ]
    page["data"]["children"][:0] = [{"kind": "t3", "data": data} for data in broken]
    fake_reddit.queue(SEARCH, Reply(200, page))

    pages, _ = run(connect(fake_reddit), {})

    assert ids(pages) == threads
    feed = 'r/de+Finanzen search \'("Deutsche Bahn" OR Telekom OR "@DB_Bahn")\''
    assert pages[0].errors == [
        f"{feed}: item x2: lacks name or created_utc",
        f"{feed}: item t3_x3: has created_utc in the future",
        f"{feed}: item t3_x1: missing title",
    ]


def test_edited_and_deleted_posts_are_found_by_lookup(fake_reddit: FakeReddit) -> None:
    edited, deleted, untouched = add_threads(fake_reddit, 3)
    comment = fake_reddit.add_comment(untouched, "Bei mir auch, Telekom kaputt")
    fake_reddit.edit(edited, "Nachtrag: läuft wieder")
    fake_reddit.delete(deleted)
    fake_reddit.delete(comment)

    status = connect(fake_reddit).lookup_existing([edited, deleted, untouched, comment, "t3_zzzz"])

    assert status == {
        edited: "Telekom Störung Nummer 0\n\nNachtrag: läuft wieder",
        deleted: None,
        untouched: "Telekom Störung Nummer 2\n\nSeit heute morgen kein Netz.",
        comment: None,
        "t3_zzzz": None,
    }


def test_an_edited_post_keeps_its_identity(fake_reddit: FakeReddit) -> None:
    (thread,) = add_threads(fake_reddit, 1)
    connector = connect(fake_reddit)
    first, _ = run(connector, {})
    fake_reddit.edit(thread, "Update: Techniker kommt morgen")

    second, _ = run(connector, {})  # a lost cursor re-reads: same fullname, storage dedupes

    assert ids(first) == ids(second) == [thread]
    assert second[0].posts[0].text.endswith("Update: Techniker kommt morgen")


def test_the_comment_stream_keeps_only_comments_naming_a_brand(fake_reddit: FakeReddit) -> None:
    (thread,) = add_threads(fake_reddit, 1)
    fake_reddit.add_comment(thread, "Mein Kuchen ist kaputt", ago=timedelta(minutes=3))
    brand = fake_reddit.add_comment(
        thread, "Die TELEKOM-Hotline hilft nie", ago=timedelta(minutes=2)
    )
    fake_reddit.add_comment(thread, "Telekom? Gelöscht.", ago=timedelta(minutes=1))
    fake_reddit.delete(list(fake_reddit.items)[-1])
    connector = connect(fake_reddit, streams=["comments"])

    pages, cursor = run(connector, {})

    assert ids(pages) == [thread, brand]
    assert pages[-1].posts[0].parent_id == thread
    assert len(cursor) == 2
    assert ids(run(connector, cursor)[0]) == []


def test_replies_are_refused_unless_enabled(fake_reddit: FakeReddit) -> None:
    with pytest.raises(SourceError, match="reply_enabled = true"):
        connect(fake_reddit).post_reply("t3_abc", "Das tut uns leid!")


def test_a_dry_run_reply_sends_nothing(fake_reddit: FakeReddit) -> None:
    result = connect(fake_reddit, reply_enabled=True).post_reply("t3_abc", "Das tut uns leid!")

    assert result.dry_run and result.request == {"thing_id": "t3_abc", "text": "Das tut uns leid!"}
    assert fake_reddit.replies == [] and fake_reddit.requests == []


def test_an_enabled_reply_is_posted_with_the_script_account(fake_reddit: FakeReddit) -> None:
    (thread,) = add_threads(fake_reddit, 1)
    connector = connect(fake_reddit, env=SCRIPT_ENV, reply_enabled=True, dry_run=False)

    result = connector.post_reply(thread, "Das tut uns leid! Schreib uns eine PN.")

    assert fake_reddit.replies == [
        {"thing_id": thread, "text": "Das tut uns leid! Schreib uns eine PN.", "api_type": "json"}
    ]
    assert result.reply_id is not None and result.reply_id.startswith("t1_")
    assert result.url == (
        f"https://www.reddit.com/r/Finanzen/comments/{thread[3:]}/post/{result.reply_id[3:]}/"
    )
    token_request = fake_reddit.calls("/api/v1/access_token")[0].form()
    assert token_request["grant_type"] == "password"


def test_publishing_replies_needs_the_account_variables(fake_reddit: FakeReddit) -> None:
    with pytest.raises(SourceError, match="REDDIT_USERNAME"):
        connect(fake_reddit, reply_enabled=True, dry_run=False)
