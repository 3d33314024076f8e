"""Figures about the stored mentions for `notebooks/explore_mentions.ipynb`: volumes, sentiment
over time, categories, the most active authors (pseudonymised), keyword hits, model versions.

Read-only queries through the project's storage models; aggregation happens here in Python so
that SQLite and PostgreSQL give the same answers (day boundaries in UTC). Authors appear only
as pseudonyms (`monitor.pseudonyms`): handles and display names never leave the database.
Deleted posts count in volumes (they were seen) but their text is never read.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.pseudonyms import PseudonymError, Pseudonymiser
from monitor.storage.models import AuthorRecord, PostRecord, QueueItem, Score, VerdictRecord

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SENTIMENTS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class AuthorActivity:
    pseudonym: str
    platform: str
    posts: int
    queued: int


def _day(moment: datetime) -> date:
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def posts_per_day(session: Session, since: datetime) -> dict[date, Counter[str]]:
    """Posts per UTC day (by when they were posted) and platform."""
    rows = session.execute(
        select(PostRecord.created_at, PostRecord.platform).where(PostRecord.created_at >= since)
    )
    days: dict[date, Counter[str]] = {}
    for created_at, platform in rows:
        days.setdefault(_day(created_at), Counter())[platform] += 1
    return dict(sorted(days.items()))


def latest_scores(session: Session, task: str, since: datetime) -> list[Score]:
    """Each post's newest score for `task` (a rescore adds scores; the old ones stay)."""
    newest = (
        select(func.max(Score.id))
        .join(PostRecord, PostRecord.id == Score.post_id)
        .where(Score.task == task, PostRecord.created_at >= since)
        .group_by(Score.post_id)
    )
    return list(session.scalars(select(Score).where(Score.id.in_(newest))))


def sentiment_per_day(session: Session, since: datetime) -> dict[date, Counter[str]]:
    """Sentiment labels per UTC day of posting (each post's newest sentiment score)."""
    days: dict[date, Counter[str]] = {}
    for score in latest_scores(session, "sentiment", since):
        days.setdefault(_day(score.post.created_at), Counter())[score.label] += 1
    return dict(sorted(days.items()))


def categories(session: Session, since: datetime) -> Counter[str]:
    """Triage categories of the judged posts (their stored verdicts)."""
    rows = session.scalars(
        select(VerdictRecord.category)
        .join(PostRecord, PostRecord.id == VerdictRecord.post_id)
        .where(PostRecord.created_at >= since)
    )
    return Counter(str((c or {}).get("label") or "none") for c in rows)


def brands(session: Session, since: datetime) -> Counter[str]:
    """Posts per matched brand (a post naming two brands counts for both)."""
    rows = session.scalars(select(PostRecord.matched_brands).where(PostRecord.created_at >= since))
    return Counter(brand for matched in rows for brand in matched or ())


def keyword_hits(session: Session, since: datetime) -> Counter[str]:
    """How often each configured keyword matched."""
    rows = session.scalars(
        select(PostRecord.matched_keywords).where(PostRecord.created_at >= since)
    )
    return Counter(keyword for matched in rows for keyword in matched or ())


def model_versions(session: Session, since: datetime) -> Counter[tuple[str, str]]:
    """Scores per (task, model_version): which models judged the period's posts."""
    rows = session.execute(
        select(Score.task, Score.model_version, func.count())
        .join(PostRecord, PostRecord.id == Score.post_id)
        .where(PostRecord.created_at >= since)
        .group_by(Score.task, Score.model_version)
    )
    return Counter({(task, version): count for task, version, count in rows})


def top_authors(
    session: Session, pseudonyms: Pseudonymiser, since: datetime, limit: int = 10
) -> list[AuthorActivity]:
    """The most active authors, as pseudonyms, with how many of their posts were queued."""
    rows = session.execute(
        select(
            AuthorRecord.platform,
            AuthorRecord.key,
            func.count(PostRecord.id),
            func.count(QueueItem.id),
        )
        .join(PostRecord, PostRecord.author_id == AuthorRecord.id)
        .outerjoin(QueueItem, QueueItem.post_id == PostRecord.id)
        .where(PostRecord.created_at >= since)
        .group_by(AuthorRecord.id, AuthorRecord.platform, AuthorRecord.key)
        .order_by(func.count(PostRecord.id).desc(), AuthorRecord.id)
        .limit(limit)
    )
    return [
        AuthorActivity(pseudonyms.author(platform, key), platform, posts, queued)
        for platform, key, posts, queued in rows
    ]


# --- pictures


def bar_figure(
    counts: Counter[str] | dict[str, int], title: str, horizontal: bool = True
) -> Figure:
    """Counts as bars, largest first."""
    from matplotlib.figure import Figure

    items = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    figure = Figure(figsize=(7, 0.35 * max(len(items), 3) + 1.2))
    axes = figure.subplots()
    names, values = [str(k) for k, _ in items], [v for _, v in items]
    if horizontal:
        axes.barh(names[::-1], values[::-1])
    else:
        axes.bar(names, values)
    axes.set_title(title)
    figure.tight_layout()
    return figure


def stacked_days_figure(
    days: dict[date, Counter[str]], keys: tuple[str, ...], title: str
) -> Figure:
    """Per day, one stacked bar of the counts of each key (platforms, sentiment labels)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.5))
    axes = figure.subplots()
    x = list(days)
    bottom = [0] * len(x)
    for name in keys:
        values = [days[d].get(name, 0) for d in x]
        axes.bar(x, values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_title(title)
    axes.legend(loc="upper left")
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


# --- parameters and tables


def period_start(since: str | None, days: int, now: datetime | None = None) -> datetime:
    """The first moment counted: the UTC day `since` (YYYY-MM-DD), else `days` days ago."""
    if since:
        return datetime.fromisoformat(since).replace(tzinfo=UTC)
    return (now or datetime.now(UTC)) - timedelta(days=days)


def pseudonymiser(environ: Mapping[str, str], variable: str) -> tuple[Pseudonymiser, str]:
    """The labels salt's pseudonymiser, else one under a one-off random salt; and which."""
    try:
        return Pseudonymiser.from_environment(variable, environ), f"salted with ${variable}"
    except PseudonymError:
        one_off = secrets.token_hex(32)
        return Pseudonymiser(
            one_off
        ), f"${variable} not set: a one-off salt, valid in this run only"


def keys_of(days: dict[date, Counter[str]]) -> tuple[str, ...]:
    """Every key counted on any day, sorted (the platforms of a volume series)."""
    return tuple(sorted({k for counts in days.values() for k in counts}))


def share_table(days: dict[date, Counter[str]], keys: tuple[str, ...] = SENTIMENTS) -> str:
    """Markdown: per day the count and the share of each key."""
    lines = ["| day | posts | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
    for day, counts in days.items():
        total = sum(counts.values()) or 1
        shares = " | ".join(f"{counts.get(k, 0) / total:.0%}" for k in keys)
        lines.append(f"| {day:%Y-%m-%d} | {sum(counts.values())} | {shares} |")
    return "\n".join(lines)


def authors_table(authors: list[AuthorActivity]) -> str:
    lines = ["| author (pseudonym) | platform | posts | queued |", "|---|---|---|---|"]
    lines += [f"| {a.pseudonym} | {a.platform} | {a.posts} | {a.queued} |" for a in authors]
    return "\n".join(lines) if authors else "No posts in this period."


def version_labels(versions: Counter[tuple[str, str]]) -> Counter[str]:
    """`task: model_version` → count, for a bar chart."""
    return Counter({f"{task}: {version}": n for (task, version), n in versions.items()})
