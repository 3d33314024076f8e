"""Priority from severity × reach: crisis and threats first, then the louder complaint."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.queue import enqueue, list_items
from monitor.queue.priority import (
    ESCALATED_FLOOR,
    Band,
    Reach,
    Severity,
    band_of,
    band_range,
    engagement,
    rate,
)
from monitor.queue.sla import SlaClock
from monitor.settings import SlaSettings
from monitor.storage.database import Database
from tests.factories import T0, author_record, stored_post, verdict

ANGRY = Severity("complaint", negative=0.85, troll=0.1, threat=False, keywords=1)
QUIET = Reach(followers=180)
VIRAL = Reach(followers=2_000, engagement=40_000)


def test_a_crisis_outranks_a_viral_complaint_which_outranks_a_quiet_one() -> None:
    calm_crisis = Severity("crisis", negative=0.3, troll=0.0, threat=False, keywords=0)
    priorities = [rate(calm_crisis, Reach()), rate(ANGRY, VIRAL), rate(ANGRY, QUIET)]
    assert priorities == sorted(priorities, reverse=True)
    assert len(set(priorities)) == 3
    assert [band_of(p) for p in priorities] == [Band.CRITICAL, Band.HIGH, Band.NORMAL]


def test_a_threat_signal_escalates_whatever_the_category() -> None:
    threat = Severity("complaint", negative=0.0, troll=0.2, threat=True, keywords=0)
    assert (
        rate(threat, Reach())
        >= ESCALATED_FLOOR
        > rate(Severity("complaint", 1, 1, False, 2), Reach(10**9))
    )


@pytest.mark.parametrize("band", list(Band))
def test_every_priority_has_exactly_one_band(band: Band) -> None:
    low, high = band_range(band)
    assert band_of(low) is band_of(high) is band
    assert low == 0 or band_of(low - 1) is not band


def test_engagement_counts_likes_shares_replies_and_votes_only() -> None:
    x = {"like_count": 10, "retweet_count": 5, "reply_count": 2, "impression_count": 10_000}
    assert engagement(x) == 17
    assert engagement({"score": -4, "num_comments": 3}) == 3


def test_the_queue_puts_a_crisis_first_then_the_louder_complaint(db: Database) -> None:
    clock = SlaClock(SlaSettings())
    posts = {
        "quiet": stored_post(author=author_record(followers=180)),
        "crisis": stored_post("Rauch im ICE 578!", author=author_record(followers=40)),
        "viral": stored_post(
            author=author_record(followers=2_000), metrics={"retweet_count": 40_000}
        ),
    }
    reach = {name: Reach(p.author.followers, engagement(p.metrics)) for name, p in posts.items()}  # type: ignore[union-attr]
    severity = {"quiet": ANGRY, "viral": ANGRY, "crisis": Severity("crisis", 0.3, 0, False, 0)}
    with db.transaction() as session:
        for name, post in posts.items():
            record = verdict(
                post, severity[name].category, priority=rate(severity[name], reach[name])
            )
            session.add(record)
            enqueue(session, post, record, clock)
    with db.transaction() as session:
        listed = list_items(session)
        assert listed[0].post.text == "Rauch im ICE 578!"
        assert [item.post.author.followers for item in listed] == [40, 2_000, 180]  # type: ignore[union-attr]
        # Monday 8:0x in Berlin: critical 1 h, high 4 h, normal 8 h of business time
        hours = [(item.due_at - item.waiting_since) / timedelta(hours=1) for item in listed]
        assert hours == [1, 4, 8]
        assert [item.category for item in listed] == ["crisis", "complaint", "complaint"]
        assert all(item.waiting_since == item.post.created_at > T0 for item in listed)
