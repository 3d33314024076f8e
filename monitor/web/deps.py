"""What request handlers depend on: a database session, the browser session and its user, the
CSRF check of forms, and the API caller from a bearer token."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Form, HTTPException, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from monitor.access.sessions import SESSION_LIFETIME, find_session
from monitor.access.users import user_for_token
from monitor.runtime import Runtime
from monitor.storage.models import UserRecord, WebSession

SESSION_COOKIE = "rufwacht_session"
MAX_ID = 2**31 - 1

ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="The queue item's id.")]


class LoginRequired(Exception):
    """A page needs a logged-in user; the app answers with a redirect to the login page."""


class CsrfRejected(Exception):
    """A form came without the CSRF token of its browser session; the app refuses it (403)."""


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def filter_zone(request: Request) -> ZoneInfo:
    """The zone the queue's day filters (`von`, `bis`) are read in: the digest's, so that a
    digest's link lists the posts it counted for its day."""
    return get_runtime(request).settings.digest.zone


FilterZone = Annotated[ZoneInfo, Depends(filter_zone)]


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response leaves (scope "function"),
    so that the next request of the same browser sees what this one wrote."""
    with get_runtime(request).database.transaction() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session, scope="function")]


def browser_session(request: Request, session: DbSession) -> WebSession | None:
    """The live server-side session the cookie names, else None."""
    raw_id = request.cookies.get(SESSION_COOKIE)
    return find_session(session, raw_id) if raw_id else None


BrowserSession = Annotated[WebSession | None, Depends(browser_session)]


def logged_in(browser: BrowserSession) -> WebSession:
    """The browser session of a logged-in user; pages without one redirect to the login."""
    if browser is None or browser.user is None:
        raise LoginRequired
    return browser


LoggedIn = Annotated[WebSession, Depends(logged_in)]


def current_user(browser: LoggedIn) -> UserRecord:
    assert browser.user is not None  # logged_in made sure
    return browser.user


CurrentUser = Annotated[UserRecord, Depends(current_user)]


def checked_session(browser: BrowserSession, csrf_token: Annotated[str, Form()] = "") -> WebSession:
    """The browser session a state-changing form was sent from, if its token matches."""
    if browser is None or not secrets.compare_digest(
        browser.csrf_token.encode(), csrf_token.encode()
    ):
        raise CsrfRejected
    return browser


CheckedSession = Annotated[WebSession, Depends(checked_session)]


def set_session_cookie(response: Response, request: Request, raw_id: str) -> None:
    """The cookie scripts cannot read, sent on top-level navigation only, and over https only
    when the app is served over https."""
    response.set_cookie(
        SESSION_COOKIE,
        raw_id,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


bearer = HTTPBearer(
    auto_error=False, description="A token from `rufwacht users token NAME` (Authorization: Bearer)"
)


def api_user(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> UserRecord:
    """The active user whose live token the request carries; 401 otherwise."""
    user = user_for_token(session, credentials.credentials) if credentials else None
    if user is None:
        raise HTTPException(
            401,
            "Kein gültiges API-Token: Authorization: Bearer <Token> mitsenden "
            "(rufwacht users token NAME).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


ApiUser = Annotated[UserRecord, Depends(api_user)]


def checked_member(browser: CheckedSession) -> WebSession:
    """A form of a logged-in user with its CSRF token: what every state-changing page form
    but the login needs."""
    if browser.user is None:
        raise LoginRequired
    return browser


MemberForm = Annotated[WebSession, Depends(checked_member)]
