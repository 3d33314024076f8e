"""A team for web tests: users of every role with bearer tokens, items to work on, and the
app's routes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute, Mount, Route

from monitor.access.roles import Role
from monitor.access.users import issue_token
from monitor.storage.models import QueueItem, UserRecord
from tests import factories

ROLES = ("agent", "approver", "lead", "admin")
OTHER_BRAND = "DHL"
"""The brand the `other_brand` member is limited to; items are for Deutsche Bahn."""


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


def routes_of(routes: list[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path) of every route, those of included routers and the mounted API included;
    static files are no route. (FastAPI 0.16x wraps an included router in a route that keeps
    it as `original_router`; the app includes its routers without a prefix.)"""
    found = set()
    for route in routes:
        if isinstance(route, Mount) and isinstance(route.app, FastAPI):
            found |= routes_of(route.app.routes, prefix + route.path)
        elif isinstance(route, APIRoute | Route):
            path = prefix + route.path_format
            found |= {(m, path) for m in route.methods or () if m != "HEAD"}
        elif isinstance(router := getattr(route, "original_router", None), APIRouter):
            found |= routes_of(router.routes, prefix)
        elif not isinstance(route, Mount):
            raise AssertionError(f"a route of an unknown kind: {route!r}")
    return found
