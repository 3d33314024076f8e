"""The digest's figures match the database: counts, comparisons, SLA, trolls, privacy."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from monitor.digest.build import Digest, Period, Spike, build_digest
from monitor.settings import WebSettings
from monitor.storage.database import Database
from monitor.storage.models import AuditEntry, PostRecord
from tests import factories

DAY = date(2026, 11, 23)
"""Monday; in Berlin from 2026-11-22 23:00 to 2026-11-23 23:00 UTC."""
BERLIN = Period(DAY, "Europe/Berlin")
WEB = WebSettings(base_url="https://rufwacht.example.org")


def mention(session: Session, at: datetime, **fields: Any) -> PostRecord:
    post = factories.mention(at, **fields)
    session.add(post)
    session.flush()
    return post


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN.zone)


def build(session: Session, **kwargs) -> Digest:
    brands = kwargs.pop("brands", ["Deutsche Bahn"])
    now = kwargs.pop("now", local(DAY + timedelta(days=1), 8))
    return build_digest(session, "digest", brands, BERLIN, WEB, now=now, **kwargs)


def test_mentions_and_flagged_against_the_day_before_and_the_week(db: Database) -> None:
    with db.transaction() as session:
        for hour in (0, 9, 23):  # local midnight and late evening still count for the day
            mention(session, local(DAY, hour, 30), flagged=hour == 9)
        mention(session, local(DAY, 12), platform="reddit", flagged=True)
        mention(session, local(DAY - timedelta(days=1), 23, 59))  # the day before: 2 posts
        mention(session, local(DAY - timedelta(days=1), 0, 0), flagged=True)
        for back in range(2, 8):  # one a day for the rest of the week
            mention(session, local(DAY - timedelta(days=back), 10))
        mention(session, local(DAY - timedelta(days=8), 10))  # outside the week's mean
        mention(session, local(DAY, 10), brand="Telekom")  # another brand
        mention(session, local(DAY + timedelta(days=1), 0, 0))  # the next day
        digest = build(session)
    [bahn] = digest.brands
    assert (bahn.mentions.count, bahn.mentions.day_before) == (4, 2)
    assert bahn.mentions.mean == pytest.approx((2 + 6) / 7)
    assert (bahn.flagged.count, bahn.flagged.day_before) == (2, 1)
    assert bahn.flagged.mean == pytest.approx(1 / 7)
    by_platform = {figures.platform: figures for figures in bahn.platforms}
    assert by_platform["twitter"].mentions.count == 3
    assert by_platform["reddit"].flagged.count == 1
    assert by_platform["reddit"].mentions.link == (
        "https://rufwacht.example.org/?brand=Deutsche+Bahn&platform=reddit"
        "&von=2026-11-23&bis=2026-11-23"
    )
    hourly = dict(bahn.hourly)
    assert len(bahn.hourly) == 24
    assert (hourly["00"], hourly["09"], hourly["12"], hourly["23"], hourly["10"]) == (1, 1, 1, 1, 0)


def test_sentiment_per_day_for_two_weeks(db: Database) -> None:
    with db.transaction() as session:
        mention(session, local(DAY, 8), sentiment="negative")
        mention(session, local(DAY, 9), sentiment="negative")
        mention(session, local(DAY, 10), sentiment="positive")
        mention(session, local(DAY - timedelta(days=13), 10), sentiment="neutral")
        mention(session, local(DAY - timedelta(days=14), 10), sentiment="neutral")  # too old
        digest = build(session)
    [bahn] = digest.brands
    assert len(bahn.sentiment) == 14
    assert bahn.sentiment[0].day == DAY - timedelta(days=13)
    assert bahn.sentiment[0].counts == {"negative": 0, "neutral": 1, "positive": 0}
    assert bahn.today.day == DAY
    assert bahn.today.counts == {"negative": 2, "neutral": 0, "positive": 1}


def test_a_day_with_a_clock_change_has_25_hours() -> None:
    assert len(Period(date(2026, 10, 25), "Europe/Berlin").hours()) == 25
    assert len(Period(date(2026, 3, 29), "Europe/Berlin").hours()) == 23


def test_categories_actions_and_top_posts_with_personal_data_hidden(db: Database) -> None:
    with db.transaction() as session:
        mention(session, local(DAY, 8), flagged=True, item={"priority": 55})
        mention(
            session,
            local(DAY, 9),
            flagged=True,
            item={"priority": 90, "category": "crisis", "action": "escalate"},
        )
        mention(
            session,
            local(DAY, 10),
            flagged=True,
            text="Meine IBAN DE89 3704 0044 0532 0130 00, bitte erstatten",
            item={"priority": 70, "action": "reply"},
        )
        mention(
            session,
            local(DAY, 11),
            flagged=True,
            text="Vertrauliche Beschwerde, Kundennummer 12345678",
            item={"priority": 80, "action": "reply_private"},
        )
        digest = build(session)
    [bahn] = digest.brands
    assert [(c.key, c.label, c.count) for c in bahn.categories] == [
        ("complaint", "Beschwerde", 3),
        ("crisis", "Krise", 1),
    ]
    assert bahn.categories[1].link.endswith(
        "/?brand=Deutsche+Bahn&category=crisis&von=2026-11-23&bis=2026-11-23"
    )
    assert {a.key: a.count for a in bahn.actions} == {"reply": 2, "escalate": 1, "reply_private": 1}
    assert [post.priority for post in bahn.top_posts] == [90, 80, 70, 55]
    private, iban = bahn.top_posts[1], bahn.top_posts[2]
    assert private.text is None
    assert "DE89" not in iban.text and "[IBAN]" in iban.text
    assert (
        bahn.top_posts[0].link == f"https://rufwacht.example.org/items/{bahn.top_posts[0].item_id}"
    )


def test_only_web_addresses_of_posts_are_linked(db: Database) -> None:
    with db.transaction() as session:
        mention(session, local(DAY, 8), flagged=True, url="javascript:alert(1)", item={})
        mention(session, local(DAY, 9), flagged=True, url="https://x.com/i/1", item={})
        digest = build(session)
    assert sorted(str(post.post_url) for post in digest.brands[0].top_posts) == [
        "None",
        "https://x.com/i/1",
    ]


def test_open_items_breaches_and_median_first_answer(db: Database) -> None:
    with db.transaction() as session:
        start = local(DAY, 8)
        open_one = mention(session, start, flagged=True, item={"status": "new"})
        breached = mention(
            session,
            start,
            flagged=True,
            item={"status": "assigned", "sla_breached_at": local(DAY, 17)},
        )
        mention(
            session,
            start,
            flagged=True,
            item={"status": "new", "sla_breached_at": local(DAY - timedelta(days=1), 17)},
        )
        for minutes in (30, 90, 240):
            post = mention(session, start, flagged=True, item={"status": "replied"})
            session.add(
                AuditEntry(
                    item_id=post.queue_item.id,
                    actor_name="agent",
                    at=start + timedelta(minutes=minutes),
                    from_status="draft",
                    to_status="awaiting_approval",
                    action="submit",
                )
            )
            session.add(
                AuditEntry(
                    item_id=post.queue_item.id,
                    actor_name="approver",
                    at=start + timedelta(minutes=minutes),
                    from_status="awaiting_approval",
                    to_status="replied",
                    action="approve",
                )
            )
        session.flush()
        digest = build(session)
    answering = digest.brands[0].answering
    assert answering.open_items == 3
    assert answering.breaches == 1
    assert answering.breaches_link.endswith("/?brand=Deutsche+Bahn&sla=overdue")
    assert answering.answered == 3
    assert answering.median_first_answer == timedelta(minutes=90)
    assert open_one.queue_item and breached.queue_item


def test_troll_accounts_are_pseudonymised_and_counted(db: Database) -> None:
    with db.transaction() as session:
        troll = factories.author_record(handle="wutbuerger_1984")
        for minute in range(3):
            post = mention(
                session,
                local(DAY, 9, minute),
                flagged=True,
                author=troll,
                item={"category": "troll", "action": "ignore_troll", "status": "ignored_troll"},
            )
            session.add(
                AuditEntry(
                    item_id=post.queue_item.id,
                    actor_name="agent",
                    at=local(DAY, 10),
                    from_status="new",
                    to_status="ignored_troll",
                    action="ignore",
                )
            )
        mention(session, local(DAY, 9), flagged=True, item={"category": "troll"})
        session.flush()
        first = build(session)
        again = build(session)
    trolls = first.brands[0].trolls
    assert (trolls.items, trolls.ignored) == (4, 3)
    top = trolls.accounts[0]
    assert top.items == 3
    assert top.pseudonym.startswith("Konto ") and "wutbuerger" not in top.pseudonym
    assert again.brands[0].trolls.accounts[0].pseudonym == top.pseudonym  # stable


def test_escalations_with_their_state_now(db: Database) -> None:
    with db.transaction() as session:
        post = mention(
            session,
            local(DAY, 9),
            flagged=True,
            item={"status": "resolved", "escalated_to": "legal"},
        )
        session.add(
            AuditEntry(
                item_id=post.queue_item.id,
                actor_name="lead",
                at=local(DAY, 11),
                from_status="new",
                to_status="escalated",
                action="escalate",
                details={"team": "legal"},
            )
        )
        session.flush()
        digest = build(session)
    [escalation] = digest.brands[0].escalations
    assert (escalation.team, escalation.status) == ("Rechtsabteilung", "erledigt")


def test_model_versions_and_spikes_from_the_provider(db: Database) -> None:
    spike = Spike(
        "Deutsche Bahn",
        "Erwähnungen",
        local(DAY, 7),
        None,
        120,
        14.5,
        "https://rufwacht.example.org/alerts/1",
    )
    with db.transaction() as session:
        mention(session, local(DAY, 9))
        unknown = build(session)
        known = build(session, spikes=[spike])
    assert [m.versions for m in known.models] == [factories.MODEL_VERSIONS]
    assert known.models[0].posts == 1
    assert unknown.brands[0].spikes is None and not unknown.spikes_known
    assert known.brands[0].spikes == [spike]
