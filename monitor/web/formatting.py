"""How values read in the German UI: local time, SLA deadlines, priority levels, names of
categories, actions and statuses. Registered as Jinja filters by the app."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from classifiers.triage import ACTION_NAMES, CATEGORY_NAMES, TEAM_NAMES
from connectors.capabilities import PLATFORM_NAMES
from monitor.queue.sla import WAITING, SlaState, state_of
from monitor.queue.states import QueueStatus
from monitor.storage.models import QueueItem

STATUS_NAMES = {status.value: status.label[:1].upper() + status.label[1:] for status in QueueStatus}
AUDIT_ACTIONS = {
    "take": "übernommen",
    "assign": "zugewiesen",
    "auto_assign": "automatisch zugewiesen",
    "release": "zurückgegeben",
    "reoffer": "neu angeboten",
    "draft": "Entwurf gespeichert",
    "submit": "zur Freigabe gegeben",
    "approve": "freigegeben",
    "reject": "zurückgewiesen",
    "reply": "Antwort gesendet",
    "resolve": "erledigt",
    "dismiss": "verworfen",
    "ignore_troll": "als Troll ignoriert",
    "escalate": "eskaliert",
    "monitor": "zur Beobachtung",
    "reopen": "wieder geöffnet",
    "reopen_new_post": "wieder geöffnet (neuer Beitrag)",
    "deleted_upstream": "auf der Plattform gelöscht",
    "label": "Bewertung",
    "rescore": "neu bewertet",
    "shift_start": "Schicht begonnen",
    "shift_end": "Schicht beendet",
}
SEVERITY_NAMES = {"block": "Blockiert", "warn": "Hinweis"}
REVIEW_TASKS = {
    "category": "Kategorie",
    "sentiment": "Stimmung",
    "offensive": "Beleidigung",
    "troll": "Troll",
    "false_positive": "Fehlalarm",
}
BAND_NAMES = {"critical": "kritisch", "high": "hoch", "normal": "normal", "low": "niedrig"}
SLA_NAMES = {"ok": "im Plan", "near": "bald fällig", "overdue": "überfällig"}
RECHECK_NAMES = {"unflagged": "Modell würde nicht mehr melden"}  # by `Recheck` value
"""Why an item is marked for a second look (`QueueItem.recheck`)."""
SORT_NAMES = {"urgent": "dringendste zuerst", "waiting": "am längsten wartend"}
ROLE_NAMES = {"agent": "Agent", "approver": "Freigabe", "lead": "Leitung", "admin": "Admin"}
TASK_NAMES = {"sentiment": "Stimmung", "offensive": "Beleidigung", "troll": "Troll"}
LABEL_NAMES = {
    "negative": "negativ",
    "neutral": "neutral",
    "positive": "positiv",
    "offensive": "beleidigend",
    "other": "unauffällig",
    "troll": "Troll",
    "not_troll": "kein Troll",
    "false_positive": "Fehlalarm",
    "relevant": "relevant",
    **CATEGORY_NAMES,
}
PRIORITY_LEVELS = ((80, "kritisch"), (60, "hoch"), (40, "normal"), (0, "niedrig"))
"""Lowest priority of each level, most urgent first."""


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} Min."
    hours = minutes // 60
    return f"{hours} Std." if hours < 48 else f"{hours // 24} Tagen"


def due_state(item: QueueItem, now: datetime | None = None) -> dict[str, str]:
    """The item's SLA state as a CSS state (the one the SLA filter selects by) and a German
    phrase; an answered item's clock has stopped."""
    now = now or datetime.now(UTC)
    state = state_of(item, now)
    left = (item.due_at - now).total_seconds()
    if state is SlaState.OVERDUE:
        return {"state": state.value, "text": f"überfällig seit {_span(-left)}"}
    if item.status not in WAITING:
        return {"state": state.value, "text": "angehalten"}
    prefix = "bald fällig: " if state is SlaState.NEAR else ""
    return {"state": state.value, "text": f"{prefix}in {_span(left)}"}


def priority_level(priority: int) -> str:
    return next(level for floor, level in PRIORITY_LEVELS if priority >= floor)


def _named(names: dict[str, str]) -> Callable[[Any], str]:
    def name(value: Any) -> str:
        return "–" if value is None else names.get(str(value), str(value))

    return name


def excerpt(text: str | None, length: int = 140) -> str:
    if text is None:
        return "(gelöscht)"
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def web_link(url: str | None) -> str | None:
    """`url` if it is an http(s) link, else None: a stored URL comes from outside, and a
    `javascript:` link would run in the team's browser."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


FILTERS: dict[str, Callable[..., Any]] = {
    "due_state": due_state,
    "priority_level": priority_level,
    "category_name": _named(CATEGORY_NAMES),
    "action_name": _named(ACTION_NAMES),
    "team_name": _named(TEAM_NAMES),
    "status_name": _named(STATUS_NAMES),
    "role_name": _named(ROLE_NAMES),
    "platform_name": _named(PLATFORM_NAMES),
    "task_name": _named(TASK_NAMES),
    "label_name": _named(LABEL_NAMES),
    "audit_action": _named(AUDIT_ACTIONS),
    "severity_name": _named(SEVERITY_NAMES),
    "review_task": _named(REVIEW_TASKS),
    "recheck_name": _named(RECHECK_NAMES),
    "excerpt": excerpt,
    "web_link": web_link,
}


def filters(zone: ZoneInfo) -> dict[str, Callable[..., Any]]:
    """Every filter the templates use; times read in `zone`, the one the day filters use, so
    that a post shown at 23:30 on the 2nd is listed under the 2nd."""
    return {**FILTERS, "local_time": partial(local_time, zone=zone)}
