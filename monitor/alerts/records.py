"""An alert's life: opened once with its outbox rows, updated while it grows, closed when it is
over, reopened silently when the same storm returns within the cool-down."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.settings import AlertSettings
from monitor.storage.models import AlertNotification, AlertRecord


class AlertKind(StrEnum):
    SPIKE = "spike"
    """Mentions or negative posts of the last 24 hours far above the week before."""
    CRISIS = "crisis"
    """A queued post the triage calls a crisis, or a threat."""
    REACH = "reach"
    """A queued post with a very large audience."""


KIND_NAMES = {
    AlertKind.SPIKE: "Spitze",
    AlertKind.CRISIS: "Krise/Drohung",
    AlertKind.REACH: "Reichweite",
}
"""German names of the kinds, for lists and mails."""
MEASURE_NAMES = {"mentions": "Erwähnungen", "negative": "negative Beiträge"}
"""German names of what a spike measures."""


class Channel(StrEnum):
    MAIL = "mail"
    WEBHOOK = "webhook"


def open_alert(session: Session, brand: str, kind: AlertKind) -> AlertRecord | None:
    """The brand's open alert of this kind, if any (there is at most one)."""
    query = select(AlertRecord).where(
        AlertRecord.brand == brand, AlertRecord.kind == kind, AlertRecord.closed_at.is_(None)
    )
    return session.scalar(query.order_by(AlertRecord.id.desc()).limit(1))


def recently_closed(
    session: Session, brand: str, kind: AlertKind, at: datetime, cooldown: timedelta
) -> AlertRecord | None:
    """The brand's alert of this kind that closed within `cooldown` before `at`."""
    query = select(AlertRecord).where(
        AlertRecord.brand == brand,
        AlertRecord.kind == kind,
        AlertRecord.closed_at.is_not(None),
        AlertRecord.closed_at >= at - cooldown,
        AlertRecord.closed_at <= at,
    )
    return session.scalar(query.order_by(AlertRecord.closed_at.desc()).limit(1))


def start(
    session: Session,
    rules: AlertSettings,
    brand: str,
    kind: AlertKind,
    at: datetime,
    count: int,
    baseline: float | None,
    details: dict[str, Any],
) -> AlertRecord:
    """A new alert and, in the same transaction, one outbox row per channel that is set up
    for the brand: delivery happens later and cannot hold up the caller."""
    alert = AlertRecord(
        brand=brand,
        kind=kind,
        opened_at=at,
        updated_at=at,
        count=count,
        baseline=baseline,
        details=details,
    )
    session.add(alert)
    for channel in channels(rules, brand):
        alert.notifications.append(
            AlertNotification(channel=channel, status="pending", attempts=0, next_attempt_at=at)
        )
    session.flush()
    return alert


def channels(rules: AlertSettings, brand: str) -> list[Channel]:
    wanted = []
    if rules.recipients_for(brand):
        wanted.append(Channel.MAIL)
    if rules.webhook_url:
        wanted.append(Channel.WEBHOOK)
    return wanted


def update(
    alert: AlertRecord, at: datetime, count: int, baseline: float | None, details: dict[str, Any]
) -> None:
    """The alert's figures as they stand now; no new message (one alert per storm)."""
    alert.updated_at = at
    alert.count = count
    alert.baseline = baseline
    reopened = (alert.details or {}).get("reopened")
    alert.details = {**details, "reopened": reopened} if reopened else details


def reopen(alert: AlertRecord) -> None:
    """The same storm back within the cool-down: its alert opens again, without a message."""
    alert.closed_at = None
    alert.details = {**alert.details, "reopened": alert.details.get("reopened", 0) + 1}


def close(alert: AlertRecord, at: datetime) -> None:
    alert.closed_at = at
    alert.updated_at = max(alert.updated_at, at)
