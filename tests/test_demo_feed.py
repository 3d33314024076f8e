"""The bundled German demo feed is valid, varied and labelled the way the demo relies on."""

from __future__ import annotations

import json
import re
from collections import Counter
from difflib import SequenceMatcher

import pytest

from connectors.base import Post
from connectors.replay import (
    DEMO_FEED_SPAN,
    DEMO_FEED_START,
    demo_feed_dir,
    post_from_record,
)
from monitor.matching import Matcher
from monitor.settings import default_settings

KINDS = {"complaint", "praise", "question", "troll", "threat", "irrelevant", "spam", "neutral"}
FLAGGED_KINDS = {"complaint", "troll", "threat"}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def records() -> list[dict]:
    lines = (demo_feed_dir() / "demo.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def posts(records: list[dict]) -> list[Post]:
    return [post_from_record(record) for record in records]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    settings = default_settings()
    return Matcher(settings.brands, settings.keywords.negative)


def test_every_line_is_a_post_with_a_unique_id(records: list[dict], posts: list[Post]) -> None:
    assert len(posts) >= 200
    ids = [post.platform_id for post in posts]
    assert len(set(ids)) == len(ids)
    assert ids == [f"demo-{n:04d}" for n in range(1, len(ids) + 1)]
    for record, post in zip(records, posts, strict=True):
        assert post.platform in {"twitter", "reddit"}
        assert post.url == f"https://demo.rufwacht.invalid/{post.platform}/{post.platform_id}"
        assert ISO_Z.match(record["created_at"])
        # `demo_created_at` maps this week onto the hours before the replay.
        assert DEMO_FEED_START <= post.created_at < DEMO_FEED_START + DEMO_FEED_SPAN
        assert post.author is not None
        assert None not in (
            post.author.account_age_days,
            post.author.followers,
            post.author.posts_last_24h,
        )


def test_posts_are_in_time_order_and_spread_over_the_week(posts: list[Post]) -> None:
    times = [post.created_at for post in posts]
    assert times == sorted(times)
    assert {t.day for t in times} == set(range(17, 24))


def test_every_kind_is_present_and_flag_follows_kind(records: list[dict]) -> None:
    kinds = Counter(record["demo"]["kind"] for record in records)
    assert set(kinds) == KINDS
    assert min(kinds.values()) >= 5
    assert kinds.most_common(1)[0][0] == "complaint"
    for record in records:
        assert record["demo"]["flag"] is (record["demo"]["kind"] in FLAGGED_KINDS), record["id"]


def test_posts_that_matter_name_a_brand_and_all_four_brands_appear(
    records: list[dict], matcher: Matcher
) -> None:
    brands: Counter[str] = Counter()
    for record in records:
        if record["demo"]["kind"] != "irrelevant":
            found = matcher.match(record["text"]).brands
            assert found, f"{record['id']} names no brand: {record['text']}"
            brands.update(found)
    assert set(brands) == {"Deutsche Bahn", "Telekom", "Vodafone", "DHL"}
    assert min(brands.values()) >= 20


def test_irrelevant_posts_name_no_brand_and_exercise_the_exclusions(
    records: list[dict], matcher: Matcher
) -> None:
    irrelevant = [r["text"] for r in records if r["demo"]["kind"] == "irrelevant"]
    leaked = {text: matcher.match(text).brands for text in irrelevant if matcher.match(text).brands}
    assert not leaked
    excluded = default_settings().brands[0].exclude
    using_exclusions = [
        t for t in irrelevant if any(e.casefold() in t.casefold() for e in excluded)
    ]
    assert len(using_exclusions) >= 10


def test_insinuation_accounts_post_near_identical_texts_from_new_busy_accounts(
    records: list[dict],
) -> None:
    by_author: dict[str, list[dict]] = {}
    for record in records:
        if record["demo"]["kind"] == "troll":
            by_author.setdefault(record["author"]["handle"], []).append(record)
    repeaters = {handle: rs for handle, rs in by_author.items() if len(rs) >= 3}
    assert len(repeaters) >= 2
    for handle, rs in repeaters.items():
        author = rs[0]["author"]
        assert author["account_age_days"] <= 14 and author["posts_last_24h"] >= 30, handle
        texts = [r["text"] for r in rs]
        assert len(set(texts)) == len(texts), f"{handle} repeats a text verbatim"
        similarity = [SequenceMatcher(None, texts[0], text).ratio() for text in texts[1:]]
        assert min(similarity) >= 0.85, f"{handle}'s posts are not near-identical"
