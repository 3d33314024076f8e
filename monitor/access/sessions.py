"""Server-side browser sessions: the cookie carries a random id, the table only its digest.

A session exists before login too, so that the login form has a CSRF token bound to it; login
replaces it with a new one (a new id), so an id planted before login is worthless after it.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from monitor.access.users import digest
from monitor.storage.models import UserRecord, WebSession

SESSION_LIFETIME = timedelta(hours=12)
"""A working day: after that the browser logs in again."""


def start_session(session: Session, user: UserRecord | None = None) -> tuple[str, WebSession]:
    """A new session (anonymous without `user`) and the raw id for its cookie, shown only here."""
    raw_id = secrets.token_urlsafe(32)
    record = WebSession(
        digest=digest(raw_id),
        user_id=user.id if user is not None else None,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=datetime.now(UTC) + SESSION_LIFETIME,
    )
    session.add(record)
    session.flush()
    return raw_id, record


def find_session(session: Session, raw_id: str) -> WebSession | None:
    """The unexpired session with this id whose user (if any) is still active, else None."""
    record = session.scalar(select(WebSession).where(WebSession.digest == digest(raw_id)))
    if record is None or record.expires_at <= datetime.now(UTC):
        return None
    if record.user is not None and not record.user.active:
        return None
    return record


def renew_session(session: Session, old: WebSession | None, user: UserRecord) -> str:
    """Log `user` in: the old (pre-login) session ends and a new id is issued; expired
    sessions of anybody are cleared on the way."""
    if old is not None:
        session.delete(old)
    session.execute(delete(WebSession).where(WebSession.expires_at <= datetime.now(UTC)))
    raw_id, _ = start_session(session, user)
    return raw_id


def end_session(session: Session, record: WebSession) -> None:
    session.delete(record)


def end_all_sessions(session: Session, user: UserRecord) -> int:
    """Log `user` out in every browser; returns how many sessions ended."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return result.rowcount or 0
