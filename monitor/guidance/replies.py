"""Saved replies in the database: seeding the shipped ones, finding those that fit a post, and
the leads' edits."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from monitor.access import policies
from monitor.access.policies import authorize
from monitor.guidance.playbooks import Category
from monitor.guidance.shipped_replies import SHIPPED_REPLIES
from monitor.guidance.templates import TemplateError, placeholders
from monitor.guidance.tone import Tone
from monitor.storage.models import SavedReply, UserRecord


class ReplyError(ValueError):
    """A saved reply that cannot be stored as given; the message (German) names the problem."""


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


def save_reply(
    session: Session,
    user: UserRecord,
    reply: SavedReply | None,
    brand: str | None,
    category: Category,
    tone: Tone,
    title: str,
    body: str,
) -> SavedReply:
    """Store a new saved reply (`reply` None) or change one, as a lead in whose scope its old
    and new brand lie. The body is checked by the sandboxed renderer before it is stored, so
    no template with a forbidden placeholder ever reaches a draft."""
    if reply is not None:
        authorize(policies.can_edit_reply(user, reply.brand))
    authorize(policies.can_edit_reply(user, brand))
    if not title.strip() or not body.strip():
        raise ReplyError("Bitte Titel und Text des Textbausteins angeben.")
    try:
        placeholders(body)
    except TemplateError as exc:
        raise ReplyError(f"Der Text enthält einen unzulässigen Platzhalter: {exc}") from exc
    if reply is None:
        reply = SavedReply()
        session.add(reply)
    reply.brand = brand
    reply.category = Category(category)
    reply.tone = Tone(tone)
    reply.title = title.strip()
    reply.body = body.strip()
    session.flush()
    return reply
