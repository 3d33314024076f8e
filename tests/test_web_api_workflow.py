"""The write side of the REST API: the whole reply flow under four-eyes, stale versions,
the audit trail, users and saved replies, and hostile text returned as plain JSON strings."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from monitor.queue import item_summary
from monitor.storage.database import Database
from monitor.storage.models import QueueItem
from tests import factories
from tests.web_team import Member, member, new_item

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SHORT_REPLY = "Wir prüfen das."
"""Draws the checker's warning that the reply neither thanks nor takes the author seriously."""
GOOD_REPLY = (
    "Hallo, danke für Ihre Nachricht, und es tut uns leid, dass der Zug ausgefallen ist. "
    "Schicken Sie uns bitte per Direktnachricht Ihre Verbindung, dann prüfen wir das."
)


@pytest.fixture
def team(db: Database) -> dict[str, Member]:
    with db.transaction() as session:
        return {
            "anna": member(session, "anna", "approver"),
            "tim": member(session, "tim", "agent"),
            "ben": member(session, "ben", "approver"),
            "lea": member(session, "lea", "lead"),
        }


@pytest.fixture
def item_id(db: Database) -> int:
    with db.transaction() as session:
        return new_item(session).id


class Api:
    """Calls as one team member; `post` returns the JSON after checking the status."""

    def __init__(self, client: TestClient, who: Member) -> None:
        self.client, self.who = client, who

    def get(self, path: str, status: int = 200) -> Any:
        response = self.client.get(f"/api/v1{path}", headers=self.who.headers)
        assert response.status_code == status, response.text
        return response.json()

    def post(self, path: str, body: dict[str, Any], status: int = 200, method: str = "POST") -> Any:
        response = self.client.request(
            method, f"/api/v1{path}", json=body, headers=self.who.headers
        )
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        return response.json()

    def version(self, item_id: int) -> int:
        return int(self.get(f"/items/{item_id}")["version"])


def as_(client: TestClient, team: dict[str, Member], name: str) -> Api:
    return Api(client, team[name])


def test_assign_draft_reject_redraft_approve_and_send(
    web_client: TestClient, team: dict[str, Member], item_id: int
) -> None:
    anna, ben = as_(web_client, team, "anna"), as_(web_client, team, "ben")
    taken = anna.post(
        f"/items/{item_id}/assign", {"user": "anna", "version": anna.version(item_id)}
    )
    assert (taken["status"], taken["assignee"]) == ("assigned", "anna")

    first = anna.post(f"/items/{item_id}/draft", {"text": SHORT_REPLY, "version": taken["version"]})
    assert first["item"]["status"] == "awaiting_approval"
    warning = first["draft"]["findings"][0]
    assert (warning["severity"], warning["rule"]) == ("warn", "thank_and_take_seriously")
    assert set(warning) == {"severity", "rule", "message", "start", "end"}

    refused = anna.post(f"/items/{item_id}/approve", {"version": anna.version(item_id)}, 403)
    assert "Vier-Augen-Prinzip" in refused["detail"]

    note = "Bitte erst bedanken."
    rejected = ben.post(f"/items/{item_id}/reject", {"note": note, "version": ben.version(item_id)})
    assert (rejected["draft"]["status"], rejected["draft"]["note"]) == ("rejected", note)
    assert rejected["item"]["status"] == "draft"

    second = anna.post(
        f"/items/{item_id}/draft", {"text": GOOD_REPLY, "version": rejected["item"]["version"]}
    )
    assert second["draft"]["findings"] == []
    assert second["draft"]["id"] != first["draft"]["id"]

    approved = ben.post(f"/items/{item_id}/approve", {"version": second["item"]["version"]})
    assert (approved["draft"]["status"], approved["draft"]["approver"]) == ("approved", "ben")

    sent = anna.post(f"/items/{item_id}/send", {"version": approved["item"]["version"]})
    assert (sent["item"]["status"], sent["draft"]["sent_via"]) == ("replied", "dry_run")

    history = anna.get(f"/items/{item_id}/drafts")
    assert [(d["status"], d["author"]) for d in history] == [
        ("rejected", "anna"),
        ("sent", "anna"),
    ]


def test_the_audit_trail_names_each_actor_by_id_and_name(
    web_client: TestClient, team: dict[str, Member], item_id: int
) -> None:
    anna, ben = as_(web_client, team, "anna"), as_(web_client, team, "ben")
    drafted = anna.post(f"/items/{item_id}/draft", {"text": GOOD_REPLY, "version": 1})
    ben.post(f"/items/{item_id}/approve", {"version": drafted["item"]["version"]})
    trail = ben.get(f"/items/{item_id}/audit")
    assert [(e["action"], e["actor_id"], e["actor_name"]) for e in trail] == [
        ("take", team["anna"].id, "anna"),
        ("draft", team["anna"].id, "anna"),
        ("submit", team["anna"].id, "anna"),
        ("approve", team["ben"].id, "ben"),
    ]
    assert (trail[0]["from_status"], trail[-2]["to_status"]) == ("new", "awaiting_approval")


def test_a_stale_version_gets_409_with_a_german_message_and_the_fresh_item(
    web_client: TestClient, team: dict[str, Member], item_id: int
) -> None:
    anna, ben = as_(web_client, team, "anna"), as_(web_client, team, "ben")
    seen = ben.version(item_id)
    anna.post(f"/items/{item_id}/assign", {"user": "anna", "version": seen})
    late = ben.post(
        f"/items/{item_id}/transition", {"to": "resolved", "comment": "", "version": seen}, 409
    )
    assert late["detail"].startswith("Jemand anderes hat diesen Eintrag gerade geändert.")
    assert (late["item"]["status"], late["item"]["assignee"]) == ("assigned", "anna")
    assert late["item"]["version"] == anna.version(item_id) != seen


def test_a_change_without_the_version_is_refused_in_the_error_shape(
    web_client: TestClient, team: dict[str, Member], item_id: int
) -> None:
    anna = as_(web_client, team, "anna")
    refused = anna.post(f"/items/{item_id}/assign", {"user": "anna"}, 422)
    assert refused == {"detail": "Ungültige Anfrage: body.version: Field required"}
    assert anna.get(f"/items/{item_id}")["status"] == "new"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"to": "dismissed", "comment": " "}, "Bitte einen Grund für das Verwerfen angeben."),
        ({"to": "escalated", "comment": "Drohung", "team": None}, "Unbekanntes Team"),
        ({"to": "replied"}, "Den Status „beantwortet“ erreicht ein Eintrag nur über Entwurf"),
    ],
)
def test_a_transition_the_workflow_refuses_is_a_400_saying_why(
    web_client: TestClient,
    team: dict[str, Member],
    item_id: int,
    body: dict[str, Any],
    message: str,
) -> None:
    anna = as_(web_client, team, "anna")
    refused = anna.post(f"/items/{item_id}/transition", {**body, "version": 1}, 400)
    assert refused["detail"].startswith(message)


def test_escalating_names_the_team(
    web_client: TestClient, team: dict[str, Member], item_id: int
) -> None:
    anna = as_(web_client, team, "anna")
    body = {"to": "escalated", "comment": "Drohung gegen Personal", "team": "security"}
    assert (
        anna.post(f"/items/{item_id}/transition", {**body, "version": 1})["status"] == "escalated"
    )
    assert anna.get(f"/items/{item_id}/audit")[-1]["details"] == {"team": "security"}


def test_sent_by_hand_needs_the_link(
    web_client: TestClient, team: dict[str, Member], item_id: int
) -> None:
    anna, ben = as_(web_client, team, "anna"), as_(web_client, team, "ben")
    drafted = anna.post(f"/items/{item_id}/draft", {"text": GOOD_REPLY, "version": 1})
    version = ben.post(f"/items/{item_id}/approve", {"version": drafted["item"]["version"]})[
        "item"
    ]["version"]
    by_hand = {"mode": "by_hand", "version": version}
    assert "Link" in anna.post(f"/items/{item_id}/send", by_hand, 400)["detail"]
    link = "https://x.com/DB_Bahn/status/1"
    sent = anna.post(f"/items/{item_id}/send", {**by_hand, "link": link})
    assert (sent["draft"]["sent_via"], sent["draft"]["sent_link"]) == ("by_hand", link)


def test_labels_keep_the_reviewer_and_the_model_they_correct(
    web_client: TestClient, team: dict[str, Member], item_id: int
) -> None:
    anna = as_(web_client, team, "anna")
    entry = anna.post(f"/items/{item_id}/labels", {"task": "sentiment", "label": "neutral"}, 201)
    assert (entry["model_label"], entry["model_version"]) == ("negative", "test-sentiment")
    assert (entry["label"], entry["reviewer"]) == ("neutral", "anna")
    unknown = anna.post(f"/items/{item_id}/labels", {"task": "troll", "label": "vielleicht"}, 400)
    assert "vielleicht" in unknown["detail"]


def test_bulk_reports_each_item_and_hides_other_brands(
    web_client: TestClient, db: Database, team: dict[str, Member], item_id: int
) -> None:
    with db.transaction() as session:
        dhl = new_item(session, matched_brands=["DHL"]).id
        scoped = member(session, "dora", "approver", brands=["Deutsche Bahn"])
    body = {"action": "resolve", "ids": [item_id, dhl, 999], "comment": "erledigt"}
    results = Api(web_client, scoped).post("/items/bulk", body)["results"]
    assert [(r["item_id"], r["ok"]) for r in results] == [
        (item_id, True),
        (dhl, False),
        (999, False),
    ]
    assert results[1]["message"] == f"Eintrag {dhl} nicht gefunden."
    agent = as_(web_client, team, "tim").post("/items/bulk", body, 403)
    assert "Sammelaktionen" in agent["detail"]


def test_only_admins_add_users_and_everyone_reads_the_team(
    web_client: TestClient, db: Database, team: dict[str, Member]
) -> None:
    with db.transaction() as session:
        admin = Api(web_client, member(session, "root", "admin"))
    body = {"name": "carla", "role": "approver", "password": "lang-genug-1234", "brands": ["DHL"]}
    assert "Admin" in as_(web_client, team, "lea").post("/users", body, 403)["detail"]
    created = admin.post("/users", body, 201)
    assert (created["name"], created["role"], created["brands"]) == ("carla", "approver", ["DHL"])
    assert "password" not in created and "password_hash" not in created
    assert "gibt es schon" in admin.post("/users", body, 409)["detail"]
    names = [u["name"] for u in as_(web_client, team, "anna").get("/users")]
    assert names == ["anna", "ben", "carla", "lea", "root", "tim"]
    assert as_(web_client, team, "ben").get("/me")["role"] == "approver"


def test_leads_edit_saved_replies_with_placeholders_checked(
    web_client: TestClient, team: dict[str, Member]
) -> None:
    lea = as_(web_client, team, "lea")
    body = {
        "brand": "Deutsche Bahn",
        "category": "complaint",
        "tone": "sie",
        "title": "Verspätung",
        "body": "Hallo {name}, danke für Ihre Geduld.",
    }
    created = lea.post("/replies", body, 201)
    bad = {**body, "body": "Hallo {name.__class__}"}
    refused = lea.post(f"/replies/{created['id']}", bad, 400, method="PUT")
    assert refused["detail"].startswith("Der Text enthält einen unzulässigen Platzhalter")
    changed = lea.post(f"/replies/{created['id']}", {**body, "title": "Geduld"}, method="PUT")
    assert changed["title"] == "Geduld"
    agent = as_(web_client, team, "tim")
    assert "Lead" in agent.post("/replies", body, 403)["detail"]
    listed = agent.get("/replies?brand=Deutsche%20Bahn&category=complaint")
    assert created["id"] in [r["id"] for r in listed]


def test_a_scoped_lead_edits_only_replies_of_their_brand(
    web_client: TestClient, db: Database, team: dict[str, Member]
) -> None:
    with db.transaction() as session:
        dhl_lead = Api(web_client, member(session, "dirk", "lead", brands=["DHL"]))
    body = {
        "brand": "Deutsche Bahn",
        "category": "complaint",
        "tone": "sie",
        "title": "T",
        "body": "B",
    }
    db_reply = as_(web_client, team, "lea").post("/replies", body, 201)
    assert dhl_lead.post("/replies", body, 403)["detail"].startswith("Textbausteine dieser Marke")
    dhl_lead.post(f"/replies/{db_reply['id']}", {**body, "brand": "DHL"}, 404, method="PUT")
    assert db_reply["id"] not in [r["id"] for r in dhl_lead.get("/replies")]
    assert dhl_lead.post("/replies", {**body, "brand": "DHL"}, 201)["brand"] == "DHL"


@pytest.mark.parametrize("hostile", [SCRIPT, IMG])
def test_hostile_text_comes_back_as_plain_json_strings(
    web_client: TestClient, db: Database, team: dict[str, Member], hostile: str
) -> None:
    with db.transaction() as session:
        author = factories.author_record(display_name=hostile)
        item = new_item(session, hostile, author=author).id
    lea = as_(web_client, team, "lea")
    body = {"category": "complaint", "tone": "sie", "title": hostile, "body": hostile}
    reply = lea.post("/replies", body, 201)
    assert (reply["title"], reply["body"]) == (hostile, hostile)
    assert hostile in [r["body"] for r in lea.get("/replies")]
    shown = lea.get(f"/items/{item}")
    assert (shown["text"], shown["author"]["display_name"]) == (hostile, hostile)
    drafted = lea.post(f"/items/{item}/draft", {"text": hostile, "submit": False, "version": 1})
    assert drafted["draft"]["text"] == hostile
    raw = web_client.get(f"/api/v1/items/{item}/drafts", headers=team["lea"].headers)
    assert raw.headers["content-type"] == "application/json"
    assert hostile.replace('"', '\\"') in raw.text


def test_every_documented_error_has_the_error_shape(web_client: TestClient) -> None:
    spec = web_client.get("/api/v1/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            errors = {s: r for s, r in operation["responses"].items() if s.startswith("4")}
            assert {"401", "422"} <= errors.keys(), (method, path)
            for response in errors.values():
                schema = response["content"]["application/json"]["schema"]["$ref"]
                assert schema.rsplit("/", 1)[1] in ("ErrorOut", "StaleOut"), (method, path)


def test_a_misspelt_query_parameter_is_refused_not_ignored(
    web_client: TestClient, team: dict[str, Member]
) -> None:
    refused = as_(web_client, team, "anna").get("/items?stauts=new", 422)
    assert refused == {"detail": "Ungültige Anfrage: query.stauts: unbekannter Parameter"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/items/bulk", "POST"),
        ("DELETE", "/users", "GET, POST"),
        ("PATCH", "/items/1", "GET"),
    ],
)
def test_a_wrong_method_gets_405_naming_the_allowed_ones(
    web_client: TestClient, team: dict[str, Member], method: str, path: str, allow: str
) -> None:
    response = web_client.request(method, f"/api/v1{path}", headers=team["anna"].headers)
    assert (response.status_code, response.headers["allow"]) == (405, allow)
    assert response.json()["detail"].startswith("Diese Methode ist hier nicht erlaubt")


def test_no_route_can_delete_or_edit_the_audit_trail(
    web_client: TestClient, team: dict[str, Member], item_id: int
) -> None:
    for method in ("PUT", "PATCH", "DELETE"):
        response = web_client.request(
            method, f"/api/v1/items/{item_id}/audit", headers=team["lea"].headers
        )
        assert response.status_code == 405


def test_a_draft_starts_only_from_a_saved_reply_of_the_items_brand(
    web_client: TestClient, team: dict[str, Member], item_id: int
) -> None:
    lea = as_(web_client, team, "lea")
    fields = {"category": "complaint", "tone": "sie", "title": "Paket", "body": "Hallo {name}."}
    dhl = lea.post("/replies", {**fields, "brand": "DHL"}, 201)["id"]
    everyone = lea.post("/replies", fields, 201)["id"]
    body = {"text": GOOD_REPLY, "submit": False, "version": 1}
    refused = lea.post(f"/items/{item_id}/draft", {**body, "saved_reply_id": dhl}, 400)
    assert refused["detail"] == "Der Textbaustein „Paket“ ist für eine andere Marke."
    drafted = lea.post(f"/items/{item_id}/draft", {**body, "saved_reply_id": everyone})
    assert (drafted["draft"]["saved_reply_id"], drafted["draft"]["status"]) == (everyone, "draft")


def test_items_carry_every_field_of_queue_list_json_plus_the_work_state(
    web_client: TestClient, db: Database, team: dict[str, Member], item_id: int
) -> None:
    with db.transaction() as session:
        cli_fields = set(item_summary(session.get(QueueItem, item_id)))
    anna = as_(web_client, team, "anna")
    for shown in (anna.get("/items")["items"][0], anna.get(f"/items/{item_id}")):
        assert cli_fields | {"version", "assignee"} <= set(shown)
    assert (shown["version"], shown["assignee"], shown["sla"]) == (1, None, "overdue")


@pytest.mark.parametrize(
    "path", ["/api/v1/nirgends", "/api/v1/items/abc", "/api/v1/items/1%0A/audit"]
)
def test_unknown_api_addresses_answer_404_in_json(
    web_client: TestClient, team: dict[str, Member], path: str
) -> None:
    response = web_client.get(path, headers=team["anna"].headers)
    assert response.status_code == 404
    assert response.json()["detail"].startswith("Diese Adresse gibt es in der API nicht")


def test_a_blocking_finding_yields_only_to_a_leads_written_reason(
    web_client: TestClient, team: dict[str, Member], item_id: int
) -> None:
    anna, ben, lea = (as_(web_client, team, name) for name in ("anna", "ben", "lea"))
    insult = (
        "Danke für Ihre Nachricht. Aber ehrlich, Sie sind einfach zu dumm, den Fahrplan zu lesen."
    )
    drafted = anna.post(f"/items/{item_id}/draft", {"text": insult, "version": 1})
    assert "block" in {finding["severity"] for finding in drafted["draft"]["findings"]}
    version = drafted["item"]["version"]

    refused = ben.post(f"/items/{item_id}/approve", {"version": version}, 403)
    assert "Blockierende Hinweise übergehen dürfen nur" in refused["detail"]
    unexplained = lea.post(f"/items/{item_id}/approve", {"version": version}, 403)
    assert "Begründung" in unexplained["detail"]
    reason = "Zitat aus dem Kundenbeitrag, mit der Kundin abgesprochen"
    approved = lea.post(
        f"/items/{item_id}/approve", {"version": version, "override_reason": reason}
    )
    assert approved["draft"]["approver"] == "lea"
    last = lea.get(f"/items/{item_id}/audit")[-1]
    assert (last["action"], last["actor_name"], last["comment"]) == ("approve", "lea", reason)
