"""Each source's cursor and health; written in the same transaction as the posts it covers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Cursor
from monitor.logs import redact
from monitor.storage.models import SourceState, utcnow


def _state(session: Session, source: str) -> SourceState:
    state = session.get(SourceState, source)
    if state is None:
        state = SourceState(source=source, cursor={}, status="ok")
        session.add(state)
    return state


def load_cursor(session: Session, source: str) -> Cursor:
    state = session.get(SourceState, source)
    return dict(state.cursor) if state else {}


def save_cursor(session: Session, source: str, cursor: Cursor) -> None:
    state = _state(session, source)
    state.cursor = dict(cursor)
    state.status = "ok"
    state.last_error = None
    state.last_polled_at = utcnow()


def mark_failing(session: Session, source: str, problem: str) -> None:
    """Record the failure; redacted, since an error message may carry a URL with a token."""
    state = _state(session, source)
    state.status = "failing"
    state.last_error = redact(problem)
    state.last_polled_at = utcnow()


def source_states(session: Session) -> list[SourceState]:
    return list(session.scalars(select(SourceState).order_by(SourceState.source)))
