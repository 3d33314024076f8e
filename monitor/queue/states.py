"""Queue item states and the transitions allowed between them, in one table."""

from __future__ import annotations

from enum import StrEnum


class QueueStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    """A draft waits for a second person (four-eyes); approved, it waits to be sent."""
    REPLIED = "replied"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    """A false positive, with the reason in the audit log."""
    IGNORED_TROLL = "ignored_troll"
    ESCALATED = "escalated"
    """Handed to another team (`EscalationTeam`), with a note."""
    MONITOR = "monitor"
    """Watched, not answered."""
    DELETED = "deleted"
    """The author deleted the post upstream; nothing left to answer."""

    @property
    def label(self) -> str:
        """The German name the team reads."""
        return LABELS[self]


LABELS: dict[QueueStatus, str] = {
    QueueStatus.NEW: "neu",
    QueueStatus.ASSIGNED: "zugewiesen",
    QueueStatus.DRAFT: "Entwurf",
    QueueStatus.AWAITING_APPROVAL: "wartet auf Freigabe",
    QueueStatus.REPLIED: "beantwortet",
    QueueStatus.RESOLVED: "erledigt",
    QueueStatus.DISMISSED: "verworfen",
    QueueStatus.IGNORED_TROLL: "Troll ignoriert",
    QueueStatus.ESCALATED: "eskaliert",
    QueueStatus.MONITOR: "beobachten",
    QueueStatus.DELETED: "gelöscht",
}


class Recheck(StrEnum):
    """Why an item is marked for a second look (`QueueItem.recheck`), whatever its status."""

    UNFLAGGED = "unflagged"
    """`rufwacht rescore`: the champion model would no longer queue the post."""


class EscalationTeam(StrEnum):
    LEGAL = "legal"
    PR = "pr"
    SECURITY = "security"
    SAFETY = "safety"
    PRODUCT = "product"


_S = QueueStatus
_SIDE_EXITS = frozenset({_S.DISMISSED, _S.IGNORED_TROLL, _S.ESCALATED, _S.MONITOR, _S.DELETED})

TRANSITIONS: dict[QueueStatus, frozenset[QueueStatus]] = {
    _S.NEW: _SIDE_EXITS | {_S.ASSIGNED, _S.RESOLVED},
    _S.ASSIGNED: _SIDE_EXITS | {_S.NEW, _S.ASSIGNED, _S.DRAFT, _S.RESOLVED},
    _S.DRAFT: _SIDE_EXITS | {_S.NEW, _S.ASSIGNED, _S.DRAFT, _S.AWAITING_APPROVAL},
    _S.AWAITING_APPROVAL: frozenset({_S.DRAFT, _S.REPLIED, _S.ESCALATED, _S.DELETED}),
    _S.REPLIED: frozenset({_S.RESOLVED, _S.NEW, _S.ASSIGNED, _S.DELETED}),
    _S.RESOLVED: frozenset({_S.NEW, _S.ASSIGNED}),
    _S.DISMISSED: frozenset({_S.NEW, _S.ASSIGNED}),
    _S.IGNORED_TROLL: frozenset({_S.NEW, _S.RESOLVED}),
    _S.ESCALATED: frozenset({_S.NEW, _S.ASSIGNED, _S.RESOLVED, _S.DELETED}),
    _S.MONITOR: _SIDE_EXITS - {_S.MONITOR} | {_S.NEW, _S.ASSIGNED, _S.RESOLVED},
    _S.DELETED: frozenset(),
}
"""Every status an item may move to from each status; anything else is refused.

ASSIGNED → ASSIGNED and DRAFT → ASSIGNED/DRAFT are reassignment and saving a draft again; an
item awaiting approval leaves only by approval and sending, rejection, escalation or deletion."""

REOPENABLE = frozenset({_S.REPLIED, _S.RESOLVED, _S.DISMISSED, _S.MONITOR})
"""Closed states an item leaves when its author writes again in the same conversation; a
troll's next post does not reopen the ignored one (don't feed trolls)."""


class TransitionError(ValueError):
    """A status change the transition table does not allow."""


def can_move(current: QueueStatus, target: QueueStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: QueueStatus, target: QueueStatus) -> None:
    """Raise `TransitionError` naming both states unless `current → target` is allowed."""
    current, target = QueueStatus(current), QueueStatus(target)
    if not can_move(current, target):
        allowed = ", ".join(f"'{s.value}'" for s in sorted(TRANSITIONS[current])) or "keiner"
        raise TransitionError(
            f"Ein Eintrag im Status '{current.value}' ({current.label}) kann nicht nach "
            f"'{target.value}' ({target.label}) wechseln; erlaubt von '{current.value}': "
            f"{allowed}."
        )
