"""Replies under four-eyes: drafting with the draft checker, approval, rejection and sending.

A draft is written by one person and approved by another (`policies.can_approve`). Its checker
findings are stored with it for the approver; a `block` finding stops approval unless a lead
overrides it with a written reason. From submission on, the text never changes: a rejected
draft stays as it was, and the next save starts a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers.base import TextClassifier
from connectors.base import SourceError
from connectors.capabilities import PostsReplies
from monitor.access import policies
from monitor.guidance.checker import Severity, check_reply
from monitor.guidance.item import item_guidance
from monitor.queue.states import QueueStatus
from monitor.queue.workflow import WorkflowError, change, log, prepare, required, set_assignee
from monitor.settings import BrandSettings
from monitor.storage.models import DraftRecord, QueueItem, SavedReply, UserRecord, utcnow


class DraftStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    SENT = "sent"


class SendMode(StrEnum):
    DRY_RUN = "dry_run"
    """Nothing is posted; the default while posting is not enabled."""
    POSTED = "posted"
    """Posted through the connector, which gives the link."""
    BY_HAND = "by_hand"
    """Someone posted it on the platform themselves and gives the link."""


@dataclass(frozen=True)
class DraftChecker:
    """The draft checker with what it needs from the config and the models."""

    brands: list[BrandSettings]
    offensive: TextClassifier

    def findings(
        self, session: Session, item: QueueItem, text: str, template: str | None
    ) -> list[dict[str, Any]]:
        guidance = item_guidance(session, item, self.brands, template)
        return [f.as_dict() for f in check_reply(text, guidance.context, self.offensive)]


IN_APPROVAL = (DraftStatus.SUBMITTED, DraftStatus.APPROVED)


def current_draft(session: Session, item: QueueItem) -> DraftRecord | None:
    """The item's reply in the making: the submitted or approved one while the item awaits
    approval, else the one being written. Rejected and sent drafts, and those left behind when
    the item moved on (escalated from approval), are history."""
    awaiting = item.status == QueueStatus.AWAITING_APPROVAL
    query = (
        select(DraftRecord)
        .where(
            DraftRecord.item_id == item.id,
            DraftRecord.status.in_(IN_APPROVAL if awaiting else (DraftStatus.DRAFT,)),
        )
        .order_by(DraftRecord.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def blocking_rules(draft: DraftRecord) -> list[str]:
    return [f["rule"] for f in draft.findings if f["severity"] == Severity.BLOCK]


def save_draft(
    session: Session,
    user: UserRecord,
    item: QueueItem,
    expected_version: int,
    text: str,
    checker: DraftChecker,
    saved_reply: SavedReply | None = None,
    submit: bool = True,
) -> DraftRecord:
    """Save the reply text with its checker findings; `submit` hands it to a second person
    for approval. An unassigned item becomes the drafter's."""
    text = required(text, "einen Antworttext")
    if saved_reply is not None and saved_reply.brand not in (None, item.brand):
        raise WorkflowError(f"Der Textbaustein „{saved_reply.title}“ ist für eine andere Marke.")
    if item.status == QueueStatus.AWAITING_APPROVAL:
        raise WorkflowError(
            "Diese Antwort wurde schon zur Freigabe gegeben und kann nicht mehr geändert werden."
        )
    draft = current_draft(session, item)
    path = [QueueStatus.DRAFT] + ([QueueStatus.AWAITING_APPROVAL] if submit else [])
    if item.assignee_id is None:
        path.insert(0, QueueStatus.ASSIGNED)
    prepare(session, user, item, expected_version, policies.can_draft(user, item), *path)
    if item.assignee_id is None:
        set_assignee(item, user)
        change(session, item, user, QueueStatus.ASSIGNED, "take", details={"assignee": user.name})
    findings = checker.findings(session, item, text, saved_reply.body if saved_reply else None)
    if draft is None:
        draft = DraftRecord(item_id=item.id, status=DraftStatus.DRAFT)
        session.add(draft)
    draft.author_id = user.id
    draft.text = text
    draft.saved_reply_id = saved_reply.id if saved_reply else None
    draft.findings = findings
    session.flush()
    counts = {str(s): sum(f["severity"] == s for f in findings) for s in Severity}
    details = {"draft_id": draft.id, "findings": counts}
    change(session, item, user, QueueStatus.DRAFT, "draft", details=details)
    if submit:
        draft.status = DraftStatus.SUBMITTED
        change(session, item, user, QueueStatus.AWAITING_APPROVAL, "submit", details=details)
    return draft


def _submitted(session: Session, item: QueueItem) -> DraftRecord:
    draft = current_draft(session, item)
    if item.status != QueueStatus.AWAITING_APPROVAL or draft is None:
        raise WorkflowError("Für diesen Eintrag wartet keine Antwort auf Freigabe.")
    if draft.status != DraftStatus.SUBMITTED:
        raise WorkflowError("Diese Antwort ist schon freigegeben.")
    return draft


def approve(
    session: Session,
    user: UserRecord,
    item: QueueItem,
    expected_version: int,
    override_reason: str | None = None,
) -> DraftRecord:
    """Four-eyes approval by someone other than the drafter. A blocking finding needs a lead's
    written `override_reason`, which the audit log keeps."""
    draft = _submitted(session, item)
    blocking = blocking_rules(draft)
    decision = policies.can_approve(user, item, draft)
    if decision and blocking:
        decision = policies.can_override_block(user, override_reason)
    prepare(session, user, item, expected_version, decision)
    draft.status = DraftStatus.APPROVED
    draft.approver_id = user.id
    draft.decided_at = utcnow()
    details: dict[str, Any] = {"draft_id": draft.id}
    comment = None
    if blocking:
        draft.override_reason = comment = (override_reason or "").strip()
        details |= {"override": True, "blocking_rules": blocking}
    log(session, item, user, "approve", comment, details)
    return draft


def reject(
    session: Session, user: UserRecord, item: QueueItem, expected_version: int, note: str
) -> DraftRecord:
    """Send the draft back to its writer with the approver's note."""
    note = required(note, "eine Notiz für die Überarbeitung")
    draft = _submitted(session, item)
    decision = policies.can_reject(user, item, draft)
    prepare(session, user, item, expected_version, decision, QueueStatus.DRAFT)
    draft.status = DraftStatus.REJECTED
    draft.approver_id = user.id
    draft.decided_at = utcnow()
    draft.note = note
    change(session, item, user, QueueStatus.DRAFT, "reject", note, {"draft_id": draft.id})
    return draft


Publishers = Callable[[str], PostsReplies | None]
"""The connector that posts replies for a source name, or None where posting is off there."""


def mark_replied(
    session: Session,
    user: UserRecord,
    item: QueueItem,
    expected_version: int,
    mode: SendMode | str = SendMode.DRY_RUN,
    link: str | None = None,
    publishers: Publishers | None = None,
) -> DraftRecord:
    """Send the approved reply: a dry run by default, posted through the item's source
    (`publishers`), or recorded as posted by hand with the link to it. A refused post leaves
    the item approved and unsent."""
    mode = SendMode(mode)
    draft = current_draft(session, item)
    if draft is None or draft.status != DraftStatus.APPROVED:
        raise WorkflowError("Nur eine freigegebene Antwort kann gesendet werden.")
    if mode is SendMode.BY_HAND and not (link or "").startswith(("https://", "http://")):
        raise WorkflowError(
            "Bitte den Link zur gesendeten Antwort angeben (http:// oder https://)."
        )
    decision = policies.can_send(user, item)
    prepare(session, user, item, expected_version, decision, QueueStatus.REPLIED)
    if mode is SendMode.POSTED:
        link = publish(item, draft, publishers)
    draft.status = DraftStatus.SENT
    draft.sent_via = mode.value
    draft.sent_link = link if mode is not SendMode.DRY_RUN else None
    draft.sent_at = utcnow()
    details = {"draft_id": draft.id, "via": mode.value, "link": draft.sent_link}
    change(session, item, user, QueueStatus.REPLIED, "reply", details=details)
    return draft


def publish(item: QueueItem, draft: DraftRecord, publishers: Publishers | None) -> str | None:
    """Post the draft as a reply to the item's post and return the link to it. Runs after
    every check, so that only a reply the queue will record leaves the system."""
    source = item.post.source
    try:
        publisher = publishers(source) if publishers else None
        if publisher is None:
            raise WorkflowError(f"Für die Quelle „{source}“ ist das Posten nicht eingeschaltet.")
        result = publisher.post_reply(item.post.platform_id, draft.text)
    except SourceError as exc:
        raise WorkflowError(
            f"Die Plattform hat die Antwort nicht angenommen ({exc}). "
            "Die Antwort bleibt freigegeben und ungesendet."
        ) from exc
    if result.dry_run:  # nothing left the system, so refusing loses nothing
        raise WorkflowError(f"Die Quelle „{source}“ ist auf Probelauf gestellt (dry_run).")
    return result.url
