"""The queue's filters as a request names them, read one way for UI and API: the query string of
the queue page, the API's `GET /items` and the filter of a bulk action all become one
`QueueFilter`, always within the user's brands."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from classifiers.triage import ACTION_NAMES, CATEGORY_NAMES
from monitor.access.users import find_user
from monitor.queue import QueueFilter, QueueStatus, Sort
from monitor.queue.priority import Band
from monitor.queue.sla import SlaState
from monitor.queue.states import Recheck
from monitor.storage.models import UserRecord

FIELDS = (
    *("brand", "platform", "status", "category", "action", "band", "sla", "recheck"),
    *("assignee", "von", "bis", "sort"),
)
"""The filter's parameter names, in the order the filter bar shows them."""
ME, NOBODY = "me", "none"
"""`assignee` values besides a user's name: the caller, and items nobody is assigned to."""

LABELS = {
    "brand": "Marke",
    "platform": "Plattform",
    "status": "Status",
    "category": "Kategorie",
    "action": "Aktion",
    "band": "Priorität",
    "sla": "SLA",
    "recheck": "Neu prüfen",
    "assignee": "Bearbeitung",
    "von": "Veröffentlicht ab",
    "bis": "Veröffentlicht bis",
    "sort": "Sortierung",
}
CHOICES: dict[str, frozenset[str]] = {
    "status": frozenset(QueueStatus),
    "category": frozenset(CATEGORY_NAMES),
    "action": frozenset(ACTION_NAMES),
    "band": frozenset(Band),
    "sla": frozenset(SlaState),
    "recheck": frozenset(Recheck),
    "sort": frozenset(Sort),
}
"""The values a parameter with a fixed set of them accepts."""


DAYS = ("von", "bis")
"""Local calendar days (`JJJJ-MM-TT`, both inclusive) of the post's publication, in the
digest's time zone: `von=2026-12-01&bis=2026-12-01` lists what the digest counted that day."""
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class FilterError(ValueError):
    """A filter value that means nothing; the message (German) names parameter and value."""


def chosen(raw: Mapping[str, object]) -> dict[str, str]:
    """The filter parameters `raw` sets; an empty one (a form's "alle") sets nothing."""
    values = {name: str(raw.get(name) or "").strip() for name in FIELDS}
    return {name: value for name, value in values.items() if value}


def query_string(values: Mapping[str, str]) -> str:
    """The filter as a URL query (paging and bulk forms keep it)."""
    return urlencode(values)


def parse_filter(
    session: Session, user: UserRecord, raw: Mapping[str, object], zone: ZoneInfo
) -> QueueFilter:
    """The filter `raw` names, within the user's brands, its days read in `zone`;
    `FilterError` for a value that is not one of its parameter's, a day that is not one or a
    colleague nobody is called."""
    values = chosen(raw)
    for name, allowed in CHOICES.items():
        if name in values and values[name] not in allowed:
            raise FilterError(f"Unbekannter Wert „{values[name]}“ für {LABELS[name]} ({name}).")
    since, until = published_between(values.pop("von", None), values.pop("bis", None), zone)
    assignee = values.pop("assignee", None)
    assignee_id = None
    if assignee == ME:
        assignee_id = user.id
    elif assignee is not None and assignee != NOBODY:
        colleague = find_user(session, assignee)
        if colleague is None:
            raise FilterError(f"Einen Benutzer „{assignee}“ gibt es nicht.")
        assignee_id = colleague.id
    return QueueFilter(
        **values,  # type: ignore[arg-type]  # checked above; QueueFilter makes them enums
        assignee_id=assignee_id,
        unassigned=assignee == NOBODY,
        since=since,
        until=until,
        visible_brands=user.brands,
    )


def published_between(
    first: str | None, last: str | None, zone: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """The UTC bounds [since, until) of the local days `first` to `last` (both inclusive)."""
    since = local_midnight(first, "von", zone)
    until = local_midnight(last, "bis", zone, days_after=1)
    if since is not None and until is not None and until <= since:
        raise FilterError(f"„bis“ ({last}) liegt vor „von“ ({first}).")
    return since, until


def local_midnight(
    value: str | None, name: str, zone: ZoneInfo, days_after: int = 0
) -> datetime | None:
    """The UTC moment the local day `value` (plus `days_after` days) begins in `zone`."""
    if value is None:
        return None
    try:
        if not ISO_DAY.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value) + timedelta(days=days_after)
        return datetime.combine(day, time(0), zone).astimezone(UTC)
    except (ValueError, OverflowError):
        raise FilterError(
            f"Ungültiges Datum „{value}“ für {LABELS[name]} ({name}): bitte JJJJ-MM-TT."
        ) from None
