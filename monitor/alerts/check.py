"""The hourly check (`rufwacht alerts run`, the scheduler's `alerts` job): per brand, is this a
storm? Opens, updates and closes spike alerts, closes crisis and reach alerts that are over,
and catches posts whose reach grew past the threshold after they were queued.

Every time is the `at` given, never the wall clock, so a check can be replayed for any hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session, joinedload

from monitor.alerts import records
from monitor.alerts.evidence import audience, window_evidence
from monitor.alerts.intake import add_items, event_items, is_over
from monitor.alerts.records import AlertKind
from monitor.alerts.stats import SpikeTest, elevated, spike_test
from monitor.settings import AlertSettings, Settings
from monitor.storage.database import Database
from monitor.storage.models import AlertRecord, PostRecord, QueueItem, VerdictRecord

DAY = timedelta(hours=24)
HISTORY_DAYS = 7


@dataclass(frozen=True)
class Counts:
    """A brand's posts in the last 24 hours, in each of the seven 24 hours before, and in the
    last `recent_hours`; all and negative ones."""

    day: int = 0
    days: tuple[int, ...] = (0,) * HISTORY_DAYS
    recent: int = 0
    negative_day: int = 0
    negative_days: tuple[int, ...] = (0,) * HISTORY_DAYS
    negative_recent: int = 0


@dataclass
class CheckReport:
    at: datetime
    opened: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    brands: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per brand: the two spike tests, for `alerts run` to print."""
    watched: bool = True
    """Whether the monitor holds posts from a week before `at`: without that history there
    is no baseline, and no spike opens (a fresh install would call its first day a storm)."""


def watched_a_week(session: Session, at: datetime) -> bool:
    """Some stored post is older than the seven days of history a spike is measured
    against."""
    old = select(PostRecord.id).where(PostRecord.created_at <= at - DAY * HISTORY_DAYS)
    return session.scalar(old.limit(1)) is not None


def run_check(
    session: Session, rules: AlertSettings, brands: Sequence[str], at: datetime
) -> CheckReport:
    """One hourly check as if it were `at`."""
    report = CheckReport(at)
    counts = count_posts(session, brands, at, rules.recent_hours)
    report.watched = watched_a_week(session, at)
    for brand in brands:
        check_brand(session, rules, brand, counts.get(brand, Counts()), at, report)
    close_events(session, rules, at, report)
    catch_grown_reach(session, rules, brands, at, report)
    return report


def _negative() -> ColumnElement[bool]:
    """The sentiment model called the post negative when it was judged (as the digest counts)."""
    return VerdictRecord.scores["sentiment"].as_string() == "negative"


def count_posts(
    session: Session, brands: Sequence[str], at: datetime, recent_hours: int
) -> dict[str, Counts]:
    """All the counts of every brand in one query: each window is a conditional sum. A post
    counts for the brand its verdict names (the first brand it matched)."""
    windows = [(at - DAY, at)] + [
        (at - DAY * (n + 1), at - DAY * n) for n in range(1, HISTORY_DAYS + 1)
    ]
    windows.append((at - timedelta(hours=recent_hours), at))
    negative = _negative()
    sums = []
    for start, end in windows:
        inside = and_(PostRecord.created_at >= start, PostRecord.created_at < end)
        sums.append(func.sum(case((inside, 1), else_=0)))
        sums.append(func.sum(case((and_(inside, negative), 1), else_=0)))
    query = (
        select(VerdictRecord.brand, *sums)
        .join(PostRecord, PostRecord.id == VerdictRecord.post_id)
        .where(
            VerdictRecord.brand.in_(list(brands)),
            PostRecord.created_at >= at - DAY * (HISTORY_DAYS + 1),
            PostRecord.created_at < at,
        )
        .group_by(VerdictRecord.brand)
    )
    found = {}
    for brand, *values in session.execute(query):
        numbers = [int(value or 0) for value in values]
        everything, negatives = numbers[0::2], numbers[1::2]
        found[brand] = Counts(
            everything[0],
            tuple(everything[1:-1]),
            everything[-1],
            negatives[0],
            tuple(negatives[1:-1]),
            negatives[-1],
        )
    return found


def spike_tests(counts: Counts, rules: AlertSettings) -> dict[str, tuple[SpikeTest, bool]]:
    """Per measure (mentions, negative): the 24-hour test and whether the last hours are
    still above the usual rate."""
    share = rules.recent_hours / 24
    judged = {}
    for measure, day, days, recent in (
        ("mentions", counts.day, counts.days, counts.recent),
        ("negative", counts.negative_day, counts.negative_days, counts.negative_recent),
    ):
        test = spike_test(day, days, rules.k, rules.min_count, rules.p_value)
        judged[measure] = (test, elevated(recent, test.baseline * share, rules.k))
    return judged


def check_brand(
    session: Session,
    rules: AlertSettings,
    brand: str,
    counts: Counts,
    at: datetime,
    report: CheckReport,
) -> None:
    """Open, update, reopen or close the brand's spike alert."""
    judged = spike_tests(counts, rules)
    report.brands[brand] = {
        measure: {**test.as_dict(), "now": now} for measure, (test, now) in judged.items()
    }
    hot = [measure for measure, (test, now) in judged.items() if test.spike and now]
    if not report.watched:
        hot = []
    alert = records.open_alert(session, brand, AlertKind.SPIKE)
    if not hot:
        if alert is not None:
            records.close(alert, at)
            report.closed.append(alert.id)
        return
    measure = "negative" if "negative" in hot else "mentions"
    test = judged[measure][0]
    details = {
        "measure": measure,
        "measures": hot,
        "tests": report.brands[brand],
        "window": {"start": (at - DAY).isoformat(), "end": at.isoformat()},
        **window_evidence(session, brand, at - DAY, at, rules.top_posts),
    }
    if alert is None:
        cooldown = timedelta(hours=rules.cooldown_hours)
        alert = records.recently_closed(session, brand, AlertKind.SPIKE, at, cooldown)
        if alert is None:
            alert = records.start(
                session, rules, brand, AlertKind.SPIKE, at, test.count, test.baseline, details
            )
            report.opened.append(alert.id)
            return
        records.reopen(alert)
    records.update(alert, at, test.count, test.baseline, details)
    report.updated.append(alert.id)


def close_events(session: Session, rules: AlertSettings, at: datetime, report: CheckReport) -> None:
    """Crisis and reach alerts close once nothing was added for `hold_hours` or every post
    they list has been dealt with."""
    query = select(AlertRecord).where(
        AlertRecord.kind.in_([AlertKind.CRISIS, AlertKind.REACH]), AlertRecord.closed_at.is_(None)
    )
    hold = timedelta(hours=rules.hold_hours)
    for alert in session.scalars(query):
        if alert.updated_at <= at - hold or all(
            is_over(item) for item in event_items(session, alert)
        ):
            records.close(alert, at)
            report.closed.append(alert.id)


def catch_grown_reach(
    session: Session,
    rules: AlertSettings,
    brands: Sequence[str],
    at: datetime,
    report: CheckReport,
) -> None:
    """Queued posts of the last 24 hours whose audience reached the threshold since they
    were queued (engagement grows; the compliance check refreshes it)."""
    alerted = set()  # a crisis that is also loud has alerted already
    for alert in session.scalars(
        select(AlertRecord).where(
            AlertRecord.kind.in_([AlertKind.REACH, AlertKind.CRISIS]),
            AlertRecord.updated_at >= at - 2 * DAY,
        )
    ):
        alerted.update(alert.details.get("items", []))
    query = (
        select(QueueItem)
        .join(QueueItem.post)
        .options(joinedload(QueueItem.post).joinedload(PostRecord.author))
        .where(
            QueueItem.brand.in_(list(brands)),
            PostRecord.created_at >= at - DAY,
            PostRecord.created_at < at,
        )
    )
    for item in session.scalars(query).unique():
        if item.id in alerted or audience(item.post) < rules.reach_threshold:
            continue
        alert, opened = add_items(session, rules, item.brand, AlertKind.REACH, [item], at)
        (report.opened if opened else report.updated).append(alert.id)
        alerted.add(item.id)


def check_all(db: Database, settings: Settings, at: datetime) -> CheckReport:
    """The hourly check for every configured brand, in one transaction."""
    brands = [brand.name for brand in settings.brands]
    with db.transaction() as session:
        return run_check(session, settings.alerts, brands, at)
