"""The German queue and item pages: filters, paging, brand scope, and hostile text as text."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from monitor.access.roles import Role
from monitor.access.users import add_user
from monitor.guidance.replies import seed_shipped_replies
from monitor.runtime import Runtime
from monitor.storage.database import Database
from monitor.storage.models import SavedReply, VerdictRecord
from monitor.web.app import create_app
from monitor.web.views import PAGE_SIZE
from tests import factories
from tests.conftest import WEB_PASSWORD, log_in

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def add_user_and_log_in(client: TestClient, db: Database, brands: list[str] | None = None) -> None:
    with db.transaction() as session:
        add_user(session, "jana", Role.AGENT, WEB_PASSWORD, brands)
    assert log_in(client, "jana").url.path == "/"


def hostile_item(db: Database) -> int:
    """A troll post whose text, author name and saved reply all carry markup."""
    with db.transaction() as session:
        post = factories.stored_post(SCRIPT, author=factories.author_record(display_name=IMG))
        post.verdict = VerdictRecord(
            flagged=True,
            priority=85,
            brand="Deutsche Bahn",
            category={"label": "troll", "confidence": 0.9, "reasons": [IMG]},
            action={"label": "ignore_troll", "escalate_to": None, "reasons": ["Nicht füttern"]},
            guideline="troll",
        )
        item = factories.queue_item(post, priority=85)
        session.add(item)
        seed_shipped_replies(session)
        session.add(SavedReply(brand=None, category="troll", tone="sie", title=IMG, body=SCRIPT))
        session.flush()
        return item.id


def test_hostile_text_shows_as_text_on_queue_and_item_page(
    web_client: TestClient, db: Database
) -> None:
    item_id = hostile_item(db)
    add_user_and_log_in(web_client, db)
    queue = web_client.get("/").text
    item = web_client.get(f"/items/{item_id}").text
    for page in (queue, item):
        assert SCRIPT not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in item
    assert "&lt;img src=x onerror=alert(1)&gt;" in item
    policy = web_client.get(f"/items/{item_id}").headers["content-security-policy"]
    assert "default-src 'self'" in policy


def test_the_item_page_shows_triage_playbook_and_saved_replies(
    web_client: TestClient, db: Database
) -> None:
    item_id = hostile_item(db)
    add_user_and_log_in(web_client, db)
    page = web_client.get(f"/items/{item_id}").text
    assert "Kategorie: Troll" in page
    assert "Aktion: Nicht antworten (Troll)" in page
    assert "Playbook: Troll" in page
    assert "Textbausteine" in page
    assert "Nicht füttern" in page


def test_the_queue_filters_by_brand_and_pages(web_client: TestClient, db: Database) -> None:
    with db.transaction() as session:
        for n in range(PAGE_SIZE + 1):
            session.add(factories.queue_item(factories.stored_post(f"Bahn {n}")))
        session.add(
            factories.queue_item(
                factories.stored_post("Telekom kaputt", matched_brands=["Telekom"])
            )
        )
    add_user_and_log_in(web_client, db)
    telekom = web_client.get("/?brand=Telekom").text
    assert "Telekom kaputt" in telekom
    assert "Bahn 0" not in telekom
    first = web_client.get("/?brand=Deutsche+Bahn").text
    assert f"{PAGE_SIZE + 1} Einträge" in first
    assert "Seite 1 von 2" in first
    assert 'rel="next"' in first
    second = web_client.get("/?brand=Deutsche+Bahn&page=2").text
    assert second.count('data-href="/items/') == 1


def test_a_scoped_user_sees_only_their_brands_on_pages(
    web_client: TestClient, db: Database
) -> None:
    with db.transaction() as session:
        hidden = factories.queue_item(factories.stored_post("Bahn-Chaos"))
        session.add(hidden)
        session.add(factories.queue_item(factories.stored_post("DHL weg", matched_brands=["DHL"])))
        session.flush()
        hidden_id = hidden.id
    add_user_and_log_in(web_client, db, brands=["DHL"])
    queue = web_client.get("/").text
    assert "DHL weg" in queue
    assert "Bahn-Chaos" not in web_client.get("/?brand=Deutsche+Bahn").text
    assert "alle Marken" not in queue
    response = web_client.get(f"/items/{hidden_id}")
    assert response.status_code == 404
    assert "nicht gefunden" in response.text


def test_an_unknown_status_filter_is_named_in_german(web_client: TestClient, db: Database) -> None:
    add_user_and_log_in(web_client, db)
    response = web_client.get("/?status=erledigt")
    assert response.status_code == 400
    assert "Unbekannter Wert „erledigt“ für Status" in response.text


@pytest.mark.parametrize(
    ("zone", "shown"),
    [("Europe/Berlin", "23.11.2026 08:00"), ("Europe/London", "23.11.2026 07:00")],
)
def test_the_item_page_shows_times_in_the_configured_zone(
    web_runtime: Runtime, db: Database, zone: str, shown: str
) -> None:
    digest = web_runtime.settings.digest.model_copy(update={"timezone": zone})
    runtime = Runtime(web_runtime.settings.model_copy(update={"digest": digest}), db)
    with db.transaction() as session:
        item = factories.queue_item(factories.stored_post(created_at=factories.T0))
        session.add(item)
        session.flush()
        item_id = item.id
    with TestClient(create_app(runtime)) as client:
        add_user_and_log_in(client, db)
        assert f"X · {shown}" in client.get(f"/items/{item_id}").text
