"""Saved replies in the database: seeding the shipped ones and finding those that fit a post."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from monitor.guidance.playbooks import Category
from monitor.guidance.shipped_replies import SHIPPED_REPLIES
from monitor.guidance.tone import Tone
from monitor.storage.models import SavedReply


def seed_shipped_replies(session: Session) -> int:
    """Store the shipped templates if the database has no saved replies; how many were added.

    Only an empty table is seeded, so templates the leads edited or deleted stay as they are.
    """
    if session.scalar(select(func.count()).select_from(SavedReply)):
        return 0
    session.add_all(
        SavedReply(
            brand=None, category=reply.category, tone=reply.tone, title=reply.title, body=reply.body
        )
        for reply in SHIPPED_REPLIES
    )
    return len(SHIPPED_REPLIES)


def list_replies(
    session: Session,
    brand: str | None = None,
    category: Category | None = None,
    tone: Tone | None = None,
) -> list[SavedReply]:
    """Saved replies by category, title and id; with `brand`, those for it and for all brands
    (its own first within a category)."""
    query = select(SavedReply).order_by(
        SavedReply.category, SavedReply.brand.is_(None), SavedReply.title, SavedReply.id
    )
    if brand is not None:
        query = query.where(or_(SavedReply.brand == brand, SavedReply.brand.is_(None)))
    if category is not None:
        query = query.where(SavedReply.category == category)
    if tone is not None:
        query = query.where(SavedReply.tone == tone)
    return list(session.scalars(query))
