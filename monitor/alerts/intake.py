"""The alert that cannot wait for the hourly check: a queued crisis, threat or very loud post
alerts at once, recorded in the transaction that queues it. Such posts of one brand gather in
its open alert of the kind, so a wave of threats is one alert, not fifty."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.alerts import records
from monitor.alerts.evidence import audience, items_evidence
from monitor.alerts.records import AlertKind
from monitor.queue.priority import ESCALATED
from monitor.queue.states import QueueStatus
from monitor.settings import AlertSettings
from monitor.storage.models import AlertRecord, QueueItem, VerdictRecord

OPEN_STATES = frozenset(
    {QueueStatus.NEW, QueueStatus.ASSIGNED, QueueStatus.DRAFT, QueueStatus.AWAITING_APPROVAL}
)
"""An item in one of these still needs the team: its alert stays open."""


def event_kind(item: QueueItem, verdict: VerdictRecord, rules: AlertSettings) -> AlertKind | None:
    """Crisis for a crisis or threat, reach for a post whose audience passes the threshold."""
    category = (verdict.category or {}).get("label")
    if category in ESCALATED or (verdict.scores or {}).get("threat"):
        return AlertKind.CRISIS
    if audience(item.post) >= rules.reach_threshold:
        return AlertKind.REACH
    return None


def alert_on_item(
    session: Session, item: QueueItem, verdict: VerdictRecord, rules: AlertSettings, at: datetime
) -> AlertRecord | None:
    """Open (or add to) the brand's crisis or reach alert for a freshly queued item."""
    kind = event_kind(item, verdict, rules)
    if kind is None or not item.brand:
        return None
    session.flush()  # the item's id, for the alert's links
    alert, _opened = add_items(session, rules, item.brand, kind, [item], at)
    return alert


def add_items(
    session: Session,
    rules: AlertSettings,
    brand: str,
    kind: AlertKind,
    items: list[QueueItem],
    at: datetime,
) -> tuple[AlertRecord, bool]:
    """Add items to the brand's open alert of this kind, or open one; True when opened."""
    alert = records.open_alert(session, brand, kind)
    if alert is None:
        details = {"items": [item.id for item in items], **items_evidence(items, rules.top_posts)}
        return records.start(session, rules, brand, kind, at, len(items), None, details), True
    ids = list(dict.fromkeys([*alert.details.get("items", []), *(item.id for item in items)]))
    gathered = [*event_items(session, alert), *items]
    unique = list({item.id: item for item in gathered}.values())
    details = {**alert.details, "items": ids, **items_evidence(unique, rules.top_posts)}
    records.update(alert, max(at, alert.updated_at), len(ids), None, details)
    return alert, False


def event_items(session: Session, alert: AlertRecord) -> list[QueueItem]:
    """The queue items a crisis or reach alert gathered (those that still exist)."""
    ids = alert.details.get("items", [])
    if not ids:
        return []
    return list(session.scalars(select(QueueItem).where(QueueItem.id.in_(ids))))


def is_over(item: QueueItem) -> bool:
    return item.status not in OPEN_STATES


def forget_vanished(session: Session) -> int:
    """Delete crisis and reach alerts none of whose posts is queued any more (after
    `rufwacht demo --reset` removed the demo's): their links would lead nowhere."""
    query = select(AlertRecord).where(AlertRecord.kind.in_([AlertKind.CRISIS, AlertKind.REACH]))
    vanished = [alert for alert in session.scalars(query) if not event_items(session, alert)]
    for alert in vanished:
        session.delete(alert)
    return len(vanished)
