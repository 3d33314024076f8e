"""Queue item states and the transitions allowed between them, in one table."""

from __future__ import annotations

from enum import StrEnum


class QueueStatus(StrEnum):
    NEW = "new"
    DELETED = "deleted"
    """The author deleted the post upstream; nothing left to answer."""


TRANSITIONS: dict[QueueStatus, frozenset[QueueStatus]] = {
    QueueStatus.NEW: frozenset({QueueStatus.DELETED}),
    QueueStatus.DELETED: frozenset(),
}
"""Every status an item may move to from each status; anything else is refused."""


class TransitionError(ValueError):
    """A status change the transition table does not allow."""


def can_move(current: QueueStatus, target: QueueStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: QueueStatus, target: QueueStatus) -> None:
    """Raise `TransitionError` naming both states unless `current → target` is allowed."""
    if not can_move(current, target):
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        raise TransitionError(
            f"a queue item cannot move from {current.value!r} to {target.value!r} "
            f"(allowed from {current.value!r}: {allowed})"
        )
