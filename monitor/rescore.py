"""Re-judging queued posts with today's champion models, and recording what changed.

After a promotion, `rufwacht rescore` runs the judge again over the open queue items of a
period. New scores are added next to the old ones (each row keeps the `model_version` that
produced it), the verdict becomes the new one and the old one is kept whole in the item's
audit entry. An item the new models would not queue stays where it is, marked `recheck =
"unflagged"` for a person to confirm or dismiss: a model change never silently drops work.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from monitor.judging import Judge, Judgement, trace
from monitor.pipeline import score_rows, stored_history, subject_of
from monitor.queue.audit import record
from monitor.queue.priority import band_of
from monitor.queue.queries import items_by_id
from monitor.queue.sla import SlaClock
from monitor.queue.states import QueueStatus, Recheck
from monitor.storage.database import Database
from monitor.storage.models import PostRecord, QueueItem, VerdictRecord, utcnow

UNFLAGGED = Recheck.UNFLAGGED.value
CLOSED = frozenset(
    {
        QueueStatus.REPLIED,
        QueueStatus.RESOLVED,
        QueueStatus.DISMISSED,
        QueueStatus.IGNORED_TROLL,
        QueueStatus.DELETED,
    }
)
OPEN = frozenset(QueueStatus) - CLOSED
"""What `--status open` rescores: items someone may still act on."""
BATCH = 256
VERDICT_FIELDS = ("flagged", "priority", "brand", "reasons", "models", "category", "action")


@dataclass(frozen=True)
class Change:
    """One item whose verdict changed: before and after, as the audit entry keeps them."""

    item_id: int
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def unflagged(self) -> bool:
        return bool(self.before.get("flagged")) and not self.after["flagged"]


@dataclass
class RescoreReport:
    checked: int = 0
    changes: list[Change] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    """Items a person changed while they were being rescored (run again to include them)."""

    @property
    def unflagged(self) -> list[Change]:
        return [change for change in self.changes if change.unflagged]


def rescore(
    db: Database,
    judge: Judge,
    clock: SlaClock,
    since: datetime,
    statuses: Collection[QueueStatus] = OPEN,
) -> RescoreReport:
    """Judge the queued posts written since `since` (items in `statuses`) again with the
    judge's current models (it follows the registry's champion), oldest first, one
    transaction per batch."""
    report = RescoreReport()
    for ids in _batches(db, since, statuses):
        with db.transaction() as session:
            items = items_by_id(session, ids)
            posts = [item.post for item in items]
            judged = judge.judge([subject_of(p) for p in posts], stored_history(session, posts))
            for item, judgement in zip(items, judged, strict=True):
                report.checked += 1
                try:
                    with session.begin_nested():
                        change = _apply(session, item, judgement, judge, clock)
                except StaleDataError:
                    report.skipped.append(item.id)
                    continue
                if change is not None:
                    report.changes.append(change)
    return report


def _batches(
    db: Database, since: datetime, statuses: Collection[QueueStatus]
) -> Iterator[list[int]]:
    with db.transaction() as session:
        ids = list(
            session.scalars(
                select(QueueItem.id)
                .join(PostRecord, PostRecord.id == QueueItem.post_id)
                .where(
                    PostRecord.created_at >= since,
                    PostRecord.text.is_not(None),
                    QueueItem.status.in_(list(statuses)),
                )
                .order_by(PostRecord.created_at, PostRecord.id)
            )
        )
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _apply(
    session: Session, item: QueueItem, judged: Judgement, judge: Judge, clock: SlaClock
) -> Change | None:
    """Store what changed about one item; None when the new verdict is the old one."""
    post, new = item.post, trace(judged, judge.flagging)
    old = post.verdict
    before = _summary(old) if old else {}
    after = {name: new[name] for name in VERDICT_FIELDS}
    if before == after:
        return None
    kept = _whole(old, before)  # before the verdict row is overwritten
    known = {(score.task, score.model_version) for score in post.scores}
    session.add_all(score_rows(post, judged, known))
    if old is None:
        session.add(VerdictRecord(post=post, **new))
    else:
        for name, value in new.items():
            setattr(old, name, value)
        old.judged_at = utcnow()
    change = Change(item.id, before, after)
    if new["flagged"]:
        _follow(item, new, clock)
    else:
        item.recheck = UNFLAGGED
    versions = ", ".join(sorted(set(after["models"].values())))
    comment = (
        f"Neu bewertet mit {versions}: würde nicht mehr gemeldet, bitte prüfen."
        if change.unflagged
        else f"Neu bewertet mit {versions}."
    )
    details = {"before": kept, "after": after, "no_longer_flagged": change.unflagged}
    record(session, item, None, "rescore", item.status, item.status, comment, details)
    session.flush()
    return change


def _follow(item: QueueItem, verdict: dict[str, Any], clock: SlaClock) -> None:
    """A still-flagged item takes the new priority, category and action; its deadline moves
    with its priority band unless it was already missed."""
    item.recheck = None
    item.priority = verdict["priority"]
    item.category = (verdict["category"] or {}).get("label")
    item.action = (verdict["action"] or {}).get("label")
    item.reasons = verdict["reasons"]
    if item.sla_breached_at is None:
        item.due_at, item.sla_near_at = clock.deadline(item.waiting_since, band_of(item.priority))


def _summary(verdict: VerdictRecord) -> dict[str, Any]:
    return {name: getattr(verdict, name) for name in VERDICT_FIELDS}


def _whole(verdict: VerdictRecord | None, summary: dict[str, Any]) -> dict[str, Any]:
    """The old verdict as the audit keeps it: enough to explain the old decision."""
    if verdict is None:
        return {}
    return {
        **summary,
        "scores": verdict.scores,
        "thresholds": verdict.thresholds,
        "judged_at": verdict.judged_at.isoformat() if verdict.judged_at else None,
    }
