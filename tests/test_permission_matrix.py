"""Every API route and every UI route × every kind of caller gets exactly the status it should.

The app's routes are enumerated, so a new route without an entry in `CASES` fails
`test_every_route_has_an_entry`. An entry says which item the request acts on (a fresh one for
each caller), what it sends, and the status per caller; `api(...)` and `page(...)`/`form(...)`
fill in the usual answers for callers without a valid token or session.

Callers: the four roles (unscoped), `other_brand` (a lead limited to DHL, while the items are
Deutsche Bahn's: only the brand scope stands in the way), `none` (no token or session) and
`revoked` (a revoked token; for the UI a session that was logged out).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from monitor.access.sessions import end_session, start_session
from monitor.access.users import issue_token, revoke_tokens
from monitor.guidance.replies import save_reply
from monitor.queue import drafts
from monitor.runtime import Runtime
from monitor.settings import default_settings
from monitor.storage.database import Database
from monitor.storage.models import QueueItem, UserRecord
from monitor.web.app import create_app
from monitor.web.deps import SESSION_COOKIE
from tests import factories
from tests.conftest import WEB_PASSWORD
from tests.web_team import OTHER_BRAND, ROLES, new_item, routes_of

CALLERS = (*ROLES, "other_brand", "none", "revoked")
REPLY = (
    "Hallo, danke für Ihre Nachricht, und es tut uns leid, dass der Zug ausgefallen ist. "
    "Schicken Sie uns bitte per Direktnachricht Ihre Verbindung, dann prüfen wir das."
)

REPLY_FIELDS = {
    "brand": "Deutsche Bahn",
    "category": "complaint",
    "tone": "sie",
    "title": "Zugausfall",
    "body": "Hallo {name}, danke für Ihre Geduld.",
}


@pytest.fixture
def backend() -> str:
    """Permissions do not depend on the database: SQLite only."""
    return "sqlite"


# --- what a request acts on, what it sends --------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What one caller's request is about: its item, saved reply and colleague (all fresh for
    each caller), and the caller's credentials."""

    caller: str
    item: int
    version: int
    reply: int
    colleague: int
    token: str | None
    session_id: str | None
    csrf: str

    @property
    def name(self) -> str:
        """The caller's user name (anonymous callers pose as the agent)."""
        return self.caller if self.caller in (*ROLES, "other_brand") else "agent"


Body = Callable[[Target], dict[str, Any]]


def nothing(_: Target) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Case:
    expected: dict[str, int]
    state: str = "new"
    """The item's state before the request: new, awaiting (a submitted draft by another
    agent) or approved."""
    body: Body = nothing
    ui: bool = False


def api(
    first_role: str, ok: int, other_brand: int, state: str = "new", body: Body = nothing
) -> Case:
    """An API route open to `first_role` and above (`ok`), 403 below, 401 without a token."""
    expected = by_role(first_role, ok) | {"other_brand": other_brand}
    return Case(expected | {"none": 401, "revoked": 401}, state, body)


def public(ok: int = 200) -> Case:
    return Case(dict.fromkeys(CALLERS, ok))


def by_role(first_role: str, ok: int) -> dict[str, int]:
    """`ok` for `first_role` and the roles above it, 403 below."""
    allowed = ROLES[ROLES.index(first_role) :]
    return {role: ok if role in allowed else 403 for role in ROLES}


def page(first_role: str = "agent", other_brand: int = 200) -> Case:
    """A UI page: shown to `first_role` and above (403 below), the login page for callers
    without a live session (303)."""
    expected = by_role(first_role, 200) | {"other_brand": other_brand}
    return Case(expected | {"none": 303, "revoked": 303}, ui=True)


def form(
    ok: int,
    first_role: str = "agent",
    other_brand: int | None = None,
    state: str = "new",
    body: Body = nothing,
) -> Case:
    """A UI form with the session's CSRF token: `ok` for `first_role` and above (403 below);
    without a live session its CSRF token cannot match (403)."""
    expected = by_role(first_role, ok) | {"other_brand": other_brand or ok}
    with_token: Body = lambda t: {"csrf_token": t.csrf, **body(t)}  # noqa: E731
    return Case(expected | {"none": 403, "revoked": 403}, state, with_token, ui=True)


def with_version(**fields: Any) -> Body:
    return lambda t: {**fields, "version": t.version}


CASES: dict[tuple[str, str], Case] = {
    # --- API
    ("GET", "/api/v1/openapi.json"): public(),
    ("GET", "/api/v1/items"): api("agent", 200, other_brand=200),
    ("GET", "/api/v1/items/{item_id}"): api("agent", 200, other_brand=404),
    ("POST", "/api/v1/items/{item_id}/assign"): api(
        "agent", 200, 404, body=lambda t: {"user": t.name, "version": t.version}
    ),
    ("POST", "/api/v1/items/{item_id}/draft"): api(
        "agent", 200, 404, body=with_version(text=REPLY)
    ),
    ("POST", "/api/v1/items/{item_id}/approve"): api(
        "approver", 200, 404, state="awaiting", body=with_version()
    ),
    ("POST", "/api/v1/items/{item_id}/reject"): api(
        "approver", 200, 404, state="awaiting", body=with_version(note="Bitte kürzer.")
    ),
    ("POST", "/api/v1/items/{item_id}/send"): api(
        "approver", 200, 404, state="approved", body=with_version()
    ),
    ("POST", "/api/v1/items/{item_id}/transition"): api(
        "agent", 200, 404, body=with_version(to="resolved", comment="erledigt")
    ),
    ("POST", "/api/v1/items/{item_id}/labels"): api(
        "agent", 201, 404, body=lambda _: {"task": "troll", "label": "troll"}
    ),
    ("GET", "/api/v1/items/{item_id}/audit"): api("agent", 200, other_brand=404),
    ("GET", "/api/v1/items/{item_id}/drafts"): api("agent", 200, other_brand=404),
    ("POST", "/api/v1/items/bulk"): api(
        "approver", 200, 200, body=lambda t: {"action": "resolve", "ids": [t.item]}
    ),
    ("GET", "/api/v1/me"): api("agent", 200, other_brand=200),
    ("POST", "/api/v1/me/shift"): api("agent", 200, 200, body=lambda _: {"on_shift": True}),
    ("GET", "/api/v1/users"): api("agent", 200, other_brand=200),
    ("POST", "/api/v1/users"): api(
        "admin",
        201,
        403,
        body=lambda t: {"name": f"neu.{t.caller}", "role": "agent", "password": WEB_PASSWORD},
    ),
    ("GET", "/api/v1/replies"): api("agent", 200, other_brand=200),
    ("GET", "/api/v1/alerts"): api("agent", 200, other_brand=200),
    ("POST", "/api/v1/replies"): api("lead", 201, 403, body=lambda _: REPLY_FIELDS),
    ("PUT", "/api/v1/replies/{reply_id}"): api("lead", 200, 404, body=lambda _: REPLY_FIELDS),
    # --- UI
    ("GET", "/login"): Case(dict.fromkeys(CALLERS, 303) | {"none": 200, "revoked": 200}, ui=True),
    ("POST", "/login"): form(303, body=lambda t: {"username": t.name, "password": WEB_PASSWORD}),
    ("POST", "/logout"): form(303),
    ("POST", "/logout/all"): form(303),
    ("POST", "/shift"): form(303, body=lambda _: {"action": "start"}),
    ("GET", "/"): page(),
    ("GET", "/alerts"): page(),
    ("POST", "/bulk"): form(
        200, "approver", body=lambda t: {"action": "resolve", "selected": f"{t.item}:{t.version}"}
    ),
    ("GET", "/items/{item_id}"): page(other_brand=404),
    ("POST", "/items/{item_id}/take"): form(303, other_brand=404, body=with_version()),
    ("POST", "/items/{item_id}/assign"): form(
        303, other_brand=404, body=lambda t: {"assignee": t.name, "version": t.version}
    ),
    ("POST", "/items/{item_id}/draft"): form(303, other_brand=404, body=with_version(text=REPLY)),
    ("POST", "/items/{item_id}/check"): form(200, other_brand=404, body=lambda _: {"text": REPLY}),
    ("POST", "/items/{item_id}/presence"): form(204, other_brand=404),
    ("POST", "/items/{item_id}/approve"): form(
        303, "approver", 404, state="awaiting", body=with_version()
    ),
    ("POST", "/items/{item_id}/reject"): form(
        303, "approver", 404, state="awaiting", body=with_version(note="Bitte kürzer.")
    ),
    ("POST", "/items/{item_id}/send"): form(
        303, "approver", 404, state="approved", body=with_version(mode="dry_run")
    ),
    ("POST", "/items/{item_id}/transition"): form(
        303, other_brand=404, body=with_version(to="resolved", comment="erledigt")
    ),
    ("POST", "/items/{item_id}/labels"): form(
        303, other_brand=404, body=lambda _: {"task": "troll", "label": "troll"}
    ),
    # a lead limited to DHL sees only replies for DHL, and edits no guidance for every brand
    ("GET", "/replies"): page("lead"),
    ("GET", "/replies/new"): page("lead"),
    ("POST", "/replies/new"): form(303, "lead", 403, body=lambda _: REPLY_FIELDS),
    ("GET", "/replies/{reply_id}"): page("lead", other_brand=404),
    ("POST", "/replies/{reply_id}"): form(303, "lead", 404, body=lambda _: REPLY_FIELDS),
    ("POST", "/replies/{reply_id}/delete"): form(303, "lead", 404),
    ("GET", "/playbooks"): page("lead", other_brand=403),
    ("POST", "/playbooks/{category}"): form(303, "lead", 403, body=lambda _: {"note": "Kurz."}),
    ("GET", "/users"): page("admin", other_brand=403),
    ("POST", "/users"): form(
        303,
        "admin",
        403,
        body=lambda t: {"name": f"neu.{t.caller}", "role": "agent", "password": WEB_PASSWORD},
    ),
    ("POST", "/users/{user_id}/deactivate"): form(303, "admin", 403),
    ("POST", "/users/{user_id}/password"): form(
        303, "admin", 403, body=lambda _: {"password": WEB_PASSWORD + "!"}
    ),
    ("POST", "/users/{user_id}/tokens/revoke"): form(303, "admin", 403),
}


# --- the routes the app has -----------------------------------------------------------------


def test_every_route_has_an_entry() -> None:
    routes = routes_of(create_app(Runtime(default_settings())).routes)
    assert sorted(routes - CASES.keys()) == [], "routes without an entry in CASES"
    assert sorted(CASES.keys() - routes) == [], "entries for routes the app no longer has"


# --- the team the requests come from ------------------------------------------------------


@cache
def password_hash() -> str:
    """One argon2 hash of `WEB_PASSWORD` for all users (hashing is slow on purpose)."""
    return PasswordHasher().hash(WEB_PASSWORD)


@dataclass
class World:
    users: dict[str, UserRecord] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def build_world(session: Session) -> World:
    world = World()
    for name, role, brands in [
        *((role, role, None) for role in ROLES),
        ("other_brand", "lead", [OTHER_BRAND]),
        ("revoked", "agent", None),
        ("drafter", "agent", None),
        ("second", "approver", None),
    ]:
        user = factories.user(name, role, brands=brands, password_hash=password_hash())
        session.add(user)
        session.flush()
        world.users[name] = user
        world.tokens[name] = issue_token(session, user)
    revoke_tokens(session, world.users["revoked"])
    return world


def item_in(session: Session, world: World, state: str, checker: drafts.DraftChecker) -> QueueItem:
    """A fresh item in `state`, drafted by an agent and approved by an approver who are no
    callers, so that four-eyes never decides a caller's status."""
    item = new_item(session)
    if state in ("awaiting", "approved"):
        drafts.save_draft(session, world.users["drafter"], item, item.version, REPLY, checker)
    if state == "approved":
        drafts.approve(session, world.users["second"], item, item.version)
    return item


def target(session: Session, world: World, case: Case, caller: str, runtime: Runtime) -> Target:
    item = item_in(session, world, case.state, runtime.draft_checker)
    fields = {**REPLY_FIELDS, "title": "Vorlage"}
    reply = save_reply(session, world.users["lead"], None, **fields)
    colleague = factories.user(f"kollege.{caller}", "agent", password_hash=password_hash())
    session.add(colleague)
    session.flush()
    token = world.tokens.get(caller) if caller != "none" else None
    session_id, csrf = None, "kein-token"
    if caller != "none":
        session_id, browser = start_session(session, world.users[caller])
        csrf = browser.csrf_token
        if caller == "revoked":
            end_session(session, browser)
    return Target(caller, item.id, item.version, reply.id, colleague.id, token, session_id, csrf)


def send(client: TestClient, method: str, path: str, case: Case, t: Target) -> int:
    url = path.format(item_id=t.item, reply_id=t.reply, user_id=t.colleague, category="complaint")
    headers = {}
    if case.ui and t.session_id:
        headers["Cookie"] = f"{SESSION_COOKIE}={t.session_id}"
    if not case.ui and t.token:
        headers["Authorization"] = f"Bearer {t.token}"
    body = case.body(t)
    payload: dict[str, Any] = {"data": body} if case.ui else {"json": body}
    if method == "GET":
        payload = {}
    response = client.request(method, url, headers=headers, follow_redirects=False, **payload)
    return response.status_code


@pytest.mark.parametrize(("method", "path"), sorted(CASES))
def test_each_caller_gets_exactly_the_expected_status(
    web_client: TestClient, db: Database, method: str, path: str
) -> None:
    case = CASES[method, path]
    runtime: Runtime = web_client.app.state.runtime  # type: ignore[attr-defined]
    with db.transaction() as session:
        world = build_world(session)
        targets = {caller: target(session, world, case, caller, runtime) for caller in CALLERS}
    got = {caller: send(web_client, method, path, case, targets[caller]) for caller in CALLERS}
    assert got == case.expected
