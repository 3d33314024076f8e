"""The item page's and queue's forms in the German UI: CSRF on every form, the roles the
policies ask for, four-eyes in the page, the stale-version message, and the leads' and admins'
pages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from monitor.access.roles import Role
from monitor.access.users import add_user, authenticate
from monitor.queue.drafts import DraftStatus
from monitor.queue.states import QueueStatus
from monitor.runtime import Runtime
from monitor.storage.database import Database
from monitor.storage.models import (
    AuditEntry,
    DraftRecord,
    PlaybookNote,
    QueueItem,
    SavedReply,
    UserRecord,
)
from monitor.web.app import create_app
from tests import factories
from tests.conftest import WEB_PASSWORD, csrf_token, log_in
from tests.web_team import routes_of

GOOD_REPLY = (
    "Hallo, danke für Ihre Nachricht, und es tut uns leid, dass der Zug ausgefallen ist. "
    "Schicken Sie uns bitte per Direktnachricht Ihre Verbindung, dann prüfen wir das."
)
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def client_for(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime), follow_redirects=True)


@pytest.fixture
def team(db: Database) -> dict[str, int]:
    """One account per role, all able to log in."""
    with db.transaction() as session:
        return {
            name: add_user(session, name, role, WEB_PASSWORD).id
            for name, role in (
                ("agent", Role.AGENT),
                ("kollege", Role.AGENT),
                ("approver", Role.APPROVER),
                ("lead", Role.LEAD),
                ("admin", Role.ADMIN),
            )
        }


class Browsers(dict[str, TestClient]):
    """A logged-in browser per account, opened when a test first uses it (argon2 is slow)."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime

    def __missing__(self, name: str) -> TestClient:
        client = client_for(self.runtime).__enter__()
        assert log_in(client, name).url.path == "/"
        self[name] = client
        return client


@pytest.fixture
def as_user(web_runtime: Runtime, team: dict[str, int]) -> Iterator[Browsers]:
    browsers = Browsers(web_runtime)
    yield browsers
    for client in browsers.values():
        client.__exit__(None, None, None)


def new_item(db: Database, text: str = factories.COMPLAINT, **fields: object) -> int:
    with db.transaction() as session:
        item = factories.queue_item(factories.stored_post(text), **fields)
        session.add(item)
        session.flush()
        return item.id


def item_state(db: Database, item_id: int) -> tuple[QueueStatus, int, str | None]:
    with db.transaction() as session:
        item = session.get(QueueItem, item_id)
        assert item is not None
        return item.status, item.version, item.assignee.name if item.assignee else None


def send(client: TestClient, item_id: int, action: str, **fields: object) -> object:
    """Post one of the item page's forms with the page's token and version, as a browser."""
    page = client.get(f"/items/{item_id}").text
    version = re.search(r'name="version" value="(\d+)"', page)
    data = {"csrf_token": csrf_token(page), **fields}
    if version and "version" not in fields:
        data["version"] = version.group(1)
    return client.post(f"/items/{item_id}/{action}", data=data)


REPLY_FORM = {"title": "T", "body": "Hallo {name}", "category": "complaint", "tone": "sie"}
FORMS = [
    ("/items/{item_id}/take", {"version": "1"}),
    ("/items/{item_id}/assign", {"version": "1", "assignee": "kollege"}),
    ("/items/{item_id}/draft", {"version": "1", "text": GOOD_REPLY}),
    ("/items/{item_id}/check", {"text": GOOD_REPLY}),
    ("/items/{item_id}/presence", {}),
    ("/items/{item_id}/approve", {"version": "1"}),
    ("/items/{item_id}/reject", {"version": "1", "note": "bitte kürzer"}),
    ("/items/{item_id}/send", {"version": "1"}),
    ("/items/{item_id}/transition", {"version": "1", "to": "resolved"}),
    ("/items/{item_id}/labels", {"task": "troll", "label": "troll"}),
    ("/bulk", {"action": "resolve", "selected": "{item_id}:1"}),
    ("/shift", {"action": "start"}),
    ("/replies/new", REPLY_FORM),
    ("/replies/{reply_id}", REPLY_FORM),
    ("/replies/{reply_id}/delete", {}),
    ("/playbooks/{category}", {"note": "Kurz halten"}),
    ("/users", {"name": "neu", "role": "agent", "password": WEB_PASSWORD}),
    ("/users/{user_id}/deactivate", {}),
    ("/users/{user_id}/password", {"password": WEB_PASSWORD + "x"}),
    ("/users/{user_id}/tokens/revoke", {}),
]
"""Every form of a logged-in user (login and logout: tests/test_web_auth.py)."""


def test_the_csrf_test_covers_every_form(web_runtime: Runtime) -> None:
    posts = {path for method, path in routes_of(create_app(web_runtime).routes) if method == "POST"}
    pages = {path for path in posts if not path.startswith("/api/")}
    assert pages - {"/login", "/logout", "/logout/all"} == {path for path, _ in FORMS}


@pytest.mark.parametrize(("path", "fields"), FORMS, ids=[path for path, _ in FORMS])
def test_every_form_is_refused_without_its_csrf_token(
    as_user: Browsers,
    db: Database,
    team: dict[str, int],
    path: str,
    fields: dict[str, str],
) -> None:
    item_id = new_item(db)
    with db.transaction() as session:
        reply = SavedReply(category="complaint", tone="sie", title="Alt", body="Hallo {name}")
        session.add(reply)
        session.flush()
        reply_id = reply.id
    ids = {"item_id": item_id, "reply_id": reply_id, "user_id": team["admin"]}
    url = path.format(category="complaint", **ids)
    data = {
        key: value.format(**ids) if key == "selected" else value for key, value in fields.items()
    }
    before = item_state(db, item_id)
    for token in (None, "falsch"):
        sent = data if token is None else {**data, "csrf_token": token}
        response = as_user["admin"].post(url, data=sent)
        assert response.status_code == 403
        assert "Sicherheits-Token" in response.text
    assert item_state(db, item_id) == before
    with db.transaction() as session:
        assert authenticate(session, "admin", WEB_PASSWORD) is not None
        assert session.query(PlaybookNote).count() == 0
        assert [reply.title for reply in session.query(SavedReply)] == ["Alt"]


def test_an_agent_takes_drafts_and_submits_and_the_approver_approves(
    as_user: Browsers, db: Database
) -> None:
    item_id = new_item(db)
    agent, approver = as_user["agent"], as_user["approver"]
    page = send(agent, item_id, "take")
    assert "Sie bearbeiten diesen Eintrag jetzt." in page.text
    assert item_state(db, item_id)[0] == QueueStatus.ASSIGNED

    findings = send(agent, item_id, "check", text="Du bist echt dumm.").json()["findings"]
    assert {"severity", "rule", "message", "start", "end"} <= set(findings[0])

    page = send(agent, item_id, "draft", text=GOOD_REPLY, for_approval="1")
    assert "Antwort zur Freigabe gegeben." in page.text
    assert "Antworten freigeben dürfen nur" in page.text  # the disabled button says why
    assert re.search(r'id="approve"\s+disabled', page.text)

    assert 'id="approve"' in approver.get(f"/items/{item_id}").text
    page = send(approver, item_id, "approve")
    assert "Antwort freigegeben." in page.text
    assert re.search(r'id="item-status">Freigegeben, noch nicht gesendet<', page.text)
    no_link = send(agent, item_id, "send", mode="by_hand", link="javascript:alert(1)")
    assert no_link.status_code == 400
    assert "Bitte den Link zur gesendeten Antwort angeben" in no_link.text
    page = send(agent, item_id, "send", mode="by_hand", link="https://x.com/db/status/1")
    assert "Antwort als gesendet vermerkt." in page.text
    assert item_state(db, item_id)[0] == QueueStatus.REPLIED
    trail = agent.get(f"/items/{item_id}").text
    for entry in ("übernommen", "zur Freigabe gegeben", "freigegeben", "Antwort gesendet"):
        assert entry in trail


def test_the_drafter_cannot_approve_even_by_sending_the_form(
    as_user: Browsers, db: Database
) -> None:
    item_id = new_item(db)
    approver = as_user["approver"]
    page = send(approver, item_id, "draft", text=GOOD_REPLY, for_approval="1")
    assert re.search(r'id="approve"\s+disabled', page.text)
    assert "Vier-Augen-Prinzip: Eigene Entwürfe kann nur eine andere Person freigeben." in page.text
    response = send(approver, item_id, "approve")
    assert response.status_code == 403
    assert "Vier-Augen-Prinzip" in response.text
    with db.transaction() as session:
        draft = session.query(DraftRecord).one()
        assert draft.status == DraftStatus.SUBMITTED


def test_a_blocking_finding_yields_in_the_page_only_to_a_leads_written_reason(
    as_user: Browsers, db: Database
) -> None:
    item_id = new_item(db)
    insult = "Danke für Ihre Nachricht. Aber ehrlich, Sie sind zu dumm, den Fahrplan zu lesen."
    send(as_user["agent"], item_id, "draft", text=insult, for_approval="1")

    approver = as_user["approver"]
    page = approver.get(f"/items/{item_id}").text
    assert re.search(r'id="approve"\s+disabled', page)
    assert "Blockierende Hinweise übergehen dürfen nur" in page
    assert send(approver, item_id, "approve").status_code == 403

    lead = as_user["lead"]
    assert 'name="override_reason"' in lead.get(f"/items/{item_id}").text
    unexplained = send(lead, item_id, "approve", override_reason="   ")
    assert unexplained.status_code == 403
    assert "Begründung" in unexplained.text
    assert item_state(db, item_id)[0] == QueueStatus.AWAITING_APPROVAL

    reason = "Zitat aus dem Kundenbeitrag, mit der Kundin abgesprochen"
    page = send(lead, item_id, "approve", override_reason=reason)
    assert "Antwort freigegeben." in page.text
    assert f"Übergangen mit Begründung:</strong> {reason}" in page.text
    with db.transaction() as session:
        entry = session.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
        assert entry is not None
        assert (entry.actor_name, entry.comment) == ("lead", reason)


def test_an_agent_may_not_approve_reject_or_assign_to_a_colleague(
    as_user: Browsers, db: Database
) -> None:
    item_id = new_item(db)
    send(as_user["kollege"], item_id, "draft", text=GOOD_REPLY, for_approval="1")
    agent = as_user["agent"]
    assert send(agent, item_id, "approve").status_code == 403
    assert send(agent, item_id, "reject", note="zu lang").status_code == 403
    other = new_item(db)
    response = send(agent, other, "assign", assignee="kollege")
    assert response.status_code == 403
    assert "Freigebende" in response.text
    assert item_state(db, other)[2] is None
    assert (
        "Eintrag zugewiesen." in send(as_user["approver"], other, "assign", assignee="kollege").text
    )
    assert item_state(db, other)[2] == "kollege"


def test_rejection_needs_a_note_and_sends_the_draft_back(as_user: Browsers, db: Database) -> None:
    item_id = new_item(db)
    send(as_user["agent"], item_id, "draft", text=GOOD_REPLY, for_approval="1")
    approver = as_user["approver"]
    missing = send(approver, item_id, "reject", note=" ")
    assert missing.status_code == 400
    assert "Bitte eine Notiz für die Überarbeitung angeben." in missing.text
    page = send(approver, item_id, "reject", note="Bitte die Verbindung erfragen")
    assert "Antwort mit Notiz zurückgegeben." in page.text
    assert item_state(db, item_id)[0] == QueueStatus.DRAFT
    assert (
        "Zurückgewiesen von approver: Bitte die Verbindung erfragen"
        in as_user["agent"].get(f"/items/{item_id}").text
    )


def test_a_stale_version_shows_the_fresh_state_in_german(as_user: Browsers, db: Database) -> None:
    item_id = new_item(db)
    approver = as_user["approver"]
    old_page = approver.get(f"/items/{item_id}").text
    send(as_user["kollege"], item_id, "take")
    response = approver.post(
        f"/items/{item_id}/transition",
        data={"csrf_token": csrf_token(old_page), "version": "1", "to": "resolved"},
    )
    assert response.status_code == 409
    assert "Jemand anderes hat diesen Eintrag gerade geändert" in response.text
    status, version, assignee = item_state(db, item_id)
    assert (status, assignee) == (QueueStatus.ASSIGNED, "kollege")
    assert f"Jetzt: zugewiesen, bearbeitet von kollege (Version {version})." in response.text
    assert f'name="version" value="{version}"' in response.text  # the forms carry the fresh one


def test_dismiss_and_escalate_need_reason_team_and_note(as_user: Browsers, db: Database) -> None:
    item_id = new_item(db)
    agent = as_user["agent"]
    missing = send(agent, item_id, "transition", to="dismissed", comment="")
    assert missing.status_code == 400
    assert "Grund für das Verwerfen" in missing.text
    bad_team = send(agent, item_id, "transition", to="escalated", team="nasa", comment="x")
    assert "Unbekanntes Team" in bad_team.text
    send(agent, item_id, "transition", to="escalated", team="legal", comment="Drohung prüfen")
    assert item_state(db, item_id)[0] == QueueStatus.ESCALATED
    page = agent.get(f"/items/{item_id}").text
    assert "Drohung prüfen" in page
    assert "Neu → Eskaliert" in page
    labelled = send(agent, item_id, "labels", task="troll", label="troll")
    assert "Bewertung gespeichert." in labelled.text
    assert "Troll = Troll" in labelled.text
    assert send(agent, item_id, "labels", task="troll", label="vielleicht").status_code == 400


def test_bulk_actions_are_for_approvers_and_report_each_item(
    as_user: Browsers, db: Database
) -> None:
    first, second = new_item(db), new_item(db)
    send(as_user["kollege"], second, "take")
    agent_queue = as_user["agent"].get("/").text
    assert 'id="bulk"' not in agent_queue
    selection = [f"{first}:1", f"{second}:1"]  # the second moved on meanwhile
    refused = as_user["agent"].post(
        "/bulk",
        data={"csrf_token": csrf_token(agent_queue), "action": "resolve", "selected": selection},
    )
    assert refused.status_code == 403
    queue = as_user["approver"].get("/").text
    assert 'id="bulk"' in queue
    done = as_user["approver"].post(
        "/bulk",
        data={"csrf_token": csrf_token(queue), "action": "resolve", "selected": selection},
    )
    assert "1 von 2 erledigt" in done.text
    assert "Jemand anderes hat diesen Eintrag gerade geändert" in done.text
    assert item_state(db, first)[0] == QueueStatus.RESOLVED


def test_the_queue_shows_assignee_and_who_has_the_item_open(
    as_user: Browsers, db: Database
) -> None:
    item_id = new_item(db)
    send(as_user["kollege"], item_id, "take")
    as_user["approver"].get(f"/items/{item_id}")
    row = as_user["agent"].get("/").text.split(f'data-id="{item_id}"')[1].split("</tr>")[0]
    assert '<span class="assignee">kollege</span>' in row
    assert "approver</span>" in row and "kollege</span>" in row


def test_saved_replies_are_offered_filled_and_hostile_text_stays_text(
    as_user: Browsers, db: Database
) -> None:
    with db.transaction() as session:
        author = factories.author_record(display_name=IMG)
        item = factories.queue_item(factories.stored_post(SCRIPT, author=author))
        session.add(item)
        session.add(
            SavedReply(
                brand=None,
                category="complaint",
                tone="sie",
                title=IMG,
                body="Hallo {name}, Ihr Vorgang {ticket} bei {brand}. " + SCRIPT,
            )
        )
        session.flush()
        item_id = item.id
    page = as_user["agent"].get(f"/items/{item_id}").text
    assert SCRIPT not in page and "<img src=x" not in page
    assert f"Hallo &#34;&gt;&lt;img src=x onerror=alert(1)&gt;, Ihr Vorgang RW-{item_id}" in page
    assert "bei Deutsche Bahn. &lt;script&gt;" in page


def test_leads_edit_saved_replies_with_placeholder_errors_in_german(
    as_user: Browsers, db: Database
) -> None:
    assert as_user["agent"].get("/replies").status_code == 403
    lead = as_user["lead"]
    form = lead.get("/replies/new").text
    fields = {"csrf_token": csrf_token(form), "category": "complaint", "tone": "sie"}
    bad = lead.post("/replies/new", data={**fields, "title": SCRIPT, "body": "Hallo {kunde}"})
    assert bad.status_code == 400
    assert "unbekannter Platzhalter {kunde}" in bad.text
    assert "&lt;script&gt;" in bad.text and SCRIPT not in bad.text
    good = lead.post("/replies/new", data={**fields, "title": "Gruß", "body": "Hallo {name}!"})
    assert "Textbaustein gespeichert." in good.text
    with db.transaction() as session:
        reply = session.query(SavedReply).one()
        assert (reply.title, reply.body) == ("Gruß", "Hallo {name}!")


def test_leads_write_playbook_notes_that_every_item_page_shows(
    as_user: Browsers, db: Database
) -> None:
    assert as_user["approver"].get("/playbooks").status_code == 403
    lead = as_user["lead"]
    page = lead.get("/playbooks").text
    lead.post("/playbooks/complaint", data={"csrf_token": csrf_token(page), "note": IMG})
    item_page = as_user["agent"].get(f"/items/{new_item(db)}").text
    assert "Notiz des Teams:" in item_page
    assert "&#34;&gt;&lt;img src=x" in item_page


def test_admins_add_and_deactivate_users(
    as_user: Browsers, db: Database, team: dict[str, int]
) -> None:
    assert as_user["lead"].get("/users").status_code == 403
    agent, admin = as_user["agent"], as_user["admin"]
    token = csrf_token(admin.get("/users").text)
    short = admin.post(
        "/users", data={"csrf_token": token, "name": "neu", "role": "agent", "password": "kurz"}
    )
    assert short.status_code == 400
    assert "Passwort für „neu“: mindestens 10 Zeichen." in short.text
    added = admin.post(
        "/users",
        data={
            "csrf_token": token,
            "name": "neu",
            "role": "approver",
            "password": WEB_PASSWORD,
            "brands": "Deutsche Bahn",
        },
    )
    assert "Konto angelegt." in added.text
    admin.post(f"/users/{team['agent']}/deactivate", data={"csrf_token": token})
    assert agent.get("/").url.path == "/login"  # its session ended
    with db.transaction() as session:
        new = session.query(UserRecord).filter_by(name="neu").one()
        assert (new.role, new.brands) == (Role.APPROVER, ["Deutsche Bahn"])
        assert not session.get(UserRecord, team["agent"]).active
        assert session.query(AuditEntry).count() == 0


def test_a_lead_of_one_brand_sees_only_its_saved_replies_and_no_playbook_notes(
    web_runtime: Runtime, db: Database
) -> None:
    with db.transaction() as session:
        add_user(session, "dhl-lead", Role.LEAD, WEB_PASSWORD, ["DHL"])
        for brand, title in (("DHL", "Paket verspätet"), ("Deutsche Bahn", "Zug ausgefallen")):
            session.add(
                SavedReply(
                    brand=brand, category="complaint", tone="sie", title=title, body="Hallo {name}"
                )
            )
    with client_for(web_runtime) as lead:
        log_in(lead, "dhl-lead")
        page = lead.get("/replies").text
        assert "Paket verspätet" in page and "Zug ausgefallen" not in page
        assert "Playbook-Notizen" not in page
        refused = lead.get("/playbooks")
        assert refused.status_code == 403
        assert "Playbook-Notizen gelten für alle Marken" in refused.text
