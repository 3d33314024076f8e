"""How values read in the German UI: Berlin time, SLA deadlines, priority levels, names of
categories, actions and statuses. Registered as Jinja filters by the app."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from classifiers.triage import ACTION_NAMES, CATEGORY_NAMES, TEAM_NAMES
from monitor.queue.states import QueueStatus

BERLIN = ZoneInfo("Europe/Berlin")
SOON_SECONDS = 2 * 3600
"""A deadline closer than this is shown as "bald fällig"."""

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
}
SEVERITY_NAMES = {"block": "Blockiert", "warn": "Hinweis"}
REVIEW_TASKS = {
    "category": "Kategorie",
    "sentiment": "Stimmung",
    "troll": "Troll",
    "false_positive": "Fehlalarm",
}
PLATFORM_NAMES = {"twitter": "X", "reddit": "Reddit"}
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


def berlin_time(moment: datetime) -> str:
    return moment.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} Min."
    hours = minutes // 60
    return f"{hours} Std." if hours < 48 else f"{hours // 24} Tagen"


def due_state(due_at: datetime, now: datetime | None = None) -> dict[str, str]:
    """The deadline as a CSS state (overdue, soon, ok) and a German phrase."""
    left = (due_at - (now or datetime.now(UTC))).total_seconds()
    if left < 0:
        return {"state": "overdue", "text": f"überfällig seit {_span(-left)}"}
    return {"state": "soon" if left < SOON_SECONDS else "ok", "text": f"in {_span(left)}"}


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
    "berlin_time": berlin_time,
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
    "excerpt": excerpt,
    "web_link": web_link,
}
