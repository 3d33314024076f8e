"""The guidance one queue item gets: its category, playbook, saved replies and checker context.

The category is the playbook id the stored verdict names (`guideline`, set by the triage when
the post was judged). An item judged before the triage has none and is taken for a complaint;
`category_assumed` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from connectors.capabilities import REPLY_LIMITS
from monitor.guidance.checker import ReplyContext
from monitor.guidance.playbooks import Category, Playbook, playbook_for
from monitor.guidance.replies import list_replies
from monitor.guidance.tone import Tone
from monitor.settings import BrandSettings
from monitor.storage.models import QueueItem, SavedReply


@dataclass(frozen=True)
class ItemGuidance:
    category: Category
    category_assumed: bool
    """True when no stored verdict names a playbook and the item is treated as a complaint."""
    playbook: Playbook
    replies: list[SavedReply]
    """The saved replies for the item's brand (or all brands) in its category and tone."""
    context: ReplyContext


def category_of(item: QueueItem) -> tuple[Category, bool]:
    """The item's category and whether it is assumed (see the module docstring)."""
    verdict = item.post.verdict
    if verdict is None or verdict.guideline is None:
        return Category.COMPLAINT, True
    return Category(verdict.guideline), False


def brand_tone(brand: str, brands: list[BrandSettings]) -> Tone:
    """The configured tone of `brand`; Sie for a brand the config no longer names."""
    return next((Tone(b.tone) for b in brands if b.name == brand), Tone.SIE)


def item_guidance(
    session: Session,
    item: QueueItem,
    brands: list[BrandSettings],
    template: str | None = None,
    length_limit: int | None = None,
) -> ItemGuidance:
    """Everything the team needs to answer `item`: `template` is the saved reply the draft
    started from; `length_limit` overrides the platform's limit."""
    category, assumed = category_of(item)
    tone = brand_tone(item.brand, brands)
    platform = item.post.platform
    context = ReplyContext(
        category=category,
        tone=tone,
        platform=platform,
        length_limit=length_limit or REPLY_LIMITS.get(platform),
        post_text=item.post.text or "",
        template=template,
    )
    replies = list_replies(session, brand=item.brand, category=category, tone=tone)
    return ItemGuidance(category, assumed, playbook_for(category), replies, context)
