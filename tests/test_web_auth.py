"""Logging in to the web UI: passwords, throttling, CSRF, session cookies and logout."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from monitor.access.roles import Role
from monitor.access.users import add_user, digest
from monitor.storage.database import Database
from monitor.storage.models import WebSession
from monitor.web.deps import SESSION_COOKIE
from monitor.web.throttle import ADDRESS_FAILURE_LIMIT, FAILURE_LIMIT, MemoryThrottle
from tests.conftest import WEB_PASSWORD, csrf_token, log_in


@pytest.fixture
def jana(db: Database) -> None:
    with db.transaction() as session:
        add_user(session, "jana", Role.AGENT, WEB_PASSWORD)


def test_login_with_the_right_password_opens_the_queue(web_client: TestClient, jana: None) -> None:
    assert web_client.get("/").url.path == "/login"
    response = log_in(web_client, "jana")
    assert response.status_code == 200
    assert response.url.path == "/"
    assert "Warteschlange" in response.text
    assert "jana" in response.text


def test_a_wrong_password_is_refused_in_german(web_client: TestClient, jana: None) -> None:
    response = log_in(web_client, "jana", "falsches-passwort")
    assert response.status_code == 401
    assert "Benutzername oder Passwort falsch" in response.text
    assert web_client.get("/", follow_redirects=False).status_code == 303


def test_login_goes_back_to_the_page_asked_for_but_never_to_another_site(
    web_client: TestClient, jana: None
) -> None:
    form = web_client.get("/items/7")
    assert form.url.path == "/login"
    token = csrf_token(form.text)
    for target, landing in (("/items/7", "/items/7"), ("//evil.example/x", "/")):
        data = {"username": "jana", "password": WEB_PASSWORD, "csrf_token": token, "next": target}
        response = web_client.post("/login", data=data, follow_redirects=False)
        assert response.headers["location"] == landing
        web_client.cookies.clear()
        token = csrf_token(web_client.get("/login").text)


def test_five_failures_lock_the_name_even_for_the_right_password(
    web_client: TestClient, jana: None
) -> None:
    for _ in range(FAILURE_LIMIT):
        assert log_in(web_client, "jana", "falsches-passwort").status_code == 401
    response = log_in(web_client, "jana")
    assert response.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldungen" in response.text
    assert web_client.get("/", follow_redirects=False).status_code == 303


def test_many_failures_from_one_address_lock_that_address(
    web_client: TestClient, jana: None
) -> None:
    for n in range(ADDRESS_FAILURE_LIMIT):
        assert log_in(web_client, f"niemand{n}", "falsches-passwort").status_code == 401
    assert log_in(web_client, "jana").status_code == 429


def test_the_throttle_forgets_failures_after_its_window() -> None:
    now = [0.0]
    throttle = MemoryThrottle(window_seconds=900, clock=lambda: now[0])
    for _ in range(FAILURE_LIMIT):
        throttle.record_failure("user:jana")
    assert throttle.blocked("user:jana", FAILURE_LIMIT)
    assert not throttle.blocked("user:tom", FAILURE_LIMIT)
    now[0] = 901.0
    assert not throttle.blocked("user:jana", FAILURE_LIMIT)


def test_a_login_without_the_csrf_token_is_refused(web_client: TestClient, jana: None) -> None:
    web_client.get("/login")
    response = web_client.post("/login", data={"username": "jana", "password": WEB_PASSWORD})
    assert response.status_code == 403
    assert "CSRF" in response.text
    wrong = {"username": "jana", "password": WEB_PASSWORD, "csrf_token": "geraten"}
    assert web_client.post("/login", data=wrong).status_code == 403
    assert web_client.get("/", follow_redirects=False).status_code == 303


def test_a_logout_without_the_csrf_token_is_refused(web_client: TestClient, jana: None) -> None:
    log_in(web_client, "jana")
    assert web_client.post("/logout").status_code == 403
    assert web_client.post("/logout/all", data={"csrf_token": "x"}).status_code == 403
    assert web_client.get("/").url.path == "/"


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(
    web_client: TestClient, jana: None
) -> None:
    response = log_in(web_client, "jana")
    cookie = response.history[0].headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    web_client.base_url = "https://testserver"  # type: ignore[assignment]
    web_client.cookies.clear()
    secure = log_in(web_client, "jana").history[0].headers["set-cookie"]
    assert "Secure" in secure


def test_login_issues_a_new_session_id_and_stores_only_its_digest(
    web_client: TestClient, db: Database, jana: None
) -> None:
    web_client.get("/login")
    before = web_client.cookies[SESSION_COOKIE]
    log_in(web_client, "jana")
    after = web_client.cookies[SESSION_COOKIE]
    assert after != before
    with db.transaction() as session:
        rows = list(session.scalars(select(WebSession)))
        assert [row.digest for row in rows] == [digest(after)]
        assert all(after not in (row.digest, row.csrf_token) for row in rows)
    web_client.cookies.clear()
    web_client.cookies.set(SESSION_COOKIE, before)
    assert web_client.get("/").url.path == "/login"


def test_logout_ends_this_session(web_client: TestClient, jana: None) -> None:
    page = log_in(web_client, "jana")
    old = web_client.cookies[SESSION_COOKIE]
    response = web_client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    assert response.url.path == "/login"
    web_client.cookies.clear()
    web_client.cookies.set(SESSION_COOKIE, old)
    assert web_client.get("/").url.path == "/login"


def test_logout_everywhere_ends_every_session_of_the_user(
    web_client: TestClient, db: Database, jana: None
) -> None:
    with db.transaction() as session:
        add_user(session, "tom", Role.AGENT, WEB_PASSWORD)
    other = TestClient(web_client.app)
    log_in(other, "jana")
    bystander = TestClient(web_client.app)
    log_in(bystander, "tom")
    page = log_in(web_client, "jana")
    web_client.post("/logout/all", data={"csrf_token": csrf_token(page.text)})
    assert other.get("/").url.path == "/login"
    assert web_client.get("/").url.path == "/login"
    assert bystander.get("/").url.path == "/"
