"""A team for API tests: users of every role with bearer tokens, and items to work on."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from monitor.access.roles import Role
from monitor.access.users import issue_token
from monitor.settings import Settings
from monitor.storage.models import QueueItem, UserRecord
from tests import factories

ROLES = ("agent", "approver", "lead", "admin")
OTHER_BRAND = "DHL"
"""The brand the `other_brand` member is limited to; items are for Deutsche Bahn."""


def fast_checker(settings: Settings) -> Settings:
    """`settings` with the bundled n-gram offensive model in the draft checker, which loads in
    an instant (the checker's rules are what the web tests are about)."""
    classifiers = settings.classifiers.model_copy(update={"offensive": "ngram-offensive"})
    return settings.model_copy(update={"classifiers": classifiers})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def member(
    session: Session, name: str, role: Role | str, brands: list[str] | None = None, **fields: object
) -> Member:
    """A user with a fresh API token (no password: argon2 is slow on purpose)."""
    user: UserRecord = factories.user(name, role, brands=brands, **fields)
    session.add(user)
    session.flush()
    return Member(user.id, user.name, issue_token(session, user))


def new_item(session: Session, text: str = factories.COMPLAINT, **fields: object) -> QueueItem:
    """A new Deutsche Bahn item with its scores, stored."""
    post = factories.stored_post(text, **fields)
    for task in ("sentiment", "offensive", "troll"):
        factories.score(post, task)
    item = factories.queue_item(post)
    session.add(item)
    session.flush()
    return item
