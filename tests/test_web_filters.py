"""The queue's filters in the web UI and the API, bulk actions on everything a filter matches,
and starting and ending a shift: each filter narrows the list, the brand scope always applies."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from monitor.access.roles import Role
from monitor.access.users import add_user, issue_token
from monitor.queue.states import QueueStatus
from monitor.storage.database import Database
from monitor.storage.models import AuditEntry, QueueItem, UserRecord
from monitor.web.views import PAGE_SIZE
from tests import factories
from tests.conftest import WEB_PASSWORD, csrf_token, log_in
from tests.web_team import bearer

NOW = datetime.now(UTC)
ITEMS: dict[str, dict[str, Any]] = {
    "Krise bei DHL": {
        "brand": "DHL",
        "priority": 90,
        "category": "crisis",
        "action": "escalate",
        "hours": (1, 20),  # waiting 1 h, due in 20 h: ok
        "assignee": "jana",
    },
    "Bahn bald fällig": {
        "platform": "reddit",
        "priority": 40,
        "hours": (20, 1),
        "recheck": "unflagged",  # a rescore found the champion would not queue it
    },
    "Bahn überfällig": {
        "priority": 10,
        "category": "troll",
        "action": "ignore_troll",
        "hours": (30, -1),
    },
    "Telekom hakt": {"brand": "Telekom", "priority": 60, "hours": (2, 10), "assignee": "tom"},
}
"""Post text → how the item differs from a new, unassigned Deutsche Bahn complaint on X."""


def build(db: Database) -> None:
    """The items above, lead `jana` (every brand, can log in) and agent `tom`."""
    with db.transaction() as session:
        add_user(session, "jana", Role.LEAD, WEB_PASSWORD)
        session.add(factories.user("tom"))
        session.flush()
        people = {u.name: u for u in session.scalars(select(UserRecord))}
        for text, spec in ITEMS.items():
            waiting, due_in = spec["hours"]
            brand = spec.get("brand", "Deutsche Bahn")
            since = NOW - timedelta(hours=waiting)
            post = factories.stored_post(
                text,
                created_at=since,
                matched_brands=[brand],
                platform=spec.get("platform", "twitter"),
            )
            assignee = people.get(spec.get("assignee", ""))
            fields = {
                k: spec[k] for k in ("priority", "category", "action", "recheck") if k in spec
            }
            session.add(
                factories.queue_item(
                    post,
                    waiting_since=since,
                    due_at=NOW + timedelta(hours=due_in),
                    assignee=assignee,
                    status=QueueStatus.ASSIGNED if assignee else QueueStatus.NEW,
                    **fields,
                )
            )


def api_token(db: Database, name: str, brands: list[str] | None = None) -> dict[str, str]:
    """A bearer header for `name` (an approver created if missing, limited to `brands`)."""
    with db.transaction() as session:
        user = session.scalar(select(UserRecord).where(UserRecord.name == name))
        if user is None:
            user = factories.user(name, Role.APPROVER, brands=brands)
            session.add(user)
            session.flush()
        return bearer(issue_token(session, user))


def api_texts(client: TestClient, headers: dict[str, str], **query: str) -> list[str]:
    response = client.get("/api/v1/items", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return [item["text"] for item in response.json()["items"]]


def page_texts(client: TestClient, **query: str) -> list[str]:
    """The post texts the queue page lists, in its order."""
    html = client.get("/", params=query).text
    shown = [text for text in [*ITEMS, *PUBLISHED] if f">{text}</a>" in html]
    return sorted(shown, key=lambda text: html.index(f">{text}</a>"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Krise bei DHL", "Telekom hakt", "Bahn bald fällig", "Bahn überfällig"]),
        ({"brand": "Deutsche Bahn"}, ["Bahn bald fällig", "Bahn überfällig"]),
        ({"platform": "reddit"}, ["Bahn bald fällig"]),
        ({"status": "assigned"}, ["Krise bei DHL", "Telekom hakt"]),
        ({"category": "troll"}, ["Bahn überfällig"]),
        ({"action": "escalate"}, ["Krise bei DHL"]),
        ({"band": "high"}, ["Telekom hakt"]),
        ({"band": "low"}, ["Bahn überfällig"]),
        ({"sla": "near"}, ["Bahn bald fällig"]),
        ({"sla": "overdue"}, ["Bahn überfällig"]),
        ({"sla": "ok"}, ["Krise bei DHL", "Telekom hakt"]),
        ({"recheck": "unflagged"}, ["Bahn bald fällig"]),
        ({"assignee": "me"}, ["Krise bei DHL"]),
        ({"assignee": "tom"}, ["Telekom hakt"]),
        ({"assignee": "none"}, ["Bahn bald fällig", "Bahn überfällig"]),
        ({"assignee": "none", "sla": "overdue"}, ["Bahn überfällig"]),
        (
            {"sort": "waiting"},
            ["Bahn überfällig", "Bahn bald fällig", "Telekom hakt", "Krise bei DHL"],
        ),
    ],
)
def test_each_filter_narrows_the_list_in_ui_and_api(
    web_client: TestClient, db: Database, query: dict[str, str], expected: list[str]
) -> None:
    build(db)
    log_in(web_client, "jana")
    headers = api_token(db, "jana")
    assert api_texts(web_client, headers, **query) == expected
    assert page_texts(web_client, **query) == expected


def test_the_brand_scope_applies_to_every_filter(web_client: TestClient, db: Database) -> None:
    build(db)
    dhl = api_token(db, "dora", brands=["DHL"])
    assert api_texts(web_client, dhl) == ["Krise bei DHL"]
    assert api_texts(web_client, dhl, brand="Deutsche Bahn") == []
    assert api_texts(web_client, dhl, sla="overdue") == []
    assert api_texts(web_client, dhl, assignee="none") == []
    total = web_client.get("/api/v1/items", params={"sort": "waiting"}, headers=dhl).json()
    assert total["total"] == 1


def test_near_and_overdue_rows_are_marked(web_client: TestClient, db: Database) -> None:
    build(db)
    log_in(web_client, "jana")
    html = web_client.get("/").text
    rows = re.findall(r'<tr class="sla-(\w+)".*?<a href="/items/\d+">([^<]+)</a>', html, re.S)
    assert {text: state for state, text in rows} == {
        "Krise bei DHL": "ok",
        "Telekom hakt": "ok",
        "Bahn bald fällig": "near",
        "Bahn überfällig": "overdue",
    }
    assert "bald fällig: in" in html
    assert "überfällig seit" in html


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"sla": "spät"}, "sla"),
        ({"band": "urgent"}, "band"),
        ({"action": "anrufen"}, "action"),
        ({"assignee": "niemand-hier"}, "niemand-hier"),
        ({"sort": "random"}, "sort"),
        ({"stauts": "new"}, "stauts"),
        ({"von": "2026-02-30"}, "von"),
        ({"von": "0001-01-01"}, "von"),
        ({"von": "2026-12-02", "bis": "2026-12-01"}, "liegt vor"),
    ],
)
def test_invalid_filters_are_refused_and_named(
    web_client: TestClient, db: Database, query: dict[str, str], named: str
) -> None:
    build(db)
    response = web_client.get("/api/v1/items", params=query, headers=api_token(db, "jana"))
    assert response.status_code == 422
    assert named in response.json()["detail"]


def test_an_invalid_filter_on_the_page_is_a_german_message(
    web_client: TestClient, db: Database
) -> None:
    build(db)
    log_in(web_client, "jana")
    response = web_client.get("/", params={"sla": "spät"})
    assert response.status_code == 400
    assert "Unbekannter Wert „spät“ für SLA" in response.text
    assert "Keine Einträge" in response.text


BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY = datetime(2026, 12, 1, tzinfo=BERLIN)
PUBLISHED = {
    "Bahn Montag spät": ("Deutsche Bahn", TUESDAY - timedelta(minutes=1)),
    "Bahn Dienstag Mitternacht": ("Deutsche Bahn", TUESDAY),
    "DHL Dienstag abends": ("DHL", TUESDAY + timedelta(hours=23, minutes=59)),
    "Bahn Mittwoch": ("Deutsche Bahn", TUESDAY + timedelta(days=1)),
}
"""Post text → brand and publication, around midnight in Berlin (the digest's time zone)."""


def build_days(db: Database) -> None:
    with db.transaction() as session:
        add_user(session, "jana", Role.LEAD, WEB_PASSWORD)
        for text, (brand, at) in PUBLISHED.items():
            post = factories.stored_post(text, created_at=at, matched_brands=[brand])
            session.add(factories.queue_item(post))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            {"von": "2026-12-01", "bis": "2026-12-01"},
            ["Bahn Dienstag Mitternacht", "DHL Dienstag abends"],
        ),
        (
            {"von": "2026-12-01"},
            ["Bahn Dienstag Mitternacht", "DHL Dienstag abends", "Bahn Mittwoch"],
        ),
        ({"bis": "2026-11-30"}, ["Bahn Montag spät"]),
        (
            {"von": "2026-12-01", "bis": "2026-12-01", "brand": "Deutsche Bahn"},
            ["Bahn Dienstag Mitternacht"],
        ),
    ],
)
def test_the_days_a_post_was_published_narrow_the_list_in_ui_and_api(
    web_client: TestClient, db: Database, query: dict[str, str], expected: list[str]
) -> None:
    build_days(db)
    log_in(web_client, "jana")
    ordered = {**query, "sort": "waiting"}
    assert api_texts(web_client, api_token(db, "jana"), **ordered) == expected
    assert page_texts(web_client, **ordered) == expected
    dhl = api_token(db, "dora", brands=["DHL"])
    assert api_texts(web_client, dhl, **ordered) == [t for t in expected if t.startswith("DHL")]


def test_the_day_filter_shows_in_the_form_and_can_be_removed(
    web_client: TestClient, db: Database
) -> None:
    build_days(db)
    log_in(web_client, "jana")
    html = web_client.get("/", params={"brand": "DHL", "von": "2026-12-01"}).text
    assert '<input type="date" name="von" value="2026-12-01"' in html
    assert '<input type="date" name="bis" value=""' in html
    assert "Veröffentlicht ab" in html and "Veröffentlicht bis" in html
    [removed] = re.findall(
        r'<a class="reset" href="([^"]*)" id="clear-days">Zeitraum entfernen', html
    )
    assert removed == "/?brand=DHL"
    assert "Zeitraum entfernen" not in web_client.get("/", params={"brand": "DHL"}).text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"von": "gestern"},
            "Ungültiges Datum „gestern“ für Veröffentlicht ab (von): bitte JJJJ-MM-TT.",
        ),
        ({"bis": "2026-12-32"}, "Ungültiges Datum „2026-12-32“ für Veröffentlicht bis (bis)"),
        (
            {"von": "2026-12-02", "bis": "2026-12-01"},
            "„bis“ (2026-12-01) liegt vor „von“ (2026-12-02).",
        ),
    ],
)
def test_an_invalid_day_on_the_page_is_a_german_message(
    web_client: TestClient, db: Database, query: dict[str, str], message: str
) -> None:
    build_days(db)
    log_in(web_client, "jana")
    response = web_client.get("/", params=query)
    assert response.status_code == 400
    assert message in response.text
    assert "Keine Einträge" in response.text


def test_paging_keeps_the_filters(web_client: TestClient, db: Database) -> None:
    build(db)
    with db.transaction() as session:
        for n in range(PAGE_SIZE):
            post = factories.stored_post(f"Troll {n}", platform_id=f"troll{n}")
            session.add(factories.queue_item(post, category="troll", priority=5))
    log_in(web_client, "jana")
    first = web_client.get("/", params={"category": "troll", "sort": "waiting"}).text
    assert f"{PAGE_SIZE + 1} Einträge" in first
    [link] = re.findall(r'href="([^"]+)" rel="next"', first)
    assert "category=troll" in link and "sort=waiting" in link
    second = web_client.get(link.replace("&amp;", "&")).text
    assert second.count('data-href="/items/') == 1
    assert 'rel="prev"' in second and "category=troll" in second


def bulk_form(client: TestClient, query: str, **fields: str) -> Any:
    token = csrf_token(client.get(f"/?{query}").text)
    return client.post(f"/bulk?{query}", data={"csrf_token": token, "scope": "filter", **fields})


def statuses(db: Database) -> dict[str, QueueStatus]:
    with db.transaction() as session:
        return {item.post.text: item.status for item in session.scalars(select(QueueItem))}


def test_a_bulk_action_on_all_matches_asks_for_the_count_first(
    web_client: TestClient, db: Database
) -> None:
    build(db)
    log_in(web_client, "jana")
    query = "brand=Deutsche+Bahn&assignee=none"
    assert "Auf alle 2 Treffer anwenden" in web_client.get(f"/?{query}").text
    asked = bulk_form(web_client, query, action="resolve")
    assert asked.status_code == 200
    assert "Auf alle <strong>2</strong> Einträge anwenden" in asked.text
    assert statuses(db)["Bahn überfällig"] == QueueStatus.NEW
    done = bulk_form(web_client, query, action="resolve", confirmed="2")
    assert "2 von 2 erledigt" in done.text
    after = statuses(db)
    assert after["Bahn überfällig"] == after["Bahn bald fällig"] == QueueStatus.RESOLVED
    assert after["Telekom hakt"] == QueueStatus.ASSIGNED


def test_a_confirmed_count_that_changed_meanwhile_is_asked_again(
    web_client: TestClient, db: Database
) -> None:
    build(db)
    log_in(web_client, "jana")
    again = bulk_form(web_client, "assignee=none", action="resolve", confirmed="5")
    assert "Auf alle <strong>2</strong> Einträge anwenden" in again.text
    assert statuses(db)["Bahn überfällig"] == QueueStatus.NEW


def test_bulk_by_filter_in_the_api_never_touches_other_brands(
    web_client: TestClient, db: Database
) -> None:
    build(db)
    dhl = api_token(db, "dora", brands=["DHL"])
    body = {"action": "resolve", "comment": "erledigt", "filter": {"sla": "ok"}}
    response = web_client.post("/api/v1/items/bulk", json=body, headers=dhl)
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["ok"] is True
    after = statuses(db)
    assert after["Krise bei DHL"] == QueueStatus.RESOLVED
    assert after["Telekom hakt"] == QueueStatus.ASSIGNED


def test_bulk_by_filter_in_the_api_takes_the_days(web_client: TestClient, db: Database) -> None:
    build_days(db)
    filter_ = {"von": "2026-12-01", "bis": "2026-12-01"}
    body = {"action": "resolve", "comment": "erledigt", "filter": filter_}
    response = web_client.post("/api/v1/items/bulk", json=body, headers=api_token(db, "jana"))
    assert response.status_code == 200, response.text
    resolved = {text for text, status in statuses(db).items() if status == QueueStatus.RESOLVED}
    assert resolved == {"Bahn Dienstag Mitternacht", "DHL Dienstag abends"}


def test_bulk_in_the_api_takes_either_ids_or_a_filter(web_client: TestClient, db: Database) -> None:
    build(db)
    headers = api_token(db, "jana")
    both = {"action": "resolve", "ids": [1], "filter": {"sla": "ok"}}
    for body in (both, {"action": "resolve"}):
        response = web_client.post("/api/v1/items/bulk", json=body, headers=headers)
        assert response.status_code == 422
        assert "ids" in response.json()["detail"]


def shift_entries(db: Database) -> list[tuple[str, str]]:
    with db.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.item_id.is_(None)))
        return [(entry.actor_name, entry.action) for entry in entries]


def on_shift(db: Database, name: str) -> bool:
    with db.transaction() as session:
        return bool(session.scalar(select(UserRecord.on_shift).where(UserRecord.name == name)))


def test_members_start_and_end_their_shift_in_ui_and_api(
    web_client: TestClient, db: Database
) -> None:
    build(db)
    log_in(web_client, "jana")
    page = web_client.get("/?sla=near").text
    assert "Schicht beginnen" in page
    started = web_client.post(
        "/shift", data={"csrf_token": csrf_token(page), "action": "start", "next": "/?sla=near"}
    )
    assert started.url.path == "/" and started.url.query == b"sla=near"
    assert "Schicht beenden" in started.text and on_shift(db, "jana")
    response = web_client.post(
        "/api/v1/me/shift", json={"on_shift": False}, headers=api_token(db, "jana")
    )
    assert response.status_code == 200 and response.json()["on_shift"] is False
    assert not on_shift(db, "jana")
    assert shift_entries(db) == [("jana", "shift_start"), ("jana", "shift_end")]


def test_an_item_a_rescore_marked_says_so_in_the_queue(
    web_client: TestClient, db: Database
) -> None:
    build(db)
    log_in(web_client, "jana")
    html = web_client.get("/").text
    assert html.count('class="recheck"') == 1
    assert 'title="Modell würde nicht mehr melden">neu prüfen</span>' in html
