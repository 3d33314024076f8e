"""The team's playbook notes: one short note per playbook, next to the shipped guidance."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.access import policies
from monitor.access.policies import authorize
from monitor.guidance.playbooks import Category
from monitor.storage.models import PlaybookNote, UserRecord

MAX_NOTE_LENGTH = 2000


class NoteError(ValueError):
    """A note that cannot be stored; the message (German) says why."""


def playbook_notes(session: Session) -> dict[str, str]:
    """Every stored note by category."""
    return {note.category: note.note for note in session.scalars(select(PlaybookNote))}


def playbook_note(session: Session, category: Category | str) -> str | None:
    note = session.get(PlaybookNote, str(category))
    return note.note if note else None


def set_playbook_note(
    session: Session, user: UserRecord, category: Category | str, text: str
) -> None:
    """Store the lead's note for `category`; an empty text removes it."""
    authorize(policies.can_edit_playbook_notes(user))
    try:
        category = Category(category)
    except ValueError as exc:
        raise NoteError(f"Unbekanntes Playbook „{category}“.") from exc
    text = text.strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise NoteError(f"Die Notiz ist zu lang (höchstens {MAX_NOTE_LENGTH} Zeichen).")
    note = session.get(PlaybookNote, category.value)
    if not text:
        if note is not None:
            session.delete(note)
        return
    if note is None:
        note = PlaybookNote(category=category.value)
        session.add(note)
    note.note = text
    note.updated_by = user.name
