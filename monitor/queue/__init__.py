"""The escalation queue: flagged posts waiting for the team, most urgent first.

`from monitor.queue import X` gives the public names. They are loaded on first use: the
storage models import `states` for their status column, and eager imports of the modules that
use those models would make that a cycle (and slow every CLI start).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.queue.intake import enqueue
    from monitor.queue.present import item_summary
    from monitor.queue.priority import Sort
    from monitor.queue.queries import QueueFilter, count_items, list_items
    from monitor.queue.states import QueueStatus, TransitionError, check_transition
    from monitor.queue.workflow import StaleItemError, WorkflowError, mark_deleted, move

_EXPORTS = {
    "QueueStatus": "states",
    "TransitionError": "states",
    "check_transition": "states",
    "enqueue": "intake",
    "list_items": "queries",
    "count_items": "queries",
    "QueueFilter": "queries",
    "Sort": "priority",
    "item_summary": "present",
    "move": "workflow",
    "mark_deleted": "workflow",
    "StaleItemError": "workflow",
    "WorkflowError": "workflow",
}
__all__ = [
    "QueueFilter",
    "QueueStatus",
    "Sort",
    "StaleItemError",
    "TransitionError",
    "WorkflowError",
    "check_transition",
    "count_items",
    "enqueue",
    "item_summary",
    "list_items",
    "mark_deleted",
    "move",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
