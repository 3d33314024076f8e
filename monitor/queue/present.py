"""A queue item as the outside world sees it: the JSON shape shared by CLI and API."""

from __future__ import annotations

from monitor.storage.models import QueueItem


def item_summary(item: QueueItem) -> dict[str, object]:
    """The queue item as the CLI's JSON contract shows it."""
    scores = {score.task: score for score in item.post.scores}
    sentiment = scores.get("sentiment")
    troll = scores.get("troll")
    return {
        "id": item.id,
        "status": item.status,
        "priority": item.priority,
        "platform": item.post.platform,
        "platform_id": item.post.platform_id,
        "brand": item.brand,
        "text": item.post.text,
        "sentiment": sentiment.label if sentiment else None,
        "troll_score": round(troll.score, 4) if troll else None,
        "reasons": item.reasons,
        "url": item.post.url,
        "created_at": item.post.created_at.isoformat(),
        "due_at": item.due_at.isoformat(),
    }
