"""Reading alerts, always within a brand scope: a user limited to some brands sees nothing of
the others' alerts, in a list, a count or the banner. Plain data out, for the UI, the API, the
CLI and the digest's "the day's spikes"."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session

from monitor.alerts.records import KIND_NAMES, MEASURE_NAMES, AlertKind
from monitor.digest.build import Spike, SpikeProvider
from monitor.settings import WebSettings
from monitor.storage.models import AlertRecord

LIST_LIMIT = 200


def _scoped(query: Select[tuple[AlertRecord]], brands: Collection[str] | None) -> Select[Any]:
    """`brands` None: every brand; otherwise only those (none: nothing)."""
    if brands is None:
        return query
    return query.where(AlertRecord.brand.in_(list(brands)) if brands else false())


def list_alerts(
    session: Session,
    brands: Collection[str] | None,
    open_only: bool = False,
    limit: int = LIST_LIMIT,
    offset: int = 0,
) -> list[AlertRecord]:
    """Alerts within `brands`, open ones first, then the newest."""
    query = _scoped(select(AlertRecord), brands)
    if open_only:
        query = query.where(AlertRecord.closed_at.is_(None))
    query = query.order_by(
        AlertRecord.closed_at.is_not(None), AlertRecord.opened_at.desc(), AlertRecord.id.desc()
    )
    return list(session.scalars(query.limit(limit).offset(offset)))


def open_alerts(session: Session, brands: Collection[str] | None) -> list[AlertRecord]:
    """What the banner on every page shows."""
    return list_alerts(session, brands, open_only=True, limit=20)


def visible_alert(
    session: Session, brands: Collection[str] | None, alert_id: int
) -> AlertRecord | None:
    alert = session.get(AlertRecord, alert_id)
    if alert is None or (brands is not None and alert.brand not in brands):
        return None
    return alert


def alert_summary(alert: AlertRecord) -> dict[str, Any]:
    """The alert as plain data: `rufwacht alerts list --json`, the API, the digest."""
    details = alert.details or {}
    return {
        "id": alert.id,
        "brand": alert.brand,
        "kind": alert.kind,
        "measure": details.get("measure"),
        "opened_at": alert.opened_at.isoformat(),
        "updated_at": alert.updated_at.isoformat(),
        "closed_at": alert.closed_at.isoformat() if alert.closed_at else None,
        "count": alert.count,
        "baseline": round(alert.baseline, 2) if alert.baseline is not None else None,
        "posts": details.get("posts", []),
        "terms": details.get("terms", []),
    }


def alerts_between(
    session: Session, start: datetime, end: datetime, brands: Collection[str] | None
) -> list[dict[str, Any]]:
    """Alerts that were open at some moment in [start, end), oldest first, as plain data
    (`alert_summary`): the digest's "the day's spikes"."""
    query = _scoped(select(AlertRecord), brands).where(
        AlertRecord.opened_at < end,
        or_(AlertRecord.closed_at.is_(None), AlertRecord.closed_at >= start),
    )
    alerts = session.scalars(query.order_by(AlertRecord.opened_at, AlertRecord.id))
    return [alert_summary(alert) for alert in alerts]


def title(alert: AlertRecord) -> str:
    """The German headline of an alert, for mail subject, chat, banner and list."""
    details = alert.details or {}
    if alert.kind == AlertKind.SPIKE:
        what = "negative Beiträge" if details.get("measure") == "negative" else "Erwähnungen"
        baseline = alert.baseline or 0
        return f"{alert.brand}: {alert.count} {what} in 24 Stunden (sonst {baseline:.0f} am Tag)"
    if alert.kind == AlertKind.CRISIS:
        return f"{alert.brand}: Krise oder Drohung ({_posts(alert.count)})"
    return f"{alert.brand}: Beitrag mit großer Reichweite ({_posts(alert.count)})"


def _posts(n: int) -> str:
    return "1 Beitrag" if n == 1 else f"{n} Beiträge"


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(AlertKind(kind), kind) if kind in set(AlertKind) else kind


def digest_spikes(web: WebSettings) -> SpikeProvider:
    """The digest's "the day's spikes": the alerts opened in [start, end) of these brands,
    each linking to the alert list (`monitor.digest.delivery.spike_provider` wires it)."""

    def spikes(
        session: Session, brands: Sequence[str], start: datetime, end: datetime
    ) -> list[Spike]:
        query = _scoped(select(AlertRecord), brands).where(
            AlertRecord.opened_at >= start, AlertRecord.opened_at < end
        )
        return [
            Spike(
                brand=alert.brand,
                kind=spike_kind(alert),
                opened_at=alert.opened_at,
                closed_at=alert.closed_at,
                count=alert.count,
                baseline=alert.baseline,
                link=web.link(f"/alerts#alarm-{alert.id}"),
            )
            for alert in session.scalars(query.order_by(AlertRecord.opened_at, AlertRecord.id))
        ]

    return spikes


def spike_kind(alert: AlertRecord) -> str:
    """What rose, in German: the spike's measure, else the kind."""
    measure = (alert.details or {}).get("measure")
    return MEASURE_NAMES.get(measure or "", "") or kind_name(alert.kind)
