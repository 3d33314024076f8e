"""The digest's figures as plain data: one brand's day (or several brands') from the database.

Counting happens in SQL, grouped by brand, platform and a time bucket (a CASE over the local
day or hour boundaries, computed here in Python so that daylight saving and the digest's time
zone are right on SQLite and PostgreSQL alike); only the short lists (top posts, escalations,
troll accounts, first-answer times for a median) are read as rows. Nothing here renders or
sends: `monitor.digest.render` turns a `Digest` into a mail.

A post counts for the brand its verdict names and for the local day it was posted on; "the
day's items" are the queue items of those posts. Every figure carries a link into the web
UI's queue, filtered by the parameters its queue page understands (`monitor/web/filters.py`);
a figure of the day's posts links to their day (`von`/`bis`, read in the digest's time zone
as the period is), so the list behind it is the posts it counted that were queued.
"""

from __future__ import annotations

import secrets
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session, joinedload

from classifiers.base import SENTIMENT_LABELS
from classifiers.personal_data import GERMAN_NAMES, find_personal_data
from classifiers.triage import ACTION_NAMES, CATEGORY_NAMES, TEAM_NAMES
from monitor.pseudonyms import Pseudonymiser
from monitor.queue.sla import WAITING
from monitor.queue.states import QueueStatus
from monitor.settings import WebSettings
from monitor.storage.models import (
    AuditEntry,
    AuthorRecord,
    DigestSalt,
    PostRecord,
    QueueItem,
    VerdictRecord,
)

TREND_DAYS = 14
"""The sentiment chart's days, the digest's day last."""
MEAN_DAYS = 7
"""Mentions and flagged posts are set against the mean of this many days before the day."""
TOP_POSTS = 5
TOP_TROLLS = 5
MAX_ESCALATIONS = 10
EXCERPT_CHARS = 280
PRIVATE_ACTION = "reply_private"
MODEL_TASKS = ("sentiment", "offensive", "troll", "triage")
SENTIMENT_NAMES = {"positive": "positiv", "neutral": "neutral", "negative": "negativ"}


@dataclass(frozen=True)
class Period:
    """One local calendar day in the digest's time zone, as UTC bounds [start, end)."""

    day: date
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.zone).astimezone(UTC)

    @property
    def start(self) -> datetime:
        return self.midnight(self.day)

    @property
    def end(self) -> datetime:
        return self.midnight(self.day + timedelta(days=1))

    def hours(self) -> list[datetime]:
        """The UTC start of each local hour of the day (23 or 25 on a clock change)."""
        starts, at = [], self.start
        while at < self.end:
            starts.append(at)
            at += timedelta(hours=1)
        return starts


@dataclass(frozen=True)
class Comparison:
    """A day's count against the day before and the mean of the days before that."""

    count: int
    day_before: int
    mean: float
    link: str

    @property
    def change(self) -> int:
        return self.count - self.day_before

    @property
    def against_mean(self) -> float | None:
        """The count relative to the mean (+0.5 = half again as many); None without a mean."""
        return self.count / self.mean - 1 if self.mean else None


@dataclass(frozen=True)
class PlatformFigures:
    platform: str
    mentions: Comparison
    flagged: Comparison


@dataclass(frozen=True)
class SentimentDay:
    day: date
    counts: dict[str, int]
    """Posts per sentiment label (negative, neutral, positive)."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class LabelCount:
    key: str
    label: str
    """German."""
    count: int
    link: str


@dataclass(frozen=True)
class TopPost:
    item_id: int
    priority: int
    platform: str
    posted_at: datetime
    category: str
    action: str
    status: str
    text: str | None
    """The excerpt with personal data masked; None where the item is answered privately."""
    link: str
    post_url: str | None
    """The post on its platform (shown only with its text)."""


@dataclass(frozen=True)
class TrollAccount:
    pseudonym: str
    """`Konto ` and a salted hash: the same account keeps it, its handle stays out of mail."""
    platform: str
    items: int


@dataclass(frozen=True)
class Escalation:
    item_id: int
    team: str
    status: str
    at: datetime
    link: str


@dataclass(frozen=True)
class Spike:
    """A spike or crisis alert of the day, as the alerts report it (`SpikeProvider`)."""

    brand: str
    kind: str
    """German, e.g. „Erwähnungen“, „negative Beiträge“, „Reichweite“, „Krise“."""
    opened_at: datetime
    closed_at: datetime | None
    count: int
    baseline: float | None
    link: str


class SpikeProvider(Protocol):
    """Where the day's spikes come from: the alerts (`monitor.alerts`) once they exist; wired by
    the caller (`monitor.digest.delivery.spike_provider`)."""

    def __call__(
        self, session: Session, brands: Sequence[str], start: datetime, end: datetime
    ) -> Sequence[Spike]: ...


@dataclass(frozen=True)
class Answering:
    """The queue's state for a brand: what waits, what breached, how fast answers came."""

    open_items: int
    open_link: str
    breaches: int
    """Items whose SLA deadline passed during the day (recorded once per item)."""
    breaches_link: str
    answered: int
    """Items first answered during the day."""
    median_first_answer: timedelta | None


@dataclass(frozen=True)
class Trolls:
    items: int
    link: str
    ignored: int
    """Items ignored as trolls during the day."""
    ignored_link: str
    accounts: list[TrollAccount]


@dataclass
class BrandDigest:
    brand: str
    mentions: Comparison
    flagged: Comparison
    platforms: list[PlatformFigures]
    sentiment: list[SentimentDay]
    """`TREND_DAYS` days, the digest's day last."""
    hourly: list[tuple[str, int]]
    """Mentions per local hour of the day ("08" → count)."""
    categories: list[LabelCount]
    actions: list[LabelCount]
    top_posts: list[TopPost]
    answering: Answering
    trolls: Trolls
    escalations: list[Escalation]
    spikes: list[Spike] | None
    """None: no spike source is wired (unknown, not "none")."""

    @property
    def today(self) -> SentimentDay:
        return self.sentiment[-1]


@dataclass(frozen=True)
class ModelVersions:
    versions: dict[str, str]
    """model_version per task (sentiment, offensive, troll, triage)."""
    posts: int


@dataclass
class Digest:
    name: str
    period: Period
    brands: list[BrandDigest]
    models: list[ModelVersions]
    generated_at: datetime
    queue_link: str
    spikes_known: bool = field(default=False)


# --- links ------------------------------------------------------------------------------------


class Links:
    """Links into the web UI's queue and item pages (`[web] base_url`)."""

    def __init__(self, web: WebSettings, day: date) -> None:
        self.web = web
        self.day = day

    def queue(self, **filters: str | None) -> str:
        """The queue as it stands (open items, SLA state, statuses), of every day."""
        chosen = {name: value for name, value in filters.items() if value}
        return self.web.link("/" + (f"?{urlencode(chosen)}" if chosen else ""))

    def day_queue(self, **filters: str | None) -> str:
        """The queue items of posts published on the digest's day: what its figures count."""
        return self.queue(**filters, von=self.day.isoformat(), bis=self.day.isoformat())

    def item(self, item_id: int) -> str:
        return self.web.link(f"/items/{item_id}")


# --- the figures ------------------------------------------------------------------------------


def build_digest(
    session: Session,
    name: str,
    brands: Sequence[str],
    period: Period,
    web: WebSettings,
    *,
    spikes: Sequence[Spike] | None = None,
    now: datetime | None = None,
) -> Digest:
    """The digest `name` over `brands` for `period`; `spikes` from the alerts (None: unknown).

    Open items are counted as they stand at `now` (the time of sending)."""
    links = Links(web, period.day)
    now = now or datetime.now(UTC)
    days = _daily(session, brands, period)
    hourly = _hourly(session, brands, period)
    labels = _labels(session, brands, period, links)
    answering = _answering(session, brands, period, links, now)
    trolls = _trolls(session, brands, period, links)
    escalations = _escalations(session, brands, period, links)
    top = _top_posts(session, brands, period, links)
    by_brand = defaultdict(list)
    for spike in spikes or ():
        by_brand[spike.brand].append(spike)
    digests = [
        BrandDigest(
            brand=brand,
            mentions=days.comparison(brand, None, "mentions", links),
            flagged=days.comparison(brand, None, "flagged", links),
            platforms=[
                PlatformFigures(
                    platform,
                    days.comparison(brand, platform, "mentions", links),
                    days.comparison(brand, platform, "flagged", links),
                )
                for platform in days.platforms(brand)
            ],
            sentiment=days.sentiment(brand, period),
            hourly=[
                (f"{at.astimezone(period.zone):%H}", hourly[brand][i])
                for i, at in enumerate(period.hours())
            ],
            categories=labels.get((brand, "category"), []),
            actions=labels.get((brand, "action"), []),
            top_posts=top.get(brand, []),
            answering=answering[brand],
            trolls=trolls[brand],
            escalations=escalations.get(brand, []),
            spikes=None if spikes is None else by_brand.get(brand, []),
        )
        for brand in brands
    ]
    return Digest(
        name=name,
        period=period,
        brands=digests,
        models=_model_versions(session, brands, period),
        generated_at=now,
        queue_link=links.queue(),
        spikes_known=spikes is not None,
    )


def _day_bucket(period: Period) -> ColumnElement[int]:
    """0 for the digest's day, 1 for the day before, … up to `TREND_DAYS - 1` (SQL CASE)."""
    bounds = [period.midnight(period.day - timedelta(days=back)) for back in range(TREND_DAYS)]
    return case(
        *((PostRecord.created_at >= bound, back) for back, bound in enumerate(bounds)),
        else_=-1,
    )


def _mentions(brands: Sequence[str], start: datetime, end: datetime) -> Select[Any]:
    """Judged posts of `brands` posted in [start, end)."""
    return (
        select()
        .select_from(VerdictRecord)
        .join(PostRecord, PostRecord.id == VerdictRecord.post_id)
        .where(
            VerdictRecord.brand.in_(list(brands)),
            PostRecord.created_at >= start,
            PostRecord.created_at < end,
        )
    )


class _Days:
    """Mentions, flagged posts and sentiment per brand, platform and day, from one query."""

    def __init__(self, rows: Sequence[Any]) -> None:
        self.rows = rows

    def platforms(self, brand: str) -> list[str]:
        return sorted({row.platform for row in self.rows if row.brand == brand})

    def _count(self, brand: str, platform: str | None, measure: str, back: int) -> int:
        return sum(
            row.n
            for row in self.rows
            if row.brand == brand
            and row.back == back
            and (platform is None or row.platform == platform)
            and (measure == "mentions" or row.flagged)
        )

    def comparison(
        self, brand: str, platform: str | None, measure: str, links: Links
    ) -> Comparison:
        before = [self._count(brand, platform, measure, back) for back in range(1, MEAN_DAYS + 1)]
        return Comparison(
            count=self._count(brand, platform, measure, 0),
            day_before=before[0],
            mean=sum(before) / MEAN_DAYS,
            link=links.day_queue(brand=brand, platform=platform),
        )

    def sentiment(self, brand: str, period: Period) -> list[SentimentDay]:
        counts: dict[int, Counter[str]] = defaultdict(Counter)
        for row in self.rows:
            if row.brand == brand and row.sentiment in SENTIMENT_LABELS:
                counts[row.back][row.sentiment] += row.n
        return [
            SentimentDay(
                period.day - timedelta(days=back),
                {label: counts[back][label] for label in SENTIMENT_LABELS},
            )
            for back in reversed(range(TREND_DAYS))
        ]


def _daily(session: Session, brands: Sequence[str], period: Period) -> _Days:
    back = _day_bucket(period).label("back")
    sentiment = VerdictRecord.scores["sentiment"].as_string().label("sentiment")
    first = period.midnight(period.day - timedelta(days=TREND_DAYS - 1))
    query = (
        _mentions(brands, first, period.end)
        .add_columns(
            VerdictRecord.brand.label("brand"),
            PostRecord.platform.label("platform"),
            back,
            VerdictRecord.flagged.label("flagged"),
            sentiment,
            func.count().label("n"),
        )
        .group_by(VerdictRecord.brand, PostRecord.platform, back, VerdictRecord.flagged, sentiment)
    )
    return _Days(session.execute(query).all())


def _hourly(session: Session, brands: Sequence[str], period: Period) -> dict[str, list[int]]:
    hours = period.hours()
    hour = case(
        *((PostRecord.created_at >= at, index) for index, at in reversed(list(enumerate(hours)))),
        else_=0,
    ).label("hour")
    query = (
        _mentions(brands, period.start, period.end)
        .add_columns(VerdictRecord.brand.label("brand"), hour, func.count().label("n"))
        .group_by(VerdictRecord.brand, hour)
    )
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(hours))
    for row in session.execute(query):
        counts[row.brand][row.hour] += row.n
    return counts


def _day_items(brands: Sequence[str], period: Period) -> Select[Any]:
    """Queue items of posts posted during the day."""
    return (
        select()
        .select_from(QueueItem)
        .join(PostRecord, PostRecord.id == QueueItem.post_id)
        .where(
            QueueItem.brand.in_(list(brands)),
            PostRecord.created_at >= period.start,
            PostRecord.created_at < period.end,
        )
    )


def _labels(
    session: Session, brands: Sequence[str], period: Period, links: Links
) -> dict[tuple[str, str], list[LabelCount]]:
    """Categories and actions of the day's items, most frequent first, per brand."""
    found: dict[tuple[str, str], list[LabelCount]] = defaultdict(list)
    for kind, column, names in (
        ("category", QueueItem.category, CATEGORY_NAMES),
        ("action", QueueItem.action, ACTION_NAMES),
    ):
        query = (
            _day_items(brands, period)
            .add_columns(QueueItem.brand, column.label("key"), func.count().label("n"))
            .group_by(QueueItem.brand, column)
            .order_by(func.count().desc(), column)
        )
        for row in session.execute(query):
            key = row.key or "none"
            found[(row.brand, kind)].append(
                LabelCount(
                    key,
                    names.get(key, "ohne Einordnung"),
                    row.n,
                    links.day_queue(brand=row.brand, **{kind: row.key}),
                )
            )
    return found


def _top_posts(
    session: Session, brands: Sequence[str], period: Period, links: Links
) -> dict[str, list[TopPost]]:
    """The day's most urgent items per brand, their text excerpted and masked."""
    ranked = (
        _day_items(brands, period)
        .add_columns(
            QueueItem.id,
            func.row_number()
            .over(partition_by=QueueItem.brand, order_by=(QueueItem.priority.desc(), QueueItem.id))
            .label("rank"),
        )
        .subquery()
    )
    ids = select(ranked.c.id).where(ranked.c.rank <= TOP_POSTS)
    items = session.scalars(
        select(QueueItem)
        .where(QueueItem.id.in_(ids))
        .options(joinedload(QueueItem.post))
        .order_by(QueueItem.priority.desc(), QueueItem.id)
    )
    top: dict[str, list[TopPost]] = defaultdict(list)
    for item in items:
        top[item.brand].append(
            TopPost(
                item_id=item.id,
                priority=item.priority,
                platform=item.platform,
                posted_at=item.post.created_at,
                category=CATEGORY_NAMES.get(item.category or "", "ohne Einordnung"),
                action=ACTION_NAMES.get(item.action or "", "–"),
                status=QueueStatus(item.status).label,
                text=None if item.action == PRIVATE_ACTION else excerpt(item.post.text),
                link=links.item(item.id),
                post_url=web_address(item.post.url),
            )
        )
    return top


def web_address(url: str | None) -> str | None:
    """`url` if it is an http(s) address: a stored URL is the platform's (or a replay file's)
    word, and autoescaping does not stop a `javascript:` link."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def excerpt(text: str | None) -> str:
    """The start of a post with every piece of personal data replaced by its kind."""
    if text is None:
        return "(vom Autor gelöscht)"
    masked, last = [], 0
    for found in find_personal_data(text):
        masked += [text[last : found.start], f"[{GERMAN_NAMES[found.kind]}]"]
        last = found.end
    plain = " ".join(("".join(masked) + text[last:]).split())
    return plain if len(plain) <= EXCERPT_CHARS else plain[: EXCERPT_CHARS - 1].rstrip() + "…"


def _answering(
    session: Session, brands: Sequence[str], period: Period, links: Links, now: datetime
) -> dict[str, Answering]:
    open_counts = dict(
        session.execute(
            select(QueueItem.brand, func.count())
            .where(QueueItem.brand.in_(list(brands)), QueueItem.status.in_(WAITING))
            .group_by(QueueItem.brand)
        ).all()
    )
    breaches = dict(
        session.execute(
            select(QueueItem.brand, func.count())
            .where(
                QueueItem.brand.in_(list(brands)),
                QueueItem.sla_breached_at >= period.start,
                QueueItem.sla_breached_at < period.end,
            )
            .group_by(QueueItem.brand)
        ).all()
    )
    first_answer = (
        select(AuditEntry.item_id, func.min(AuditEntry.at).label("at"))
        .where(AuditEntry.to_status == QueueStatus.REPLIED.value)
        .group_by(AuditEntry.item_id)
        .subquery()
    )
    answered = session.execute(
        select(QueueItem.brand, QueueItem.waiting_since, first_answer.c.at)
        .join(first_answer, first_answer.c.item_id == QueueItem.id)
        .where(
            QueueItem.brand.in_(list(brands)),
            first_answer.c.at >= period.start,
            first_answer.c.at < period.end,
        )
    ).all()
    waits: dict[str, list[timedelta]] = defaultdict(list)
    for brand, waiting_since, at in answered:
        waits[brand].append(_utc(at) - waiting_since)
    return {
        brand: Answering(
            open_items=open_counts.get(brand, 0),
            open_link=links.queue(brand=brand),
            breaches=breaches.get(brand, 0),
            breaches_link=links.queue(brand=brand, sla="overdue"),
            answered=len(waits[brand]),
            median_first_answer=statistics.median(waits[brand]) if waits[brand] else None,
        )
        for brand in brands
    }


def _utc(value: datetime) -> datetime:
    """An aggregate (MIN) of a UTC column comes back naive from SQLite."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _status_changes(brands: Sequence[str], period: Period, status: QueueStatus) -> Select[Any]:
    """Items that moved to `status` during the day (from the audit log)."""
    return (
        select()
        .select_from(AuditEntry)
        .join(QueueItem, QueueItem.id == AuditEntry.item_id)
        .where(
            QueueItem.brand.in_(list(brands)),
            AuditEntry.to_status == status.value,
            AuditEntry.at >= period.start,
            AuditEntry.at < period.end,
        )
    )


def _trolls(
    session: Session, brands: Sequence[str], period: Period, links: Links
) -> dict[str, Trolls]:
    salt = pseudonym_salt(session)
    troll_items = _day_items(brands, period).where(QueueItem.category == "troll")
    items = dict(
        session.execute(
            troll_items.add_columns(QueueItem.brand, func.count()).group_by(QueueItem.brand)
        ).all()
    )
    ignored = dict(
        session.execute(
            _status_changes(brands, period, QueueStatus.IGNORED_TROLL)
            .add_columns(QueueItem.brand, func.count(func.distinct(QueueItem.id)))
            .group_by(QueueItem.brand)
        ).all()
    )
    accounts_query = (
        troll_items.join(AuthorRecord, AuthorRecord.id == PostRecord.author_id)
        .add_columns(
            QueueItem.brand, AuthorRecord.platform, AuthorRecord.key, func.count().label("n")
        )
        .group_by(QueueItem.brand, AuthorRecord.platform, AuthorRecord.key)
        .order_by(func.count().desc(), AuthorRecord.key)
    )
    accounts: dict[str, list[TrollAccount]] = defaultdict(list)
    for row in session.execute(accounts_query):
        if len(accounts[row.brand]) < TOP_TROLLS:
            pseudonym = pseudonymise(salt, row.platform, row.key)
            accounts[row.brand].append(TrollAccount(pseudonym, row.platform, row.n))
    return {
        brand: Trolls(
            items=items.get(brand, 0),
            link=links.day_queue(brand=brand, category="troll"),
            ignored=ignored.get(brand, 0),
            ignored_link=links.queue(brand=brand, status=QueueStatus.IGNORED_TROLL.value),
            accounts=accounts[brand],
        )
        for brand in brands
    }


def pseudonym_salt(session: Session) -> str:
    """The install's salt, made on first use (one row in `digest_salt`)."""
    stored = session.get(DigestSalt, 1)
    if stored is None:
        stored = DigestSalt(id=1, salt=secrets.token_hex(32))
        session.add(stored)
        session.flush()
    return stored.salt


def pseudonymise(salt: str, platform: str, key: str) -> str:
    """A stable, unguessable name for an account: its handle never appears in a mail."""
    return f"Konto {Pseudonymiser(salt).author(platform, key)[2:10]}"


def _escalations(
    session: Session, brands: Sequence[str], period: Period, links: Links
) -> dict[str, list[Escalation]]:
    """The day's escalations with the team and where each item stands now."""
    query = (
        _status_changes(brands, period, QueueStatus.ESCALATED)
        .add_columns(
            AuditEntry.at,
            QueueItem.id,
            QueueItem.brand,
            QueueItem.status,
            QueueItem.escalated_to,
            AuditEntry.details,
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    found: dict[str, list[Escalation]] = defaultdict(list)
    for row in session.execute(query):
        if len(found[row.brand]) >= MAX_ESCALATIONS:
            continue
        team = (row.details or {}).get("team") or row.escalated_to or ""  # the team then
        found[row.brand].append(
            Escalation(
                item_id=row.id,
                team=TEAM_NAMES.get(team, team or "–"),
                status=QueueStatus(row.status).label,
                at=row.at,
                link=links.item(row.id),
            )
        )
    return found


def _model_versions(session: Session, brands: Sequence[str], period: Period) -> list[ModelVersions]:
    """Which model versions judged the day's posts, most posts first."""
    columns = [VerdictRecord.models[task].as_string().label(task) for task in MODEL_TASKS]
    query = (
        _mentions(brands, period.start, period.end)
        .add_columns(*columns, func.count().label("n"))
        .group_by(*columns)
        .order_by(func.count().desc())
    )
    return [
        ModelVersions(
            {task: getattr(row, task) for task in MODEL_TASKS if getattr(row, task)}, row.n
        )
        for row in session.execute(query)
    ]


def all_brands(session: Session, configured: Sequence[str], period: Period) -> list[str]:
    """The configured brands, else those the day's verdicts name (a config without brands)."""
    if configured:
        return list(configured)
    query = _mentions_any(period).add_columns(VerdictRecord.brand).distinct()
    return sorted(brand for (brand,) in session.execute(query) if brand)


def _mentions_any(period: Period) -> Select[Any]:
    return (
        select()
        .select_from(VerdictRecord)
        .join(PostRecord, PostRecord.id == VerdictRecord.post_id)
        .where(
            and_(
                PostRecord.created_at >= period.start,
                PostRecord.created_at < period.end,
                VerdictRecord.brand.is_not(None),
            )
        )
    )
