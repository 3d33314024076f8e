"""The REST API: bearer tokens, brand scope, paging, JSON errors, hostile text as plain data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from monitor.access.roles import Role
from monitor.access.users import add_user, find_user, issue_token, revoke_tokens
from monitor.storage.database import Database
from tests import factories
from tests.conftest import WEB_PASSWORD

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(db: Database, name: str, brands: list[str] | None = None) -> str:
    with db.transaction() as session:
        return issue_token(session, add_user(session, name, Role.AGENT, WEB_PASSWORD, brands))


def add_items(db: Database, *brands: str) -> list[int]:
    """One item per brand, the first most urgent."""
    with db.transaction() as session:
        items = [
            factories.queue_item(
                factories.stored_post(f"Beschwerde {n}", matched_brands=[brand]),
                priority=90 - n,
            )
            for n, brand in enumerate(brands)
        ]
        session.add_all(items)
        session.flush()
        return [item.id for item in items]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer rw_erfunden"}, {"Authorization": "Basic amFuYTp4"}],
    ids=["none", "unknown", "basic"],
)
def test_without_a_valid_token_every_route_answers_401_in_json(
    web_client: TestClient, db: Database, headers: dict[str, str]
) -> None:
    add_items(db, "Telekom")
    for path in ("/api/v1/items", "/api/v1/items/1"):
        response = web_client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "API-Token" in response.json()["detail"]


def test_a_revoked_token_no_longer_works(web_client: TestClient, db: Database) -> None:
    token = token_for(db, "jana")
    assert web_client.get("/api/v1/items", headers=bearer(token)).status_code == 200
    with db.transaction() as session:
        revoke_tokens(session, find_user(session, "jana"))
    assert web_client.get("/api/v1/items", headers=bearer(token)).status_code == 401


def test_items_are_paged_most_urgent_first_with_the_total(
    web_client: TestClient, db: Database
) -> None:
    ids = add_items(db, *["Telekom"] * 5)
    token = token_for(db, "jana")
    response = web_client.get("/api/v1/items?limit=2&offset=2", headers=bearer(token))
    page = response.json()
    assert [item["id"] for item in page["items"]] == ids[2:4]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)
    last = web_client.get("/api/v1/items?limit=2&offset=4", headers=bearer(token)).json()
    assert [item["id"] for item in last["items"]] == ids[4:]


def test_items_carry_the_fields_of_queue_list_json(web_client: TestClient, db: Database) -> None:
    add_items(db, "Telekom")
    item = web_client.get("/api/v1/items", headers=bearer(token_for(db, "jana"))).json()["items"][0]
    for field in ("id", "status", "priority", "platform", "platform_id", "brand", "text"):
        assert field in item
    assert (item["status"], item["brand"], item["text"]) == ("new", "Telekom", "Beschwerde 0")
    assert item["category"] is None


def test_status_and_brand_filter_the_list(web_client: TestClient, db: Database) -> None:
    add_items(db, "Telekom", "DHL", "DHL")
    token = token_for(db, "jana")
    dhl = web_client.get("/api/v1/items?brand=DHL", headers=bearer(token)).json()
    assert {item["brand"] for item in dhl["items"]} == {"DHL"}
    assert dhl["total"] == 2
    deleted = web_client.get("/api/v1/items?status=deleted", headers=bearer(token)).json()
    assert deleted["total"] == 0


def test_a_scoped_user_sees_nothing_of_other_brands(web_client: TestClient, db: Database) -> None:
    telekom, dhl = add_items(db, "Telekom", "DHL")
    token = token_for(db, "tom", brands=["Telekom"])
    listed = web_client.get("/api/v1/items", headers=bearer(token)).json()
    assert [item["id"] for item in listed["items"]] == [telekom]
    assert listed["total"] == 1
    other = web_client.get("/api/v1/items?brand=DHL", headers=bearer(token)).json()
    assert (other["items"], other["total"]) == ([], 0)
    assert web_client.get(f"/api/v1/items/{telekom}", headers=bearer(token)).status_code == 200
    hidden = web_client.get(f"/api/v1/items/{dhl}", headers=bearer(token))
    missing = web_client.get("/api/v1/items/999", headers=bearer(token))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == {"detail": f"Eintrag {dhl} nicht gefunden."}


def test_hostile_text_comes_back_as_the_same_plain_json_string(
    web_client: TestClient, db: Database
) -> None:
    with db.transaction() as session:
        post = factories.stored_post(SCRIPT, author=factories.author_record(display_name=IMG))
        factories.score(post, "sentiment", reasons=[SCRIPT])
        item = factories.queue_item(post)
        session.add(item)
        session.flush()
        item_id = item.id
    response = web_client.get(f"/api/v1/items/{item_id}", headers=bearer(token_for(db, "jana")))
    assert response.headers["content-type"] == "application/json"
    detail = response.json()
    assert detail["text"] == SCRIPT
    assert detail["author"]["display_name"] == IMG
    assert detail["scores"][0]["reasons"] == [SCRIPT]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=201", "offset=-1", "status=erledigt", "limit=zehn"]
)
def test_invalid_parameters_get_one_json_message(
    web_client: TestClient, db: Database, query: str
) -> None:
    response = web_client.get(f"/api/v1/items?{query}", headers=bearer(token_for(db, "jana")))
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Ungültige Anfrage: query.")


def test_an_id_out_of_range_is_a_422_not_a_server_error(
    web_client: TestClient, db: Database
) -> None:
    response = web_client.get(f"/api/v1/items/{2**63}", headers=bearer(token_for(db, "jana")))
    assert response.status_code == 422


def test_the_openapi_spec_documents_the_routes_and_the_error_shape(web_client: TestClient) -> None:
    spec = web_client.get("/api/v1/openapi.json").json()
    assert {"/items", "/items/{item_id}"} <= set(spec["paths"])
    assert spec["servers"] == [{"url": "/api/v1"}]
    responses = spec["paths"]["/items/{item_id}"]["get"]["responses"]
    for status in ("401", "404", "422"):
        assert responses[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }


def test_due_dates_are_iso_timestamps(web_client: TestClient, db: Database) -> None:
    add_items(db, "Telekom")
    item = web_client.get("/api/v1/items", headers=bearer(token_for(db, "jana"))).json()["items"][0]
    created = factories.T0 + timedelta(minutes=1)
    assert item["due_at"].startswith((created + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M"))
