"""The team's roles, from least to most trusted."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    """Works the queue: takes items, drafts replies, labels, escalates."""
    APPROVER = "approver"
    """An agent who may also approve another person's draft (four-eyes)."""
    LEAD = "lead"
    """Approves, overrides blocking draft findings with a reason, edits saved replies."""
    ADMIN = "admin"
    """Everything a lead may do, plus managing users."""

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank
