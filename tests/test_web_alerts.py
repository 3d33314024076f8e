"""Alerts in the web UI and the API: the banner on every page while one is open, the list,
brand scope (a user limited to DHL sees nothing of Deutsche Bahn's alerts), hostile text."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from monitor.alerts.intake import alert_on_item
from monitor.alerts.records import AlertKind, close, open_alert
from monitor.settings import AlertSettings
from monitor.storage.database import Database
from tests import factories
from tests.test_alerts import post_about
from tests.test_web_pages import IMG, SCRIPT, add_user_and_log_in
from tests.web_team import member

HOSTILE = f"{SCRIPT} {IMG}"


def crisis(session: Session, brand: str, text: str = factories.COMPLAINT) -> int:
    """A crisis alert of `brand` about one queued post with `text`; returns the item's id."""
    post = post_about(brand, factories.T0, text=text)
    session.add(post)
    session.flush()
    assert post.verdict is not None and post.queue_item is not None
    post.verdict.category = {"label": "crisis", "confidence": 0.9, "reasons": []}
    alert_on_item(session, post.queue_item, post.verdict, AlertSettings(), factories.T0)
    return post.queue_item.id


def test_an_open_alert_shows_as_a_banner_on_every_page_and_in_the_list(
    web_client: TestClient, db: Database
) -> None:
    with db.transaction() as session:
        item_id = crisis(session, "Deutsche Bahn", HOSTILE)
    add_user_and_log_in(web_client, db)
    for path in ("/", f"/items/{item_id}", "/alerts"):
        page = web_client.get(path).text
        assert 'id="alert-banner"' in page, path
        assert "Deutsche Bahn: Krise oder Drohung (1 Beitrag)" in page
    listing = web_client.get("/alerts").text
    assert f'href="/items/{item_id}"' in listing
    assert SCRIPT not in listing and "<img src=x" not in listing
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    assert "&lt;img src=x onerror=alert(1)&gt;" in listing


def test_a_closed_alert_leaves_the_banner_but_stays_in_the_list(
    web_client: TestClient, db: Database
) -> None:
    with db.transaction() as session:
        crisis(session, "Deutsche Bahn")
        alert = open_alert(session, "Deutsche Bahn", AlertKind.CRISIS)
        assert alert is not None
        close(alert, factories.T0)
    add_user_and_log_in(web_client, db)
    assert 'id="alert-banner"' not in web_client.get("/").text
    listing = web_client.get("/alerts").text
    assert "geschlossen" in listing
    assert "Keine Alarme offen." in web_client.get("/alerts?open=true").text


def test_a_user_limited_to_dhl_sees_nothing_of_the_bahns_alerts(
    web_client: TestClient, db: Database
) -> None:
    with db.transaction() as session:
        crisis(session, "Deutsche Bahn", "Bahn-Geheimnis im Alarm")
        crisis(session, "DHL", "@DHLPaket Paket-Chaos")
        scoped = member(session, "dhl.team", "lead", brands=["DHL"])
        everyone = member(session, "chefin", "lead")
    add_user_and_log_in(web_client, db, brands=["DHL"])
    for path in ("/", "/alerts"):
        page = web_client.get(path).text
        assert "DHL: Krise oder Drohung" in page
        assert "Deutsche Bahn" not in page.split("</header>", 1)[1].split("<main>")[0]
        assert "Bahn-Geheimnis" not in page
    assert "Deutsche Bahn: Krise" not in web_client.get("/alerts").text
    mine = web_client.get("/api/v1/alerts", headers=scoped.headers).json()
    assert [a["brand"] for a in mine["alerts"]] == ["DHL"]
    other = web_client.get("/api/v1/alerts?brand=Deutsche Bahn", headers=scoped.headers).json()
    assert other["alerts"] == []
    every = web_client.get("/api/v1/alerts", headers=everyone.headers).json()
    assert sorted(a["brand"] for a in every["alerts"]) == ["DHL", "Deutsche Bahn"]


def test_the_api_lists_alerts_with_their_top_posts_and_terms(
    web_client: TestClient, db: Database
) -> None:
    with db.transaction() as session:
        item_id = crisis(session, "Deutsche Bahn", HOSTILE)
        caller = member(session, "api.nutzer", "agent")
    body = web_client.get("/api/v1/alerts?open=true", headers=caller.headers).json()
    [alert] = body["alerts"]
    assert alert["kind"] == "crisis" and alert["closed_at"] is None and alert["count"] == 1
    assert alert["posts"][0]["item_id"] == item_id
    assert alert["posts"][0]["text"] == HOSTILE  # JSON carries the text as it is
    assert alert["terms"] == [{"term": "unzumutbar", "count": 1}]
    assert web_client.get("/api/v1/alerts").status_code == 401
