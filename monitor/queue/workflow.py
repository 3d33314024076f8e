"""Changing a queue item's status, only along the transition table."""

from __future__ import annotations

from monitor.queue.states import QueueStatus, can_move, check_transition
from monitor.storage.models import QueueItem


def move(item: QueueItem, target: QueueStatus) -> None:
    """Set the item's status; raises `TransitionError` if the table forbids the move."""
    check_transition(item.status, target)
    item.status = target


def mark_deleted(item: QueueItem) -> None:
    """The post was deleted upstream: the item leaves the work list, if it still can."""
    if can_move(item.status, QueueStatus.DELETED):
        move(item, QueueStatus.DELETED)
