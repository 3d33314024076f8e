"""A queue item as the outside world sees it: the JSON shape shared by CLI and API."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.queue.priority import band_of
from monitor.queue.sla import state_of
from monitor.storage.models import QueueItem, VerdictRecord


def item_summary(item: QueueItem, now: datetime | None = None) -> dict[str, object]:
    """The queue item as the CLI's JSON contract shows it; its SLA state at `now`."""
    scores = {score.task: score for score in item.post.scores}
    sentiment = scores.get("sentiment")
    troll = scores.get("troll")
    return {
        "id": item.id,
        "status": item.status,
        "priority": item.priority,
        "band": band_of(item.priority).value,
        "platform": item.post.platform,
        "platform_id": item.post.platform_id,
        "brand": item.brand,
        "text": item.post.text,
        "sentiment": sentiment.label if sentiment else None,
        "troll_score": round(troll.score, 4) if troll else None,
        "reasons": item.reasons,
        **triage_summary(item.post.verdict),
        "url": item.post.url,
        "created_at": item.post.created_at.isoformat(),
        "waiting_since": item.waiting_since.isoformat(),
        "due_at": item.due_at.isoformat(),
        "sla": state_of(item, now or datetime.now(UTC)).value,
        "sla_breached_at": item.sla_breached_at.isoformat() if item.sla_breached_at else None,
        "recheck": item.recheck,
    }


def triage_summary(verdict: VerdictRecord | None) -> dict[str, str | None]:
    """Category, action, escalation team and playbook id of the stored verdict; all None for
    a post judged before the triage."""
    category = (verdict.category if verdict else None) or {}
    action = (verdict.action if verdict else None) or {}
    return {
        "category": category.get("label"),
        "action": action.get("label"),
        "escalate_to": action.get("escalate_to"),
        "guideline": verdict.guideline if verdict else None,
    }
