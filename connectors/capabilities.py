"""Optional connector abilities beyond fetching: the monitor checks for them with isinstance.

Kept apart from `Connector` because not every source has them (a replay file cannot be
re-checked or answered).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

LOOKUP_BATCH = 100
"""Both X's tweet lookup and Reddit's /api/info take at most 100 ids per request."""
REPLY_LIMITS: dict[str, int] = {"twitter": 280, "reddit": 10_000}
"""The longest reply, in characters, each platform accepts."""
PLATFORM_NAMES: dict[str, str] = {"twitter": "X", "reddit": "Reddit"}
"""What each platform calls itself: the name the team sees in the UI, mails and chat."""


@runtime_checkable
class ChecksExisting(Protocol):
    """Re-checks stored posts: platforms require deleted content to be removed locally."""

    def lookup_existing(self, platform_ids: Sequence[str]) -> dict[str, str | None]:
        """Map every requested id to its current text, or None if it is no longer public.

        "No longer public" covers deleted, removed, protected and suspended; an edited post
        maps to its newest text. Raises `SourceError` if the platform cannot be asked.
        """
        ...


@dataclass(frozen=True)
class ReplyResult:
    """What a reply did, or would have done in a dry run."""

    in_reply_to: str
    text: str
    dry_run: bool
    reply_id: str | None = None
    """The platform id of the published reply; None in a dry run."""
    url: str | None = None
    """The public link to the published reply, which the queue keeps as proof of sending."""
    request: dict[str, Any] | None = None
    """The payload sent (or that would have been sent), for the audit log."""


@runtime_checkable
class PostsReplies(Protocol):
    """Publishes an approved reply through the same account the source reads with."""

    def post_reply(self, in_reply_to: str, text: str) -> ReplyResult:
        """Reply to the post `in_reply_to` (a stored `platform_id`).

        Raises `SourceError` if replies are disabled in the config, the text is not
        acceptable for the platform, or the platform refuses.
        """
        ...
