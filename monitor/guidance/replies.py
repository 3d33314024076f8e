"""Saved replies in the database: seeding the shipped ones, finding those that fit a post, and
the leads' edits."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from monitor.access import policies
from monitor.access.policies import authorize
from monitor.guidance.playbooks import Category
from monitor.guidance.shipped_replies import SHIPPED_REPLIES
from monitor.guidance.templates import TemplateError, placeholders, render
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


MAX_TITLE_LENGTH = 200


def save_reply(
    session: Session,
    user: UserRecord,
    reply: SavedReply | None,
    *,
    title: str,
    body: str,
    category: str,
    tone: str,
    brand: str | None,
) -> SavedReply:
    """Create (`reply` None) or change a saved reply, as a lead in whose scope its old and new
    brand lie. Every field is checked, the body by the sandboxed renderer, so no template with
    a forbidden placeholder ever reaches a draft; `ReplyError` names the first problem."""
    brand = (brand or "").strip() or None
    if reply is not None:
        authorize(policies.can_edit_reply(user, reply.brand))
    authorize(policies.can_edit_reply(user, brand))
    title, body = title.strip(), body.strip()
    if not title or len(title) > MAX_TITLE_LENGTH:
        raise ReplyError(f"Bitte einen Titel angeben (höchstens {MAX_TITLE_LENGTH} Zeichen).")
    if not body:
        raise ReplyError("Bitte einen Text angeben.")
    if category not in set(Category):
        raise ReplyError(f"Unbekannte Kategorie „{category}“.")
    if tone not in set(Tone):
        raise ReplyError(f"Unbekannte Anrede „{tone}“.")
    try:
        placeholders(body)
    except TemplateError as exc:
        raise ReplyError(f"Der Text enthält einen unzulässigen Platzhalter: {exc}") from exc
    if reply is None:
        reply = SavedReply()
        session.add(reply)
    reply.title, reply.body, reply.brand = title, body, brand
    reply.category, reply.tone = Category(category), Tone(tone)
    session.flush()
    return reply


def delete_reply(session: Session, user: UserRecord, reply: SavedReply) -> None:
    authorize(policies.can_edit_reply(user, reply.brand))
    session.delete(reply)


def filled_reply(reply: SavedReply, values: Mapping[str, str]) -> str:
    """The reply's text with its placeholders filled; a placeholder without a value (or a
    template stored before validation) keeps its raw text, for the agent to complete."""
    try:
        return render(reply.body, values)
    except TemplateError:
        return reply.body
