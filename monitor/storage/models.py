"""Tables. Every schema change gets an Alembic migration in `monitor/migrations/versions`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from monitor.access.roles import Role
from monitor.queue.states import QueueStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite drops the zone on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        datetime: UTCDateTime,
    }


class AuthorRecord(Base):
    """An account as last seen on its platform; `key` is its platform id, else its handle."""

    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("platform", "key", name="uq_authors_platform_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    handle: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    account_created_at: Mapped[datetime | None]
    account_age_days: Mapped[int | None]
    followers: Mapped[int | None]
    posts_last_24h: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PostRecord(Base):
    """A post, stored once per (platform, platform_id); `text` is None once deleted upstream."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("platform", "platform_id", name="uq_posts_platform_id"),
        Index("ix_posts_author_created", "author_id", "created_at"),
        Index("ix_posts_source_checked", "source", "checked_at"),
        Index("ix_posts_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    parent_id: Mapped[str | None] = mapped_column(String(128))
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id", ondelete="SET NULL"))
    matched_brands: Mapped[list[str]] = mapped_column(default=list)
    matched_keywords: Mapped[list[str]] = mapped_column(default=list)
    deleted_at: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]
    """When the compliance job last asked the platform whether the post still exists."""

    author: Mapped[AuthorRecord | None] = relationship()
    scores: Mapped[list[Score]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="Score.id"
    )
    queue_item: Mapped[QueueItem | None] = relationship(
        back_populates="post", cascade="all, delete-orphan"
    )
    verdict: Mapped[VerdictRecord | None] = relationship(
        back_populates="post", cascade="all, delete-orphan"
    )


class Score(Base):
    """One model's judgement of one post, kept per `model_version` for traceability."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("post_id", "task", "model_version", name="uq_scores_post_task_model"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    task: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    probabilities: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reasons: Mapped[list[str]] = mapped_column(default=list)
    model_version: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    post: Mapped[PostRecord] = relationship(back_populates="scores")


FILTERED = ("status", "brand", "platform", "category", "action", "assignee_id", "sla_near_at")
"""Filtered columns of queue_items besides the priority and deadline."""


class QueueItem(Base):
    """A flagged post waiting for the social media team; `due_at` is its SLA deadline.

    Platform, category and action are copied from the post and its verdict, so that the
    queue's filters need no join and no JSON. Each of the two indexes holds one of the
    queue's orders (`monitor.queue.queries.ORDER`, read backwards for "priority DESC") and
    every filtered column: a page of ids and its count are read from the index alone, without
    touching the table, however the list is filtered (`make bench`: 100,000 items)."""

    __tablename__ = "queue_items"
    __table_args__ = (
        Index("ix_queue_urgent", "priority", "due_at", "id", *FILTERED),
        Index("ix_queue_waiting", "waiting_since", "id", "priority", "due_at", *FILTERED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), unique=True)
    brand: Mapped[str] = mapped_column(String(200))
    status: Mapped[QueueStatus] = mapped_column(
        # A VARCHAR holding the value ("new"), checked in Python: a new status needs no
        # database migration, and the transition table guards every change.
        Enum(
            QueueStatus,
            native_enum=False,
            length=32,
            values_callable=lambda statuses: [status.value for status in statuses],
            validate_strings=True,
        ),
        default=QueueStatus.NEW,
    )
    priority: Mapped[int] = mapped_column(Integer)
    """`monitor.queue.priority.rate`; its band is a range of it."""
    platform: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    """The triage category's label; None for posts judged before the triage."""
    action: Mapped[str | None] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    waiting_since: Mapped[datetime]
    """When the SLA clock started (the post, or its fetch if the post claims a later time)."""
    due_at: Mapped[datetime]
    sla_near_at: Mapped[datetime]
    """From here to `due_at` the item is "near" its deadline."""
    sla_breached_at: Mapped[datetime | None]
    """When `monitor.queue.breaches.record_breaches` found it overdue; set once, never
    cleared (not a change of the item: its `version` stays)."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    """Optimistic lock: every change bumps it (an operation may bump it more than once; compare
    for equality only), and an UPDATE naming an older one changes nothing
    (`monitor.queue.workflow` turns that into `StaleItemError`)."""
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    assigned_at: Mapped[datetime | None]
    escalated_to: Mapped[str | None] = mapped_column(String(16))
    """The `EscalationTeam` an escalated item went to."""
    recheck: Mapped[str | None] = mapped_column(String(32))
    """Why a person should look at the item again: "unflagged" when `rufwacht rescore` found
    that the champion model would no longer queue it (`monitor.rescore`); None otherwise."""

    post: Mapped[PostRecord] = relationship(back_populates="queue_item")
    assignee: Mapped[UserRecord | None] = relationship()

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class VerdictRecord(Base):
    """Why a judged post is in the queue or not: the data `monitor.judging.trace` records.

    Kept whole (matches, thresholds, scores, spam rule, model versions) so that the answer
    stays right after the config or the models change."""

    __tablename__ = "verdicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), unique=True)
    flagged: Mapped[bool] = mapped_column(Boolean)
    priority: Mapped[int] = mapped_column(Integer)
    brand: Mapped[str | None] = mapped_column(String(200))
    reasons: Mapped[list[str]] = mapped_column(default=list)
    matches: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """brands, keywords and spans (where in the text each was found)."""
    thresholds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    spam: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """is_spam, reasons and the rule's version."""
    models: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """model_version per task."""
    category: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The triage category: label, confidence, reasons; None for posts judged before triage."""
    action: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The triage action: label, escalate_to, reasons."""
    guideline: Mapped[str | None] = mapped_column(String(32))
    """The playbook id (`monitor.guidance.playbooks`); None for irrelevant posts and spam."""
    judged_at: Mapped[datetime] = mapped_column(default=utcnow)

    post: Mapped[PostRecord] = relationship(back_populates="verdict")


class QuarantinedItem(Base):
    """A fetched item that could not be normalised or stored, kept for the operator to look at
    and retry (`rufwacht quarantine`), so that one poison post never stalls its source."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    payload_format: Mapped[str] = mapped_column(String(32))
    """"post" (a normalised post the database refused) or the connector type that reads it."""
    ref: Mapped[str] = mapped_column(Text)
    problem: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    payload_complete: Mapped[bool] = mapped_column(Boolean)
    """False when the payload was cut to its size bound; such an item cannot be retried."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retried_at: Mapped[datetime | None]


class SourceState(Base):
    """A source's cursor and health, committed together with the posts it covers."""

    __tablename__ = "source_states"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    last_error: Mapped[str | None] = mapped_column(Text)
    last_polled_at: Mapped[datetime | None]


class SavedReply(Base):
    """A reply template the team starts from (`monitor.guidance.replies`); leads edit them."""

    __tablename__ = "saved_replies"
    __table_args__ = (Index("ix_saved_replies_category_tone", "category", "tone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand: Mapped[str | None] = mapped_column(String(200))
    """None: for every brand."""
    category: Mapped[str] = mapped_column(String(32))
    tone: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PlaybookNote(Base):
    """The team's own short note on a playbook (`monitor.guidance.notes`); leads edit it."""

    __tablename__ = "playbook_notes"

    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    note: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UserRecord(Base):
    """A member of the team who logs in to the web UI or calls the API (`monitor.access.users`)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            native_enum=False,
            length=16,
            values_callable=lambda roles: [role.value for role in roles],
            validate_strings=True,
        )
    )
    password_hash: Mapped[str] = mapped_column(String(200))
    brands: Mapped[list[str] | None] = mapped_column(JSON)
    """The brands this user may see; None: every brand."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    on_shift: Mapped[bool] = mapped_column(Boolean, default=False)
    """Whether automatic assignment may hand this user new items now."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token for the API, stored only as its SHA-256 digest; revoked ones stay listed."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[UserRecord] = relationship()


class WebSession(Base):
    """A logged-in browser, server-side: the cookie holds a random id whose digest is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    """None before login: the login form's CSRF token needs a session too."""
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[UserRecord | None] = relationship()


class AuditEntry(Base):
    """One thing someone did to a queue item (or, without one, in the team's workflow, such as
    starting a shift); written once, never changed or deleted.

    The actor's name is copied, so the entry still says who it was after a rename; `actor_id`
    is None for what the system did (intake, automatic assignment, upstream deletion)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("queue_items.id", ondelete="CASCADE"), index=True
    )
    """None for what concerns the team rather than one item (a shift begun or ended)."""
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DraftRecord(Base):
    """A reply to a queue item, from first save to sending; a rejected one stays as it was and
    the next save starts a new one."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("queue_items.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    saved_reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("saved_replies.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16))
    """A `monitor.queue.drafts.DraftStatus` value."""
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """The draft checker's findings on `text` (`Finding.as_dict`)."""
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """Who approved or rejected it."""
    decided_at: Mapped[datetime | None]
    override_reason: Mapped[str | None] = mapped_column(Text)
    """A lead's written reason for approving despite a blocking finding."""
    note: Mapped[str | None] = mapped_column(Text)
    """The approver's note on a rejection."""
    sent_via: Mapped[str | None] = mapped_column(String(16))
    """A `monitor.queue.drafts.SendMode` value."""
    sent_link: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    author: Mapped[UserRecord] = relationship(foreign_keys=[author_id])
    approver: Mapped[UserRecord | None] = relationship(foreign_keys=[approver_id])


class ReviewLabel(Base):
    """A reviewer's decision on what the models said about an item's post: confirmed or
    corrected, with the model version it concerns (training and evaluation data)."""

    __tablename__ = "review_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("queue_items.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewer_name: Mapped[str] = mapped_column(String(64))
    task: Mapped[str] = mapped_column(String(32))
    """category, sentiment, offensive, troll or false_positive."""
    model_label: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ItemPresence(Base):
    """Who had an item open last and when, so the UI can say who is working on it now."""

    __tablename__ = "item_presence"
    __table_args__ = (UniqueConstraint("item_id", "user_id", name="uq_item_presence_item_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("queue_items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[UserRecord] = relationship()


class DigestDelivery(Base):
    """One digest for one period: claimed ("sending") before the mail goes out, "sent" after,
    "failed" with the reason when the server would not take it (retried at the next run)."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (
        UniqueConstraint("name", "period_start", name="uq_digest_deliveries_name_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    """The digest's `[[digest.mails]] name`."""
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    """A `monitor.digest.delivery.DeliveryStatus` value."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[list[str]] = mapped_column(default=list)
    claimed_at: Mapped[datetime | None]
    """When a run last started sending it; a "sending" row older than the claim timeout
    belongs to a run that died, and the next run sends it again."""
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestSalt(Base):
    """The install's random salt for pseudonymising troll accounts in digests (one row), so
    the same account keeps its pseudonym from day to day without its handle being shown."""

    __tablename__ = "digest_salt"

    id: Mapped[int] = mapped_column(primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))


class AlertRecord(Base):
    """A spike, crisis or loud post of one brand (`monitor.alerts`): opened once, updated while
    it grows, closed when it is over; never one per hourly check."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_brand_kind_closed", "brand", "kind", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    """`monitor.alerts.model.AlertKind`: spike, crisis or reach."""
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    count: Mapped[int] = mapped_column(Integer)
    """Posts in the last 24 hours (spike), or the posts the alert gathered (crisis, reach)."""
    baseline: Mapped[float | None] = mapped_column(Float)
    """The 7-day daily mean a spike was measured against; None for the other kinds."""
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """What drove it, as plain data: the measure, statistics, top posts and top terms."""

    notifications: Mapped[list[AlertNotification]] = relationship(
        back_populates="alert", cascade="all, delete-orphan", order_by="AlertNotification.id"
    )


class AlertNotification(Base):
    """The outbox: one message (mail or chat) an alert owes, written in the alert's own
    transaction and delivered afterwards, so no check or poll ever waits on SMTP or a chat."""

    __tablename__ = "alert_notifications"
    __table_args__ = (Index("ix_alert_notifications_status", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    """mail or webhook."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending, sending (claimed by a deliverer), sent or failed (gave up)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    """The last failure, redacted (never the webhook's address)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    alert: Mapped[AlertRecord] = relationship(back_populates="notifications")
