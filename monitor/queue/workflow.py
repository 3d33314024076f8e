"""Changing a queue item: the checks every operation makes, in one order, and the status changes.

Operations load nothing themselves: the caller (UI, API, CLI) loads the item in its session and
passes the version its user saw. Each operation asks the policy, compares the version, checks
the transition table, claims the item (an UPDATE naming the version, so of two concurrent
operations only one succeeds), applies the change and writes the audit entry. Drafts and
approval live in `drafts`, automatic assignment in `assignment`, bulk actions in `bulk`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from monitor.access import policies
from monitor.access.policies import Decision, authorize
from monitor.queue.audit import record
from monitor.queue.priority import band_of
from monitor.queue.sla import SlaClock
from monitor.queue.states import (
    REOPENABLE,
    EscalationTeam,
    QueueStatus,
    can_move,
    check_transition,
)
from monitor.storage.models import PostRecord, QueueItem, UserRecord, utcnow

OPEN_DRAFT_STATES = (QueueStatus.ASSIGNED, QueueStatus.DRAFT)
"""States in which an item is someone's work in progress."""


class WorkflowError(ValueError):
    """An operation asked for with missing or unusable input; the message (German) says what."""


@dataclass(frozen=True)
class ItemState:
    """An item as it stands now, for the person whose change came too late."""

    status: QueueStatus
    version: int
    assignee: str | None


class StaleItemError(Exception):
    """Someone else changed the item since the acting user loaded it."""

    def __init__(self, item_id: int, fresh: ItemState | None) -> None:
        self.item_id = item_id
        self.fresh = fresh
        message = (
            "Jemand anderes hat diesen Eintrag gerade geändert. Bitte den aktuellen Stand "
            "ansehen und es dann erneut versuchen."
        )
        if fresh is not None:
            who = f", bearbeitet von {fresh.assignee}" if fresh.assignee else ""
            message += f" Jetzt: {fresh.status.label}{who} (Version {fresh.version})."
        super().__init__(message)


def state_of(item: QueueItem) -> ItemState:
    assignee = item.assignee.name if item.assignee is not None else None
    return ItemState(QueueStatus(item.status), item.version, assignee)


def committed_state(bind: Engine | Connection, item_id: int) -> ItemState | None:
    """The item as other connections see it now (the session's own transaction has failed)."""
    query = (
        select(QueueItem.status, QueueItem.version, UserRecord.name)
        .outerjoin(UserRecord, QueueItem.assignee_id == UserRecord.id)
        .where(QueueItem.id == item_id)
    )
    with bind.engine.connect() as connection:
        row = connection.execute(query).first()
    return ItemState(QueueStatus(row[0]), row[1], row[2]) if row else None


def _lost_sqlite_race(exc: OperationalError) -> bool:
    """SQLite refuses, without waiting, a write from a transaction that has read while another
    one writes (BUSY) or has written since (BUSY_SNAPSHOT): either way someone else is
    changing what this transaction read."""
    return getattr(exc.orig, "sqlite_errorname", None) in ("SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT")


def claim(session: Session, item: QueueItem) -> None:
    """Bump the item's version now, so that a concurrent operation on it fails here."""
    item.updated_at = utcnow()
    flush(session, item)


def flush(session: Session, item: QueueItem) -> None:
    """Write the pending changes; a lost race on `item` becomes `StaleItemError`."""
    item_id, bind = item.id, session.get_bind()
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleItemError(item_id, committed_state(bind, item_id)) from exc
    except OperationalError as exc:
        if not _lost_sqlite_race(exc):
            raise
        raise StaleItemError(item_id, committed_state(bind, item_id)) from exc


def prepare(
    session: Session,
    user: UserRecord,
    item: QueueItem,
    expected_version: int,
    decision: Decision,
    *path: QueueStatus,
) -> None:
    """The checks before any change, then claim the item: that the user may see the item, that
    it is as they saw it (else the fresh state is shown), the policy `decision`, and each
    step of `path` in the transition table."""
    authorize(policies.can_view(user, item))
    if item.version != expected_version:
        raise StaleItemError(item.id, state_of(item))
    authorize(decision)
    current = item.status
    for target in path:
        check_transition(current, target)
        current = target
    claim(session, item)


def change(
    session: Session,
    item: QueueItem,
    actor: UserRecord | None,
    target: QueueStatus,
    action: str,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Move the item along the table and write the audit entry (`actor` None: the system);
    the item's version is final afterwards."""
    source = item.status
    move(item, target)
    record(session, item, actor, action, source, target, comment, details)
    flush(session, item)


def log(
    session: Session,
    item: QueueItem,
    actor: UserRecord,
    action: str,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """The audit entry of an operation that leaves the status as it is (approval)."""
    record(session, item, actor, action, item.status, item.status, comment, details)
    flush(session, item)


def required(text: str | None, what: str) -> str:
    """`text` stripped; `WorkflowError` naming `what` when it is empty."""
    if not text or not text.strip():
        raise WorkflowError(f"Bitte {what} angeben.")
    return text.strip()


def escalation_team(team: EscalationTeam | str | None) -> EscalationTeam:
    """`team` as an `EscalationTeam`; `WorkflowError` listing the teams otherwise."""
    try:
        return EscalationTeam(team or "")
    except ValueError as exc:
        teams = ", ".join(EscalationTeam)
        raise WorkflowError(f"Unbekanntes Team {team!r}; möglich: {teams}.") from exc


def move(item: QueueItem, target: QueueStatus) -> None:
    """Set the item's status; raises `TransitionError` if the table forbids the move."""
    check_transition(item.status, target)
    item.status = target


def mark_deleted(item: QueueItem) -> None:
    """The post was deleted upstream: the item leaves the work list, if it still can."""
    if not can_move(item.status, QueueStatus.DELETED):
        return
    session = object_session(item)
    if session is None:
        move(item, QueueStatus.DELETED)
        return
    change(session, item, None, QueueStatus.DELETED, "deleted_upstream")


# --- assignment by hand ---------------------------------------------------------------------


def assign(
    session: Session, user: UserRecord, item: QueueItem, expected_version: int, assignee: UserRecord
) -> None:
    """Give the item to `assignee`; a draft in progress stays a draft, for them to go on with."""
    target = QueueStatus.DRAFT if item.status == QueueStatus.DRAFT else QueueStatus.ASSIGNED
    prepare(
        session, user, item, expected_version, policies.can_assign(user, item, assignee), target
    )
    set_assignee(item, assignee)
    action = "take" if assignee.id == user.id else "assign"
    change(session, item, user, target, action, details={"assignee": assignee.name})


def take(session: Session, user: UserRecord, item: QueueItem, expected_version: int) -> None:
    """ "Nehmen": the acting user assigns the item to themselves."""
    assign(session, user, item, expected_version, user)


def release(session: Session, user: UserRecord, item: QueueItem, expected_version: int) -> None:
    """Give an item in progress back to the pool, unassigned."""
    if item.status not in OPEN_DRAFT_STATES:
        raise WorkflowError("Nur ein zugewiesener Eintrag kann zurückgegeben werden.")
    decision = policies.can_transition(user, item, QueueStatus.NEW)
    prepare(session, user, item, expected_version, decision, QueueStatus.NEW)
    set_assignee(item, None)
    change(session, item, user, QueueStatus.NEW, "release")


def set_assignee(item: QueueItem, assignee: UserRecord | None) -> None:
    item.assignee = assignee
    item.assigned_at = utcnow() if assignee is not None else None


# --- status changes by hand -----------------------------------------------------------------


SIMPLE_EXITS = {
    QueueStatus.RESOLVED: "resolve",
    QueueStatus.IGNORED_TROLL: "ignore_troll",
    QueueStatus.MONITOR: "monitor",
}
"""Status changes by hand that need nothing but an optional comment, with their audit action."""


def close(
    session: Session,
    user: UserRecord,
    item: QueueItem,
    expected_version: int,
    target: QueueStatus,
    comment: str | None = None,
) -> None:
    """Resolve the item, ignore it as a troll's or watch it without answering; dismissing
    and escalating need more (`dismiss`, `escalate`)."""
    if target not in SIMPLE_EXITS:
        raise WorkflowError(f"„{target.label}“ ist kein einfacher Abschluss.")
    decision = policies.can_transition(user, item, target)
    prepare(session, user, item, expected_version, decision, target)
    change(session, item, user, target, SIMPLE_EXITS[target], comment)


def dismiss(
    session: Session, user: UserRecord, item: QueueItem, expected_version: int, reason: str
) -> None:
    """A false positive; the reason is required and goes into the audit log."""
    reason = required(reason, "einen Grund für das Verwerfen")
    target = QueueStatus.DISMISSED
    decision = policies.can_transition(user, item, target)
    prepare(session, user, item, expected_version, decision, target)
    change(session, item, user, target, "dismiss", reason)


def escalate(
    session: Session,
    user: UserRecord,
    item: QueueItem,
    expected_version: int,
    team: EscalationTeam | str | None,
    note: str | None,
) -> None:
    """Hand the item to legal, PR, security, safety or product, with a note for them."""
    chosen = escalation_team(team)
    note = required(note, "eine Notiz für das Team")
    target = QueueStatus.ESCALATED
    prepare(
        session, user, item, expected_version, policies.can_transition(user, item, target), target
    )
    item.escalated_to = chosen.value
    change(session, item, user, target, "escalate", note, {"team": chosen.value})


def reopen(
    session: Session,
    user: UserRecord,
    item: QueueItem,
    expected_version: int,
    comment: str | None = None,
) -> None:
    """Bring a closed item back into the queue, unassigned."""
    target = QueueStatus.NEW
    prepare(
        session, user, item, expected_version, policies.can_transition(user, item, target), target
    )
    set_assignee(item, None)
    change(session, item, user, target, "reopen", comment)


def transition(
    session: Session,
    user: UserRecord,
    item: QueueItem,
    expected_version: int,
    target: QueueStatus | str,
    comment: str | None = None,
    team: EscalationTeam | str | None = None,
) -> None:
    """A status change by target, as the API's `/transition` and the UI's buttons ask for it:
    the operation for that target does it. Drafting, approval and sending have their own."""
    target = QueueStatus(target)
    args = (session, user, item, expected_version)
    if target is QueueStatus.NEW and item.status in OPEN_DRAFT_STATES:
        release(*args)
    elif target is QueueStatus.NEW:
        reopen(*args, comment)
    elif target is QueueStatus.ASSIGNED:
        take(*args)
    elif target is QueueStatus.DISMISSED:
        dismiss(*args, comment or "")
    elif target is QueueStatus.ESCALATED:
        escalate(*args, team, comment)
    elif target in SIMPLE_EXITS:
        close(*args, target, comment)
    elif target is QueueStatus.DELETED:
        authorize(policies.can_transition(user, item, target))
    else:
        raise WorkflowError(
            f"Den Status „{target.label}“ erreicht ein Eintrag nur über Entwurf, Freigabe und "
            "Senden der Antwort."
        )


# --- the author writes again ----------------------------------------------------------------


def reopen_on_new_post(session: Session, post: PostRecord, clock: SlaClock) -> QueueItem | None:
    """Reopen the closed item of `post`'s conversation by the same author, if there is one
    (the pipeline calls this for each new post). It goes back to its assignee while they are
    active, else to the pool, and its SLA clock starts again from the new post."""
    item = conversation_item(session, post)
    if item is None:
        return None
    keeper = item.assignee if item.assignee is not None and item.assignee.active else None
    target = QueueStatus.ASSIGNED if keeper is not None else QueueStatus.NEW
    check_transition(item.status, target)
    claim(session, item)
    set_assignee(item, keeper)
    item.waiting_since = min(post.created_at, post.fetched_at)
    item.due_at, item.sla_near_at = clock.deadline(item.waiting_since, band_of(item.priority))
    details = {"post_id": post.id, "platform_id": post.platform_id}
    change(session, item, None, target, "reopen_new_post", details=details)
    return item


def conversation_item(session: Session, post: PostRecord) -> QueueItem | None:
    """The newest reopenable item whose post `post` answers, or shares a parent with, by the
    same author on the same platform."""
    if post.parent_id is None or post.author_id is None:
        return None
    query = (
        select(QueueItem)
        .join(QueueItem.post)
        .where(
            PostRecord.platform == post.platform,
            PostRecord.author_id == post.author_id,
            PostRecord.id != post.id,
            or_(PostRecord.platform_id == post.parent_id, PostRecord.parent_id == post.parent_id),
            QueueItem.status.in_(REOPENABLE),
        )
        .order_by(PostRecord.created_at.desc())
        .limit(1)
    )
    return session.scalar(query)
