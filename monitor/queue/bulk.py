"""Bulk actions: one workflow operation over many items, with what happened to each.

Each item goes through the same operation (policy, version, transition table, audit) as one
done by hand, inside a savepoint of its own: an item someone else changed meanwhile, or one
the action does not fit, is reported and the others go ahead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from monitor.access import policies
from monitor.access.policies import PermissionDenied, authorize
from monitor.queue import workflow
from monitor.queue.states import EscalationTeam, QueueStatus
from monitor.queue.workflow import StaleItemError, WorkflowError, escalation_team, required
from monitor.storage.models import QueueItem, UserRecord


class BulkAction(StrEnum):
    ASSIGN = "assign"
    DISMISS = "dismiss"
    MARK_TROLL = "mark_troll"
    RESOLVE = "resolve"
    ESCALATE = "escalate"


@dataclass(frozen=True)
class BulkResult:
    item_id: int
    ok: bool
    message: str
    """German: what happened, or why not."""


Operation = Callable[[Session, UserRecord, QueueItem, int], None]


def _operation(
    action: BulkAction,
    assignee: UserRecord | None,
    comment: str | None,
    team: EscalationTeam | str | None,
) -> Operation:
    """The per-item operation with the action's arguments, checked once for all items."""
    if action is BulkAction.ASSIGN:
        if assignee is None:
            raise WorkflowError("Bitte angeben, wem die Einträge zugewiesen werden.")
        return lambda s, u, i, v: workflow.assign(s, u, i, v, assignee)
    if action is BulkAction.DISMISS:
        reason = required(comment, "einen Grund für das Verwerfen")
        return lambda s, u, i, v: workflow.dismiss(s, u, i, v, reason)
    if action is BulkAction.ESCALATE:
        chosen = escalation_team(team)
        note = required(comment, "eine Notiz für das Team")
        return lambda s, u, i, v: workflow.escalate(s, u, i, v, chosen, note)
    target = QueueStatus.IGNORED_TROLL if action is BulkAction.MARK_TROLL else QueueStatus.RESOLVED
    return lambda s, u, i, v: workflow.close(s, u, i, v, target, comment)


def bulk(
    session: Session,
    user: UserRecord,
    items: Sequence[QueueItem],
    action: BulkAction | str,
    versions: Mapping[int, int] | None = None,
    assignee: UserRecord | None = None,
    comment: str | None = None,
    team: EscalationTeam | str | None = None,
) -> list[BulkResult]:
    """Apply `action` to each item; `versions` maps item ids to the version the user saw (an
    item missing there is taken as it stands, as for a selection by filter)."""
    authorize(policies.can_bulk(user))
    operation = _operation(BulkAction(action), assignee, comment, team)
    versions = versions or {}
    results = []
    for item in items:
        item_id = item.id
        try:
            with session.begin_nested():
                operation(session, user, item, versions.get(item_id, item.version))
        except (PermissionDenied, StaleItemError, ValueError) as exc:
            results.append(BulkResult(item_id, False, str(exc)))
        else:
            results.append(BulkResult(item_id, True, f"Erledigt: {item.status.label}."))
    return results
